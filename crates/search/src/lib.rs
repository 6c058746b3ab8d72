//! Kakehashi's search index: a tantivy projection of published seeds and needs.
//!
//! The database is the source of truth. The index holds only published records and only their
//! non-confidential text; who may find what is applied as a filter inside every query
//! ([`Audience`]), so hits, totals and facet counts all come from the same visible set.
//! The position of the last applied change is kept in the index's commit payload, so a restart
//! resumes where it stopped and a crash between the database commit and the index commit loses
//! nothing (the change is replayed). All calls here block: callers run them off the async
//! executor.

pub mod analysis;
mod facets;
mod filters;
pub mod glossary;
mod query;
pub mod relevance;
pub mod similar;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};

use chrono::{DateTime, Utc};
use kakehashi_domain::{Locale, Visibility};
use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use uuid::Uuid;

pub use query::{Audience, FacetFilters, Hit, NeedAudience, SearchRequest, SearchResults, SeedAudience, Sort};

/// Bumped whenever the schema or the analysis changes; an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 6;
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// The facets, in the order the API lists them, with the taxonomy kind of each.
pub const FACETS: [(&str, kakehashi_domain::TaxonomyKind); 5] = [
    ("modality", kakehashi_domain::TaxonomyKind::Modality),
    ("disease_area", kakehashi_domain::TaxonomyKind::DiseaseArea),
    ("stage", kakehashi_domain::TaxonomyKind::Stage),
    ("ip_status", kakehashi_domain::TaxonomyKind::IpStatus),
    ("deal_type", kakehashi_domain::TaxonomyKind::DealType),
];

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("the index writer is unavailable")]
    Poisoned,
}

impl SearchError {
    /// Whether the index's files are damaged (missing, truncated, overwritten): reading them
    /// fails, and only rebuilding the index from the database repairs it.
    #[must_use]
    pub fn is_damage(&self) -> bool {
        use tantivy::TantivyError as E;
        matches!(
            self,
            SearchError::Tantivy(E::DataCorruption(_) | E::OpenReadError(_) | E::IoError(_) | E::DeserializeError(_))
        )
    }
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

/// Whether the index can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Serving,
    /// A read failed on damaged files: a rebuild from the database is due.
    Damaged,
    /// Being rebuilt from the database: its answers would be incomplete.
    Rebuilding,
}

/// Change-log positions the indexer skipped because no committed row held them, kept (in the
/// index's commit payload, across restarts) so that a transaction that commits late is still
/// applied. `horizon` is the database's next transaction id when the gap was skipped
/// (`PostgreSQL`), `since` when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub from: i64,
    pub to: i64,
    pub horizon: Option<i64>,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Seed,
    Need,
}

impl Kind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Seed => "seed",
            Kind::Need => "need",
        }
    }
}

/// What the index keeps of a published record: never a confidential section.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    pub kind: Kind,
    pub id: Uuid,
    pub organization_id: Uuid,
    pub visibility: Visibility,
    pub anonymous: bool,
    pub title: String,
    /// Summary (seeds) or description (needs), then keywords.
    pub body: String,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    /// The seed's stage, or the stages a need asks for.
    pub stages: Vec<String>,
    pub ip_status: Option<String>,
    pub deal_types: Vec<String>,
    /// The language the record is written in, as matching weighs it.
    pub language: Locale,
    pub published_at: DateTime<Utc>,
}

/// A change to apply.
#[derive(Debug, Clone)]
pub enum Op {
    /// Insert or replace the record.
    Upsert(Box<SearchDoc>),
    /// Remove the record (unpublished, archived or gone).
    Delete(Uuid),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub id: Field,
    pub kind: Field,
    pub organization: Field,
    pub visibility: Field,
    /// Who may find the record, as terms of one field so that a viewer's whole audience is one
    /// term-set filter: `seed:members`, `seed-org:<id>`, `seed-id:<id>`, `need:members`,
    /// `need-org:<id>` (see [`query::Audience`]).
    pub reach: Field,
    pub anonymous: Field,
    /// Words (English stemmed, Japanese morphemes), stored for hits and snippets.
    pub title: Field,
    /// Kanji/kana bigrams: words inside compounds and names the dictionary does not know.
    pub title_bi: Field,
    /// Single kanji/kana characters: one-character queries.
    pub title_uni: Field,
    pub body: Field,
    pub body_bi: Field,
    pub body_uni: Field,
    /// The glossary concepts the title and body name: `c:<id>` once per mention, and `b:<id>`
    /// once for each broader concept of those (a search for cancer finds 膵癌).
    pub concepts: Field,
    pub facet: Field,
    /// The record's language (`ja`, `en`): stored, for matching.
    pub language: Field,
    pub published_at: Field,
    /// The words and concepts of the title and body with their counts, as matching weighs them
    /// ([`similar`]): stored so that a candidate is not analysed again.
    pub bag: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored { options.set_stored() } else { options }
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        organization: b.add_text_field("organization", STRING | STORED),
        visibility: b.add_text_field("visibility", STRING | STORED),
        reach: b.add_text_field("reach", STRING),
        anonymous: b.add_u64_field("anonymous", STORED),
        title: b.add_text_field("title", text(analysis::WORDS, true)),
        title_bi: b.add_text_field("title_bi", text(analysis::BIGRAM, false)),
        title_uni: b.add_text_field("title_uni", text(analysis::UNIGRAM, false)),
        body: b.add_text_field("body", text(analysis::WORDS, true)),
        body_bi: b.add_text_field("body_bi", text(analysis::BIGRAM, false)),
        body_uni: b.add_text_field("body_uni", text(analysis::UNIGRAM, false)),
        concepts: b.add_text_field(
            "concepts",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default().set_tokenizer("raw").set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
        facet: b.add_facet_field("facet", FacetOptions::default().set_stored()),
        language: b.add_text_field("language", STORED),
        published_at: b.add_i64_field("published_at", INDEXED | STORED | FAST),
        bag: b.add_text_field("bag", STORED),
    };
    (b.build(), fields)
}

/// Writes, syncs and removes a small file in `dir`.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    let path = dir.join(".kakehashi-open-probe");
    let mut file = std::fs::File::create(&path)?;
    let written = file.write_all(&[0u8; 512]).and_then(|()| file.sync_all());
    let removed = std::fs::remove_file(&path);
    written.and(removed)
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    schema: u32,
    /// The last change-log position applied; `None` while a rebuild is under way.
    seq: Option<i64>,
    /// Skipped positions still looked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    gaps: Vec<Gap>,
}

/// An open index with its single writer and a reader reloaded after every commit.
pub struct SearchIndex {
    index: Index,
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    health: AtomicU8,
    /// Written into every commit's payload.
    gaps: Mutex<Vec<Gap>>,
    /// The position searches see every change up to, published after each reload: the committed
    /// position when no gap was open at that commit, else [`UNKNOWN`].
    complete_to: AtomicI64,
    /// Audience and facet filters, one bit set per segment.
    filters: std::sync::Arc<filters::FilterCache>,
    /// Each segment's facet values, laid out for counting.
    facet_layouts: std::sync::Arc<facets::FacetLayouts>,
    /// Term rarities of the current searcher, for matching.
    derived: Mutex<similar::Derived>,
}

/// No position is known to be complete.
const UNKNOWN: i64 = -1;

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

/// How an index came up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// Current, with changes applied up to this position.
    UpTo(i64),
    /// New, wiped (missing, corrupt, older schema) or interrupted while rebuilding: rebuild it.
    NeedsRebuild,
}

impl SearchIndex {
    /// Opens the index in `dir`, or creates it; an unreadable or outdated index is wiped.
    ///
    /// # Errors
    /// When the directory cannot be written or the writer lock is held by another process.
    pub fn open(dir: &Path) -> Result<(SearchIndex, Opened)> {
        let (schema, _) = schema();
        let named = |what: &str, err: std::io::Error| {
            SearchError::Io(std::io::Error::new(err.kind(), format!("{what} {}: {err}", dir.display())))
        };
        std::fs::create_dir_all(dir).map_err(|e| named("cannot create the search index directory", e))?;
        // A read-only or full directory is named as such, not mistaken for a damaged index or
        // for another process's lock.
        probe_writable(dir).map_err(|e| named("cannot write the search index directory", e))?;
        if dir.join("meta.json").exists() {
            match Self::open_existing(dir, &schema) {
                Ok(Some((index, seq))) => return Ok((index, Opened::UpTo(seq))),
                Ok(None) => {
                    tracing::warn!(dir = %dir.display(), "search index is from another schema or was interrupted; rebuilding");
                }
                Err(SearchError::Tantivy(tantivy::TantivyError::LockFailure(
                    tantivy::directory::error::LockError::LockBusy,
                    _,
                ))) => {
                    return Err(SearchError::Io(std::io::Error::other(format!(
                        "the search index in {} is in use by another process",
                        dir.display()
                    ))));
                }
                Err(err) => tracing::warn!(dir = %dir.display(), error = %err, "search index unreadable; rebuilding"),
            }
            std::fs::remove_dir_all(dir).map_err(|e| named("cannot remove the damaged search index", e))?;
            std::fs::create_dir_all(dir).map_err(|e| named("cannot create the search index directory", e))?;
        }
        let index = Index::create_in_dir(dir, schema)?;
        Ok((Self::from_index(index)?, Opened::NeedsRebuild))
    }

    fn open_existing(dir: &Path, schema: &Schema) -> Result<Option<(SearchIndex, i64)>> {
        let index = Index::open_in_dir(dir)?;
        if index.schema() != *schema {
            return Ok(None);
        }
        // Damaged files would answer searches with errors until a manual reindex: check every
        // file's checksum now and rebuild instead. A missing file fails here too.
        let damaged = index.validate_checksum()?;
        if !damaged.is_empty() {
            tracing::warn!(dir = %dir.display(), files = ?damaged, "search index files are damaged");
            return Ok(None);
        }
        let payload = index.load_metas()?.payload.and_then(|p| serde_json::from_str::<Payload>(&p).ok());
        let Some(Payload { schema: SCHEMA_VERSION, seq: Some(seq), gaps }) = payload else {
            return Ok(None);
        };
        let opened = Self::from_index(index)?;
        if gaps.is_empty() {
            opened.complete_to.store(seq, Ordering::Release);
        }
        *opened.gaps.lock().map_err(|_| SearchError::Poisoned)? = gaps;
        Ok(Some((opened, seq)))
    }

    /// An index in memory (relevance evaluation, tests).
    ///
    /// # Errors
    /// When tantivy cannot set it up.
    pub fn in_memory() -> Result<SearchIndex> {
        Self::from_index(Index::create_in_ram(schema().0))
    }

    fn from_index(index: Index) -> Result<SearchIndex> {
        analysis::load_dictionary();
        index.tokenizers().register(analysis::WORDS, analysis::words_analyzer());
        index.tokenizers().register(analysis::BIGRAM, analysis::bigram_analyzer());
        index.tokenizers().register(analysis::UNIGRAM, analysis::unigram_analyzer());
        let writer = index.writer_with_num_threads(2, WRITER_MEMORY)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let (_, fields) = schema();
        Ok(SearchIndex {
            index,
            fields,
            reader,
            writer: Mutex::new(writer),
            health: AtomicU8::new(Health::Serving as u8),
            gaps: Mutex::new(Vec::new()),
            complete_to: AtomicI64::new(UNKNOWN),
            filters: std::sync::Arc::default(),
            facet_layouts: std::sync::Arc::default(),
            derived: Mutex::new(similar::Derived::default()),
        })
    }

    /// Whether the index can answer now.
    #[must_use]
    pub fn health(&self) -> Health {
        match self.health.load(Ordering::Acquire) {
            0 => Health::Serving,
            1 => Health::Damaged,
            _ => Health::Rebuilding,
        }
    }

    /// Records that reading the index failed on damaged files; returns whether it was serving
    /// until now (so the caller schedules one rebuild, not one per failed search).
    pub fn mark_damaged(&self) -> bool {
        self.health
            .compare_exchange(Health::Serving as u8, Health::Damaged as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Set by the rebuild, at its start and end.
    pub fn set_health(&self, health: Health) {
        self.health.store(health as u8, Ordering::Release);
    }

    /// The skipped positions still looked for, as last set (or as read when the index opened).
    #[must_use]
    pub fn gaps(&self) -> Vec<Gap> {
        self.gaps.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Replaces the skipped positions kept with the next commit.
    pub fn set_gaps(&self, gaps: Vec<Gap>) {
        if let Ok(mut kept) = self.gaps.lock() {
            *kept = gaps;
        }
    }

    /// A stored document's taxonomy values, by facet name (`modality`, `stage`, …).
    fn stored_facets(&self, doc: &TantivyDocument) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut facets: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
        for value in doc.get_all(self.fields.facet) {
            // A stored facet reads back in its encoded form, not as `/name/value`.
            if let Some(Ok(facet)) = value.as_facet().map(|encoded| Facet::from_encoded(encoded.as_bytes().to_vec()))
                && let [name, value] = facet.to_path().as_slice()
            {
                facets.entry((*name).to_owned()).or_default().push((*value).to_owned());
            }
        }
        facets
    }

    /// A stored document's facts for matching (see [`similar::Facts`]).
    fn stored_facts(&self, doc: &TantivyDocument) -> similar::Facts {
        let mut facets = self.stored_facets(doc);
        let mut take = |name: &str| facets.remove(name).unwrap_or_default();
        let language = match doc.get_first(self.fields.language).and_then(|v| v.as_str()) {
            Some("en") => Locale::En,
            _ => Locale::Ja,
        };
        similar::Facts {
            language,
            modalities: take("modality"),
            disease_areas: take("disease_area"),
            stages: take("stage"),
            deal_types: take("deal_type"),
        }
    }

    fn document(&self, doc: &SearchDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.id, doc.id.to_string());
        d.add_text(f.kind, doc.kind.as_str());
        d.add_text(f.organization, doc.organization_id.to_string());
        d.add_text(f.visibility, doc.visibility.as_str());
        for term in query::reach_terms(doc) {
            d.add_text(f.reach, term);
        }
        d.add_u64(f.anonymous, u64::from(doc.anonymous));
        d.add_text(f.title, &doc.title);
        d.add_text(f.body, &doc.body);
        // The bigram and single-character fields hold only kanji and kana: English text skips
        // their analysis.
        if analysis::has_cjk(&doc.title) {
            d.add_text(f.title_bi, &doc.title);
            d.add_text(f.title_uni, &doc.title);
        }
        if analysis::has_cjk(&doc.body) {
            d.add_text(f.body_bi, &doc.body);
            d.add_text(f.body_uni, &doc.body);
        }
        // One analysis into words gives both the concepts and the stored bag.
        let bag = similar::Bag::of(&mut analysis::words_analyzer(), &doc.title, &doc.body);
        for term in bag.concept_terms() {
            d.add_text(f.concepts, term);
        }
        d.add_text(f.bag, bag.encode());
        let facets = [
            ("modality", &doc.modalities),
            ("disease_area", &doc.disease_areas),
            ("stage", &doc.stages),
            ("deal_type", &doc.deal_types),
        ];
        for (name, values) in facets {
            for value in values {
                d.add_facet(f.facet, Facet::from_path([name, value.as_str()]));
            }
        }
        if let Some(ip) = &doc.ip_status {
            d.add_facet(f.facet, Facet::from_path(["ip_status", ip.as_str()]));
        }
        d.add_text(f.language, doc.language.as_str());
        d.add_i64(f.published_at, doc.published_at.timestamp_micros());
        d
    }

    /// Applies `ops` and commits with `seq` as the last applied position (`None` during a
    /// rebuild), then reloads the reader so the changes are searchable.
    ///
    /// # Errors
    /// When tantivy fails; nothing of the batch is then visible.
    pub fn apply(&self, ops: &[Op], seq: Option<i64>) -> Result<()> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        for op in ops {
            match op {
                Op::Upsert(doc) => {
                    writer.delete_term(Term::from_field_text(self.fields.id, &doc.id.to_string()));
                    writer.add_document(self.document(doc))?;
                }
                Op::Delete(id) => {
                    writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
                }
            }
        }
        let gaps = self.gaps();
        let complete_to = match seq {
            Some(seq) if gaps.is_empty() => seq,
            _ => UNKNOWN,
        };
        let payload = serde_json::to_string(&Payload { schema: SCHEMA_VERSION, seq, gaps }).unwrap_or_default();
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&payload);
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        if let Ok(mut derived) = self.derived.lock() {
            derived.reloaded(self.reader.searcher().generation().generation_id());
        }
        self.complete_to.store(complete_to, Ordering::Release);
        Ok(())
    }

    /// Adds documents without committing (a rebuild commits once, at its end, with
    /// [`SearchIndex::apply`]); the writer flushes segments as its memory budget fills.
    ///
    /// # Errors
    /// When tantivy fails.
    pub fn add_uncommitted(&self, docs: &[SearchDoc]) -> Result<()> {
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        for doc in docs {
            writer.add_document(self.document(doc))?;
        }
        Ok(())
    }

    /// The change-log position that every change up to is searchable now, when known: read it
    /// before taking a searcher, and that searcher holds at least those changes.
    #[must_use]
    pub fn complete_to(&self) -> Option<i64> {
        Some(self.complete_to.load(Ordering::Acquire)).filter(|seq| *seq != UNKNOWN)
    }

    /// Segments searchable now (each costs every query a little).
    #[must_use]
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Removes every document (the start of a rebuild); committed with no position, so an
    /// interrupted rebuild is started again at the next open.
    ///
    /// # Errors
    /// When tantivy fails.
    pub fn clear(&self) -> Result<()> {
        self.writer.lock().map_err(|_| SearchError::Poisoned)?.delete_all_documents()?;
        self.apply(&[], None)
    }

    /// The last change-log position applied, as committed.
    ///
    /// # Errors
    /// When the metadata cannot be read.
    pub fn last_seq(&self) -> Result<Option<i64>> {
        let payload = self.index.load_metas()?.payload.and_then(|p| serde_json::from_str::<Payload>(&p).ok());
        Ok(payload.and_then(|p| p.seq))
    }

    /// Documents searchable now.
    #[must_use]
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub(crate) fn stored_text(doc: &TantivyDocument, field: Field) -> String {
        doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
    }
}

/// A concept named in a text, as a term of the `concepts` field.
#[must_use]
pub fn concept_term(id: &str) -> String {
    format!("c:{id}")
}

/// A concept broader than one a text names, as a term of the `concepts` field.
#[must_use]
pub fn broader_term(id: &str) -> String {
    format!("b:{id}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn doc(title: &str, body: &str, visibility: Visibility, org: Uuid, modality: &str) -> SearchDoc {
        SearchDoc {
            kind: Kind::Seed,
            id: Uuid::new_v4(),
            organization_id: org,
            visibility,
            anonymous: false,
            title: title.into(),
            body: body.into(),
            modalities: vec![modality.into()],
            disease_areas: vec!["oncology".into()],
            stages: vec!["preclinical".into()],
            ip_status: Some("filed".into()),
            deal_types: vec!["license".into()],
            language: kakehashi_domain::detect_language(&format!("{title} {body}")),
            published_at: Utc::now(),
        }
    }

    fn everyone() -> Audience {
        Audience { seeds: SeedAudience::All, needs: NeedAudience::All }
    }

    fn ids(index: &SearchIndex, text: &str, audience: &Audience) -> Vec<String> {
        let request = SearchRequest { text: text.into(), limit: 10, ..Default::default() };
        index.search(&request, audience).unwrap().hits.into_iter().map(|h| h.title).collect()
    }

    #[test]
    fn japanese_and_english_queries_find_their_documents() {
        let index = SearchIndex::in_memory().unwrap();
        let org = Uuid::new_v4();
        let docs = [
            doc("HER2陽性乳癌に対する抗体薬物複合体", "新規ＡＤＣの前臨床データ", Visibility::Members, org, "adc"),
            doc(
                "筋ジストロフィーのエクソンスキッピング核酸",
                "アンチセンス核酸でジストロフィン発現を回復",
                Visibility::Members,
                org,
                "nucleic_acid",
            ),
            doc(
                "Bispecific antibodies for solid tumors",
                "Engineered antibodies targeting tumour antigens",
                Visibility::Members,
                org,
                "antibody",
            ),
        ];
        index.apply(&docs.iter().cloned().map(|d| Op::Upsert(Box::new(d))).collect::<Vec<_>>(), Some(3)).unwrap();
        let all = everyone();
        // The words as written rank first; the glossary brings the other language after them.
        assert_eq!(ids(&index, "癌", &all), [docs[0].title.clone(), docs[2].title.clone()]);
        assert_eq!(ids(&index, "抗体", &all), [docs[0].title.clone(), docs[2].title.clone()]);
        assert_eq!(ids(&index, "ジストロフィー", &all), [docs[1].title.clone()]);
        assert_eq!(ids(&index, "antibody", &all), [docs[2].title.clone(), docs[0].title.clone()]);
        assert_eq!(ids(&index, "ＡＤＣ", &all), [docs[0].title.clone()]);
        assert_eq!(ids(&index, "adc 前臨床", &all), [docs[0].title.clone()]);
        assert!(ids(&index, "antibody 核酸", &all).is_empty(), "all words must match");
        // Typed without spaces, particles and all: the words must be there, not the string.
        assert_eq!(ids(&index, "筋ジストロフィーの核酸", &all), [docs[1].title.clone()]);
        assert_eq!(ids(&index, "ジストロフィンを回復する核酸", &all), [docs[1].title.clone()]);
        assert!(ids(&index, "筋ジストロフィーの抗体", &all).is_empty());
        assert_eq!(index.last_seq().unwrap(), Some(3));
    }

    #[test]
    fn the_glossary_expands_queries_to_synonyms_and_the_other_language() {
        let index = SearchIndex::in_memory().unwrap();
        let org = Uuid::new_v4();
        let kanji = doc("膵癌の早期診断", "血中タンパク質による膵癌の検出", Visibility::Members, org, "diagnostic");
        let kana = doc("がん悪液質の治療薬", "がん患者の体重減少を抑える抗体", Visibility::Members, org, "antibody");
        let english = doc(
            "Cancer cachexia",
            "An antibody against GDF15 for cancer cachexia",
            Visibility::Members,
            org,
            "antibody",
        );
        let unrelated =
            doc("心不全の遺伝子治療", "AAVベクターによる心筋への遺伝子導入", Visibility::Members, org, "gene_therapy");
        let docs = [&kanji, &kana, &english, &unrelated];
        index.apply(&docs.iter().map(|d| Op::Upsert(Box::new((*d).clone()))).collect::<Vec<_>>(), Some(1)).unwrap();
        let all = everyone();
        let found = ids(&index, "がん悪液質", &all);
        assert_eq!(found.first(), Some(&kana.title), "the words as written first: {found:?}");
        assert!(found.contains(&english.title), "cancer cachexia in English: {found:?}");
        let found = ids(&index, "癌", &all);
        assert_eq!(found.first(), Some(&kanji.title), "{found:?}");
        assert!(found.contains(&kana.title) && !found.contains(&unrelated.title), "がん for 癌: {found:?}");
        let found = ids(&index, "antibody", &all);
        assert!(found.contains(&kana.title), "抗体 for antibody: {found:?}");
        assert!(!ids(&index, "cancer", &all).contains(&unrelated.title));
        // Snippets mark the synonym that was found.
        let request = SearchRequest { text: "癌".into(), limit: 10, ..Default::default() };
        let results = index.search(&request, &all).unwrap();
        let hit = results.hits.iter().find(|h| h.title == kana.title).unwrap();
        assert!(hit.snippet.contains("<mark>がん</mark>"), "{}", hit.snippet);
        let request = SearchRequest { text: "antibody".into(), limit: 10, ..Default::default() };
        let results = index.search(&request, &all).unwrap();
        let hit = results.hits.iter().find(|h| h.title == kana.title).unwrap();
        assert!(hit.snippet.contains("<mark>抗体</mark>"), "{}", hit.snippet);
    }

    #[test]
    fn audience_filters_hits_totals_and_facets() {
        let index = SearchIndex::in_memory().unwrap();
        let (mine, theirs) = (Uuid::new_v4(), Uuid::new_v4());
        let open = doc("antibody open", "x", Visibility::Members, theirs, "antibody");
        let quiet = doc("antibody quiet", "x", Visibility::LiaisonOnly, theirs, "adc");
        let own = doc("antibody own", "x", Visibility::LiaisonOnly, mine, "adc");
        let ops: Vec<Op> = [&open, &quiet, &own].into_iter().map(|d| Op::Upsert(Box::new(d.clone()))).collect();
        index.apply(&ops, Some(1)).unwrap();
        let company = Audience {
            seeds: SeedAudience::Restricted { own_organization: Some(mine), granted: vec![] },
            needs: NeedAudience::Organization(mine),
        };
        let request = SearchRequest { text: "antibody".into(), limit: 10, ..Default::default() };
        let results = index.search(&request, &company).unwrap();
        assert_eq!(results.total, 2);
        assert_eq!(results.facets["modality"], [("adc".to_owned(), 1), ("antibody".to_owned(), 1)]);
        assert!(results.hits.iter().all(|h| h.title != "antibody quiet"));
        let granted = Audience {
            seeds: SeedAudience::Restricted { own_organization: Some(mine), granted: vec![quiet.id] },
            needs: NeedAudience::Organization(mine),
        };
        assert_eq!(index.search(&request, &granted).unwrap().total, 3);
        assert_eq!(index.search(&request, &everyone()).unwrap().facets["modality"][0], ("adc".to_owned(), 2));
        // Facet filters: OR within a facet, AND across facets.
        let mut filtered = request.clone();
        filtered.filters.modality = vec!["adc".into(), "antibody".into()];
        filtered.filters.stage = vec!["phase_3".into()];
        assert_eq!(index.search(&filtered, &everyone()).unwrap().total, 0);
        filtered.filters.stage = vec!["preclinical".into()];
        assert_eq!(index.search(&filtered, &everyone()).unwrap().total, 3);
        index.apply(&[Op::Delete(open.id)], Some(2)).unwrap();
        assert_eq!(index.search(&request, &company).unwrap().total, 1);
    }

    /// The facet counts and filters kept per segment answer as tantivy's own facet collector and
    /// term-set query do, over several segments, with deletions, before and after they are kept.
    #[test]
    fn kept_facet_layouts_and_filters_count_as_tantivy_does() {
        use tantivy::collector::{Count, FacetCollector};
        use tantivy::query::{BooleanQuery, Occur, Query, TermSetQuery};
        let index = SearchIndex::in_memory().unwrap();
        let (mine, theirs) = (Uuid::new_v4(), Uuid::new_v4());
        let modalities = ["antibody", "adc", "nucleic_acid"];
        let mut all = Vec::new();
        for batch in 0..4 {
            let docs: Vec<SearchDoc> = (0..25)
                .map(|i| {
                    let visibility = if i % 3 == 0 { Visibility::LiaisonOnly } else { Visibility::Members };
                    let org = if i % 4 == 0 { mine } else { theirs };
                    let mut d = doc(&format!("antibody {batch} {i}"), "x", visibility, org, modalities[i % 3]);
                    d.disease_areas.push(["oncology", "rare_intractable", "lifestyle"][(i + batch) % 3].into());
                    d
                })
                .collect();
            all.extend(docs.iter().map(|d| d.id));
            index
                .apply(
                    &docs.into_iter().map(|d| Op::Upsert(Box::new(d))).collect::<Vec<_>>(),
                    i64::try_from(batch).ok(),
                )
                .unwrap();
        }
        assert!(index.segments() > 1);
        let company = Audience {
            seeds: SeedAudience::Restricted { own_organization: Some(mine), granted: vec![all[3]] },
            needs: NeedAudience::Organization(mine),
        };
        let expected = |index: &SearchIndex, request: &SearchRequest| {
            let f = &index.fields;
            let reach = ["seed:members".to_owned(), format!("seed-org:{mine}"), format!("seed-id:{}", all[3])]
                .into_iter()
                .chain([format!("need-org:{mine}")])
                .map(|t| Term::from_field_text(f.reach, &t));
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(TermSetQuery::new(reach)))];
            if !request.filters.modality.is_empty() {
                let terms = request
                    .filters
                    .modality
                    .iter()
                    .map(|v| Term::from_facet(f.facet, &Facet::from_path(["modality", v])));
                clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
            }
            let mut facets = FacetCollector::for_field("facet");
            for (name, _) in FACETS {
                facets.add_facet(Facet::from_path([name]));
            }
            let (total, counts) =
                index.reader.searcher().search(&BooleanQuery::new(clauses), &(Count, facets)).unwrap();
            let mut by_name: std::collections::BTreeMap<&str, Vec<(String, u64)>> = std::collections::BTreeMap::new();
            for (name, _) in FACETS {
                let mut list: Vec<(String, u64)> = counts
                    .get(&Facet::from_path([name]).to_path_string())
                    .map(|(facet, n)| (facet.to_path().last().copied().unwrap_or_default().to_owned(), n))
                    .collect();
                list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                by_name.insert(name, list);
            }
            (total, by_name)
        };
        let requests = [
            SearchRequest { limit: 5, ..Default::default() },
            SearchRequest {
                limit: 5,
                filters: FacetFilters { modality: vec!["adc".into(), "antibody".into()], ..Default::default() },
                ..Default::default()
            },
        ];
        for round in 0..3 {
            if round == 2 {
                index.apply(&all[..30].iter().map(|id| Op::Delete(*id)).collect::<Vec<_>>(), Some(9)).unwrap();
            }
            for request in &requests {
                let results = index.search(request, &company).unwrap();
                let (total, facets) = expected(&index, request);
                assert_eq!(results.total, total, "round {round}");
                assert!(total > 0);
                for (name, counts) in facets {
                    assert_eq!(results.facets[name], counts, "{name}, round {round}");
                }
            }
        }
    }

    #[test]
    fn ranking_only_ranks_the_same_without_counting() {
        let index = SearchIndex::in_memory().unwrap();
        let org = Uuid::new_v4();
        let docs: Vec<SearchDoc> = (0..30)
            .map(|i| {
                let words = "antibody ".repeat(i % 5 + 1);
                doc(&format!("seed {i}"), &format!("{words} tumour"), Visibility::Members, org, "antibody")
            })
            .collect();
        index.apply(&docs.iter().cloned().map(|d| Op::Upsert(Box::new(d))).collect::<Vec<_>>(), Some(1)).unwrap();
        let full = SearchRequest { text: "antibody".into(), limit: 5, ..Default::default() };
        let light = SearchRequest { ranking_only: true, ..full.clone() };
        let (full, light) = (index.search(&full, &everyone()).unwrap(), index.search(&light, &everyone()).unwrap());
        assert_eq!(full.total, 30);
        assert_eq!(light.total, 5, "the total is the page");
        assert!(light.facets.values().all(Vec::is_empty));
        let ids = |r: &SearchResults| r.hits.iter().map(|h| (h.id, h.score)).collect::<Vec<_>>();
        assert_eq!(ids(&full), ids(&light));
    }

    #[test]
    fn snippets_mark_matches_and_escape_html() {
        let index = SearchIndex::in_memory().unwrap();
        let d = doc("title", "<b>antibodies</b> bind antigens", Visibility::Members, Uuid::new_v4(), "antibody");
        index.apply(&[Op::Upsert(Box::new(d))], Some(1)).unwrap();
        let request = SearchRequest { text: "antibody".into(), limit: 10, ..Default::default() };
        let hit = &index.search(&request, &everyone()).unwrap().hits[0];
        assert!(hit.snippet.contains("<mark>antibodies</mark>"), "{}", hit.snippet);
        assert!(hit.snippet.contains("&lt;b&gt;"), "{}", hit.snippet);
        assert!(hit.matched_terms.is_empty(), "only asked for");
        let asked = SearchRequest { matched_terms: true, ..request };
        assert_eq!(index.search(&asked, &everyone()).unwrap().hits[0].matched_terms, ["antibody"]);
    }

    #[test]
    fn japanese_snippets_mark_words_compounds_and_single_characters() {
        let index = SearchIndex::in_memory().unwrap();
        let body = "デュシェンヌ型筋ジストロフィーに対するエクソン・スキップ核酸医薬を開発した。乳癌にも応用する。";
        let d = doc("核酸医薬", body, Visibility::Members, Uuid::new_v4(), "nucleic_acid");
        index.apply(&[Op::Upsert(Box::new(d))], Some(1)).unwrap();
        let snippet = |q: &str| {
            let request = SearchRequest { text: q.into(), limit: 10, ..Default::default() };
            index.search(&request, &everyone()).unwrap().hits[0].snippet.clone()
        };
        assert!(snippet("核酸医薬").contains("<mark>核酸</mark><mark>医薬</mark>"), "{}", snippet("核酸医薬"));
        assert!(snippet("ジストロフィー").contains("<mark>"), "{}", snippet("ジストロフィー"));
        assert!(snippet("癌").contains("<mark>癌</mark>"), "{}", snippet("癌"));
    }

    #[test]
    fn an_outdated_or_broken_index_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        let (index, opened) = SearchIndex::open(&path).unwrap();
        assert_eq!(opened, Opened::NeedsRebuild);
        index.apply(&[], Some(7)).unwrap();
        drop(index);
        let (_, opened) = SearchIndex::open(&path).unwrap();
        assert_eq!(opened, Opened::UpTo(7));
        std::fs::write(path.join("meta.json"), "garbage").unwrap();
        let (_, opened) = SearchIndex::open(&path).unwrap();
        assert_eq!(opened, Opened::NeedsRebuild);
    }
}
