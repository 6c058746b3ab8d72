//! Queries: text in either language, facet filters (OR within a facet, AND across), the
//! viewer's audience as a filter, counts, facet counts and highlighted snippets.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kakehashi_domain::Visibility;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, PhraseQuery, Query, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, TantivyDocument, Term};
use uuid::Uuid;

use tantivy::tokenizer::TextAnalyzer;

use crate::facets::{FacetCounter, by_facet};
use crate::filters::CachedTermSet;
use crate::{FACETS, Kind, Result, SearchIndex, analysis, broader_term, concept_term, glossary};

/// Which seeds a viewer may find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedAudience {
    /// Liaisons and admins: every published seed.
    All,
    /// Everyone else: members-visible seeds, those granted to their organisation, and (for
    /// academia) every seed of their own organisation.
    Restricted { own_organization: Option<Uuid>, granted: Vec<Uuid> },
}

/// Which needs a viewer may find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedAudience {
    /// Liaisons and admins.
    All,
    /// Academia: members-visible needs.
    Members,
    /// Company members: their own organisation's needs only.
    Organization(Uuid),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub seeds: SeedAudience,
    pub needs: NeedAudience,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetFilters {
    pub modality: Vec<String>,
    pub disease_area: Vec<String>,
    pub stage: Vec<String>,
    pub ip_status: Vec<String>,
    pub deal_type: Vec<String>,
}

impl FacetFilters {
    fn by_name(&self) -> [(&'static str, &Vec<String>); 5] {
        [
            ("modality", &self.modality),
            ("disease_area", &self.disease_area),
            ("stage", &self.stage),
            ("ip_status", &self.ip_status),
            ("deal_type", &self.deal_type),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
}

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub text: String,
    pub kind: Option<Kind>,
    pub filters: FacetFilters,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    /// Match documents with any of the words (ranking by how many and how rare) instead of all:
    /// used when a whole seed or need is the query.
    pub any_term: bool,
    /// Leave out these records (a record matched against its own side).
    pub exclude: Vec<Uuid>,
    /// Only these records, when not empty (a record scored against itself).
    pub only: Vec<Uuid>,
    /// Only the ranked page with scores and matched terms: no total (it is the number of hits),
    /// no facet counts and no highlighted snippets. Matching asks this way: counting and facets
    /// would visit every record that shares a word, ranking alone does not.
    pub ranking_only: bool,
    /// Fill each hit's `matched_terms` (match reasons); it costs analysing every hit's text.
    pub matched_terms: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: Kind,
    pub id: Uuid,
    pub organization_id: Uuid,
    pub visibility: Visibility,
    pub anonymous: bool,
    pub title: String,
    /// HTML: the text escaped, matches wrapped in `<mark>`.
    pub snippet: String,
    /// The relevance score; `None` when sorted by date.
    pub score: Option<f32>,
    /// Facet values by facet name.
    pub facets: BTreeMap<String, Vec<String>>,
    /// The query's terms that occur in the record (for match reasons).
    pub matched_terms: Vec<String>,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// For each facet name, `(value, count)` over every visible matching record, largest first.
    pub facets: BTreeMap<&'static str, Vec<(String, u64)>>,
    /// Every change-log position up to this one was in what was searched (`None`: not known).
    pub complete_to: Option<i64>,
}

/// Title matches weigh this many times body matches.
const TITLE_BOOST: f32 = 3.0;
/// Bigram and single-character matches weigh this much of a whole word's.
const FALLBACK: f32 = 0.5;
/// A match through the glossary (a synonym, the other language) weighs this much of the
/// member's own words.
const EXPANSION: f32 = 0.5;
/// A record naming a narrower concept (膵癌 for a search for cancer) weighs this much of one
/// naming the concept itself.
const BROADER: f32 = 0.6;

/// One unit of a query's text: where it stands in the normalised text, what it matches, and the
/// word as the member wrote it.
struct Unit {
    start: usize,
    end: usize,
    query: Box<dyn Query>,
    word: String,
}

/// The text part of a search.
struct TextQuery {
    query: Option<Box<dyn Query>>,
    /// The query's words as written.
    words: Vec<String>,
    /// The words of the glossary terms the query was expanded to, as the word fields index them.
    highlight: Vec<String>,
}

fn term(field: tantivy::schema::Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

impl SearchIndex {
    /// The text part of a query, the words it searches for (as the member wrote them) and the
    /// words of the glossary's expansions (for snippets).
    ///
    /// Each Latin word and each Japanese morpheme is one unit; a kanji/kana run the dictionary
    /// finds no content word in is a unit of its own. A unit matches its word in the title or
    /// body, or else its characters in the bigram (or single-character) fields, scored by the best
    /// of these, so that a word inside a compound (ジストロフィー in 筋ジストロフィー) is still found
    /// and a whole word ranks first. The units that spell a glossary term (癌, muscular dystrophy)
    /// may instead be matched by its concept — any of its terms in either language — at
    /// [`EXPANSION`] of the weight, so a record with the member's own words ranks first. Every
    /// unit (or term) must match unless `any_term`; of three or more, one in three may be missing
    /// (a word of a cross-language query the glossary cannot translate).
    fn text_query(&self, text: &str, any_term: bool) -> TextQuery {
        let f = &self.fields;
        let normalized = analysis::normalize(text);
        let mut words_analyzer = analysis::words_analyzer();
        let mut bigrams = analysis::bigram_analyzer();
        let mut units: Vec<Unit> = Vec::new();
        for run in analysis::runs(&normalized) {
            let end = run.start + run.text.len();
            if !run.cjk {
                for term in analysis::analyze(&mut words_analyzer, &run.text) {
                    let query = self.unit_query(Some(&term), None, &mut bigrams);
                    units.push(Unit { start: run.start, end, query, word: run.text.clone() });
                }
                continue;
            }
            let morphemes = analysis::analyze_offsets(&mut words_analyzer, &run.text);
            if morphemes.is_empty() {
                let query = self.unit_query(None, Some(&run.text), &mut bigrams);
                units.push(Unit { start: run.start, end, query, word: run.text.clone() });
            }
            for (term, from, to) in morphemes {
                let surface = &run.text[from..to];
                let query = self.unit_query(Some(&term), Some(surface), &mut bigrams);
                units.push(Unit { start: run.start + from, end: run.start + to, query, word: surface.to_owned() });
            }
        }
        let words: Vec<String> = units.iter().map(|u| u.word.clone()).collect();
        let occur = if any_term { Occur::Should } else { Occur::Must };
        let glossary = glossary::builtin();
        let mut grouped = vec![false; units.len()];
        let mut clauses: Vec<Box<dyn Query>> = Vec::new();
        let mut highlight: Vec<String> = Vec::new();
        for found in glossary.find_with(&mut words_analyzer, &normalized) {
            let members: Vec<usize> =
                (0..units.len()).filter(|i| units[*i].start >= found.start && units[*i].end <= found.end).collect();
            if members.is_empty() {
                continue;
            }
            let typed: Box<dyn Query> = match members.as_slice() {
                [one] => units[*one].query.box_clone(),
                many => {
                    Box::new(BooleanQuery::new(many.iter().map(|i| (occur, units[*i].query.box_clone())).collect()))
                }
            };
            for i in &members {
                grouped[*i] = true;
            }
            let concept = &glossary.concepts()[found.concept];
            let by_concept: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        term(f.concepts, &concept_term(&concept.id)),
                        IndexRecordOption::WithFreqs,
                    )),
                ),
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(
                            term(f.concepts, &broader_term(&concept.id)),
                            IndexRecordOption::WithFreqs,
                        )),
                        BROADER,
                    )),
                ),
            ]));
            let expanded: Box<dyn Query> = Box::new(BoostQuery::new(by_concept, EXPANSION));
            clauses.push(Box::new(DisjunctionMaxQuery::new(vec![typed, expanded])));
            for t in concept.terms() {
                for w in analysis::analyze(&mut words_analyzer, t) {
                    if !highlight.contains(&w) {
                        highlight.push(w);
                    }
                }
            }
        }
        for (unit, grouped) in units.into_iter().zip(grouped) {
            if !grouped {
                clauses.push(unit.query);
            }
        }
        let query: Option<Box<dyn Query>> = match clauses.len() {
            0 => None,
            n if any_term || n < 3 => {
                Some(Box::new(BooleanQuery::new(clauses.into_iter().map(|q| (occur, q)).collect())))
            }
            n => Some(Box::new(BooleanQuery::with_minimum_required_clauses(
                clauses.into_iter().map(|q| (Occur::Should, q)).collect(),
                n - n / 3,
            ))),
        };
        TextQuery { query, words, highlight }
    }

    /// One unit of a query: `word` in the word fields, `cjk` (kanji/kana as written) in the
    /// bigram or single-character fields; the best-scoring alternative counts, the others a little.
    fn unit_query(&self, word: Option<&str>, cjk: Option<&str>, bigrams: &mut TextAnalyzer) -> Box<dyn Query> {
        let f = &self.fields;
        let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
        let boosted = |q: Box<dyn Query>, boost: f32| -> Box<dyn Query> { Box::new(BoostQuery::new(q, boost)) };
        if let Some(word) = word {
            for (field, boost) in [(f.title, TITLE_BOOST), (f.body, 1.0)] {
                alternatives
                    .push(boosted(Box::new(TermQuery::new(term(field, word), IndexRecordOption::WithFreqs)), boost));
            }
        }
        if let Some(cjk) = cjk {
            let grams = analysis::analyze(bigrams, cjk);
            let single = cjk.chars().count() == 1;
            let fields = if single { [(f.title_uni, f.body_uni)] } else { [(f.title_bi, f.body_bi)] };
            for (field, boost) in [(fields[0].0, TITLE_BOOST * FALLBACK), (fields[0].1, FALLBACK)] {
                let q: Box<dyn Query> = match grams.as_slice() {
                    [] => continue,
                    [one] => Box::new(TermQuery::new(term(field, one), IndexRecordOption::WithFreqs)),
                    many => Box::new(PhraseQuery::new(many.iter().map(|t| term(field, t)).collect())),
                };
                alternatives.push(boosted(q, boost));
            }
        }
        if alternatives.len() == 1
            && let Some(only) = alternatives.pop()
        {
            return only;
        }
        Box::new(DisjunctionMaxQuery::with_tie_breaker(alternatives, 0.1))
    }

    /// The viewer's audience as one set of terms over the `reach` field (a bit set per segment,
    /// cheap to intersect with), or only the kind for liaisons and admins.
    fn audience_filter(&self, audience: &Audience, kind: Option<Kind>) -> Box<dyn Query> {
        let f = &self.fields;
        let wants = |k: Kind| kind.is_none_or(|wanted| wanted == k);
        let mut reach: Vec<String> = Vec::new();
        let mut everything = Vec::new();
        if wants(Kind::Seed) {
            match &audience.seeds {
                SeedAudience::All => everything.push(Kind::Seed),
                SeedAudience::Restricted { own_organization, granted } => {
                    reach.push(SEED_MEMBERS.to_owned());
                    reach.extend(own_organization.map(|org| format!("seed-org:{org}")));
                    reach.extend(granted.iter().map(|id| format!("seed-id:{id}")));
                }
            }
        }
        if wants(Kind::Need) {
            match &audience.needs {
                NeedAudience::All => everything.push(Kind::Need),
                NeedAudience::Members => reach.push(NEED_MEMBERS.to_owned()),
                NeedAudience::Organization(org) => reach.push(format!("need-org:{org}")),
            }
        }
        if everything.len() == 2 {
            return Box::new(AllQuery);
        }
        let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for k in everything {
            any.push((Occur::Should, Box::new(TermQuery::new(term(f.kind, k.as_str()), IndexRecordOption::Basic))));
        }
        if !reach.is_empty() {
            // One bit set per segment, kept between searches: not a union of posting lists to
            // advance in step, nor a set rebuilt from every posting for each search.
            let terms = reach.iter().map(|t| term(f.reach, t));
            any.push((Occur::Should, Box::new(CachedTermSet::new(f.reach, terms, &self.filters))));
        }
        if any.len() == 1
            && let Some((_, only)) = any.pop()
        {
            return only;
        }
        Box::new(BooleanQuery::new(any))
    }

    /// Runs a search for a viewer whose audience is `audience`.
    ///
    /// # Errors
    /// When tantivy fails.
    pub fn search(&self, request: &SearchRequest, audience: &Audience) -> Result<SearchResults> {
        let f = &self.fields;
        let TextQuery { query: text, words, highlight } = self.text_query(&request.text, request.any_term);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        match &text {
            Some(q) => clauses.push((Occur::Must, q.box_clone())),
            None if !request.text.trim().is_empty() => {
                // Only stop words or punctuation: nothing can match.
                return Ok(SearchResults { total: 0, hits: Vec::new(), facets: empty_facets(), complete_to: None });
            }
            None => clauses.push((Occur::Must, Box::new(AllQuery))),
        }
        clauses.push(filter(self.audience_filter(audience, request.kind)));
        for (name, values) in request.filters.by_name() {
            if values.is_empty() {
                continue;
            }
            let terms = values.iter().map(|v| Term::from_facet(f.facet, &Facet::from_path([name, v.as_str()])));
            clauses.push(filter(Box::new(CachedTermSet::new(f.facet, terms, &self.filters))));
        }
        if !request.only.is_empty() {
            let ids = request.only.iter().map(|id| term(f.id, &id.to_string()));
            clauses.push(filter(Box::new(TermSetQuery::new(ids))));
        }
        if !request.exclude.is_empty() {
            let ids = request.exclude.iter().map(|id| term(f.id, &id.to_string()));
            clauses.push((Occur::MustNot, Box::new(TermSetQuery::new(ids))));
        }
        let query = BooleanQuery::new(clauses);
        let complete_to = self.complete_to();
        let searcher = self.reader.searcher();
        let limit = request.limit.max(1);
        let (addresses, total, facets): (Vec<(Option<f32>, DocAddress)>, usize, _) = if request.ranking_only {
            let top = TopDocs::with_limit(limit).and_offset(request.offset).order_by_score();
            let docs = searcher.search(&query, &top)?;
            let total = docs.len();
            (docs.into_iter().map(|(s, a)| (Some(s), a)).collect(), total, empty_facets())
        } else {
            let facet_collector = FacetCounter(std::sync::Arc::clone(&self.facet_layouts));
            let (addresses, total, facet_counts) = match request.sort {
                Sort::Relevance => {
                    let top = TopDocs::with_limit(limit).and_offset(request.offset).order_by_score();
                    let (docs, total, facets) = searcher.search(&query, &(top, Count, facet_collector))?;
                    (docs.into_iter().map(|(s, a)| (Some(s), a)).collect(), total, facets)
                }
                Sort::Newest => {
                    let top = TopDocs::with_limit(limit)
                        .and_offset(request.offset)
                        .order_by_fast_field::<i64>("published_at", Order::Desc);
                    let (docs, total, facets) = searcher.search(&query, &(top, Count, facet_collector))?;
                    (docs.into_iter().map(|(_, a)| (None, a)).collect(), total, facets)
                }
            };
            (addresses, total, by_facet(facet_counts))
        };
        // Words first; bigrams and single characters mark what only they matched (a word inside
        // a compound, a one-character query).
        let mut snippets = Vec::new();
        if let Some(q) = &text
            && !request.ranking_only
        {
            let fields =
                if analysis::has_cjk(&request.text) { &[f.body, f.body_bi, f.body_uni][..] } else { &[f.body] };
            // Snippets mark the words of the glossary's expansions too (がん for a search for 癌).
            let with_expansions: Box<dyn Query> = if highlight.is_empty() {
                q.box_clone()
            } else {
                let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, q.box_clone())];
                for w in &highlight {
                    any.push((Occur::Should, Box::new(TermQuery::new(term(f.body, w), IndexRecordOption::WithFreqs))));
                }
                Box::new(BooleanQuery::new(any))
            };
            for field in fields {
                let query = if *field == f.body { with_expansions.as_ref() } else { q.as_ref() };
                let mut generator = SnippetGenerator::create(&searcher, query, *field)?;
                generator.set_max_num_chars(240);
                snippets.push(generator);
            }
        }
        let mut analyzer = analysis::words_analyzer();
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.hit(&doc, score, &snippets, request.matched_terms.then_some(&words[..]), &mut analyzer));
        }
        Ok(SearchResults { total, hits, facets, complete_to })
    }

    fn hit(
        &self,
        doc: &TantivyDocument,
        score: Option<f32>,
        snippets: &[SnippetGenerator],
        words: Option<&[String]>,
        analyzer: &mut TextAnalyzer,
    ) -> Hit {
        let f = &self.fields;
        let text = |field| Self::stored_text(doc, field);
        let body = text(f.body);
        let snippet = snippets
            .iter()
            .map(|g| {
                let mut snippet = g.snippet(&body);
                snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                snippet
            })
            .find(|s| !s.fragment().is_empty() && !s.highlighted().is_empty())
            .map_or_else(|| escape(&body.chars().take(240).collect::<String>()), |s| s.to_html());
        let facets = self.stored_facets(doc);
        let title = text(f.title);
        let matched_terms = words.map_or_else(Vec::new, |words| matched(analyzer, &title, &body, words));
        let micros = doc.get_first(f.published_at).and_then(|v| v.as_i64()).unwrap_or_default();
        Hit {
            kind: if text(f.kind) == "need" { Kind::Need } else { Kind::Seed },
            id: text(f.id).parse().unwrap_or_default(),
            organization_id: text(f.organization).parse().unwrap_or_default(),
            visibility: text(f.visibility).parse().unwrap_or(Visibility::LiaisonOnly),
            anonymous: doc.get_first(f.anonymous).and_then(|v| v.as_u64()).unwrap_or(1) == 1,
            title,
            snippet,
            score,
            facets,
            matched_terms,
            published_at: DateTime::from_timestamp_micros(micros).unwrap_or_default(),
        }
    }
}

const SEED_MEMBERS: &str = "seed:members";
const NEED_MEMBERS: &str = "need:members";

/// The `reach` terms of a record: what [`SearchIndex::audience_filter`] looks for.
pub(crate) fn reach_terms(doc: &crate::SearchDoc) -> Vec<String> {
    let members = doc.visibility == Visibility::Members;
    match doc.kind {
        Kind::Seed => {
            let mut terms = vec![format!("seed-org:{}", doc.organization_id), format!("seed-id:{}", doc.id)];
            if members {
                terms.push(SEED_MEMBERS.to_owned());
            }
            terms
        }
        Kind::Need => {
            let mut terms = vec![format!("need-org:{}", doc.organization_id)];
            if members {
                terms.push(NEED_MEMBERS.to_owned());
            }
            terms
        }
    }
}

fn empty_facets() -> BTreeMap<&'static str, Vec<(String, u64)>> {
    FACETS.iter().map(|(name, _)| (*name, Vec::new())).collect()
}

/// The query's words that occur in a record's title or body: as a word, or for kanji and kana
/// as written (inside a compound too).
fn matched(analyzer: &mut TextAnalyzer, title: &str, body: &str, words: &[String]) -> Vec<String> {
    let haystack: std::collections::HashSet<String> =
        analysis::analyze(analyzer, &format!("{title} {body}")).into_iter().collect();
    let normalized = analysis::normalize(&format!("{title} {body}"));
    let mut out: Vec<String> = Vec::new();
    for w in words {
        let found = if analysis::has_cjk(w) {
            normalized.contains(w.as_str())
        } else {
            let terms = analysis::analyze(analyzer, w);
            !terms.is_empty() && terms.iter().all(|t| haystack.contains(t))
        };
        if found && !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
