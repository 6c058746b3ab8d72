//! "More like this" for matching: a record's title, summary (or description) and keywords as a
//! bag of weighted terms, never as phrases.
//!
//! A record's [`Profile`] holds two vectors: its words (English stems, Japanese morphemes) and the
//! glossary concepts it names (with their broader concepts, lightly), each term weighted by
//! `(1 + ln tf) × idf` over the index and the vector scaled to length 1, keeping its strongest
//! [`MAX_WORDS`] words. Two records compare by the cosine of each vector, so a score means the same
//! for a short need and a long seed, and it is the same whichever of the two is being matched:
//! re-matching either side of a pair gives the pair the same score. Candidates come from one query
//! over the index built from the profile's terms (BM25), and are then compared on their stored
//! text — only the non-confidential text the index holds.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, TantivyDocument, Term};
use uuid::Uuid;

use crate::glossary::{self, Glossary};
use crate::{Kind, Result, SearchIndex, analysis, concept_term};

/// The strongest words a profile keeps.
pub const MAX_WORDS: usize = 40;
/// Title words count this many times.
const TITLE_TF: f32 = 2.0;
/// A broader concept of one the record names weighs this much of a named one.
const BROADER: f32 = 0.15;
/// How many of the profile's strongest words the candidate query asks for.
const QUERY_WORDS: usize = 25;

/// A record's words and concepts, weighted and scaled to length 1.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Word → (weight, the word as first written).
    words: HashMap<String, (f32, String)>,
    /// Concept id → weight; named directly or only through a narrower one.
    concepts: HashMap<String, (f32, bool)>,
}

/// How much two records say the same.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Similarity {
    /// Cosine of the word vectors, 0 to 1.
    pub words: f64,
    /// Cosine of the concept vectors, 0 to 1.
    pub concepts: f64,
    /// The words both use, strongest first, as the first record writes them.
    pub shared_words: Vec<String>,
    /// The concepts both name, strongest first (ids).
    pub shared_concepts: Vec<String>,
}

impl Profile {
    /// Compares two profiles; symmetric in its scores.
    #[must_use]
    pub fn similarity(&self, other: &Profile) -> Similarity {
        let mut words: Vec<(f32, &str)> = self
            .words
            .iter()
            .filter_map(|(t, (w, surface))| other.words.get(t).map(|(v, _)| (w * v, surface.as_str())))
            .collect();
        let mut concepts: Vec<(f32, &str, bool)> = self
            .concepts
            .iter()
            .filter_map(|(id, (w, named))| {
                other.concepts.get(id).map(|(v, theirs)| (w * v, id.as_str(), *named && *theirs))
            })
            .collect();
        words.sort_by(|a, b| b.0.total_cmp(&a.0));
        concepts.sort_by(|a, b| b.0.total_cmp(&a.0));
        Similarity {
            words: f64::from(words.iter().map(|w| w.0).sum::<f32>()).clamp(0.0, 1.0),
            concepts: f64::from(concepts.iter().map(|c| c.0).sum::<f32>()).clamp(0.0, 1.0),
            shared_words: words.iter().map(|w| w.1.to_owned()).collect(),
            shared_concepts: concepts.iter().filter(|c| c.2).map(|c| c.1.to_owned()).collect(),
        }
    }

    /// Whether the record has no word or concept to compare.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.concepts.is_empty()
    }
}

/// A candidate from the other side and how similar it is.
#[derive(Debug, Clone)]
pub struct SimilarHit {
    pub id: Uuid,
    pub similarity: Similarity,
}

/// Builds profiles against one view of the index, remembering the rarity of each term.
struct Profiler<'a> {
    index: &'a SearchIndex,
    searcher: Searcher,
    glossary: &'a Glossary,
    analyzer: tantivy::tokenizer::TextAnalyzer,
    docs: f32,
    idf: HashMap<Term, f32>,
}

impl Profiler<'_> {
    fn idf(&mut self, term: Term) -> f32 {
        if let Some(v) = self.idf.get(&term) {
            return *v;
        }
        let df = self.searcher.doc_freq(&term).unwrap_or(0) as f32;
        let v = (1.0 + (self.docs - df + 0.5) / (df + 0.5)).ln();
        self.idf.insert(term, v);
        v
    }

    fn profile(&mut self, title: &str, body: &str) -> Profile {
        let f = self.index.fields;
        let mut tf: HashMap<String, (f32, String)> = HashMap::new();
        let mut named: HashMap<&str, f32> = HashMap::new();
        for (text, weight) in [(title, TITLE_TF), (body, 1.0)] {
            let words = glossary::words(&mut self.analyzer, text);
            for found in self.glossary.find_in_words(text, &words) {
                *named.entry(self.glossary.concepts()[found.concept].id.as_str()).or_default() += weight;
            }
            for w in words {
                let surface = text.get(w.start..w.end).unwrap_or_default();
                tf.entry(w.text).or_insert_with(|| (0.0, surface.to_owned())).0 += weight;
            }
        }
        let mut words: Vec<(String, (f32, String))> = tf
            .into_iter()
            .map(|(t, (n, surface))| {
                let idf = self.idf(Term::from_field_text(f.body, &t)).max(self.idf(Term::from_field_text(f.title, &t)));
                let weight = (1.0 + n.ln()) * idf;
                (t, (weight, surface))
            })
            .collect();
        words.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
        words.truncate(MAX_WORDS);
        let mut concepts: HashMap<String, (f32, bool)> = HashMap::new();
        for (id, n) in &named {
            let idf = self.idf(Term::from_field_text(f.concepts, &concept_term(id)));
            concepts.insert((*id).to_owned(), ((1.0 + n.ln()) * idf, true));
        }
        for id in named.keys() {
            for b in self.glossary.broader(id) {
                if !named.contains_key(b) && !concepts.contains_key(b) {
                    let idf = self.idf(Term::from_field_text(f.concepts, &concept_term(b)));
                    concepts.insert(b.to_owned(), (BROADER * idf, false));
                }
            }
        }
        let mut words: HashMap<String, (f32, String)> = words.into_iter().collect();
        let norm = words.values().map(|(w, _)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            words.values_mut().for_each(|(w, _)| *w /= norm);
        }
        let norm = concepts.values().map(|(w, _)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            concepts.values_mut().for_each(|(w, _)| *w /= norm);
        }
        Profile { words, concepts }
    }

    fn stored_profile(&mut self, doc: &TantivyDocument) -> Profile {
        let f = self.index.fields;
        let (title, body) = (SearchIndex::stored_text(doc, f.title), SearchIndex::stored_text(doc, f.body));
        self.profile(&title, &body)
    }
}

impl SearchIndex {
    fn profiler(&self) -> Profiler<'_> {
        let searcher = self.reader.searcher();
        Profiler {
            index: self,
            docs: searcher.num_docs() as f32,
            searcher,
            glossary: glossary::builtin(),
            analyzer: analysis::words_analyzer(),
            idf: HashMap::new(),
        }
    }

    /// The profile of a record's (non-confidential) title and body.
    #[must_use]
    pub fn profile(&self, title: &str, body: &str) -> Profile {
        self.profiler().profile(title, body)
    }

    /// The records of kind `other` most like `title` and `body` (record `id`): up to `limit`
    /// found by their terms, plus those in `also` (the record's current matches, so that they are
    /// compared again whatever the query finds), each with its similarity.
    ///
    /// # Errors
    /// When tantivy fails.
    pub fn similar(
        &self,
        id: Uuid,
        title: &str,
        body: &str,
        other: Kind,
        also: &[Uuid],
        limit: usize,
    ) -> Result<Vec<SimilarHit>> {
        let f = self.fields;
        let mut profiler = self.profiler();
        let own = profiler.profile(title, body);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut strongest: Vec<(&String, f32)> = own.words.iter().map(|(t, (w, _))| (t, *w)).collect();
        strongest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        for (t, w) in strongest.into_iter().take(QUERY_WORDS) {
            for field in [f.title, f.body] {
                let q = TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::WithFreqs);
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), w))));
            }
        }
        for (c, (w, _)) in &own.concepts {
            let q = TermQuery::new(Term::from_field_text(f.concepts, &concept_term(c)), IndexRecordOption::WithFreqs);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), 2.0 * w))));
        }
        let kind = |k: Kind| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(f.kind, k.as_str()), IndexRecordOption::Basic))
        };
        let own_id = Term::from_field_text(f.id, &id.to_string());
        let mut found: Vec<tantivy::DocAddress> = Vec::new();
        if !clauses.is_empty() && limit > 0 {
            let query = BooleanQuery::new(vec![
                (Occur::Must, Box::new(BooleanQuery::new(clauses))),
                (Occur::Must, Box::new(tantivy::query::ConstScoreQuery::new(kind(other), 0.0))),
                (Occur::MustNot, Box::new(TermQuery::new(own_id.clone(), IndexRecordOption::Basic))),
            ]);
            found.extend(
                profiler
                    .searcher
                    .search(&query, &TopDocs::with_limit(limit).order_by_score())?
                    .into_iter()
                    .map(|(_, a)| a),
            );
        }
        if !also.is_empty() {
            let ids = TermSetQuery::new(also.iter().map(|i| Term::from_field_text(f.id, &i.to_string())));
            let query = BooleanQuery::new(vec![
                (Occur::Must, Box::new(ids) as Box<dyn Query>),
                (Occur::Must, kind(other)),
                (Occur::MustNot, Box::new(TermQuery::new(own_id, IndexRecordOption::Basic))),
            ]);
            for (_, a) in profiler.searcher.search(&query, &TopDocs::with_limit(also.len()).order_by_score())? {
                if !found.contains(&a) {
                    found.push(a);
                }
            }
        }
        let mut hits = Vec::with_capacity(found.len());
        for address in found {
            let doc: TantivyDocument = profiler.searcher.doc(address)?;
            let Ok(id) = Self::stored_text(&doc, f.id).parse::<Uuid>() else { continue };
            let theirs = profiler.stored_profile(&doc);
            hits.push(SimilarHit { id, similarity: own.similarity(&theirs) });
        }
        Ok(hits)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{Op, SearchDoc};
    use chrono::Utc;
    use kakehashi_domain::Visibility;

    fn doc(kind: Kind, title: &str, body: &str) -> SearchDoc {
        SearchDoc {
            kind,
            id: Uuid::new_v4(),
            organization_id: Uuid::nil(),
            visibility: Visibility::Members,
            anonymous: false,
            title: title.into(),
            body: body.into(),
            modalities: vec![],
            disease_areas: vec![],
            stages: vec![],
            ip_status: None,
            deal_types: vec![],
            published_at: Utc::now(),
        }
    }

    #[test]
    fn records_saying_the_same_in_two_languages_share_concepts_and_scores_are_symmetric() {
        let index = SearchIndex::in_memory().unwrap();
        let need =
            doc(Kind::Need, "膵臓がんの早期発見", "膵臓がんの早期発見につながる血中バイオマーカーを探しています。");
        let ja = doc(
            Kind::Seed,
            "膵がん早期診断マーカー",
            "血液中の微量なタンパク質を測定し、膵がんを早期に検出する診断法を開発した。",
        );
        let en = doc(
            Kind::Seed,
            "Blood biomarkers for early detection of pancreatic cancer",
            "A panel of serum protein biomarkers that detects pancreatic ductal adenocarcinoma at an early stage.",
        );
        let other = doc(
            Kind::Seed,
            "Antibody-drug conjugate for gastric cancer",
            "A HER2-targeted antibody-drug conjugate with a cleavable linker for advanced gastric cancer.",
        );
        let docs = [&need, &ja, &en, &other];
        index.apply(&docs.iter().map(|d| Op::Upsert(Box::new((*d).clone()))).collect::<Vec<_>>(), Some(1)).unwrap();
        let hits = index.similar(need.id, &need.title, &need.body, Kind::Seed, &[], 10).unwrap();
        let of = |id: Uuid| hits.iter().find(|h| h.id == id).map(|h| h.similarity.clone()).unwrap_or_default();
        let (to_ja, to_en, to_other) = (of(ja.id), of(en.id), of(other.id));
        assert!(to_ja.words > 0.0 && to_ja.concepts > 0.0, "{to_ja:?}");
        assert!(to_en.concepts > 0.3, "{to_en:?}");
        assert!(to_en.shared_concepts.contains(&"pancreatic-cancer".to_owned()), "{to_en:?}");
        assert!(to_en.shared_concepts.contains(&"early-detection".to_owned()), "{to_en:?}");
        assert!(to_other.concepts < to_en.concepts / 2.0, "{to_other:?} against {to_en:?}");
        // The other way round, the pair scores the same.
        let back = index.similar(en.id, &en.title, &en.body, Kind::Need, &[], 10).unwrap();
        let back = back.iter().find(|h| h.id == need.id).unwrap();
        assert!((back.similarity.concepts - to_en.concepts).abs() < 1e-6);
        assert!((back.similarity.words - to_en.words).abs() < 1e-6);
        // A record asked for by id is compared whatever the query finds.
        let also = index.similar(need.id, "x", "y", Kind::Seed, &[other.id], 0).unwrap();
        assert_eq!(also.iter().map(|h| h.id).collect::<Vec<_>>(), [other.id]);
    }
}
