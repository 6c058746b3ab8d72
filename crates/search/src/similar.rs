//! "More like this" for matching: a record's title, summary (or description) and keywords as a
//! bag of weighted terms, never as phrases.
//!
//! A record's [`Profile`] holds two vectors: its words (English stems, Japanese morphemes) and the
//! glossary concepts it names (and, lightly, the concepts directly broader than those), each term
//! weighted by `(1 + ln tf) × idf` over the index and the vector scaled to length 1, keeping its
//! strongest [`MAX_WORDS`] words. A concept counts toward two records' similarity only when at
//! least one of them names it: both name it, or one names it and the other names a concept
//! directly narrower (muscular dystrophy and Duchenne muscular dystrophy). Concepts both only reach
//! through narrower ones (cancer through 膵臓がん and through head and neck cancer), or that lie
//! further up (tumour through 膵臓がん), are no evidence that the two say the same; and every
//! concept that counts is one the match's reasons name. Two records compare by the cosine of each vector, so a score means the same
//! for a short need and a long seed, and it is the same whichever of the two is being matched:
//! re-matching either side of a pair gives the pair the same score. Candidates come from one query
//! over the index built from the profile's terms (BM25), and are then compared on their stored
//! text — only the non-confidential text the index holds.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher as _};
use std::sync::Arc;

use kakehashi_domain::Locale;
use kakehashi_domain::matching::Terms;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::{Field, IndexRecordOption, Value as _};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};
use uuid::Uuid;

use crate::glossary;
use crate::{Kind, Result, SearchIndex, analysis, concept_term};

/// The strongest words a profile keeps.
pub const MAX_WORDS: usize = 40;
/// Title words count this many times.
const TITLE_TF: f32 = 2.0;
/// A concept directly broader than one the record names weighs this much of a named one.
const BROADER: f32 = 0.15;
/// How many of the profile's strongest words the candidate query asks for.
const QUERY_WORDS: usize = 25;

/// A record's words and concepts, weighted and scaled to length 1.
///
/// A word is known by a 64-bit hash of its indexed form (two words of one comparison sharing a
/// hash is too unlikely to matter), a concept by its place in the glossary; both lists are
/// sorted by that key, so two profiles compare in one pass without hashing or allocating.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// (word key, weight), by key.
    words: Vec<(u64, f32)>,
    /// (concept's place in the glossary, weight, whether the text names it rather than only a
    /// concept directly narrower), by place.
    concepts: Vec<(u32, f32, bool)>,
    /// Word key → the word as first written: kept for the record being matched, whose shared
    /// words a match names, not for the candidates it is compared with.
    surfaces: HashMap<u64, String>,
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
    /// The concepts that count: named by both, or by one of them and directly narrower than one
    /// the other names; strongest first (ids).
    pub shared_concepts: Vec<String>,
}

/// Calls `both` for every key two key-sorted lists share.
fn for_shared<A, B, K: Ord>(
    a: &[A],
    b: &[B],
    key_a: impl Fn(&A) -> K,
    key_b: impl Fn(&B) -> K,
    mut both: impl FnMut(&A, &B),
) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match key_a(&a[i]).cmp(&key_b(&b[j])) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both(&a[i], &b[j]);
                i += 1;
                j += 1;
            }
        }
    }
}

impl Profile {
    /// Compares two profiles; symmetric in its scores (the products add up in key order, the same
    /// whichever profile asks).
    #[must_use]
    pub fn similarity(&self, other: &Profile) -> Similarity {
        let (mut word_sum, mut concept_sum) = (0.0_f32, 0.0_f32);
        let mut words: Vec<(f32, &str)> = Vec::new();
        for_shared(
            &self.words,
            &other.words,
            |w| w.0,
            |w| w.0,
            |(key, w), (_, v)| {
                word_sum += w * v;
                if let Some(surface) = self.surfaces.get(key).or_else(|| other.surfaces.get(key)) {
                    words.push((w * v, surface));
                }
            },
        );
        let glossary = glossary::builtin();
        let mut concepts: Vec<(f32, &str)> = Vec::new();
        for_shared(
            &self.concepts,
            &other.concepts,
            |c| c.0,
            |c| c.0,
            |(at, w, named), (_, v, theirs)| {
                if *named || *theirs {
                    concept_sum += w * v;
                    if let Some(c) = glossary.concepts().get(*at as usize) {
                        concepts.push((w * v, c.id.as_str()));
                    }
                }
            },
        );
        words.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        concepts.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        Similarity {
            words: f64::from(word_sum).clamp(0.0, 1.0),
            concepts: f64::from(concept_sum).clamp(0.0, 1.0),
            shared_words: words.iter().map(|w| w.1.to_owned()).collect(),
            shared_concepts: concepts.iter().map(|c| c.1.to_owned()).collect(),
        }
    }

    /// Whether the record has no word or concept to compare.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.concepts.is_empty()
    }

    /// A concept's weight and whether the text names it.
    #[cfg(test)]
    fn concept(&self, id: &str) -> Option<(f32, bool)> {
        let at = glossary::builtin().position(id)?;
        self.concepts.iter().find(|c| c.0 as usize == at).map(|c| (c.1, c.2))
    }
}

/// The key of an indexed word in a profile.
fn word_key(term: &str) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(term.as_bytes());
    h.finish()
}

/// A candidate from the other side and how similar it is.
#[derive(Debug, Clone)]
pub struct SimilarHit {
    pub id: Uuid,
    pub similarity: Similarity,
    /// What else matching weighs of it, as the index holds it.
    pub facts: Arc<Facts>,
}

/// What matching weighs of a record besides its text, read from the index with its profile, so
/// that a candidate is scored without reading its content from the database: its language and
/// its taxonomy (a seed's stage, or the stages a need asks for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub language: Locale,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    pub stages: Vec<String>,
    pub deal_types: Vec<String>,
}

impl Facts {
    /// The taxonomy as the fit weighs it.
    #[must_use]
    pub fn terms(&self) -> Terms<'_> {
        Terms::of(&self.modalities, &self.disease_areas, &self.stages, &self.deal_types)
    }
}

/// A candidate as a generation of the index derived it once: its id, profile and facts.
type Candidate = (Uuid, Arc<Profile>, Arc<Facts>);

/// What a record's text says before the index weighs it: its words with their counts (title
/// words counting [`TITLE_TF`] times) and the glossary concepts it names with theirs. Built once
/// when the record is indexed and stored with it, so matching weighs a candidate without
/// analysing its text again; a profile built from the text itself goes through the same bag.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Bag {
    /// (word as indexed, count, the word as first written), in order of first appearance.
    words: Vec<(String, f32, String)>,
    /// (concept id, count), in order of first mention.
    named: Vec<(String, f32)>,
    /// Each mention of a concept, in order (title first), by its place in the glossary: not
    /// stored, the index's `concepts` terms.
    mentions: Vec<usize>,
}

/// A stored bag read in place, borrowing its words from the stored text.
#[derive(Debug, Default, PartialEq)]
struct StoredBag<'a> {
    words: Vec<(&'a str, f32, &'a str)>,
    named: Vec<(&'a str, f32)>,
}

impl<'a> StoredBag<'a> {
    fn parse(stored: &'a str) -> StoredBag<'a> {
        let mut bag = StoredBag::default();
        for line in stored.lines() {
            let mut parts = line.split('\t');
            let (Some(tag), Some(Ok(n))) = (parts.next(), parts.next().map(str::parse::<f32>)) else { continue };
            match (tag, parts.next(), parts.next()) {
                ("w", Some(term), Some(surface)) => bag.words.push((term, n, surface)),
                ("c", Some(id), None) => bag.named.push((id, n)),
                _ => {}
            }
        }
        bag
    }
}

impl Bag {
    pub(crate) fn of(analyzer: &mut tantivy::tokenizer::TextAnalyzer, title: &str, body: &str) -> Bag {
        let glossary = glossary::builtin();
        let mut bag = Bag::default();
        let (mut words, mut named): (HashMap<String, usize>, HashMap<&str, usize>) = Default::default();
        for (text, weight) in [(title, TITLE_TF), (body, 1.0)] {
            let found = glossary::words(analyzer, text);
            for f in glossary.find_in_words(text, &found) {
                let id = glossary.concepts()[f.concept].id.as_str();
                bag.mentions.push(f.concept);
                let at = *named.entry(id).or_insert_with(|| {
                    bag.named.push((id.to_owned(), 0.0));
                    bag.named.len() - 1
                });
                bag.named[at].1 += weight;
            }
            for w in found {
                // The stored form separates fields by tabs and lines: a token never holds them.
                if w.text.contains(['\t', '\n']) {
                    continue;
                }
                let surface = text.get(w.start..w.end).unwrap_or_default().replace(['\t', '\n'], " ");
                let at = if let Some(at) = words.get(&w.text) {
                    *at
                } else {
                    words.insert(w.text.clone(), bag.words.len());
                    bag.words.push((w.text, 0.0, surface));
                    bag.words.len() - 1
                };
                bag.words[at].1 += weight;
            }
        }
        bag
    }

    /// The `concepts` terms of the index: `c:<id>` once per mention, then `b:<id>` once for each
    /// concept broader than those and not itself named.
    pub(crate) fn concept_terms(&self) -> Vec<String> {
        let glossary = glossary::builtin();
        let named: Vec<&str> = self.mentions.iter().map(|at| glossary.concepts()[*at].id.as_str()).collect();
        let mut broader: Vec<&str> = Vec::new();
        for id in &named {
            for b in glossary.broader(id) {
                if !broader.contains(&b) && !named.contains(&b) {
                    broader.push(b);
                }
            }
        }
        named.iter().map(|id| concept_term(id)).chain(broader.iter().map(|id| crate::broader_term(id))).collect()
    }

    /// The stored form: one line per word (`w`, count, word, as written) and per concept (`c`,
    /// count, id), fields separated by tabs.
    pub(crate) fn encode(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for (term, n, surface) in &self.words {
            let _ = writeln!(out, "w\t{n}\t{term}\t{surface}");
        }
        for (id, n) in &self.named {
            let _ = writeln!(out, "c\t{n}\t{id}");
        }
        out
    }
}

/// What matching derives from the newest generation of the index's searcher, shared by every
/// matching run on it: the rarity of terms (a candidate's words are mostly those of the
/// candidates before it) and the profiles of the candidates compared so far (an import's seeds
/// are compared with many of the same needs). Emptied whenever the reader reloads
/// ([`Derived::reloaded`]); a run on an older searcher neither reads nor writes it, so what it
/// holds is always of the searcher that asks.
#[derive(Debug, Default)]
pub(crate) struct Derived {
    generation: u64,
    /// (field, term) key → inverse document frequency.
    idf: HashMap<u64, f32>,
    /// A candidate's id, profile and facts, by its address in the generation's searcher.
    profiles: HashMap<DocAddress, Candidate>,
}

/// Terms remembered per generation at most; beyond it that part starts again.
const IDF_CACHE: usize = 200_000;
/// Candidates remembered per generation at most (about 1.3 KiB each): every need of a
/// network of 20,000, a fifth of its seeds.
const PROFILE_CACHE: usize = 24_000;

impl Derived {
    /// The reader now serves `generation`: forget what was derived from the one before.
    pub(crate) fn reloaded(&mut self, generation: u64) {
        if generation != self.generation {
            self.generation = generation;
            self.idf.clear();
            self.profiles.clear();
        }
    }

    /// Whether what is held is of `generation`, after forgetting an older one.
    fn serves(&mut self, generation: u64) -> bool {
        if generation > self.generation {
            self.reloaded(generation);
        }
        generation == self.generation
    }
}

/// Puts `value` under `key`, `map` starting again once it holds `cap` entries.
fn remember<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, cap: usize, key: K, value: V) {
    if map.len() >= cap {
        map.clear();
    }
    map.insert(key, value);
}

/// The key of a term of `field` written as the concatenation of `parts`.
fn idf_key(field: Field, parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write_u32(field.field_id());
    for p in parts {
        h.write(str::as_bytes(p));
    }
    h.finish()
}

/// Builds profiles against one view of the index, using the rarity of each term in it.
struct Profiler<'a> {
    index: &'a SearchIndex,
    searcher: Searcher,
    generation: u64,
    docs: f32,
}

impl Profiler<'_> {
    /// Reads what is derived from this profiler's generation (nothing when a newer one is held).
    fn held<T>(&self, read: impl FnOnce(&Derived) -> Option<T>) -> Option<T> {
        let mut derived = self.index.derived.lock().ok()?;
        if derived.serves(self.generation) { read(&derived) } else { None }
    }

    /// Keeps something derived from this profiler's generation, unless a newer one is held.
    fn hold(&self, keep: impl FnOnce(&mut Derived)) {
        if let Ok(mut derived) = self.index.derived.lock()
            && derived.serves(self.generation)
        {
            keep(&mut derived);
        }
    }

    /// The rarity of the term of `field` written as the concatenation of `parts`.
    fn idf(&self, field: Field, parts: &[&str]) -> f32 {
        let key = idf_key(field, parts);
        if let Some(v) = self.held(|d| d.idf.get(&key).copied()) {
            return v;
        }
        let df = self.searcher.doc_freq(&Term::from_field_text(field, &parts.concat())).unwrap_or(0) as f32;
        let v = (1.0 + (self.docs - df + 0.5) / (df + 0.5)).ln();
        self.hold(|d| remember(&mut d.idf, IDF_CACHE, key, v));
        v
    }

    /// Weighs a bag's words (indexed form, count, and as written when the profile keeps it) and
    /// the concepts it names (id, count).
    fn profile<'s>(
        &self,
        words: impl Iterator<Item = (&'s str, f32, Option<&'s str>)>,
        named: impl Iterator<Item = (&'s str, f32)>,
    ) -> Profile {
        let f = self.index.fields;
        let mut weighed: Vec<(f32, &str, Option<&str>)> = words
            .map(|(t, n, surface)| {
                let idf = self.idf(f.body, &[t]).max(self.idf(f.title, &[t]));
                ((1.0 + n.ln()) * idf, t, surface)
            })
            .collect();
        weighed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        weighed.truncate(MAX_WORDS);
        let mut surfaces = HashMap::new();
        let mut words: Vec<(u64, f32)> = Vec::with_capacity(weighed.len());
        for (w, t, surface) in weighed {
            let key = word_key(t);
            if let Some(s) = surface {
                surfaces.insert(key, s.to_owned());
            }
            words.push((key, w));
        }
        let glossary = glossary::builtin();
        let mut concepts: Vec<(u32, f32, bool)> = Vec::new();
        // A concept is known by its place in the glossary (a glossary of over 4 billion concepts
        // would lose the rest).
        let place = |id: &str| glossary.position(id).and_then(|at| u32::try_from(at).ok());
        let named: Vec<(u32, f32)> = named.filter_map(|(id, n)| place(id).map(|at| (at, n))).collect();
        let concept = |at: u32| &glossary.concepts()[at as usize];
        for &(at, n) in &named {
            let idf = self.idf(f.concepts, &["c:", &concept(at).id]);
            concepts.push((at, (1.0 + n.ln()) * idf, true));
        }
        for &(at, _) in &named {
            for b in &concept(at).broader {
                let Some(b_at) = place(b) else { continue };
                if !concepts.iter().any(|c| c.0 == b_at) {
                    let idf = self.idf(f.concepts, &["c:", b]);
                    concepts.push((b_at, BROADER * idf, false));
                }
            }
        }
        normalise(&mut words, |w| &mut w.1);
        normalise(&mut concepts, |c| &mut c.1);
        words.sort_unstable_by_key(|w| w.0);
        concepts.sort_unstable_by_key(|c| c.0);
        Profile { words, concepts, surfaces }
    }

    fn bag_profile(&self, bag: &Bag) -> Profile {
        self.profile(
            bag.words.iter().map(|(t, n, s)| (t.as_str(), *n, Some(s.as_str()))),
            bag.named.iter().map(|(id, n)| (id.as_str(), *n)),
        )
    }

    /// A candidate's profile from the bag stored with it, without the words as written.
    fn stored_profile(&self, doc: &TantivyDocument) -> Profile {
        let stored = doc.get_first(self.index.fields.bag).and_then(|v| v.as_str()).unwrap_or_default();
        let bag = StoredBag::parse(stored);
        self.profile(bag.words.iter().map(|(t, n, _)| (*t, *n, None)), bag.named.iter().copied())
    }

    /// A candidate's id, profile and facts, derived once per generation.
    fn candidate(&self, address: DocAddress) -> Result<Option<Candidate>> {
        if let Some(found) = self.held(|d| d.profiles.get(&address).cloned()) {
            return Ok(Some(found));
        }
        let doc: TantivyDocument = self.searcher.doc(address)?;
        let Ok(id) = SearchIndex::stored_text(&doc, self.index.fields.id).parse::<Uuid>() else { return Ok(None) };
        let candidate = (id, Arc::new(self.stored_profile(&doc)), Arc::new(self.index.stored_facts(&doc)));
        self.hold(|d| remember(&mut d.profiles, PROFILE_CACHE, address, candidate.clone()));
        Ok(Some(candidate))
    }
}

/// Scales the weights of `items` to a vector of length 1.
fn normalise<T>(items: &mut [T], weight: impl Fn(&mut T) -> &mut f32) {
    let norm = items.iter_mut().map(|i| *weight(i) * *weight(i)).sum::<f32>().sqrt();
    if norm > 0.0 {
        for i in items {
            *weight(i) /= norm;
        }
    }
}

impl SearchIndex {
    fn profiler(&self) -> Profiler<'_> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        Profiler { index: self, docs: searcher.num_docs() as f32, generation, searcher }
    }

    /// The profile of a record's (non-confidential) title and body.
    #[must_use]
    pub fn profile(&self, title: &str, body: &str) -> Profile {
        self.profiler().bag_profile(&Bag::of(&mut analysis::words_analyzer(), title, body))
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
        let profiler = self.profiler();
        let bag = Bag::of(&mut analysis::words_analyzer(), title, body);
        let own = profiler.bag_profile(&bag);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let weights: HashMap<u64, f32> = own.words.iter().copied().collect();
        let mut strongest: Vec<(&str, f32)> =
            bag.words.iter().filter_map(|(t, ..)| weights.get(&word_key(t)).map(|w| (t.as_str(), *w))).collect();
        strongest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        for (t, w) in strongest.into_iter().take(QUERY_WORDS) {
            for field in [f.title, f.body] {
                let q = TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::WithFreqs);
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), w))));
            }
        }
        let glossary = glossary::builtin();
        for (at, w, _) in &own.concepts {
            let Some(c) = glossary.concepts().get(*at as usize) else { continue };
            let q =
                TermQuery::new(Term::from_field_text(f.concepts, &concept_term(&c.id)), IndexRecordOption::WithFreqs);
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
            let Some((id, theirs, facts)) = profiler.candidate(address)? else { continue };
            hits.push(SimilarHit { id, similarity: own.similarity(&theirs), facts });
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
            language: kakehashi_domain::detect_language(&format!("{title} {body}")),
            published_at: Utc::now(),
        }
    }

    /// A candidate is scored on the taxonomy and language it was indexed with, read back from
    /// the index (and, the second time, from what the generation remembers).
    #[test]
    fn a_hit_carries_the_facts_its_record_was_indexed_with() {
        let index = SearchIndex::in_memory().unwrap();
        let need = doc(
            Kind::Need,
            "筋ジストロフィーの核酸医薬",
            "エクソンスキッピングを誘導するアンチセンス核酸の導入を検討しています。",
        );
        let mut ja = doc(
            Kind::Seed,
            "デュシェンヌ型筋ジストロフィーに対するエクソンスキッピング薬",
            "モルフォリノ型アンチセンス核酸でエクソン51をスキップさせ、ジストロフィンの発現を回復させた。",
        );
        ja.modalities = vec!["nucleic_acid".into()];
        ja.disease_areas = vec!["rare_intractable".into(), "neurology".into()];
        ja.stages = vec!["preclinical".into()];
        ja.deal_types = vec!["license".into(), "joint_research".into()];
        let en = doc(
            Kind::Seed,
            "Exon-skipping antisense for Duchenne muscular dystrophy",
            "Morpholino antisense oligonucleotides skip exon 51 and restore dystrophin.",
        );
        let docs = [&need, &ja, &en];
        index.apply(&docs.iter().map(|d| Op::Upsert(Box::new((*d).clone()))).collect::<Vec<_>>(), Some(1)).unwrap();
        for _ in 0..2 {
            let hits = index.similar(need.id, &need.title, &need.body, Kind::Seed, &[en.id], 10).unwrap();
            let facts = |id: Uuid| hits.iter().find(|h| h.id == id).map(|h| (*h.facts).clone()).unwrap();
            assert_eq!(
                facts(ja.id),
                Facts {
                    language: Locale::Ja,
                    modalities: ja.modalities.clone(),
                    disease_areas: ja.disease_areas.clone(),
                    stages: ja.stages.clone(),
                    deal_types: ja.deal_types.clone(),
                }
            );
            assert_eq!(facts(en.id).language, Locale::En);
            assert!(facts(en.id).modalities.is_empty());
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

    #[test]
    fn records_sharing_only_broader_concepts_have_no_evidence_in_common() {
        let index = SearchIndex::in_memory().unwrap();
        let need =
            doc(Kind::Need, "膵臓がんの早期発見", "膵臓がんの早期発見につながる血中バイオマーカーを探しています。");
        // It names tumours, two steps above 膵臓がん (pancreatic cancer → cancer → tumour).
        let tumours = doc(
            Kind::Seed,
            "Companion imaging agent for radiotherapy planning",
            "A PET tracer that visualises hypoxic regions of head and neck tumours to guide dose painting.",
        );
        // It names head and neck cancer: cancer is broader than both, and neither names it.
        let sibling = doc(
            Kind::Seed,
            "Radiosensitiser for head and neck cancer",
            "A radiosensitiser that makes head and neck cancer respond to lower doses of radiotherapy.",
        );
        let filler: Vec<SearchDoc> = (0..6)
            .map(|i| doc(Kind::Seed, &format!("Antibody {i}"), "A monoclonal antibody against a kinase target."))
            .collect();
        let ops: Vec<Op> =
            [&need, &tumours, &sibling].into_iter().cloned().chain(filler).map(|d| Op::Upsert(Box::new(d))).collect();
        index.apply(&ops, Some(1)).unwrap();
        let glossary = glossary::builtin();
        let own = index.profile(&need.title, &need.body);
        assert!(own.concept("pancreatic-cancer").is_some_and(|c| c.1), "{own:?}");
        assert!(glossary.broader("pancreatic-cancer").contains(&"tumor"));
        let weights =
            kakehashi_domain::matching::Weights { text: 0.6, taxonomy: 0.4, threshold: 0.45, min_evidence: 0.3 };
        let fit = kakehashi_domain::matching::Fit {
            score: 1.0,
            modalities: vec!["diagnostic_biomarker".into()],
            disease_areas: vec!["oncology".into()],
            stage: None,
            deal_types: vec![],
        };
        let hits = index.similar(need.id, &need.title, &need.body, Kind::Seed, &[tumours.id, sibling.id], 10).unwrap();
        for (seed, named) in [(&tumours, "tumor"), (&sibling, "head-and-neck-cancer")] {
            let theirs = index.profile(&seed.title, &seed.body);
            assert!(theirs.concept(named).is_some_and(|c| c.1), "{theirs:?}");
            let similarity = own.similarity(&theirs);
            assert_eq!((similarity.words, similarity.concepts), (0.0, 0.0), "{}: {similarity:?}", seed.title);
            assert!(similarity.shared_concepts.is_empty() && similarity.shared_words.is_empty(), "{similarity:?}");
            // Whatever taxonomy the two share, the pair is no match.
            let evidence =
                kakehashi_domain::matching::TextEvidence { words: similarity.words, concepts: similarity.concepts };
            assert_eq!(weights.score(&evidence, &fit, false), 0.0);
            // And the same when matched through the index.
            let hit = hits.iter().find(|h| h.id == seed.id).unwrap();
            assert_eq!(hit.similarity, similarity, "{}", seed.title);
        }
    }

    #[test]
    fn a_concept_one_record_names_counts_for_another_naming_one_directly_narrower_and_is_named() {
        let index = SearchIndex::in_memory().unwrap();
        let need =
            doc(Kind::Need, "筋ジストロフィーの治療薬", "筋ジストロフィーの治療につながるシーズを探しています。");
        let seed = doc(
            Kind::Seed,
            "Gene therapy for Duchenne muscular dystrophy",
            "An AAV micro-dystrophin vector for Duchenne muscular dystrophy.",
        );
        index.apply(&[Op::Upsert(Box::new(need.clone())), Op::Upsert(Box::new(seed.clone()))], Some(1)).unwrap();
        let similarity = index.profile(&need.title, &need.body).similarity(&index.profile(&seed.title, &seed.body));
        assert!(similarity.concepts > 0.0, "{similarity:?}");
        assert!(similarity.shared_concepts.contains(&"muscular-dystrophy".to_owned()), "{similarity:?}");
    }

    /// The same terms, and weights equal but for rounding.
    fn assert_same_weights(a: &Profile, b: &Profile, what: &str) {
        let close = |x: f32, y: f32| (x - y).abs() <= 1e-5 * x.abs().max(y.abs()).max(1.0);
        assert_eq!(a.words.len(), b.words.len(), "{what}: {a:?} against {b:?}");
        for ((key, weight), (other_key, other)) in a.words.iter().zip(&b.words) {
            assert!(key == other_key && close(*weight, *other), "{what}: {key} {weight} against {other_key} {other}");
        }
        assert_eq!(a.concepts.len(), b.concepts.len(), "{what}: {a:?} against {b:?}");
        for ((at, weight, named), (other_at, other, other_named)) in a.concepts.iter().zip(&b.concepts) {
            assert!(
                at == other_at && close(*weight, *other) && named == other_named,
                "{what}: {at} {weight} against {other_at} {other}"
            );
        }
    }

    #[test]
    fn a_candidate_weighed_from_its_stored_bag_is_weighed_as_from_its_text() {
        let index = SearchIndex::in_memory().unwrap();
        let docs = [
            doc(
                Kind::Seed,
                "膵がん早期診断マーカー",
                "血液中の微量なタンパク質を測定し、膵がんを早期に検出する診断法を開発した。膵がん",
            ),
            doc(Kind::Seed, "Antibody-drug conjugate\tfor gastric cancer", "A HER2-targeted ADC; antibody antibodies."),
            doc(Kind::Need, "", ""),
        ];
        index.apply(&docs.iter().map(|d| Op::Upsert(Box::new(d.clone()))).collect::<Vec<_>>(), Some(1)).unwrap();
        let profiler = index.profiler();
        for d in &docs {
            let bag = Bag::of(&mut analysis::words_analyzer(), &d.title, &d.body);
            let encoded = bag.encode();
            let stored = StoredBag::parse(&encoded);
            let words: Vec<(&str, f32, &str)> =
                bag.words.iter().map(|(t, n, s)| (t.as_str(), *n, s.as_str())).collect();
            let named: Vec<(&str, f32)> = bag.named.iter().map(|(id, n)| (id.as_str(), *n)).collect();
            assert_eq!(stored, StoredBag { words, named });
            let term = Term::from_field_text(index.fields.id, &d.id.to_string());
            let found = profiler
                .searcher
                .search(&TermQuery::new(term, IndexRecordOption::Basic), &TopDocs::with_limit(1).order_by_score())
                .unwrap();
            let stored: TantivyDocument = profiler.searcher.doc(found[0].1).unwrap();
            let (from_store, from_text) = (profiler.stored_profile(&stored), index.profile(&d.title, &d.body));
            assert_same_weights(&from_store, &from_text, &d.title);
            // Only the record being matched keeps its words as written.
            assert!(from_store.surfaces.is_empty());
            assert_eq!(from_text.surfaces.len(), from_text.words.len());
            // Compared with itself, a profile is wholly similar.
            let itself = from_text.similarity(&from_store);
            assert!(from_text.words.is_empty() || (itself.words - 1.0).abs() < 1e-5, "{itself:?}");
            assert_eq!(itself.shared_words.len(), from_text.words.len());
        }
        assert!(!index.profile(&docs[0].title, &docs[0].body).is_empty());
    }

    #[test]
    fn what_is_derived_from_one_generation_is_never_served_for_another() {
        let mut derived = Derived::default();
        assert!(derived.serves(3));
        derived.idf.insert(1, 0.5);
        derived.profiles.insert(DocAddress::new(0, 0), (Uuid::nil(), Arc::default(), Arc::default()));
        // A run on an older searcher is served nothing and leaves the newer generation's be.
        assert!(!derived.serves(2));
        assert_eq!((derived.idf.len(), derived.profiles.len()), (1, 1));
        // A newer searcher, asked for or reloaded, starts afresh.
        assert!(derived.serves(4));
        assert!(derived.idf.is_empty() && derived.profiles.is_empty());
        derived.idf.insert(1, 0.5);
        derived.reloaded(5);
        assert!(derived.idf.is_empty());
    }

    #[test]
    fn a_changed_candidate_is_compared_by_its_new_text() {
        let index = SearchIndex::in_memory().unwrap();
        let need = doc(Kind::Need, "Antisense oligonucleotide", "Exon skipping antisense oligonucleotide for DMD.");
        let mut seed =
            doc(Kind::Seed, "Antisense oligonucleotide for DMD", "Exon skipping in Duchenne muscular dystrophy.");
        index.apply(&[Op::Upsert(Box::new(need.clone())), Op::Upsert(Box::new(seed.clone()))], Some(1)).unwrap();
        let before = index.similar(need.id, &need.title, &need.body, Kind::Seed, &[seed.id], 10).unwrap();
        assert!(before[0].similarity.words > 0.3, "{before:?}");
        seed.title = "Cardiac myosin inhibitor".into();
        seed.body = "A small molecule for hypertrophic cardiomyopathy.".into();
        index.apply(&[Op::Upsert(Box::new(seed.clone()))], Some(2)).unwrap();
        let after = index.similar(need.id, &need.title, &need.body, Kind::Seed, &[seed.id], 10).unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].similarity.words, 0.0, "{after:?}");
    }
}
