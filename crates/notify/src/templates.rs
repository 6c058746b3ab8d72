//! The e-mails about membership, in Japanese and English. Each renders to plain text and HTML
//! from the same sentences so the two never drift apart.

use kakehashi_domain::Locale;
use kakehashi_domain::introduction::{CdaStatus, DeclineReason, Outcome};
use std::fmt::Write as _;

use crate::Message;

/// Why a member is sent a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMail {
    Invitation,
    EmailVerification,
    PasswordReset,
}

/// One sentence in Japanese and in English, as the labels further down.
type Said = (&'static str, &'static str);

/// What a link e-mail says around its link.
struct Wording {
    subject: Said,
    body: Said,
    action: Said,
    expiry: Said,
    ignore: Said,
}

const IGNORE_JA: &str = "お心当たりのない場合は、このメールを破棄してください。";

const INVITATION: Wording = Wording {
    subject: ("【Kakehashi】会員登録のご招待", "[Kakehashi] You are invited to join"),
    body: (
        "Kakehashi（医療研究開発のシーズ・ニーズマッチング）の事務局から会員としてご招待いたします。",
        "The Kakehashi secretariat invites you to join the seeds–needs matching network for medical R&D.",
    ),
    action: (
        "次のリンクからパスワードを設定し、登録を完了してください。",
        "Set your password and complete your registration here:",
    ),
    expiry: ("このリンクの有効期限は7日間です。", "This link is valid for 7 days."),
    ignore: (IGNORE_JA, "If you did not expect this invitation, please ignore this e-mail."),
};

const EMAIL_VERIFICATION: Wording = Wording {
    subject: ("【Kakehashi】メールアドレスの確認", "[Kakehashi] Confirm your e-mail address"),
    body: ("Kakehashi への会員登録のお申し込みを受け付けました。", "We received your application to join Kakehashi."),
    action: (
        "次のリンクからメールアドレスを確認してください。確認後、事務局の承認をもって利用を開始できます。",
        "Confirm your e-mail address here; the secretariat will then review your membership:",
    ),
    expiry: ("このリンクの有効期限は24時間です。", "This link is valid for 24 hours."),
    ignore: (IGNORE_JA, "If you did not register, please ignore this e-mail."),
};

const PASSWORD_RESET: Wording = Wording {
    subject: ("【Kakehashi】パスワードの再設定", "[Kakehashi] Reset your password"),
    body: ("パスワード再設定のご依頼を受け付けました。", "We received a request to reset your password."),
    action: ("次のリンクから新しいパスワードを設定してください。", "Choose a new password here:"),
    expiry: ("このリンクの有効期限は1時間です。", "This link is valid for 1 hour."),
    ignore: (
        "お心当たりのない場合は、このメールを破棄してください。パスワードは変更されません。",
        "If you did not ask for this, ignore this e-mail; your password stays as it is.",
    ),
};

fn wording(kind: LinkMail) -> &'static Wording {
    match kind {
        LinkMail::Invitation => &INVITATION,
        LinkMail::EmailVerification => &EMAIL_VERIFICATION,
        LinkMail::PasswordReset => &PASSWORD_RESET,
    }
}

/// An e-mail that carries a single-use link to `link`.
#[must_use]
pub fn link_mail(kind: LinkMail, locale: Locale, to: &str, name: &str, link: &str) -> Message {
    let w = wording(kind);
    let said = |(ja, en): Said| match locale {
        Locale::Ja => ja,
        Locale::En => en,
    };
    let (body, action, expiry, ignore) = (said(w.body), said(w.action), said(w.expiry), said(w.ignore));
    let salutation = match locale {
        Locale::Ja => format!("{name} 様"),
        Locale::En => format!("Dear {name},"),
    };
    let text = format!("{salutation}\n\n{body}\n{action}\n\n{link}\n\n{expiry}\n{ignore}\n\n-- \nKakehashi\n");
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><body><p>{salutation}</p><p>{body}<br>{action}</p>\
         <p><a href=\"{href}\">{href}</a></p><p>{expiry}<br>{ignore}</p><p>Kakehashi</p></body></html>",
        lang = locale.as_str(),
        salutation = escape(&salutation),
        body = escape(body),
        action = escape(action),
        href = escape(link),
        expiry = escape(expiry),
        ignore = escape(ignore),
    );
    Message { to: to.to_owned(), subject: said(w.subject).to_owned(), text, html, message_id: None }
}

/// Tells a member that a newly published record matches one of their saved searches.
#[must_use]
pub fn saved_search_mail(locale: Locale, to: &str, name: &str, search: &str, title: &str, link: &str) -> Message {
    let (subject, salutation, intro, action) = match locale {
        Locale::Ja => (
            format!("【Kakehashi】保存した検索「{search}」に新着: {title}"),
            format!("{name} 様"),
            format!("保存した検索「{search}」に合う新しい登録がありました。"),
            "次のリンクから確認できます。",
        ),
        Locale::En => (
            format!("[Kakehashi] New for your saved search \"{search}\": {title}"),
            format!("Dear {name},"),
            format!("A newly published record matches your saved search \"{search}\"."),
            "See it here:",
        ),
    };
    let text = format!("{salutation}\n\n{intro}\n\n{title}\n\n{action}\n{link}\n\n-- \nKakehashi\n");
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><body><p>{salutation}</p><p>{intro}</p><p><strong>{title}</strong></p>\
         <p>{action}<br><a href=\"{href}\">{href}</a></p><p>Kakehashi</p></body></html>",
        lang = locale.as_str(),
        salutation = escape(&salutation),
        intro = escape(&intro),
        title = escape(title),
        action = escape(action),
        href = escape(link),
    );
    Message { to: to.to_owned(), subject, text, html, message_id: None }
}

/// Tells a liaison of a new match. Titles only: they are summary-tier text, never confidential.
#[must_use]
pub fn match_mail(
    locale: Locale,
    to: &str,
    name: &str,
    seed_title: &str,
    need_title: &str,
    score: f64,
    link: &str,
) -> Message {
    let percent = (score * 100.0).round();
    let (subject, salutation, intro, seed_label, need_label, score_label, action) = match locale {
        Locale::Ja => (
            format!("【Kakehashi】新しいマッチ: {seed_title}"),
            format!("{name} 様"),
            "担当する機関のシーズとニーズが適合しました。",
            "シーズ",
            "ニーズ",
            "スコア",
            "詳細と理由は次のリンクから確認できます。",
        ),
        Locale::En => (
            format!("[Kakehashi] New match: {seed_title}"),
            format!("Dear {name},"),
            "A seed and a need of organisations you cover fit each other.",
            "Seed",
            "Need",
            "Score",
            "See the details and the reasons here:",
        ),
    };
    let text = format!(
        "{salutation}\n\n{intro}\n\n{seed_label}: {seed_title}\n{need_label}: {need_title}\n{score_label}: {percent}%\n\n{action}\n{link}\n\n-- \nKakehashi\n"
    );
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><body><p>{salutation}</p><p>{intro}</p><ul><li>{seed_label}: {seed}</li>\
         <li>{need_label}: {need}</li><li>{score_label}: {percent}%</li></ul><p>{action}<br><a href=\"{href}\">{href}</a></p>\
         <p>Kakehashi</p></body></html>",
        lang = locale.as_str(),
        salutation = escape(&salutation),
        intro = escape(intro),
        seed = escape(seed_title),
        need = escape(need_title),
        action = escape(action),
        href = escape(link),
    );
    Message { to: to.to_owned(), subject, text, html, message_id: None }
}

/// A liaison's daily list of new matches: one line per match, titles only (summary tier).
#[must_use]
pub fn digest_mail(locale: Locale, to: &str, name: &str, lines: &[String], link: &str) -> Message {
    let count = lines.len();
    let (subject, salutation, intro, action) = match locale {
        Locale::Ja => (
            format!("【Kakehashi】本日の新しいマッチ {count} 件"),
            format!("{name} 様"),
            format!("この24時間に、担当する機関のシーズとニーズの新しいマッチが {count} 件ありました。"),
            "詳細と理由は次のリンクから確認できます。",
        ),
        Locale::En => (
            format!("[Kakehashi] {count} new matches today"),
            format!("Dear {name},"),
            format!("{count} new matches between organisations you cover were found in the last 24 hours."),
            "See the details and the reasons here:",
        ),
    };
    let list = bullets(lines.iter());
    let text = format!("{salutation}\n\n{intro}\n\n{list}\n{action}\n{link}\n\n-- \nKakehashi\n");
    let items = list_items(lines.iter());
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><body><p>{salutation}</p><p>{intro}</p><ul>{items}</ul>\
         <p>{action}<br><a href=\"{href}\">{href}</a></p><p>Kakehashi</p></body></html>",
        lang = locale.as_str(),
        salutation = escape(&salutation),
        intro = escape(&intro),
        action = escape(action),
        href = escape(link),
    );
    Message { to: to.to_owned(), subject, text, html, message_id: None }
}

/// At most this many pairs are listed by name in one e-mail; the rest are counted.
pub const LISTED_MATCHES: usize = 50;

/// One e-mail telling a liaison of several new matches at once: `lines` are the pairs, best first
/// (beyond [`LISTED_MATCHES`] only counted). `bulk` when they come from records registered in bulk
/// (an import), which a liaison hears of in one e-mail however many records it held.
#[must_use]
pub fn matches_mail(locale: Locale, to: &str, name: &str, lines: &[String], link: &str, bulk: bool) -> Message {
    let count = lines.len();
    let more = count.saturating_sub(LISTED_MATCHES);
    let (subject, salutation, intro, rest, action) = match locale {
        Locale::Ja => (
            if bulk {
                format!("【Kakehashi】一括登録による新しいマッチ {count} 件")
            } else {
                format!("【Kakehashi】新しいマッチ {count} 件")
            },
            format!("{name} 様"),
            format!(
                "{}担当する機関の新しいマッチが {count} 件見つかりました。",
                if bulk { "一括登録されたシーズ・ニーズから、" } else { "" }
            ),
            format!("ほか {more} 件"),
            "すべてのマッチと理由は次のリンクから確認できます。",
        ),
        Locale::En => (
            if bulk {
                format!("[Kakehashi] {count} new matches from a bulk registration")
            } else {
                format!("[Kakehashi] {count} new matches")
            },
            format!("Dear {name},"),
            format!(
                "{count} new matches between organisations you cover were found{}.",
                if bulk { " among records registered in bulk" } else { "" }
            ),
            format!("and {more} more"),
            "See every match and its reasons here:",
        ),
    };
    let shown = &lines[..count.min(LISTED_MATCHES)];
    let mut list = bullets(shown.iter());
    let mut items = list_items(shown.iter());
    if more > 0 {
        list.push_str("- ");
        list.push_str(&rest);
        list.push('\n');
        items.push_str("<li>");
        items.push_str(&escape(&rest));
        items.push_str("</li>");
    }
    let text = format!("{salutation}\n\n{intro}\n\n{list}\n{action}\n{link}\n\n-- \nKakehashi\n");
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><body><p>{salutation}</p><p>{intro}</p><ul>{items}</ul>\
         <p>{action}<br><a href=\"{href}\">{href}</a></p><p>Kakehashi</p></body></html>",
        lang = locale.as_str(),
        salutation = escape(&salutation),
        intro = escape(&intro),
        action = escape(action),
        href = escape(link),
    );
    Message { to: to.to_owned(), subject, text, html, message_id: None }
}

/// What happened to an introduction, as told to one of its parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntroductionNews {
    /// A company asks; the liaison is to review it.
    Requested,
    /// The liaison passed the request on; the seed's side is to answer.
    Forwarded,
    /// Told to the requester: the liaison passed the request on.
    ForwardedToRequester,
    Declined(DeclineReason),
    Accepted,
    Withdrawn,
    Cda(CdaStatus),
    Outcome(Outcome),
    Message,
}

/// The one-line headline of `news` about the seed titled `seed_title`; it is also the in-app
/// notification's title. `company` is the requesting company's name where the recipient may know it.
#[must_use]
pub fn introduction_headline(
    news: IntroductionNews,
    locale: Locale,
    seed_title: &str,
    company: Option<&str>,
) -> String {
    use IntroductionNews as N;
    match locale {
        Locale::Ja => {
            let who = company.unwrap_or("企業");
            match news {
                N::Requested => format!("紹介依頼（{who}）: {seed_title}"),
                N::Forwarded => format!("リエゾンから紹介依頼が届きました（{who}）: {seed_title}"),
                N::ForwardedToRequester => format!("紹介依頼がシーズ側に転送されました: {seed_title}"),
                N::Declined(reason) => format!("紹介依頼は見送られました（{}）: {seed_title}", reason.labels().0),
                N::Accepted => format!("紹介依頼が承諾されました: {seed_title}"),
                N::Withdrawn => format!("紹介依頼が取り下げられました: {seed_title}"),
                N::Cda(status) => format!("CDA の状況: {}: {seed_title}", cda_label(status).0),
                N::Outcome(outcome) => format!("結果が記録されました: {}: {seed_title}", outcome_label(outcome).0),
                N::Message => format!("紹介のスレッドに新しいメッセージ: {seed_title}"),
            }
        }
        Locale::En => {
            let who = company.unwrap_or("a company");
            match news {
                N::Requested => format!("Introduction request from {who}: {seed_title}"),
                N::Forwarded => format!("A liaison forwards a request from {who}: {seed_title}"),
                N::ForwardedToRequester => format!("Your request was forwarded to the seed's side: {seed_title}"),
                N::Declined(reason) => format!("Introduction declined ({}): {seed_title}", reason.labels().1),
                N::Accepted => format!("Introduction accepted: {seed_title}"),
                N::Withdrawn => format!("Introduction request withdrawn: {seed_title}"),
                N::Cda(status) => format!("CDA {}: {seed_title}", cda_label(status).1),
                N::Outcome(outcome) => format!("Outcome recorded, {}: {seed_title}", outcome_label(outcome).1),
                N::Message => format!("New message about the introduction: {seed_title}"),
            }
        }
    }
}

fn cda_label(status: CdaStatus) -> (&'static str, &'static str) {
    match status {
        CdaStatus::Sent => ("送付済み", "sent"),
        CdaStatus::Negotiating => ("交渉中", "under negotiation"),
        CdaStatus::Signed => ("締結", "signed"),
        CdaStatus::NotConcluded => ("不成立", "not concluded"),
    }
}

fn outcome_label(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::License => ("ライセンス", "licence"),
        Outcome::JointResearch => ("共同研究", "joint research"),
        Outcome::NoDeal => ("成約なし", "no deal"),
    }
}

/// Tells a party of an introduction what happened and links to it. Only the headline travels:
/// messages and comments are read in the service, where their visibility is checked.
#[must_use]
pub fn introduction_mail(locale: Locale, to: &str, name: &str, headline: &str, link: &str) -> Message {
    let (subject, salutation, action) = match locale {
        Locale::Ja => (format!("【Kakehashi】{headline}"), format!("{name} 様"), "詳細は次のリンクから確認できます。"),
        Locale::En => (format!("[Kakehashi] {headline}"), format!("Dear {name},"), "See the details here:"),
    };
    let text = format!("{salutation}\n\n{headline}\n\n{action}\n{link}\n\n-- \nKakehashi\n");
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><body><p>{salutation}</p><p><strong>{headline}</strong></p>\
         <p>{action}<br><a href=\"{href}\">{href}</a></p><p>Kakehashi</p></body></html>",
        lang = locale.as_str(),
        salutation = escape(&salutation),
        headline = escape(headline),
        action = escape(action),
        href = escape(link),
    );
    Message { to: to.to_owned(), subject, text, html, message_id: None }
}

/// Escapes text for HTML element content and attribute values.
#[must_use]
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The plain-text lines of a list, each as `- line`.
fn bullets<'a>(lines: impl Iterator<Item = &'a String>) -> String {
    lines.fold(String::new(), |mut out, l| {
        let _ = writeln!(out, "- {l}");
        out
    })
}

/// The HTML items of a list, each escaped.
fn list_items<'a>(lines: impl Iterator<Item = &'a String>) -> String {
    lines.fold(String::new(), |mut out, l| {
        let _ = write!(out, "<li>{}</li>", escape(l));
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_carry_the_link_in_text_and_html() {
        for kind in [LinkMail::Invitation, LinkMail::EmailVerification, LinkMail::PasswordReset] {
            for locale in [Locale::Ja, Locale::En] {
                let m = link_mail(kind, locale, "a@example.org", "山田", "https://k/x?token=abc");
                assert!(m.text.contains("https://k/x?token=abc"));
                assert!(m.html.contains("https://k/x?token=abc"));
                assert!(!m.subject.is_empty());
            }
        }
    }

    #[test]
    fn names_are_escaped_in_html() {
        let m = link_mail(LinkMail::Invitation, Locale::En, "a@example.org", "<script>", "https://k/");
        assert!(!m.html.contains("<script>"));
    }
}
