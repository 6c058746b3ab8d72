//! The problems the service reports, in the page's language: those of a field, and those of the
//! whole request (a conflict, a step the state does not allow).
//!
//! The service and the domain describe a problem in English, as the JSON API answers it. A page in
//! Japanese shows the Japanese of each known wording; `{}` in a wording stands for a part taken
//! over (a number, a value), itself in Japanese when it is one of the [`TERMS`] or a list of them.
//! A wording not listed here is shown in English rather than not at all.

use crate::i18n::Lang;

/// English wording, Japanese wording.
const WORDINGS: &[(&str, &str)] = &[
    ("must not be empty", "入力してください"),
    ("must be at most {} characters", "{}文字以内で入力してください"),
    ("must not contain control characters", "制御文字は使えません"),
    ("at most {} characters", "{}文字以内で入力してください"),
    ("at most {} values", "選べるのは{}個までです"),
    // An empty choice: the domain names the empty value like any other.
    ("unknown value ``", "選んでください"),
    ("unknown value `{}`", "「{}」は選択肢にありません"),
    ("at most {} keywords", "キーワードは{}個までです"),
    ("at most {} numbers", "番号は{}件までです"),
    ("at most {} rows per import", "一度に登録できるのは{}行までです"),
    ("already used on line {}", "{}行目ですでに使われています"),
    ("a string", "文字列で書いてください"),
    ("unknown columns {}; expected some of {}", "不明な列があります：{}。使える列：{}"),
    (
        "the file holds no rows (a CSV file needs a header and a row)",
        "ファイルに行がありません（CSVには見出し行と1行以上のデータが必要です）",
    ),
    // An import row that cannot be read (JSON lines, CSV).
    ("not valid JSON at column {}", "JSONとして読めません（{}文字目）"),
    ("the line ends before its JSON value does", "JSONの途中で行が終わっています"),
    ("missing field `{}`", "必須の項目「{}」がありません"),
    ("unknown field `{}`, expected one of {}", "「{}」という項目はありません。使える項目：{}"),
    ("unknown field `{}`, expected {}", "「{}」という項目はありません。使える項目：{}"),
    ("unknown variant `{}`, expected one of {}", "「{}」は選択肢にありません。選べる値：{}"),
    ("unknown variant `{}`, expected {}", "「{}」は選択肢にありません。選べる値：{}"),
    ("invalid type: {}, expected {}", "値の種類が違います（{}。求められるもの：{}）"),
    ("invalid length {}, expected {}", "値の数が違います（{}。求められる数：{}）"),
    ("must not be null: leave the field out instead", "null にはできません。項目ごと省いてください"),
    ("the row has {} fields where the header has {}", "この行の列は{}個ですが、見出し行は{}個です"),
    ("the row is not valid UTF-8 text", "この行はUTF-8の文字として読めません"),
    ("at most {} saved searches per member", "保存できる検索は1人{}件までです"),
    ("a saved search needs words or facets", "保存する検索には語句か絞り込み条件が必要です"),
    (
        "results beyond the first {} are not served; narrow the search",
        "先頭から{}件を超える結果は表示できません。条件を絞り込んでください",
    ),
    ("must be at least {} characters long", "{}文字以上にしてください"),
    ("must be at most {} characters long", "{}文字以内にしてください"),
    ("must not repeat a single character", "同じ文字の繰り返しだけにはできません"),
    ("must not be the e-mail address", "メールアドレスと同じにはできません"),
    ("the seed is no longer published", "このシーズは公開されていません"),
    ("must be a need of your organisation", "自社のニーズを選んでください"),
    ("no such organization", "その組織はありません"),
    ("the seed's own organization already has access", "シーズの所属組織はすでに閲覧できます"),
    ("must be in the future", "これから先の日時を指定してください"),
    ("contains an organization that does not exist", "存在しない組織が含まれています"),
    ("exists and is not a funder", "その名前の組織はすでにあり、事務局の組織ではありません"),
    ("seeds belong to academic organizations", "シーズは大学・研究機関に属します"),
    ("a {} cannot belong to an organization of kind {}", "{}は種別「{}」の組織には所属できません"),
    // Problems of the whole request.
    (
        "the record was changed: version {} is not the current version {}; reload and retry",
        "この記録は別の操作で変更されました（版{}、現在は版{}）。再読み込みしてからやり直してください",
    ),
    (
        "the record is {}; `{}` is not possible now; possible next steps: {}",
        "この記録は「{}」のため「{}」はできません。できる操作：{}",
    ),
    ("`{}` is not possible now; possible next steps: {}", "今は「{}」はできません。できる操作：{}"),
    ("only the {} may take the step `{}`", "{}だけが「{}」を行えます"),
    (
        "your organisation already has an open introduction to this seed: {}",
        "貴社はこのシーズへの紹介をすでに依頼しています（{}）",
    ),
    (
        "your organisation already has an open introduction to this seed",
        "貴社はこのシーズへの紹介をすでに依頼しています",
    ),
    (
        "the introduction was changed by someone else at the same moment; reload it and retry",
        "この紹介は同時に別の人が変更しました。再読み込みしてからやり直してください",
    ),
    ("an organization with this name already exists", "この名前の組織はすでにあります"),
    ("a member with this e-mail address already exists", "このメールアドレスの会員はすでにいます"),
    ("admins cannot suspend or reject themselves", "管理者は自分自身を停止・却下できません"),
    ("the member is {}; {}", "この会員は「{}」です。{}"),
    (
        "a seed changed while it was being imported",
        "取り込みの途中でシーズが変更されました。もう一度取り込んでください",
    ),
    (
        "another seed of your organisation already carries this reference",
        "この管理番号は所属組織の別のシーズですでに使われています",
    ),
    (
        "another need of your organisation already carries this reference",
        "この管理番号は自社の別のニーズですでに使われています",
    ),
];

/// The parts of a wording that are names (statuses, steps, parties) or sentences of their own.
const TERMS: &[(&str, &str)] = &[
    ("draft", "下書き"),
    ("published", "公開中"),
    ("archived", "取り下げ"),
    ("edit", "編集"),
    ("publish", "公開"),
    ("archive", "取り下げ"),
    ("restore", "下書きに戻す"),
    ("forward", "取り次ぎ"),
    ("accept", "承諾"),
    ("decline", "辞退"),
    ("withdraw", "依頼の取り下げ"),
    ("cda:sent", "CDA 送付"),
    ("cda:negotiating", "CDA 交渉"),
    ("cda:signed", "CDA 締結"),
    ("cda:not_concluded", "CDA 不成立"),
    ("outcome:license", "結果：ライセンス"),
    ("outcome:joint_research", "結果：共同研究"),
    ("outcome:no_deal", "結果：不成立"),
    ("none, the introduction is closed", "なし（この紹介は終了しています）"),
    ("requesting company", "依頼企業"),
    ("liaison", "知財リエゾン"),
    ("seed owner", "シーズの所有者"),
    ("invited", "招待中"),
    ("pending_verification", "メール確認待ち"),
    ("pending_approval", "承認待ち"),
    ("active", "有効"),
    ("suspended", "停止中"),
    ("rejected", "却下"),
    ("approve applies to members pending approval or suspended", "承認できるのは承認待ちか停止中の会員です"),
    ("reject applies to members not yet admitted", "却下できるのはまだ承認されていない会員です"),
    ("suspend applies to active members", "停止できるのは有効な会員です"),
    (
        "e-mail verification applies to members who registered and have not verified",
        "メール確認は登録してまだ確認していない会員のものです",
    ),
    ("accepting an invitation applies to invited members", "招待の承諾は招待中の会員のものです"),
];

/// `message` in `lang`.
#[must_use]
pub fn translate(lang: Lang, message: &str) -> String {
    if lang == Lang::En {
        return message.to_owned();
    }
    for (english, japanese) in WORDINGS {
        if let Some(parts) = parts_of(english, message) {
            let mut out = String::new();
            let mut parts = parts.into_iter();
            for (i, piece) in japanese.split("{}").enumerate() {
                if i > 0 {
                    out.push_str(&japanese_part(parts.next().unwrap_or_default()));
                }
                out.push_str(piece);
            }
            return out;
        }
    }
    tracing::debug!(message, "a field problem without a Japanese wording");
    message.to_owned()
}

/// A part of a wording: a term, a list of terms (`, ` or ` or `), or anything else as it is.
fn japanese_part(part: &str) -> String {
    let term = |item: &str| TERMS.iter().find(|(en, _)| *en == item).map(|(_, ja)| *ja);
    if let Some(ja) = term(part) {
        return ja.to_owned();
    }
    for sep in [", ", " or "] {
        let items: Option<Vec<&str>> = part.split(sep).map(term).collect();
        if let Some(items) = items.filter(|i| i.len() > 1) {
            return items.join("、");
        }
    }
    part.to_owned()
}

/// The parts of `message` standing for the `{}` of `wording`, when it has that wording.
fn parts_of<'m>(wording: &str, message: &'m str) -> Option<Vec<&'m str>> {
    let mut pieces = wording.split("{}");
    let first = pieces.next().unwrap_or_default();
    let mut rest = message.strip_prefix(first)?;
    let mut parts = Vec::new();
    let pieces: Vec<&str> = pieces.collect();
    for (i, piece) in pieces.iter().enumerate() {
        let end = if i + 1 == pieces.len() {
            if !rest.ends_with(piece) {
                return None;
            }
            rest.len() - piece.len()
        } else {
            rest.find(piece)?
        };
        let part = &rest[..end];
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        rest = &rest[end + piece.len()..];
    }
    (pieces.is_empty() && rest.is_empty() || !pieces.is_empty()).then_some(parts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ja(message: &str) -> String {
        translate(Lang::Ja, message)
    }

    #[test]
    fn wordings_with_and_without_parts_read_in_japanese() {
        assert_eq!(ja("must not be empty"), "入力してください");
        assert_eq!(ja("must be at most 200 characters"), "200文字以内で入力してください");
        assert_eq!(ja("unknown value `phase9`"), "「phase9」は選択肢にありません");
        assert_eq!(
            ja("a company cannot belong to an organization of kind academia"),
            "companyは種別「academia」の組織には所属できません"
        );
        assert_eq!(translate(Lang::En, "must not be empty"), "must not be empty");
        // Near misses are not taken for a known wording.
        assert_eq!(ja("must not be empty, really"), "must not be empty, really");
        assert_eq!(ja("unknown value ``"), "選んでください");
        assert_eq!(ja("unknown value `x"), "unknown value `x");
        assert_eq!(ja("something new"), "something new");
    }

    #[test]
    fn names_and_lists_of_names_in_a_wording_read_in_japanese() {
        assert_eq!(
            ja("the record is archived; `publish` is not possible now; possible next steps: restore"),
            "この記録は「取り下げ」のため「公開」はできません。できる操作：下書きに戻す"
        );
        assert_eq!(
            ja("`accept` is not possible now; possible next steps: forward, decline, withdraw"),
            "今は「承諾」はできません。できる操作：取り次ぎ、辞退、依頼の取り下げ"
        );
        assert_eq!(
            ja("only the liaison or seed owner may take the step `forward`"),
            "知財リエゾン、シーズの所有者だけが「取り次ぎ」を行えます"
        );
        assert_eq!(
            ja("the member is active; approve applies to members pending approval or suspended"),
            "この会員は「有効」です。承認できるのは承認待ちか停止中の会員です"
        );
        assert_eq!(ja("already used on line 3"), "3行目ですでに使われています");
        // A part that is no term stays as it is.
        assert!(
            ja("your organisation already has an open introduction to this seed: 0190-ab").ends_with("（0190-ab）")
        );
    }

    /// Every step and status a refusal can name has its Japanese.
    #[test]
    fn every_step_and_status_is_a_term() {
        use kakehashi_domain::introduction::{CdaStatus, Outcome, Step};
        use kakehashi_domain::{MemberStatus, RecordStatus, RecordStep};
        let mut names: Vec<String> = RecordStatus::ALL.iter().map(|s| s.as_str().to_owned()).collect();
        names.extend(RecordStep::ALL.iter().map(|s| s.as_str().to_owned()));
        names.extend(MemberStatus::ALL.iter().map(|s| s.as_str().to_owned()));
        let mut steps = vec![Step::Forward, Step::Accept, Step::Decline, Step::Withdraw];
        steps.extend(CdaStatus::ALL.iter().copied().map(Step::Cda));
        steps.extend(Outcome::ALL.iter().copied().map(Step::Outcome));
        names.extend(steps.iter().map(|s| s.name()));
        for name in names {
            assert!(TERMS.iter().any(|(en, _)| *en == name), "no Japanese for {name}");
        }
    }

    #[test]
    fn every_wording_has_as_many_parts_in_both_languages() {
        for (english, japanese) in WORDINGS {
            assert_eq!(english.matches("{}").count(), japanese.matches("{}").count(), "{english}");
            assert!(!japanese.is_ascii(), "{english}");
        }
    }

    fn seed(title: &str) -> kakehashi_domain::SeedContent {
        kakehashi_domain::SeedContent {
            title: title.into(),
            summary: "x".repeat(20_000),
            confidential: kakehashi_domain::ConfidentialSection {
                patent_applications: (0..100).map(|i| format!("JP{i}")).collect(),
                ..Default::default()
            },
            modalities: vec!["nothing".into()],
            disease_areas: (0..40).map(|i| format!("d{i}")).collect(),
            stage: "phase9".into(),
            ip_status: "nowhere".into(),
            deal_types: Vec::new(),
            keywords: (0..100).map(|i| format!("k{i}")).collect(),
            visibility: kakehashi_domain::Visibility::Members,
            language: kakehashi_domain::Locale::Ja,
        }
    }

    /// The problems an import writes of rows it cannot read all have a Japanese wording.
    #[test]
    fn unreadable_import_rows_speak_japanese() {
        use kakehashi_service::import::{Format, parse};
        let lines = [
            "not json",
            r#"{"title":"A","#,
            r#"{"title":"A"}"#,
            r#"{"title":"A","summary":"s","stage":"x","ip_status":"y","owner_id":"x"}"#,
            r#"{"title":1,"summary":"s","stage":"x","ip_status":"y"}"#,
            r#"{"title":"A","summary":"s","stage":"x","ip_status":"y","visibility":"secret"}"#,
            r#"{"title":"A","summary":"s","stage":"x","ip_status":"y","keywords":null}"#,
        ];
        let mut rows = parse(lines.join("\n").as_bytes(), Format::JsonLines);
        rows.extend(parse(b"title,summary\nA,s,extra\n", Format::Csv));
        rows.extend(parse(b"title,owner\nA,s\n", Format::Csv));
        assert_eq!(rows.len(), lines.len() + 2);
        for row in rows {
            let problems = row.content.err().unwrap();
            for p in problems {
                assert_ne!(ja(&p.message), p.message, "no Japanese for line {}: {}", row.line, p.message);
            }
        }
    }

    /// The problems the domain's record checks actually write all have a Japanese wording.
    #[test]
    fn the_record_checks_speak_japanese() {
        let taxonomy = kakehashi_domain::Taxonomy::builtin().unwrap();
        let mut problems = Vec::new();
        for title in [" \u{200b}", "a\u{7}b", &"長".repeat(1000)] {
            problems.extend(seed(title).normalize_and_validate(&taxonomy).unwrap_err());
        }
        let mut wordings: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        wordings.sort_unstable();
        wordings.dedup();
        assert!(wordings.len() >= 8, "{wordings:?}");
        for p in &problems {
            assert_ne!(ja(&p.message), p.message, "no Japanese for {}: {}", p.field, p.message);
        }
    }
}
