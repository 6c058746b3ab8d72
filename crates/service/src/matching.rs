//! Matching: when a seed or need is published or changed, score it against the published records
//! of the other side and keep, for each record, a short list of its best pairs, with reasons.
//!
//! Text relevance comes from the search index's "more like this" ([`kakehashi_search::similar`]):
//! the record's title, summary (or description) and keywords as weighted words and glossary
//! concepts, compared with each candidate's by cosine, so the pair has the same text relevance
//! whichever side is matched, and a score means the same for a short need and a long seed. It is
//! combined with the taxonomy fit ([`kakehashi_domain::matching`]) using the configured weights;
//! a pair with too little text evidence (no shared word, no shared concept) is no match, whatever
//! its taxonomy, so a Japanese seed and an English need are judged on what they say. Re-matching
//! a record compares it again with every record it is paired with, whether or not its own query
//! finds them, so a pair only the other side found is kept while it still holds.
//!
//! The pipeline around the scoring: every change queues its record durably
//! ([`kakehashi_store::match_work`], in the change's transaction). The matcher claims due records
//! whose change this process's index has applied, changes made one at a time before bulk ones,
//! scores them (the next batch while the one before it is written), and writes a whole batch in
//! one transaction: each open pair holds a place in the top
//! list of its seed and of its need, at most `max_per_record` each, so a better candidate displaces
//! the worst and a worse one does not get in; dismissed pairs stay dismissed and take no place. The
//! same transaction removes the work rows and tells the liaisons of the pairs that are settled:
//! pairs made one at a time at once, pairs of a bulk import once the whole import is matched, in one
//! digest. A pair pruned before then is never told of. A failed batch stays queued and is retried
//! with backoff; a stop or a crash loses nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kakehashi_domain::RecordStatus;
use kakehashi_domain::matching::{self, SharedConcept, TextEvidence, Weights};
use kakehashi_search::similar::{SimilarHit, Similarity};
use kakehashi_search::{Kind, SearchDoc};
use kakehashi_store::changes::RecordKind;
use kakehashi_store::match_work::{self, Work};
pub use kakehashi_store::matches::Filter;
use kakehashi_store::matches::{self, Listed, Scored};
use kakehashi_store::{ConnectionTrait, DbErr, StoreError, needs, seeds};
use uuid::Uuid;

use crate::search::{blocking, need_doc, seed_doc};
use crate::{Result, ServiceError, Services};

/// Matching settings, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct MatchingConfig {
    pub enabled: bool,
    pub weights: Weights,
    /// How many candidates the text query brings back before scoring.
    pub candidates: usize,
    /// The most open matches a record keeps: its best ones.
    pub max_per_record: usize,
}

/// Records claimed and written together.
const BATCH: u64 = 200;
/// How long a claim holds; another process may take the records over after it.
const LEASE: chrono::Duration = chrono::Duration::seconds(20);
/// How often an idle matcher looks for work queued by other processes and retries that fell due.
const POLL: Duration = Duration::from_millis(250);
/// The first retry of a failed batch waits this long, each further one twice as long.
const RETRY_BASE: Duration = Duration::from_secs(1);
/// Records scored at the same time (index searches run on the blocking pool).
const SCORING_CONCURRENCY: usize = 4;

/// This process's matcher: where its index stands.
#[derive(Debug)]
pub struct Matcher {
    indexed: tokio::sync::watch::Sender<i64>,
    faults: AtomicU32,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher { indexed: tokio::sync::watch::Sender::new(0), faults: AtomicU32::new(0) }
    }
}

impl Matcher {
    /// The indexer reports the change-log position its index has applied; records queued up to it
    /// may be matched.
    pub fn indexed(&self, seq: i64) {
        self.indexed.send_if_modified(|current| {
            let moved = seq > *current;
            if moved {
                *current = seq;
            }
            moved
        });
    }

    /// Makes the next `n` batches fail as a database pool timeout would (tests of the retry).
    #[doc(hidden)]
    pub fn inject_transient_failures(&self, n: u32) {
        self.faults.store(n, Ordering::SeqCst);
    }

    /// How many injected failures are still to come.
    #[doc(hidden)]
    #[must_use]
    pub fn injected_failures_left(&self) -> u32 {
        self.faults.load(Ordering::SeqCst)
    }

    fn injected_fault(&self) -> Option<ServiceError> {
        let taken = self.faults.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        taken.then(|| {
            ServiceError::Store(StoreError::Db(DbErr::ConnectionAcquire(kakehashi_store::ConnAcquireErr::Timeout)))
        })
    }
}

/// Whether a failure is likely to pass by itself (the pool, a lock, a dropped connection).
#[must_use]
pub fn is_transient(err: &ServiceError) -> bool {
    let ServiceError::Store(StoreError::Db(db)) = err else { return false };
    if matches!(db, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    let text = db.to_string().to_lowercase();
    ["database is locked", "busy", "deadlock", "could not serialize", "connection", "timed out"]
        .iter()
        .any(|s| text.contains(s))
}

/// What one scoring run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchRun {
    /// The record's open matches afterwards (the other side), best first.
    pub matched: Vec<Uuid>,
    /// Pairs seen for the first time.
    pub new: Vec<Uuid>,
}

/// One published record of a batch, to be scored against the other side.
#[derive(Clone, Copy)]
enum Probe<'a> {
    Seed(&'a seeds::Seed),
    Need(&'a needs::Need),
}

impl Probe<'_> {
    fn id(&self) -> Uuid {
        match self {
            Probe::Seed(s) => s.id,
            Probe::Need(n) => n.id,
        }
    }

    fn side(&self) -> Side<'_> {
        fn of<'a, C>(
            r: &'a kakehashi_store::records::Record<C>,
            terms: matching::Terms<'a>,
            language: kakehashi_domain::Locale,
        ) -> Side<'a> {
            Side { id: r.id, organization_id: r.organization_id, owner_id: r.owner_id, terms, language }
        }
        match *self {
            Probe::Seed(s) => of(s, s.content.terms(), s.content.language),
            Probe::Need(n) => of(n, n.content.terms(), n.content.language),
        }
    }
}

/// One record of a pair as its score weighs it: the record being matched, read from the
/// database, or a candidate, whose taxonomy and language come from the index
/// ([`kakehashi_search::similar::Facts`]) and whose organisation and owner the database confirms
/// with its being published.
struct Side<'a> {
    id: Uuid,
    organization_id: Uuid,
    owner_id: Option<Uuid>,
    terms: matching::Terms<'a>,
    language: kakehashi_domain::Locale,
}

/// A record's pairs at or above the threshold, best first, and every record of the other side
/// it was compared with.
#[derive(Default)]
struct ScoredRecord {
    pairs: Vec<Scored>,
    compared: HashSet<Uuid>,
}

impl Services {
    /// Scores published records against the other side, together: one read of the pairs they
    /// already have, one index searcher per share of the records, one read of every candidate
    /// found. Each record gets every pair at or above the threshold, best first (the matcher
    /// decides which of them each record keeps).
    ///
    /// Text relevance comes from [`kakehashi_search::similar`]: the records its words and
    /// concepts find, and those it is already paired with, so that re-matching either side of a
    /// pair compares the pair again with the same, symmetric, evidence.
    async fn score_probes(&self, probes: &[Probe<'_>]) -> Result<Vec<ScoredRecord>> {
        let seed_ids: Vec<Uuid> =
            probes.iter().filter_map(|p| if let Probe::Seed(s) = p { Some(s.id) } else { None }).collect();
        let need_ids: Vec<Uuid> =
            probes.iter().filter_map(|p| if let Probe::Need(n) = p { Some(n.id) } else { None }).collect();
        let mut paired: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let (own_seeds, own_needs): (HashSet<Uuid>, HashSet<Uuid>) =
            (seed_ids.iter().copied().collect(), need_ids.iter().copied().collect());
        for l in matches::lists_of(&self.db, &seed_ids, &need_ids).await? {
            if own_seeds.contains(&l.seed_id) {
                paired.entry(l.seed_id).or_default().push(l.need_id);
            }
            if own_needs.contains(&l.need_id) {
                paired.entry(l.need_id).or_default().push(l.seed_id);
            }
        }
        let requests: Vec<(SearchDoc, Kind, Vec<Uuid>)> = probes
            .iter()
            .map(|p| {
                let (doc, other) = match p {
                    Probe::Seed(seed) => (seed_doc(seed), Kind::Need),
                    Probe::Need(need) => (need_doc(need), Kind::Seed),
                };
                let also = paired.get(&doc.id).cloned().unwrap_or_default();
                (doc, other, also)
            })
            .collect();
        let mut also_of = paired;
        let hits = self.similar_many(requests).await?;

        let mut wanted_seeds: Vec<Uuid> = Vec::new();
        let mut wanted_needs: Vec<Uuid> = Vec::new();
        for (p, found) in probes.iter().zip(&hits) {
            let ids = found.iter().map(|h| h.id);
            match p {
                Probe::Seed(_) => wanted_needs.extend(ids),
                Probe::Need(_) => wanted_seeds.extend(ids),
            }
        }
        // Only the candidates still published, with who owns them now.
        let published_seeds = seeds::published_owners(&self.db, &crate::records::distinct(wanted_seeds)).await?;
        let published_needs = needs::published_owners(&self.db, &crate::records::distinct(wanted_needs)).await?;
        let mut out = Vec::with_capacity(probes.len());
        for (p, found) in probes.iter().zip(hits) {
            let mut scored = Vec::new();
            let mut compared = HashSet::with_capacity(found.len());
            let own = p.side();
            let probe_is_seed = matches!(p, Probe::Seed(_));
            let published = if probe_is_seed { &published_needs } else { &published_seeds };
            for hit in found {
                compared.insert(hit.id);
                let Some(&(organization_id, owner_id)) = published.get(&hit.id) else { continue };
                let theirs = Side {
                    id: hit.id,
                    organization_id,
                    owner_id,
                    terms: hit.facts.terms(),
                    language: hit.facts.language,
                };
                let (seed, need) = if probe_is_seed { (&own, &theirs) } else { (&theirs, &own) };
                if let Some(s) = self.score_pair(seed, need, &hit.similarity) {
                    scored.push(s);
                }
            }
            scored.sort_by(|a, b| b.score.total_cmp(&a.score));
            compared.extend(also_of.remove(&p.id()).unwrap_or_default());
            out.push(ScoredRecord { pairs: scored, compared });
        }
        Ok(out)
    }

    /// [`SearchIndex::similar`] for each request, the requests shared among a few index
    /// searches running at the same time on the blocking pool.
    async fn similar_many(&self, requests: Vec<(SearchDoc, Kind, Vec<Uuid>)>) -> Result<Vec<Vec<SimilarHit>>> {
        let candidates = self.matching.candidates;
        let share = requests.len().div_ceil(SCORING_CONCURRENCY).max(1);
        let mut running = Vec::new();
        let mut requests = requests.into_iter().peekable();
        while requests.peek().is_some() {
            let chunk: Vec<(SearchDoc, Kind, Vec<Uuid>)> = requests.by_ref().take(share).collect();
            let index = Arc::clone(&self.search);
            running.push(blocking(move || {
                chunk
                    .iter()
                    .map(|(doc, other, also)| index.similar(doc.id, &doc.title, &doc.body, *other, also, candidates))
                    .collect::<kakehashi_search::Result<Vec<_>>>()
            }));
        }
        Ok(futures_util::future::try_join_all(running).await?.into_iter().flatten().collect())
    }

    /// The pair of `seed` and `need` with their text similarity, when it scores at or above the
    /// threshold.
    fn score_pair(&self, seed: &Side<'_>, need: &Side<'_>, similarity: &Similarity) -> Option<Scored> {
        let weights = self.matching.weights;
        let fit = matching::fit(seed.terms, need.terms);
        let same_language = seed.language == need.language;
        let score = weights.score(&evidence(similarity), &fit, same_language);
        (score >= weights.threshold).then(|| self.scored(seed, need, score, similarity, same_language, &fit))
    }

    /// Scores a published seed against the published needs: every pair at or above the
    /// threshold, best first. (The matcher decides which of them each record keeps.)
    ///
    /// # Errors
    /// On a database or index failure.
    pub async fn score_seed(&self, seed: &seeds::Seed) -> Result<Vec<Scored>> {
        Ok(self.score_probes(&[Probe::Seed(seed)]).await?.pop().map(|s| s.pairs).unwrap_or_default())
    }

    /// Scores a published need against the published seeds: every pair at or above the
    /// threshold, best first.
    ///
    /// # Errors
    /// On a database or index failure.
    pub async fn score_need(&self, need: &needs::Need) -> Result<Vec<Scored>> {
        Ok(self.score_probes(&[Probe::Need(need)]).await?.pop().map(|s| s.pairs).unwrap_or_default())
    }

    fn scored(
        &self,
        seed: &Side<'_>,
        need: &Side<'_>,
        score: f64,
        similarity: &Similarity,
        same_language: bool,
        fit: &matching::Fit,
    ) -> Scored {
        let glossary = kakehashi_search::glossary::builtin();
        let concepts: Vec<SharedConcept> = similarity
            .shared_concepts
            .iter()
            .take(REASON_CONCEPTS)
            .filter_map(|id| glossary.get(id))
            .map(|c| SharedConcept {
                id: c.id.clone(),
                label_ja: c.label_ja().to_owned(),
                label_en: c.label_en().to_owned(),
            })
            .collect();
        let terms: Vec<String> = similarity.shared_words.iter().take(REASON_TERMS).cloned().collect();
        let reasons = matching::reasons(fit, &concepts, &terms, &self.taxonomy);
        Scored {
            seed_id: seed.id,
            seed_organization_id: seed.organization_id,
            seed_owner_id: seed.owner_id,
            need_id: need.id,
            need_organization_id: need.organization_id,
            score,
            text_score: evidence(similarity).relevance(same_language),
            taxonomy_score: fit.score,
            reasons: serde_json::to_value(reasons).unwrap_or_default(),
        }
    }
}

/// A match reason names at most this many shared concepts and this many shared words.
const REASON_CONCEPTS: usize = 8;
const REASON_TERMS: usize = 8;

fn evidence(similarity: &Similarity) -> TextEvidence {
    TextEvidence { words: similarity.words, concepts: similarity.concepts }
}

/// The top lists of the records a batch touches, as read at the start of its transaction and
/// changed in memory; written back at the end.
struct Lists {
    cap: usize,
    pairs: HashMap<(Uuid, Uuid), Pair>,
    /// Each record's open pairs.
    open: HashMap<Uuid, HashSet<(Uuid, Uuid)>>,
    /// Stored pairs taken off their lists.
    removed: Vec<Uuid>,
}

struct Pair {
    id: Uuid,
    score: f64,
    open: bool,
    stored: bool,
    /// The new scoring, when re-scored or new.
    scored: Option<Scored>,
    origin: Option<Uuid>,
}

impl Lists {
    fn new(cap: usize, rows: Vec<Listed>) -> Self {
        let mut lists = Lists { cap, pairs: HashMap::new(), open: HashMap::new(), removed: Vec::new() };
        for row in rows {
            let key = (row.seed_id, row.need_id);
            if row.open {
                lists.open.entry(row.seed_id).or_default().insert(key);
                lists.open.entry(row.need_id).or_default().insert(key);
            }
            lists.pairs.insert(
                key,
                Pair { id: row.id, score: row.score, open: row.open, stored: true, scored: None, origin: None },
            );
        }
        lists
    }

    fn remove(&mut self, key: (Uuid, Uuid)) {
        let Some(pair) = self.pairs.remove(&key) else { return };
        if pair.open {
            for record in [key.0, key.1] {
                if let Some(set) = self.open.get_mut(&record) {
                    set.remove(&key);
                }
            }
        }
        if pair.stored {
            self.removed.push(pair.id);
        }
    }

    /// `record`'s open pairs other than `except`, worst first.
    fn others(&self, record: Uuid, except: (Uuid, Uuid)) -> Vec<((Uuid, Uuid), f64)> {
        let mut out: Vec<((Uuid, Uuid), f64)> = self
            .open
            .get(&record)
            .into_iter()
            .flatten()
            .filter(|k| **k != except)
            .filter_map(|k| self.pairs.get(k).map(|p| (*k, p.score)))
            .collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1));
        out
    }

    /// Makes `record`'s list its best scored candidates, each also within the other record's
    /// list (displacing that list's worst when better). Pairs of `record` no longer among them
    /// leave; dismissed pairs stay dismissed and take no place.
    ///
    /// With `compared`, only pairs with records the scoring compared may leave: a pair made
    /// with another record after this one was scored (by the batch written before it, or by
    /// another process) stays until the record is matched again.
    fn relist(
        &mut self,
        kind: RecordKind,
        record: Uuid,
        scored: Vec<Scored>,
        origin: Option<Uuid>,
        compared: Option<&HashSet<Uuid>>,
    ) {
        let mut kept = HashSet::new();
        for s in scored {
            if kept.len() >= self.cap {
                break;
            }
            let key = (s.seed_id, s.need_id);
            let other = if kind == RecordKind::Seed { s.need_id } else { s.seed_id };
            if let Some(pair) = self.pairs.get_mut(&key).filter(|p| !p.open) {
                // Dismissed: re-scored on record, outside both lists.
                pair.score = s.score;
                pair.scored = Some(s);
                continue;
            }
            let mut others = self.others(other, key);
            let mut admitted = true;
            while others.len() >= self.cap {
                let (worst, worst_score) = others.remove(0);
                if s.score <= worst_score {
                    admitted = false;
                    break;
                }
                self.remove(worst);
            }
            if !admitted {
                continue;
            }
            let score = s.score;
            if let Some(pair) = self.pairs.get_mut(&key) {
                pair.score = score;
                pair.scored = Some(s);
            } else {
                self.pairs.insert(
                    key,
                    Pair { id: Uuid::now_v7(), score, open: true, stored: false, scored: Some(s), origin },
                );
                self.open.entry(key.0).or_default().insert(key);
                self.open.entry(key.1).or_default().insert(key);
            }
            kept.insert(key);
        }
        let other = |k: &(Uuid, Uuid)| if kind == RecordKind::Seed { k.1 } else { k.0 };
        let dropped: Vec<(Uuid, Uuid)> = self
            .open
            .get(&record)
            .into_iter()
            .flatten()
            .filter(|k| !kept.contains(*k) && compared.is_none_or(|c| c.contains(&other(k))))
            .copied()
            .collect();
        for key in dropped {
            self.remove(key);
        }
    }

    /// `record`'s open matches (the other side), best first, and which of them are new.
    fn outcome(&self, kind: RecordKind, record: Uuid) -> MatchRun {
        let mut listed: Vec<(&(Uuid, Uuid), &Pair)> =
            self.open.get(&record).into_iter().flatten().filter_map(|k| self.pairs.get(k).map(|p| (k, p))).collect();
        listed.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        let other = |k: &(Uuid, Uuid)| if kind == RecordKind::Seed { k.1 } else { k.0 };
        MatchRun {
            matched: listed.iter().map(|(k, _)| other(k)).collect(),
            new: listed.iter().filter(|(_, p)| !p.stored).map(|(k, _)| other(k)).collect(),
        }
    }

    async fn write(self, conn: &impl ConnectionTrait) -> Result<()> {
        matches::remove_open(conn, &self.removed).await?;
        let mut inserts = Vec::new();
        for pair in self.pairs.into_values() {
            let Some(scored) = pair.scored else { continue };
            if pair.stored {
                matches::rescore(conn, pair.id, scored).await?;
            } else {
                inserts.push((pair.id, scored, pair.origin));
            }
        }
        matches::insert_many(conn, inserts).await?;
        Ok(())
    }
}

/// How one record of a batch is to be listed.
enum Scoring {
    /// Published: its scored candidates.
    Pairs(ScoredRecord),
    /// Unpublished or gone: it loses its open matches.
    Withdrawn,
}

/// A batch scored, to be written.
struct Prepared {
    ready: Vec<(Work, Scoring)>,
    /// Every record whose list writing the batch may change.
    list_seeds: Vec<Uuid>,
    list_needs: Vec<Uuid>,
    scoring: Duration,
}

/// Batches one run of the matcher takes at most, each claimed and scored while the one before
/// it is written; the records of a run are claimed a batch at a time, so fresh changes go ahead
/// of a backlog at every batch.
const PIPELINED: usize = 8;

impl Services {
    /// Scores a batch and writes it in one transaction. With `claim`, only records still claimed
    /// by it are written (a newer change queues the record again), their work rows are removed, and
    /// settled pairs are told of. Returns each written record's outcome.
    async fn match_batch(&self, work: &[Work], claim: Option<Uuid>) -> Result<HashMap<Uuid, MatchRun>> {
        let prepared = self.score_batch(work).await?;
        self.write_scored(prepared, claim).await
    }

    /// Scores the published records of a batch; the others are to lose their matches.
    async fn score_batch(&self, work: &[Work]) -> Result<Prepared> {
        let started = std::time::Instant::now();
        let seed_ids: Vec<Uuid> = work.iter().filter(|w| w.kind == RecordKind::Seed).map(|w| w.record_id).collect();
        let need_ids: Vec<Uuid> = work.iter().filter(|w| w.kind == RecordKind::Need).map(|w| w.record_id).collect();
        let (seeds, needs) =
            crate::records::seeds_and_needs(&self.db, seed_ids.iter().copied(), need_ids.iter().copied()).await?;
        let probes: Vec<Option<Probe<'_>>> = work
            .iter()
            .map(|w| match w.kind {
                RecordKind::Seed => {
                    seeds.get(&w.record_id).filter(|s| s.status == RecordStatus::Published).map(Probe::Seed)
                }
                RecordKind::Need => {
                    needs.get(&w.record_id).filter(|n| n.status == RecordStatus::Published).map(Probe::Need)
                }
            })
            .collect();
        let mut scored = self.score_probes(&probes.iter().flatten().copied().collect::<Vec<_>>()).await?.into_iter();
        // Written in the order claimed.
        let ready: Vec<(Work, Scoring)> = work
            .iter()
            .zip(&probes)
            .map(|(w, probe)| match probe {
                Some(_) => (w.clone(), Scoring::Pairs(scored.next().unwrap_or_default())),
                None => (w.clone(), Scoring::Withdrawn),
            })
            .collect();
        let (mut list_seeds, mut list_needs) = (seed_ids, need_ids);
        for (_, scoring) in &ready {
            if let Scoring::Pairs(record) = scoring {
                for p in &record.pairs {
                    list_seeds.push(p.seed_id);
                    list_needs.push(p.need_id);
                }
            }
        }
        let (list_seeds, list_needs) = (crate::records::distinct(list_seeds), crate::records::distinct(list_needs));
        Ok(Prepared { ready, list_seeds, list_needs, scoring: started.elapsed() })
    }

    /// Writes a scored batch in one transaction (see [`Services::match_batch`]).
    async fn write_scored(&self, prepared: Prepared, claim: Option<Uuid>) -> Result<HashMap<Uuid, MatchRun>> {
        let started = std::time::Instant::now();
        let Prepared { ready, list_seeds, list_needs, scoring } = prepared;
        let records = ready.len();
        let txn = self.write_txn().await?;
        match_work::lock(&txn).await?;
        if claim.is_some()
            && let Some(fault) = self.matcher.injected_fault()
        {
            return Err(fault);
        }
        let current = match claim {
            Some(claim) => {
                let ids: Vec<Uuid> = ready.iter().map(|(w, _)| w.record_id).collect();
                Some(match_work::still_claimed(&txn, claim, &ids).await?)
            }
            None => None,
        };
        let mut lists =
            Lists::new(self.matching.max_per_record, matches::lists_of(&txn, &list_seeds, &list_needs).await?);
        let mut written = Vec::new();
        for (w, scoring) in ready {
            if current.as_ref().is_some_and(|c| !c.contains(&w.record_id)) {
                continue;
            }
            match scoring {
                Scoring::Pairs(record) => {
                    lists.relist(w.kind, w.record_id, record.pairs, w.batch, Some(&record.compared));
                }
                Scoring::Withdrawn => lists.relist(w.kind, w.record_id, Vec::new(), None, None),
            }
            written.push(w);
        }
        let outcomes: HashMap<Uuid, MatchRun> =
            written.iter().map(|w| (w.record_id, lists.outcome(w.kind, w.record_id))).collect();
        lists.write(&txn).await?;
        if let Some(claim) = claim {
            let ids: Vec<Uuid> = written.iter().map(|w| w.record_id).collect();
            match_work::done(&txn, claim, &ids).await?;
            self.tell_settled_matches(&txn).await?;
        }
        txn.commit().await?;
        tracing::debug!(
            records,
            scoring_ms = scoring.as_millis(),
            writing_ms = started.elapsed().as_millis(),
            "matched a batch"
        );
        Ok(outcomes)
    }

    /// Scores one record against the other side and stores its list now, outside the queue (the
    /// benchmark; the matcher's own runs go through [`Services::match_due`]). An unpublished
    /// record loses its open matches. Nobody is told: the queued run does that.
    ///
    /// # Errors
    /// On a database or index failure.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn match_record(&self, kind: RecordKind, id: Uuid) -> Result<MatchRun> {
        let work = Work { kind, record_id: id, seq: 0, priority: match_work::INTERACTIVE, batch: None, attempts: 0 };
        Ok(self.match_batch(std::slice::from_ref(&work), None).await?.remove(&id).unwrap_or_default())
    }

    /// Matches due records, if any, a batch at a time: each batch is claimed and scored while the
    /// one before it is written, up to [`PIPELINED`] batches. Returns how many were claimed.
    ///
    /// # Errors
    /// When the work list cannot be read; a failed batch is recorded for a retry, not returned.
    pub async fn match_due(&self) -> Result<usize> {
        let Some(mut batch) = self.claim_batch().await? else { return Ok(0) };
        let mut scored = self.score_batch(&batch.1).await;
        let mut claimed = batch.1.len();
        for _ in 1..PIPELINED {
            // Claimed before the write begins: the database takes one writer at a time.
            let next = match self.claim_batch().await {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(err) => {
                    self.write_claimed(&batch, scored).await;
                    return Err(err);
                }
            };
            let ((), following) = tokio::join!(self.write_claimed(&batch, scored), self.score_batch(&next.1));
            claimed += next.1.len();
            (batch, scored) = (next, following);
        }
        self.write_claimed(&batch, scored).await;
        Ok(claimed)
    }

    /// Claims the next batch of due records under a claim of its own.
    async fn claim_batch(&self) -> Result<Option<(Uuid, Vec<Work>)>> {
        let indexed = *self.matcher.indexed.borrow();
        let claim = Uuid::now_v7();
        let work = match_work::claim(&self.db, indexed, BATCH, LEASE, claim).await?;
        Ok((!work.is_empty()).then_some((claim, work)))
    }

    /// Writes a claimed batch as scored, then tells saved searches of its records; a failure is
    /// recorded for a retry.
    async fn write_claimed(&self, (claim, work): &(Uuid, Vec<Work>), scored: Result<Prepared>) {
        let written = match scored {
            Ok(prepared) => self.write_scored(prepared, Some(*claim)).await,
            Err(err) => Err(err),
        };
        if let Err(err) = written {
            let ids: Vec<Uuid> = work.iter().map(|w| w.record_id).collect();
            let attempts = work.iter().map(|w| w.attempts).max().unwrap_or(0);
            self.retry_later(*claim, &ids, attempts, &err).await;
            return;
        }
        let records: Vec<(RecordKind, Uuid)> = work.iter().map(|w| (w.kind, w.record_id)).collect();
        if let Err(err) = self.alert_saved_searches(&records).await {
            tracing::error!(error = %crate::error_chain(&err), records = records.len(), "saved-search alerts failed");
        }
    }

    /// Records a failed attempt: the records stay queued, due again after a backoff.
    async fn retry_later(&self, claim: Uuid, ids: &[Uuid], attempts: i32, err: &ServiceError) {
        let wait = crate::notifications::backoff(RETRY_BASE, attempts);
        let retry_at = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        let error = crate::error_chain(err);
        if is_transient(err) {
            tracing::warn!(records = ids.len(), attempts = attempts + 1, retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), error = %error, "matching failed; will retry");
        } else {
            tracing::error!(records = ids.len(), attempts = attempts + 1, retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), error = %error, "matching failed; will retry");
        }
        if let Err(record) = match_work::failed(&self.db, claim, ids, &error, retry_at).await {
            // The claim runs out instead, and the records are taken up again then.
            tracing::error!(error = %crate::error_chain(&record), "recording a failed matching attempt failed");
        }
    }

    /// Matches queued records until the process ends: woken when the index moves, and polling
    /// for work queued by other processes and for retries falling due.
    pub async fn run_matcher(self: Arc<Self>) {
        let mut indexed = self.matcher.indexed.subscribe();
        loop {
            let done = self.match_due().await;
            self.progress.passed();
            match done {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::error!(error = %crate::error_chain(&err), "reading the matcher's work failed"),
            }
            tokio::select! {
                changed = indexed.changed() => if changed.is_err() { tokio::time::sleep(POLL).await },
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// A match as one viewer may see it.
#[derive(Debug, Clone)]
pub struct VisibleMatch {
    pub id: Uuid,
    pub seed_id: Uuid,
    pub seed_title: String,
    pub need_id: Uuid,
    pub need_title: String,
    /// The need's company, `None` when anonymous to this viewer.
    pub need_organization: Option<kakehashi_store::organizations::Organization>,
    pub score: f64,
    pub reasons: Vec<kakehashi_domain::matching::Reason>,
    pub status: kakehashi_domain::MatchStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last scored.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Lists filtered row by row are read whole up to this many rows.
const POLICY_CAP: u64 = 5_000;

impl Services {
    /// Each row is shown only if the viewer may see both the seed and the need.
    async fn visible_matches(
        &self,
        actor: &crate::auth::Authenticated,
        rows: Vec<matches::Match>,
    ) -> Result<Vec<VisibleMatch>> {
        use kakehashi_domain::{need_access, seed_access};
        let viewer = crate::seeds::viewer(actor);
        let reveal = self.need_reveal(actor).await?;
        let seed_ids: Vec<Uuid> = rows.iter().map(|m| m.seed_id).collect();
        let (seeds, needs) =
            crate::records::seeds_and_needs(&self.db, seed_ids.iter().copied(), rows.iter().map(|m| m.need_id)).await?;
        let granted = kakehashi_store::grants::granted_among(&self.db, actor.organization_id, &seed_ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            let (Some(seed), Some(need)) = (seeds.get(&m.seed_id), needs.get(&m.need_id)) else { continue };
            if seed_access(&seed.facts(), &viewer, granted.contains(&seed.id)).is_none()
                || need_access(&need.facts(), &viewer).is_none()
            {
                continue;
            }
            let need_organization = if reveal.organization(&need.facts()) {
                Some(self.organization(need.organization_id).await?)
            } else {
                None
            };
            out.push(VisibleMatch {
                id: m.id,
                seed_id: seed.id,
                seed_title: seed.content.title.clone(),
                need_id: need.id,
                need_title: need.content.title.clone(),
                need_organization,
                score: m.score,
                reasons: serde_json::from_value(m.reasons).unwrap_or_default(),
                status: m.status,
                created_at: m.created_at,
                updated_at: m.updated_at,
            });
        }
        Ok(out)
    }

    /// Matches the member may see: liaisons those of the organisations they cover (all when they
    /// cover none in particular), admins all, seed owners and TTO staff those of their seeds,
    /// companies those of their needs; each row also passes the disclosure policy for both sides.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn list_matches(
        &self,
        actor: &crate::auth::Authenticated,
        filter: matches::Filter,
        page: kakehashi_domain::Page,
    ) -> Result<crate::members::Listed<VisibleMatch>> {
        use kakehashi_domain::Role;
        let scope = self.match_scope(actor).await?;
        if matches!(actor.role, Role::Admin | Role::Liaison) {
            let (rows, total) = matches::page(&self.db, &scope, &filter, page).await?;
            let items = self.visible_matches(actor, rows).await?;
            return Ok(crate::members::Listed { items, total, page });
        }
        // Owners' lists are short: filter them whole so totals count only what is shown.
        let rows = matches::all(&self.db, &scope, &filter, POLICY_CAP).await?;
        let visible = self.visible_matches(actor, rows).await?;
        let total = visible.len() as u64;
        let items = visible
            .into_iter()
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(page.per_page).unwrap_or(100))
            .collect();
        Ok(crate::members::Listed { items, total, page })
    }

    /// The matches a member's lists hold: see [`Services::list_matches`].
    async fn match_scope(&self, actor: &crate::auth::Authenticated) -> Result<matches::Scope> {
        use kakehashi_domain::Role;
        Ok(match actor.role {
            Role::Admin => matches::Scope::All,
            Role::Liaison => match self.coverage(actor.id).await?.organizations() {
                None => matches::Scope::All,
                Some(covered) => matches::Scope::Organizations(covered.to_vec()),
            },
            Role::Researcher => matches::Scope::SeedOwner(actor.id),
            Role::Tto => matches::Scope::SeedOrganization(actor.organization_id),
            Role::Company => matches::Scope::NeedOrganization(actor.organization_id),
        })
    }

    /// One match, as the member's lists show it (the link of a match e-mail).
    ///
    /// # Errors
    /// `NotFound` when it is not in the member's lists, as for a missing one.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn visible_match(&self, actor: &crate::auth::Authenticated, id: Uuid) -> Result<VisibleMatch> {
        let scope = self.match_scope(actor).await?;
        let m = matches::get_in(&self.db, &scope, id).await?.ok_or(ServiceError::NotFound("match"))?;
        self.visible_matches(actor, vec![m]).await?.pop().ok_or(ServiceError::NotFound("match"))
    }

    /// Dismisses a match (liaisons and admins); it stays dismissed through re-scoring.
    ///
    /// # Errors
    /// `NotFound` when the member may not see it; `Forbidden` for other roles.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn dismiss_match(
        &self,
        actor: &crate::auth::Authenticated,
        id: Uuid,
        ctx: &crate::RequestContext,
    ) -> Result<VisibleMatch> {
        use kakehashi_domain::Role;
        let m = matches::get(&self.db, id).await?.ok_or(ServiceError::NotFound("match"))?;
        if actor.role == Role::Liaison {
            if !self.coverage(actor.id).await?.covers_either(m.seed_organization_id, m.need_organization_id) {
                return Err(ServiceError::NotFound("match"));
            }
        } else if actor.role != Role::Admin {
            let visible = self.visible_matches(actor, vec![m.clone()]).await?;
            let in_scope = match actor.role {
                Role::Researcher => m.seed_owner_id == Some(actor.id),
                Role::Tto => m.seed_organization_id == actor.organization_id,
                _ => m.need_organization_id == actor.organization_id,
            };
            if visible.is_empty() || !in_scope {
                return Err(ServiceError::NotFound("match"));
            }
            return Err(ServiceError::Forbidden("liaisons and admins dismiss matches"));
        }
        let txn = self.write_txn().await?;
        matches::set_status(&txn, id, kakehashi_domain::MatchStatus::Dismissed).await?;
        kakehashi_store::audit::record(
            &txn,
            crate::seeds::record_entry(actor, "match.dismissed", "match", id, ctx, serde_json::Value::Null),
        )
        .await?;
        txn.commit().await?;
        let updated = matches::get(&self.db, id).await?.ok_or(ServiceError::NotFound("match"))?;
        self.visible_matches(actor, vec![updated]).await?.pop().ok_or(ServiceError::NotFound("match"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(seed: Uuid, need: Uuid, score: f64) -> Scored {
        Scored {
            seed_id: seed,
            seed_organization_id: Uuid::nil(),
            seed_owner_id: None,
            need_id: need,
            need_organization_id: Uuid::nil(),
            score,
            text_score: score,
            taxonomy_score: 1.0,
            reasons: serde_json::Value::Null,
        }
    }

    fn listed(seed: Uuid, need: Uuid, score: f64) -> Listed {
        Listed { id: Uuid::now_v7(), seed_id: seed, need_id: need, score, open: true }
    }

    #[test]
    fn a_record_drops_only_pairs_with_records_its_scoring_compared() {
        let need = Uuid::now_v7();
        let (kept, compared_away, made_since) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let rows = vec![listed(kept, need, 0.8), listed(compared_away, need, 0.7), listed(made_since, need, 0.6)];
        let mut lists = Lists::new(20, rows);
        // The need was scored before `made_since` was paired with it: that pair is not its to drop.
        let compared: HashSet<Uuid> = [kept, compared_away].into_iter().collect();
        lists.relist(RecordKind::Need, need, vec![scored(kept, need, 0.8)], None, Some(&compared));
        let mut open = lists.outcome(RecordKind::Need, need).matched;
        open.sort_unstable();
        let mut expected = vec![kept, made_since];
        expected.sort_unstable();
        assert_eq!(open, expected);
        // Withdrawn, it loses every pair.
        lists.relist(RecordKind::Need, need, Vec::new(), None, None);
        assert!(lists.outcome(RecordKind::Need, need).matched.is_empty());
    }
}
