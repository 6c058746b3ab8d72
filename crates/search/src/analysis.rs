//! Text analysis for Japanese and English in one corpus, with no dictionary to download.
//!
//! Text is NFKC-normalised (full-width ＡＢＣ１ → abc1, half-width ｶﾀｶﾅ → カタカナ) and lower-cased,
//! then split into runs. A run of Latin letters and digits is one word, stemmed as English
//! ("antibodies" → "antibodi" ← "antibody"). A run of kanji and kana becomes overlapping bigrams
//! (抗体薬 → 抗体, 体薬), the usual way to index CJK text without a morphological dictionary; a
//! second field holds single characters so that a one-character query such as 癌 still matches.

use tantivy::tokenizer::{Language, Stemmer, StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;

/// Tokenizer names registered on every index.
pub const BIGRAM: &str = "kk_bigram";
pub const UNIGRAM: &str = "kk_unigram";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Cjk,
    Word,
    Gap,
}

fn class(c: char) -> Class {
    match c as u32 {
        0x3005 | 0x3007 | 0x303B          // 々 〇 〻
        | 0x3040..=0x30FF                 // hiragana, katakana, ー
        | 0x3400..=0x4DBF                 // CJK extension A
        | 0x4E00..=0x9FFF                 // CJK unified ideographs
        | 0xF900..=0xFAFF                 // compatibility ideographs
        | 0x20000..=0x2FA1F => Class::Cjk,
        _ if c.is_alphanumeric() => Class::Word,
        _ => Class::Gap,
    }
}

/// Whether `text` holds kanji or kana (half-width katakana included): text without them has no
/// single-character terms to index.
#[must_use]
pub fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| !c.is_ascii() && (class(c) == Class::Cjk || ('\u{FF66}'..='\u{FF9F}').contains(&c)))
}

/// NFKC and lower case: the form both documents and queries are compared in.
#[must_use]
pub fn normalize(text: &str) -> String {
    text.nfkc().collect::<String>().to_lowercase()
}

/// A run of one class, as character offsets into the normalised text's `chars`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub cjk: bool,
    pub text: String,
}

/// Splits normalised text into word and CJK runs.
#[must_use]
pub fn runs(normalized: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut current: Option<(Class, String)> = None;
    for c in normalized.chars() {
        let k = class(c);
        match (&mut current, k) {
            (Some((ck, text)), k) if *ck == k && k != Class::Gap => text.push(c),
            (_, Class::Gap) => {
                if let Some((ck, text)) = current.take() {
                    out.push(Run { cjk: ck == Class::Cjk, text });
                }
            }
            (_, k) => {
                if let Some((ck, text)) = current.take() {
                    out.push(Run { cjk: ck == Class::Cjk, text });
                }
                current = Some((k, c.to_string()));
            }
        }
    }
    if let Some((ck, text)) = current {
        out.push(Run { cjk: ck == Class::Cjk, text });
    }
    out
}

/// Emits words and CJK bigrams (`unigrams == false`) or CJK single characters only.
#[derive(Debug, Clone, Copy)]
pub struct KakehashiTokenizer {
    unigrams: bool,
}

pub struct KakehashiTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for KakehashiTokenizer {
    type TokenStream<'a> = KakehashiTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> KakehashiTokenStream {
        KakehashiTokenStream { tokens: tokenize(text, self.unigrams), index: 0 }
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

/// Tokens with byte offsets into the original `text` (for highlighting). Offsets are mapped per
/// source character, so NFKC expansions stay within the character they came from.
fn tokenize(text: &str, unigrams: bool) -> Vec<Token> {
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
    let mut push = |from: usize, to: usize, chars: &[(char, usize, usize)], tokens: &mut Vec<Token>| {
        tokens.push(Token {
            offset_from: chars[from].1,
            offset_to: chars[to - 1].2,
            position,
            text: chars[from..to].iter().map(|c| c.0).collect(),
            position_length: 1,
        });
        position += 1;
    };
    let mut i = 0;
    while i < chars.len() {
        let k = class(chars[i].0);
        let mut j = i + 1;
        while j < chars.len() && class(chars[j].0) == k && k != Class::Gap {
            j += 1;
        }
        match k {
            Class::Gap => {}
            Class::Word if !unigrams => push(i, j, &chars, &mut tokens),
            Class::Word => {}
            Class::Cjk if unigrams => (i..j).for_each(|p| push(p, p + 1, &chars, &mut tokens)),
            Class::Cjk if j - i == 1 => push(i, j, &chars, &mut tokens),
            Class::Cjk => (i..j - 1).for_each(|p| push(p, p + 2, &chars, &mut tokens)),
        }
        i = j;
    }
    tokens
}

/// The analyzer for words and bigrams: English stop words removed, English stemmed (the
/// tokenizer has lower-cased already).
#[must_use]
pub fn bigram_analyzer() -> TextAnalyzer {
    let stop = StopWordFilter::new(Language::English).unwrap_or_else(|| StopWordFilter::remove(Vec::<String>::new()));
    TextAnalyzer::builder(KakehashiTokenizer { unigrams: false })
        .filter(stop)
        .filter(Stemmer::new(Language::English))
        .build()
}

#[must_use]
pub fn unigram_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(KakehashiTokenizer { unigrams: true }).build()
}

/// The terms of `text` as the bigram analyzer produces them, in order.
#[must_use]
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        analyze(&mut bigram_analyzer(), text)
    }

    #[test]
    fn japanese_becomes_bigrams_and_single_characters_stay() {
        assert_eq!(terms("抗体医薬"), ["抗体", "体医", "医薬"]);
        assert_eq!(terms("癌"), ["癌"]);
        assert_eq!(analyze(&mut unigram_analyzer(), "抗体 drug 癌"), ["抗", "体", "癌"]);
        assert!(has_cjk("drug 癌") && has_cjk("ｶﾀｶﾅ") && !has_cjk("Ｄｒｕｇ délivery"));
    }

    #[test]
    fn english_is_stemmed_and_stop_words_dropped() {
        assert_eq!(terms("Antibodies for the tumors"), terms("antibody tumor"));
    }

    #[test]
    fn width_and_case_are_normalised() {
        assert_eq!(terms("ＨＥＲ２陽性"), ["her2", "陽性"]);
        assert_eq!(terms("ｶﾀｶﾅ"), terms("カタカナ"));
        assert_eq!(terms("ｓｉＲＮＡ"), terms("siRNA"));
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "新規ＡＤＣ";
        let mut analyzer = bigram_analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut spans = Vec::new();
        while stream.advance() {
            let t = stream.token();
            spans.push(text[t.offset_from..t.offset_to].to_owned());
        }
        assert_eq!(spans, ["新規", "ＡＤＣ"]);
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
