//! Text analysis for Japanese and English in one corpus.
//!
//! Text is NFKC-normalised (full-width ＡＢＣ１ → abc1, half-width ｶﾀｶﾅ → カタカナ) and lower-cased,
//! then split into runs. A run of Latin letters and digits is one word, stemmed as English
//! ("antibodies" → "antibodi" ← "antibody"). A run of kanji and kana is segmented into words by a
//! morphological analyser (vibrato with IPADIC, compiled into the binary from
//! `dictionary/ipadic.dic.zst`): 筋ジストロフィーの核酸医薬 → 筋ジストロフィー | 核酸 | 医薬, with
//! particles, auxiliaries, symbols and light verbs left out and verbs and adjectives in their base
//! form. Two more fields keep what a dictionary misses: overlapping character bigrams of every
//! kanji/kana run (a word inside a compound, a name the dictionary does not know) and single
//! characters (a one-character query such as 癌).
//!
//! Every analyser maps its tokens back to byte offsets in the original text, so highlighting marks
//! what the member wrote.

use std::sync::LazyLock;

use tantivy::tokenizer::{Language, Stemmer, StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;

/// Tokenizer names registered on every index.
pub const WORDS: &str = "kk_words";
pub const BIGRAM: &str = "kk_bigram";
pub const UNIGRAM: &str = "kk_unigram";

/// IPADIC 2.7.0 compiled by vibrato 0.5.3 (`dictionary/build.sh`), features trimmed to part of
/// speech, its first sub-division and the base form. Readable only by that exact vibrato version.
static DICTIONARY: &[u8] = include_bytes!("../dictionary/ipadic.dic.zst");

/// Loaded once per process (about 25 MB in memory); every tokenizer clone gets its own worker.
static SEGMENTER: LazyLock<Option<vibrato::Tokenizer>> = LazyLock::new(|| {
    let decoder = match ruzstd::decoding::StreamingDecoder::new(DICTIONARY) {
        Ok(d) => d,
        Err(err) => {
            tracing::error!(error = %err, "the Japanese dictionary is unreadable; Japanese falls back to bigrams");
            return None;
        }
    };
    match vibrato::Dictionary::read(std::io::BufReader::new(decoder)) {
        Ok(dictionary) => Some(vibrato::Tokenizer::new(dictionary)),
        Err(err) => {
            tracing::error!(error = %err, "the Japanese dictionary is unreadable; Japanese falls back to bigrams");
            None
        }
    }
});

/// Loads the Japanese dictionary now (at start, rather than on the first document), and says
/// whether it is there.
pub fn load_dictionary() -> bool {
    SEGMENTER.is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Cjk,
    Word,
    Gap,
}

fn class(c: char) -> Class {
    match c as u32 {
        0x3005 | 0x3007 | 0x303B          // 々 〇 〻
        | 0x3040..=0x30FF                 // hiragana, katakana, ・, ー
        | 0x3400..=0x4DBF                 // CJK extension A
        | 0x4E00..=0x9FFF                 // CJK unified ideographs
        | 0xF900..=0xFAFF                 // compatibility ideographs
        | 0x20000..=0x2FA1F => Class::Cjk,
        _ if c.is_alphanumeric() => Class::Word,
        _ => Class::Gap,
    }
}

/// Whether `text` holds kanji or kana (half-width katakana included): text without them has no
/// bigram or single-character terms to index.
#[must_use]
pub fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| !c.is_ascii() && (class(c) == Class::Cjk || ('\u{FF66}'..='\u{FF9F}').contains(&c)))
}

/// NFKC and lower case: the form both documents and queries are compared in.
#[must_use]
pub fn normalize(text: &str) -> String {
    text.nfkc().collect::<String>().to_lowercase()
}

/// A run of one class in normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub cjk: bool,
    pub text: String,
    /// Byte offset of the run in the text it came from.
    pub start: usize,
}

/// Splits normalised text into word and CJK runs.
#[must_use]
pub fn runs(normalized: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut current: Option<(Class, usize)> = None;
    let close = |out: &mut Vec<Run>, current: Option<(Class, usize)>, end: usize| {
        if let Some((k, start)) = current {
            out.push(Run { cjk: k == Class::Cjk, text: normalized[start..end].to_owned(), start });
        }
    };
    for (at, c) in normalized.char_indices() {
        let k = class(c);
        match current {
            Some((ck, _)) if ck == k && k != Class::Gap => {}
            _ => {
                close(&mut out, current.take(), at);
                if k != Class::Gap {
                    current = Some((k, at));
                }
            }
        }
    }
    close(&mut out, current, normalized.len());
    out
}

/// Which terms a tokenizer emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Latin words and Japanese morphemes.
    Words,
    /// Overlapping bigrams of kanji/kana runs (a one-character run stays whole).
    Bigrams,
    /// Single kanji/kana characters.
    Unigrams,
}

/// The tokenizer behind the three analysers; each clone has its own dictionary worker.
pub struct KakehashiTokenizer {
    mode: Mode,
    worker: Option<vibrato::tokenizer::worker::Worker<'static>>,
}

impl KakehashiTokenizer {
    fn new(mode: Mode) -> Self {
        let worker = if mode == Mode::Words { SEGMENTER.as_ref().map(vibrato::Tokenizer::new_worker) } else { None };
        KakehashiTokenizer { mode, worker }
    }
}

impl Clone for KakehashiTokenizer {
    fn clone(&self) -> Self {
        KakehashiTokenizer::new(self.mode)
    }
}

pub struct KakehashiTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for KakehashiTokenizer {
    type TokenStream<'a> = KakehashiTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> KakehashiTokenStream {
        KakehashiTokenStream { tokens: self.tokenize(text), index: 0 }
    }
}

impl TokenStream for KakehashiTokenStream {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

/// Whether a morpheme carries meaning for search: content words only. `feature` is the trimmed
/// IPADIC feature string `part of speech,sub-division,base form`.
fn content_morpheme(feature: &str) -> Option<Option<&str>> {
    let mut parts = feature.splitn(3, ',');
    let (pos, sub, base) = (parts.next()?, parts.next().unwrap_or("*"), parts.next().unwrap_or("*"));
    let keep = match pos {
        "名詞" => match sub {
            "非自立" | "代名詞" => false,
            "接尾" => !LIGHT_NOUNS.contains(&base),
            _ => true,
        },
        "動詞" | "形容詞" => sub != "非自立" && !LIGHT_VERBS.contains(&base),
        // 抗-, 超-, 非- say something; the honorific お-, ご- do not.
        "接頭詞" => !matches!(base, "お" | "ご" | "御"),
        "副詞" | "連体詞" | "接続詞" | "感動詞" | "フィラー" | "助詞" | "助動詞" | "記号" | "その他" => {
            false
        }
        _ => true,
    };
    if !keep {
        return None;
    }
    // Verbs and adjectives are indexed in their base form (探して → 探す); nouns as written.
    Some(matches!(pos, "動詞" | "形容詞").then_some(base).filter(|b| *b != "*"))
}

/// Nominal suffixes that say nothing on their own (…こと, …等); meaningful ones (…剤, …性) stay.
const LIGHT_NOUNS: [&str; 6] = ["等", "ら", "たち", "方", "的", "さん"];
/// Verbs that only carry grammar.
const LIGHT_VERBS: [&str; 14] = [
    "する",
    "いる",
    "ある",
    "なる",
    "できる",
    "れる",
    "られる",
    "せる",
    "させる",
    "おる",
    "いう",
    "くる",
    "いく",
    "よる",
];

impl KakehashiTokenizer {
    /// Tokens with byte offsets into the original `text` (for highlighting). Offsets are mapped
    /// per source character, so NFKC expansions stay within the character they came from.
    fn tokenize(&mut self, text: &str) -> Vec<Token> {
        // Normalise character by character to keep a map back to the original byte offsets.
        let mut chars: Vec<(char, usize, usize)> = Vec::with_capacity(text.len());
        for (start, c) in text.char_indices() {
            let end = start + c.len_utf8();
            if c.is_ascii() {
                // NFKC leaves ASCII alone: skip the normaliser on the common path.
                chars.push((c.to_ascii_lowercase(), start, end));
                continue;
            }
            for n in std::iter::once(c).nfkc().flat_map(char::to_lowercase) {
                chars.push((n, start, end));
            }
        }
        let mut tokens = Vec::new();
        let mut position = 0;
        let mut push = |from: usize, to: usize, text: Option<&str>, tokens: &mut Vec<Token>| {
            tokens.push(Token {
                offset_from: chars[from].1,
                offset_to: chars[to - 1].2,
                position,
                text: text.map_or_else(|| chars[from..to].iter().map(|c| c.0).collect(), str::to_owned),
                position_length: 1,
            });
            position += 1;
        };
        let mut run = String::new();
        let mut i = 0;
        while i < chars.len() {
            let k = class(chars[i].0);
            let mut j = i + 1;
            while j < chars.len() && class(chars[j].0) == k && k != Class::Gap {
                j += 1;
            }
            match (k, self.mode) {
                (Class::Gap, _) | (Class::Word, Mode::Bigrams | Mode::Unigrams) => {}
                (Class::Word, Mode::Words) => push(i, j, None, &mut tokens),
                (Class::Cjk, Mode::Unigrams) => (i..j).for_each(|p| push(p, p + 1, None, &mut tokens)),
                (Class::Cjk, Mode::Bigrams) if j - i == 1 => push(i, j, None, &mut tokens),
                (Class::Cjk, Mode::Bigrams) => (i..j - 1).for_each(|p| push(p, p + 2, None, &mut tokens)),
                (Class::Cjk, Mode::Words) => match &mut self.worker {
                    Some(worker) => {
                        run.clear();
                        run.extend(chars[i..j].iter().map(|c| c.0));
                        worker.reset_sentence(&run);
                        worker.tokenize();
                        for t in 0..worker.num_tokens() {
                            let token = worker.token(t);
                            if let Some(base) = content_morpheme(token.feature()) {
                                let range = token.range_char();
                                push(i + range.start, i + range.end, base, &mut tokens);
                            }
                        }
                    }
                    // Without the dictionary, bigrams still find Japanese words.
                    None if j - i == 1 => push(i, j, None, &mut tokens),
                    None => (i..j - 1).for_each(|p| push(p, p + 2, None, &mut tokens)),
                },
            }
            i = j;
        }
        tokens
    }
}

/// The analyser of the word fields: Latin words and Japanese morphemes, English stop words
/// removed and English stemmed (the tokenizer has lower-cased already).
#[must_use]
pub fn words_analyzer() -> TextAnalyzer {
    let stop = StopWordFilter::new(Language::English).unwrap_or_else(|| StopWordFilter::remove(Vec::<String>::new()));
    TextAnalyzer::builder(KakehashiTokenizer::new(Mode::Words))
        .filter(stop)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The analyser of the bigram fields: kanji/kana only.
#[must_use]
pub fn bigram_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(KakehashiTokenizer::new(Mode::Bigrams)).build()
}

/// The analyser of the single-character fields: kanji/kana only.
#[must_use]
pub fn unigram_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(KakehashiTokenizer::new(Mode::Unigrams)).build()
}

/// The terms of `text` as `analyzer` produces them, in order.
#[must_use]
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    analyze_spans(analyzer, text).into_iter().map(|(term, _)| term).collect()
}

/// The terms of `text` with the byte range of the (original) text each comes from.
#[must_use]
pub fn analyze_offsets(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.offset_from, t.offset_to));
    }
    out
}

/// The terms of `text` with the part of the (original) text each comes from.
#[must_use]
pub fn analyze_spans(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, String)> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), text.get(t.offset_from..t.offset_to).unwrap_or_default().to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        analyze(&mut words_analyzer(), text)
    }

    #[test]
    fn japanese_sentences_become_words() {
        assert!(load_dictionary());
        assert_eq!(words("筋ジストロフィーの核酸医薬"), ["筋ジストロフィー", "核酸", "医薬"]);
        assert_eq!(
            words("膵臓がんの早期発見につながる血中バイオマーカーを探しています。"),
            ["膵臓", "がん", "早期", "発見", "つながる", "血", "中", "バイオ", "マーカー", "探す"]
        );
        assert_eq!(
            words("血液中の微量なタンパク質を測定し、膵がんを早期に検出する診断法を開発した。"),
            ["血液", "中", "微量", "タンパク質", "測定", "膵", "がん", "早期", "検出", "診断", "法", "開発"]
        );
        assert_eq!(words("iPS細胞由来の角膜内皮細胞シート"), ["ip", "細胞", "由来", "角膜", "内皮", "細胞", "シート"]);
    }

    #[test]
    fn bigrams_and_single_characters_cover_kanji_and_kana_only() {
        assert_eq!(analyze(&mut bigram_analyzer(), "抗体医薬 drug 癌"), ["抗体", "体医", "医薬", "癌"]);
        assert_eq!(analyze(&mut unigram_analyzer(), "抗体 drug 癌"), ["抗", "体", "癌"]);
        assert!(has_cjk("drug 癌") && has_cjk("ｶﾀｶﾅ") && !has_cjk("Ｄｒｕｇ délivery"));
    }

    #[test]
    fn english_is_stemmed_and_stop_words_dropped() {
        assert_eq!(words("Antibodies for the tumors"), words("antibody tumor"));
    }

    #[test]
    fn width_and_case_are_normalised() {
        assert_eq!(words("ＨＥＲ２陽性"), ["her2", "陽性"]);
        assert_eq!(words("ｶﾀｶﾅ"), words("カタカナ"));
        assert_eq!(words("ｓｉＲＮＡ"), words("siRNA"));
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let spans: Vec<String> =
            analyze_spans(&mut words_analyzer(), "新規ＡＤＣを創製した").into_iter().map(|(_, s)| s).collect();
        assert_eq!(spans, ["新規", "ＡＤＣ", "創製"]);
        let spans: Vec<String> =
            analyze_spans(&mut bigram_analyzer(), "新規ＡＤＣ").into_iter().map(|(_, s)| s).collect();
        assert_eq!(spans, ["新規"]);
    }

    #[test]
    fn runs_split_scripts() {
        let r = runs(&normalize("siRNA肝臓 delivery"));
        assert_eq!(
            r.iter().map(|r| (r.cjk, r.text.as_str())).collect::<Vec<_>>(),
            [(false, "sirna"), (true, "肝臓"), (false, "delivery")]
        );
    }
}
