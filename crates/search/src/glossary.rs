//! The bilingual concept glossary (`config/glossary.toml`, compiled in): Japanese and English
//! terms of the field grouped into concepts, so that 癌, がん, cancer and malignant tumour are one
//! thing to search and to matching.
//!
//! Terms are compared as the word analyser sees them (NFKC, lower case, English stems, Japanese
//! morphemes with verbs in their base form), so a term is found in a text when its words appear
//! there next to each other: separated by nothing, spaces, hyphens or a middle dot, English stop
//! words (`cancer of the pancreas`) or one Japanese particle (膵臓の癌, 早期に検出). At each place the
//! longest term wins (膵臓がん is pancreatic cancer, not cancer). The glossary is loaded once per
//! process; a term that would name two concepts is refused at load (and by a test).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use crate::analysis;

static SOURCE: &str = include_str!("../../../config/glossary.toml");

static BUILTIN: LazyLock<Glossary> = LazyLock::new(|| match Glossary::parse(SOURCE) {
    Ok(glossary) => glossary,
    Err(err) => {
        tracing::error!(error = %err, "the glossary is unreadable; search and matching go without concepts");
        Glossary::default()
    }
});

/// The glossary compiled into the binary.
#[must_use]
pub fn builtin() -> &'static Glossary {
    &BUILTIN
}

/// One concept: its terms in both languages (the first of each is its label).
#[derive(Debug, Clone, Deserialize)]
pub struct Concept {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub ja: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
    #[serde(default)]
    pub broader: Vec<String>,
}

impl Concept {
    #[must_use]
    pub fn label_ja(&self) -> &str {
        self.ja.first().or(self.en.first()).map_or(self.id.as_str(), String::as_str)
    }

    #[must_use]
    pub fn label_en(&self) -> &str {
        self.en.first().or(self.ja.first()).map_or(self.id.as_str(), String::as_str)
    }

    /// Every term, Japanese first.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.ja.iter().chain(&self.en).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    shared_terms: Vec<String>,
    #[serde(default)]
    concept: Vec<Concept>,
}

#[derive(Debug, thiserror::Error)]
pub enum GlossaryError {
    #[error("the glossary does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("concept id {0:?} is used twice")]
    DuplicateId(String),
    #[error("concept {concept:?} names an unknown broader concept {broader:?}")]
    UnknownBroader { concept: String, broader: String },
    #[error("the term {term:?} names both {first:?} and {second:?}")]
    Ambiguous { term: String, first: String, second: String },
}

/// A concept found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Index into [`Glossary::concepts`].
    pub concept: usize,
    /// Byte range in the text searched.
    pub start: usize,
    pub end: usize,
}

/// The concepts and the analysed form of each of their terms.
#[derive(Debug, Default)]
pub struct Glossary {
    concepts: Vec<Concept>,
    by_id: HashMap<String, usize>,
    /// Terms as written (normalised) → concept.
    by_key: HashMap<String, usize>,
    /// Terms with English words stemmed → concept, when only one concept has that stem
    /// (pancreatitis and pancreatic share one).
    by_stem: HashMap<String, usize>,
    /// The most words in one term.
    longest: usize,
}

/// The longest term looked for, in words.
const MAX_WORDS: usize = 8;

/// One analysed word with its byte range in the text.
pub(crate) struct Word {
    /// As indexed (English stemmed, Japanese verbs in their base form).
    pub text: String,
    /// As written, normalised (NFKC, lower case).
    pub surface: String,
    pub cjk: bool,
    pub start: usize,
    pub end: usize,
}

/// `text` as the word analyser sees it.
pub(crate) fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Word> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push(Word {
            cjk: analysis::has_cjk(&t.text),
            text: t.text.clone(),
            surface: analysis::normalize(text.get(t.offset_from..t.offset_to).unwrap_or_default()),
            start: t.offset_from,
            end: t.offset_to,
        });
    }
    out
}

/// Appends a word to a key: Latin words are separated by a space, Japanese ones are not. The
/// exact key has every word as written; the stemmed key has English words stemmed.
fn push_key(key: &mut String, previous_latin: bool, word: &Word, stemmed: bool) {
    if previous_latin && !word.cjk && !key.is_empty() {
        key.push(' ');
    }
    key.push_str(if stemmed && !word.cjk { &word.text } else { &word.surface });
}

/// Particles that may stand between the words of a Japanese term (膵臓の癌, 早期に検出).
const PARTICLES: [&str; 5] = ["の", "に", "を", "が", "で"];

/// Whether what stands between two words keeps them one term.
fn joins(gap: &str) -> bool {
    let trimmed = gap.trim_matches(|c: char| c.is_whitespace() || "-‐‑–・/'’".contains(c));
    if trimmed.is_empty() {
        return true;
    }
    if PARTICLES.contains(&trimmed) {
        return true;
    }
    trimmed.split(|c: char| c.is_whitespace() || c == '-').filter(|w| !w.is_empty()).all(|w| {
        let w = w.to_ascii_lowercase();
        matches!(w.as_str(), "of" | "the" | "a" | "an" | "and" | "in" | "for" | "to" | "on" | "by" | "with")
    })
}

impl Glossary {
    /// Parses glossary text.
    ///
    /// # Errors
    /// When it does not parse, an id is used twice, a broader concept is unknown, or a term (as
    /// analysed) names two concepts without being listed in `shared_terms`.
    pub fn parse(text: &str) -> Result<Glossary, GlossaryError> {
        let file: File = toml::from_str(text)?;
        let shared: std::collections::HashSet<String> =
            file.shared_terms.iter().map(|t| analysis::normalize(t)).collect();
        let mut glossary = Glossary { concepts: file.concept, ..Glossary::default() };
        for (i, c) in glossary.concepts.iter().enumerate() {
            if glossary.by_id.insert(c.id.clone(), i).is_some() {
                return Err(GlossaryError::DuplicateId(c.id.clone()));
            }
        }
        for c in &glossary.concepts {
            if let Some(b) = c.broader.iter().find(|b| !glossary.by_id.contains_key(*b)) {
                return Err(GlossaryError::UnknownBroader { concept: c.id.clone(), broader: b.clone() });
            }
        }
        let mut analyzer = analysis::words_analyzer();
        let mut ambiguous = Vec::new();
        let mut stems_shared = std::collections::HashSet::new();
        for (i, c) in glossary.concepts.iter().enumerate() {
            for term in c.terms() {
                let words = words(&mut analyzer, term);
                if words.is_empty() || words.len() > MAX_WORDS {
                    continue;
                }
                let (mut key, mut stem) = (String::new(), String::new());
                let mut latin = false;
                for w in &words {
                    push_key(&mut key, latin, w, false);
                    push_key(&mut stem, latin, w, true);
                    latin = !w.cjk;
                }
                glossary.longest = glossary.longest.max(words.len());
                match glossary.by_key.get(&key) {
                    Some(&other) if other != i && !shared.contains(&analysis::normalize(term)) => {
                        ambiguous.push(GlossaryError::Ambiguous {
                            term: term.to_owned(),
                            first: glossary.concepts[other].id.clone(),
                            second: c.id.clone(),
                        });
                    }
                    Some(_) => {}
                    None => {
                        glossary.by_key.insert(key, i);
                    }
                }
                match glossary.by_stem.get(&stem) {
                    Some(&other) if other != i => {
                        stems_shared.insert(stem);
                    }
                    Some(_) => {}
                    None => {
                        glossary.by_stem.insert(stem, i);
                    }
                }
            }
        }
        for stem in stems_shared {
            glossary.by_stem.remove(&stem);
        }
        if let Some(first) = ambiguous.into_iter().next() {
            return Err(first);
        }
        Ok(glossary)
    }

    #[must_use]
    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Concept> {
        self.by_id.get(id).map(|i| &self.concepts[*i])
    }

    /// Where the concept `id` is in [`Glossary::concepts`].
    #[must_use]
    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The concepts named in `text`, in order, longest term first at each place.
    #[must_use]
    pub fn find(&self, text: &str) -> Vec<Found> {
        let mut analyzer = analysis::words_analyzer();
        self.find_with(&mut analyzer, text)
    }

    /// [`Glossary::find`] with the caller's analyser (one per thread saves its set-up).
    #[must_use]
    pub fn find_with(&self, analyzer: &mut TextAnalyzer, text: &str) -> Vec<Found> {
        if self.concepts.is_empty() {
            return Vec::new();
        }
        self.find_in_words(text, &words(analyzer, text))
    }

    /// [`Glossary::find`] over `text` already analysed into `words`.
    pub(crate) fn find_in_words(&self, text: &str, words: &[Word]) -> Vec<Found> {
        let mut found = Vec::new();
        let mut i = 0;
        let (mut key, mut stem) = (String::new(), String::new());
        while i < words.len() {
            key.clear();
            stem.clear();
            let mut latin = false;
            let mut best = None;
            for j in i..words.len().min(i + self.longest) {
                if j > i && !joins(text.get(words[j - 1].end..words[j].start).unwrap_or("x")) {
                    break;
                }
                push_key(&mut key, latin, &words[j], false);
                push_key(&mut stem, latin, &words[j], true);
                latin = !words[j].cjk;
                if let Some(&concept) = self.by_key.get(&key).or_else(|| self.by_stem.get(&stem)) {
                    best = Some((j, concept));
                }
            }
            match best {
                Some((j, concept)) => {
                    found.push(Found { concept, start: words[i].start, end: words[j].end });
                    i = j + 1;
                }
                None => i += 1,
            }
        }
        found
    }

    /// The ids of the concepts named in `text`, once per mention.
    #[must_use]
    pub fn ids_in(&self, analyzer: &mut TextAnalyzer, text: &str) -> Vec<&str> {
        self.find_with(analyzer, text).into_iter().map(|f| self.concepts[f.concept].id.as_str()).collect()
    }

    /// The broader concepts of `id`, transitively (each once, nearest first).
    #[must_use]
    pub fn broader(&self, id: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let mut frontier: Vec<&str> = vec![id];
        for _ in 0..4 {
            let mut next = Vec::new();
            for c in frontier.iter().filter_map(|i| self.get(i)) {
                for b in &c.broader {
                    if b != id && !out.contains(&b.as_str()) {
                        out.push(b);
                        next.push(b.as_str());
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        let g = builtin();
        g.find(text).into_iter().map(|f| g.concepts()[f.concept].id.clone()).collect()
    }

    #[test]
    fn the_shipped_glossary_parses_and_no_term_names_two_concepts() {
        let glossary = Glossary::parse(SOURCE).unwrap();
        assert!(glossary.len() >= 1_000, "{} concepts", glossary.len());
        for c in glossary.concepts() {
            assert!(!c.ja.is_empty() && !c.en.is_empty(), "{} lacks a language", c.id);
        }
    }

    #[test]
    fn ambiguous_terms_are_refused_unless_shared() {
        let two = "[[concept]]\nid = \"a\"\nkind = \"disease\"\nja = [\"がん\"]\nen = [\"cancer\"]\n\n\
                   [[concept]]\nid = \"b\"\nkind = \"general\"\nja = [\"ガン\"]\nen = [\"ＣＡＮＣＥＲ\"]\n";
        assert!(matches!(Glossary::parse(two), Err(GlossaryError::Ambiguous { .. })));
        let shared = format!("shared_terms = [\"Cancer\"]\n{two}");
        let stems = two.replace("ＣＡＮＣＥＲ", "Cancers");
        assert!(Glossary::parse(&stems).is_ok(), "words that only stem alike are no error");
        assert!(Glossary::parse(&shared).is_ok());
        let unknown = "[[concept]]\nid = \"a\"\nkind = \"disease\"\nja = [\"x\"]\nen = [\"y\"]\nbroader = [\"z\"]\n";
        assert!(matches!(Glossary::parse(unknown), Err(GlossaryError::UnknownBroader { .. })));
    }

    #[test]
    fn synonyms_in_both_languages_are_one_concept() {
        assert_eq!(ids("癌"), ids("がん"));
        assert_eq!(ids("がん"), ids("Cancer"));
        assert_eq!(ids("抗体"), ids("antibodies"));
        assert_eq!(ids("malignant tumours"), ids("悪性腫瘍"));
    }

    #[test]
    fn the_longest_term_wins_and_words_must_stand_together() {
        let need = ids("膵臓がんの早期発見につながる血中バイオマーカーを探しています。");
        for id in ["pancreatic-cancer", "early-detection", "blood-biomarker"] {
            assert!(need.iter().any(|i| i == id), "{id} in {need:?}");
        }
        assert!(!need.iter().any(|i| i == "cancer"), "膵臓がん is one concept: {need:?}");
        let seed = ids("血液中の微量なタンパク質を測定し、膵がんを早期に検出する診断法を開発した。");
        assert!(seed.iter().any(|i| i == "pancreatic-cancer"), "{seed:?}");
        assert!(seed.iter().any(|i| i == "early-detection"), "早期に検出: {seed:?}");
        assert!(ids("cancer of the pancreas").contains(&"pancreatic-cancer".to_owned()));
        assert_eq!(ids("pancreatic. Cancer"), ids("pancreatic").into_iter().chain(ids("cancer")).collect::<Vec<_>>());
    }

    #[test]
    fn broader_concepts_are_followed() {
        let g = builtin();
        assert!(g.broader("pancreatic-cancer").contains(&"cancer"));
        assert_eq!(g.get("cancer").unwrap().label_ja(), "がん");
        assert_eq!(g.get("cancer").unwrap().label_en(), "cancer");
    }
}
