//! Search: keeping each process's index in step with the database, and answering searches with
//! only what the viewer may find.
//!
//! The indexer follows the change log (`record_changes`) in order. It waits briefly at a gap in
//! the sequence (a transaction that took a number but has not committed yet) so no change is
//! held up long, and moves past a gap after [`GAP_PATIENCE`]. A skipped gap is not forgotten:
//! its positions are kept (in the index, across restarts) and looked for again every
//! [`GAP_RECHECK`], and a change that commits late is applied then. A gap is dropped only when it
//! can no longer fill: on `PostgreSQL` once every transaction that was running when it was skipped
//! has ended; elsewhere (`SQLite` serialises its writers, so a gap there is a rolled-back
//! transaction) after [`GAP_GIVE_UP`].
//!
//! A search that fails on damaged index files marks the index damaged; the indexer then
//! rebuilds it from the database, and searches answer 503 until it is done. Index writes and
//! searches run on tokio's blocking pool, never on the async executor.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kakehashi_domain::{NeedFacts, Page, RecordStatus, Role, SeedFacts, Taxonomy, Viewer, need_access, seed_access};
use kakehashi_search::{
    Audience, FACETS, FacetFilters, Gap, Health, Hit, Kind, NeedAudience, Op, Opened, SearchDoc, SearchRequest,
    SeedAudience, Sort,
};
use kakehashi_store::changes::{self, Change, RecordKind};
use kakehashi_store::organizations::Organization;
use kakehashi_store::{grants, needs, seeds};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::seeds::viewer;
use crate::{Result, ServiceError, Services};

/// How long the indexer waits for a missing change-log position before moving past it.
pub const GAP_PATIENCE: Duration = Duration::from_secs(5);
/// How often skipped positions are looked for again.
pub const GAP_RECHECK: Duration = Duration::from_secs(1);
/// How long a skipped gap is looked for where the database cannot tell that it will never fill.
pub const GAP_GIVE_UP: chrono::Duration = chrono::Duration::minutes(10);
/// At most this many skipped gaps are kept (the oldest is dropped first).
const MAX_GAPS: usize = 10_000;
const BATCH: u64 = 1_000;
const REBUILD_PAGE: u64 = 5_000;
/// How far back a rebuilt index replays the change log.
const REPLAY_WINDOW: chrono::Duration = chrono::Duration::seconds(60);
/// The deepest result a search may page to.
pub const MAX_RESULT_WINDOW: u64 = 10_000;

/// Where the indexer stands.
#[derive(Debug, Default)]
pub struct IndexerState {
    pub last_seq: i64,
    gap_since: Option<Instant>,
    /// Positions skipped and still looked for.
    gaps: Vec<Gap>,
    rechecked_at: Option<Instant>,
}

impl IndexerState {
    /// Positions skipped and still looked for, oldest first.
    #[must_use]
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }
}

/// `gaps` without the positions in `found` (sorted).
fn without(gaps: &[Gap], found: &[i64]) -> Vec<Gap> {
    let mut out = Vec::with_capacity(gaps.len());
    for gap in gaps {
        let mut from = gap.from;
        for &seq in found.iter().filter(|&&s| s >= gap.from && s <= gap.to) {
            if seq > from {
                out.push(Gap { from, to: seq - 1, ..gap.clone() });
            }
            from = seq + 1;
        }
        if from <= gap.to {
            out.push(Gap { from, ..gap.clone() });
        }
    }
    out
}

/// What the index keeps of a published seed.
pub fn seed_doc(seed: &seeds::Seed) -> SearchDoc {
    let c = &seed.content;
    SearchDoc {
        kind: Kind::Seed,
        id: seed.id,
        organization_id: seed.organization_id,
        visibility: c.visibility,
        anonymous: false,
        title: c.title.clone(),
        body: format!("{}\n{}", c.summary, c.keywords.join(" ")),
        modalities: c.modalities.clone(),
        disease_areas: c.disease_areas.clone(),
        stages: vec![c.stage.clone()],
        ip_status: Some(c.ip_status.clone()),
        deal_types: c.deal_types.clone(),
        language: c.language,
        published_at: seed.published_at.unwrap_or(seed.updated_at),
    }
}

/// What the index keeps of a published need.
pub fn need_doc(need: &needs::Need) -> SearchDoc {
    let c = &need.content;
    SearchDoc {
        kind: Kind::Need,
        id: need.id,
        organization_id: need.organization_id,
        visibility: c.visibility,
        anonymous: c.anonymous,
        title: c.title.clone(),
        body: format!("{}\n{}", c.description, c.keywords.join(" ")),
        modalities: c.modalities.clone(),
        disease_areas: c.disease_areas.clone(),
        stages: c.stages.clone(),
        ip_status: None,
        deal_types: c.deal_types.clone(),
        language: c.language,
        published_at: need.published_at.unwrap_or(need.updated_at),
    }
}

/// The records a viewer may find, as an index filter. Mirrors [`kakehashi_domain::seed_access`]
/// and [`kakehashi_domain::need_access`] for published records; a test checks the two agree.
#[must_use]
pub fn audience(viewer: &Viewer, granted: Vec<Uuid>) -> Audience {
    match viewer.role {
        Role::Liaison | Role::Admin => Audience { seeds: SeedAudience::All, needs: NeedAudience::All },
        Role::Researcher | Role::Tto => Audience {
            seeds: SeedAudience::Restricted { own_organization: Some(viewer.organization_id), granted },
            needs: NeedAudience::Members,
        },
        Role::Company => Audience {
            seeds: SeedAudience::Restricted { own_organization: None, granted },
            needs: NeedAudience::Organization(viewer.organization_id),
        },
    }
}

/// Runs index work on the blocking pool, where tantivy's waits belong.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> kakehashi_search::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::internal("the search task", e))?
        .map_err(|e| ServiceError::internal("the search index", e))
}

impl Services {
    /// Wakes this process's indexer after a commit that wrote to the change log.
    pub(crate) fn records_changed(&self) {
        self.index_wake.notify_one();
    }

    async fn ops_for(&self, batch: &[Change]) -> Result<Vec<Op>> {
        let mut seed_ids: Vec<Uuid> =
            batch.iter().filter(|c| c.kind == RecordKind::Seed).map(|c| c.record_id).collect();
        let mut need_ids: Vec<Uuid> =
            batch.iter().filter(|c| c.kind == RecordKind::Need).map(|c| c.record_id).collect();
        for ids in [&mut seed_ids, &mut need_ids] {
            ids.sort_unstable();
            ids.dedup();
        }
        let seeds: HashMap<Uuid, seeds::Seed> =
            seeds::get_many(&self.db, &seed_ids).await?.into_iter().map(|s| (s.id, s)).collect();
        let needs: HashMap<Uuid, needs::Need> =
            needs::get_many(&self.db, &need_ids).await?.into_iter().map(|n| (n.id, n)).collect();
        let mut ops = Vec::with_capacity(seed_ids.len() + need_ids.len());
        for id in seed_ids {
            match seeds.get(&id).filter(|s| s.status == RecordStatus::Published) {
                Some(seed) => ops.push(Op::Upsert(Box::new(seed_doc(seed)))),
                None => ops.push(Op::Delete(id)),
            }
        }
        for id in need_ids {
            match needs.get(&id).filter(|n| n.status == RecordStatus::Published) {
                Some(need) => ops.push(Op::Upsert(Box::new(need_doc(need)))),
                None => ops.push(Op::Delete(id)),
            }
        }
        Ok(ops)
    }

    /// Applies every change after `state.last_seq` that can be applied now. Returns how many.
    ///
    /// # Errors
    /// On a database or index failure; the position is then unchanged and the work is retried.
    pub async fn apply_changes(&self, state: &mut IndexerState) -> Result<usize> {
        let mut applied = self.recheck_gaps(state).await?;
        loop {
            let changes = changes::after(&self.db, state.last_seq, BATCH).await?;
            if changes.is_empty() {
                state.gap_since = None;
                return Ok(applied);
            }
            let contiguous = changes
                .iter()
                .enumerate()
                .take_while(|(i, c)| c.seq == state.last_seq + 1 + i64::try_from(*i).unwrap_or(i64::MAX))
                .count();
            let take = if contiguous > 0 {
                state.gap_since = None;
                contiguous
            } else {
                match state.gap_since {
                    None => {
                        state.gap_since = Some(Instant::now());
                        return Ok(applied);
                    }
                    Some(since) if since.elapsed() < GAP_PATIENCE => return Ok(applied),
                    Some(_) => {
                        // Move past this gap only (later gaps get their own wait), and keep
                        // looking for it: kept with the commit of the batch that follows it.
                        let (from, to) = (state.last_seq + 1, changes[0].seq - 1);
                        let horizon = changes::transaction_horizon(&self.db).await?.map(|h| h.next);
                        tracing::warn!(from, to, "moving past a change-log gap; it is looked for again");
                        state.gaps.push(Gap { from, to, horizon, since: chrono::Utc::now() });
                        if state.gaps.len() > MAX_GAPS {
                            let dropped = state.gaps.remove(0);
                            tracing::error!(
                                from = dropped.from,
                                to = dropped.to,
                                "too many change-log gaps; giving up the oldest"
                            );
                        }
                        self.search.set_gaps(state.gaps.clone());
                        state.gap_since = None;
                        state.last_seq = to;
                        continue;
                    }
                }
            };
            let batch = &changes[..take];
            let ops = self.ops_for(batch).await?;
            let seq = batch[batch.len() - 1].seq;
            let index = Arc::clone(&self.search);
            blocking(move || index.apply(&ops, Some(seq))).await?;
            state.last_seq = seq;
            // The matcher may now match the records queued up to here.
            self.matcher.indexed(seq);
            applied += take;
        }
    }

    /// Looks again for the changes at skipped positions: applies those that have committed since
    /// (the index's position stays where it is), and drops the gaps that can no longer fill.
    async fn recheck_gaps(&self, state: &mut IndexerState) -> Result<usize> {
        if state.gaps.is_empty() || state.rechecked_at.is_some_and(|at| at.elapsed() < GAP_RECHECK) {
            return Ok(0);
        }
        state.rechecked_at = Some(Instant::now());
        // Read before the rows: a transaction that had ended by now has its rows in what follows.
        let horizon = changes::transaction_horizon(&self.db).await?;
        let ranges: Vec<(i64, i64)> = state.gaps.iter().map(|g| (g.from, g.to)).collect();
        let late = changes::in_ranges(&self.db, &ranges).await?;
        let mut gaps = without(&state.gaps, &late.iter().map(|c| c.seq).collect::<Vec<_>>());
        let now = chrono::Utc::now();
        gaps.retain(|gap| match (gap.horizon, horizon) {
            (Some(skipped_at), Some(horizon)) => horizon.oldest_open < skipped_at,
            _ => now - gap.since < GAP_GIVE_UP,
        });
        if late.is_empty() && gaps.len() == state.gaps.len() {
            return Ok(0);
        }
        let ops = self.ops_for(&late).await?;
        self.search.set_gaps(gaps.clone());
        let index = Arc::clone(&self.search);
        let seq = state.last_seq;
        if let Err(err) = blocking(move || index.apply(&ops, Some(seq))).await {
            self.search.set_gaps(state.gaps.clone());
            return Err(err);
        }
        if !late.is_empty() {
            tracing::info!(changes = late.len(), "applied changes that committed after their gap was passed");
        }
        state.gaps = gaps;
        Ok(late.len())
    }

    /// The indexer's starting point for an index as it was opened: where it stopped, or a
    /// rebuild from the database when the index is new, damaged, or ahead of the database (a
    /// position the database does not have: restored from an older backup, or written from
    /// changes that were never committed).
    ///
    /// # Errors
    /// On a database or index failure.
    pub async fn resume_index(&self, opened: Opened) -> Result<IndexerState> {
        if let Opened::UpTo(seq) = opened {
            let stored = changes::last_seq(&self.db).await?;
            if seq <= stored {
                let gaps = self.search.gaps();
                return Ok(IndexerState { last_seq: seq, gaps, ..IndexerState::default() });
            }
            tracing::warn!(index = seq, database = stored, "the search index is ahead of the database; rebuilding");
        }
        let started = Instant::now();
        let gaps = self.search.gaps();
        let (seq, records) = self.rebuild_index(&|_, _| {}).await?;
        tracing::info!(
            records,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "search index rebuilt"
        );
        Ok(IndexerState { last_seq: seq, gaps, ..IndexerState::default() })
    }

    /// Rebuilds an index found damaged while serving; searches answer 503 meanwhile.
    async fn repair_index(&self, state: &mut IndexerState) -> Result<()> {
        tracing::error!("the search index is damaged; rebuilding it from the database");
        self.search.set_health(Health::Rebuilding);
        let started = Instant::now();
        let (seq, records) = self.rebuild_index(&|_, _| {}).await?;
        state.last_seq = seq;
        state.gap_since = None;
        self.search.set_health(Health::Serving);
        tracing::info!(
            records,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "search index repaired"
        );
        Ok(())
    }

    /// Follows the change log until the process ends: woken by local writes, and polling every
    /// `interval` for writes made by other processes. Rebuilds the index when a search found it
    /// damaged.
    pub async fn run_indexer(self: Arc<Self>, mut state: IndexerState, interval: Duration) {
        self.matcher.indexed(state.last_seq);
        loop {
            tokio::select! {
                () = self.index_wake.notified() => {}
                () = tokio::time::sleep(interval) => {}
            }
            if self.search.health() != Health::Serving
                && let Err(err) = self.repair_index(&mut state).await
            {
                tracing::error!(error = %crate::error_chain(&err), "rebuilding the damaged search index failed; retrying");
                tokio::time::sleep(interval * 5).await;
                continue;
            }
            let applied = self.apply_changes(&mut state).await;
            self.progress.passed();
            if let Err(err) = applied {
                tracing::error!(error = %crate::error_chain(&err), "indexing failed; retrying");
                tokio::time::sleep(interval * 5).await;
            }
        }
    }

    /// Rebuilds the index from the database: every published seed and need. Returns the change-log
    /// position it is current to and how many records it holds. `progress(done, total)` is called
    /// after each page.
    ///
    /// # Errors
    /// On a database or index failure; the index is then left marked as needing a rebuild.
    #[tracing::instrument(skip_all)]
    pub async fn rebuild_index(&self, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<(i64, u64)> {
        // Changes after this position are replayed by the indexer, so nothing written during the
        // rebuild is lost. Starting a little in the past also replays changes whose transactions
        // took a position earlier but were still committing (replaying is idempotent).
        let seq = changes::last_seq_before(&self.db, chrono::Utc::now() - REPLAY_WINDOW).await?;
        let total = seeds::count(&self.db).await? + needs::count(&self.db).await?;
        let index = Arc::clone(&self.search);
        blocking(move || index.clear()).await?;
        // Reading the next page overlaps with indexing the previous one.
        let mut done = 0;
        let mut pending: Option<tokio::task::JoinHandle<kakehashi_search::Result<()>>> = None;
        let (mut seeds_after, mut needs_after, mut seeds_done) = (None, None, false);
        loop {
            let docs: Vec<SearchDoc> = if seeds_done {
                let page = needs::published_after(&self.db, needs_after, REBUILD_PAGE).await?;
                let Some(last) = page.last() else { break };
                needs_after = Some(last.id);
                page.iter().map(need_doc).collect()
            } else {
                let page = seeds::published_after(&self.db, seeds_after, REBUILD_PAGE).await?;
                let Some(last) = page.last() else {
                    seeds_done = true;
                    continue;
                };
                seeds_after = Some(last.id);
                page.iter().map(seed_doc).collect()
            };
            if let Some(previous) = pending.take() {
                previous
                    .await
                    .map_err(|e| ServiceError::internal("the indexing task", e))?
                    .map_err(|e| ServiceError::internal("adding to the search index", e))?;
                progress(done, total);
            }
            done += docs.len() as u64;
            let index = Arc::clone(&self.search);
            pending = Some(tokio::task::spawn_blocking(move || index.add_uncommitted(&docs)));
        }
        if let Some(previous) = pending.take() {
            previous
                .await
                .map_err(|e| ServiceError::internal("the indexing task", e))?
                .map_err(|e| ServiceError::internal("adding to the search index", e))?;
            progress(done, total);
        }
        // One commit for the whole rebuild: committing every page would leave many small
        // segments for background merges to fold together while queries pay for each.
        let index = Arc::clone(&self.search);
        blocking(move || index.apply(&[], Some(seq))).await?;
        Ok((seq, done))
    }

    /// The seeds whose grants open more of them to the viewer's organisation (none to look up for
    /// the secretariat, whose [`audience`] is every record).
    ///
    /// # Errors
    /// On a database failure.
    pub(crate) async fn granted_seeds(&self, viewer: &Viewer) -> Result<Vec<Uuid>> {
        if viewer.role.is_secretariat() {
            return Ok(Vec::new());
        }
        Ok(grants::granted_to(&self.db, viewer.organization_id).await?)
    }

    /// [`Services::granted_seeds`] as of an access generation read for this request.
    async fn granted_seeds_at(&self, viewer: &Viewer, generation: i64) -> Result<Vec<Uuid>> {
        if viewer.role.is_secretariat() {
            return Ok(Vec::new());
        }
        self.grants_in_force(generation, viewer.organization_id).await
    }

    /// Searches for a member: only records the member may find count, in hits, totals and facets.
    ///
    /// # Errors
    /// On a database or index failure.
    pub async fn search(&self, actor: &Authenticated, query: SearchQuery) -> Result<SearchPage> {
        let stands = kakehashi_store::generation::now(&self.db).await?;
        self.search_as_of(actor, query, stands).await
    }

    /// [`Services::search`] for a member authenticated at `stands` in this same request
    /// ([`Services::authenticate_standing`]): the grants are those in force at that access
    /// generation, and the hits are judged as the index holds them only if it had every change the
    /// database had then. Saves the request reading the database's position twice.
    ///
    /// # Errors
    /// On a database or index failure.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn search_as_of(
        &self,
        actor: &Authenticated,
        query: SearchQuery,
        stands: crate::access::Generation,
    ) -> Result<SearchPage> {
        let viewer = viewer(actor);
        let granted = self.granted_seeds_at(&viewer, stands.access).await?;
        let granted_set: HashSet<Uuid> = granted.iter().copied().collect();
        let audience = audience(&viewer, granted);
        let request = SearchRequest {
            text: query.text,
            kind: query.kind,
            filters: query.filters,
            sort: query.sort,
            offset: usize::try_from(query.page.offset()).unwrap_or(usize::MAX),
            limit: usize::try_from(query.page.per_page).unwrap_or(100),
            any_term: false,
            exclude: Vec::new(),
            only: Vec::new(),
            ranking_only: false,
            matched_terms: false,
        };
        if query.page.offset() + query.page.per_page > MAX_RESULT_WINDOW {
            return Err(ServiceError::validation(
                "page",
                format!("results beyond the first {MAX_RESULT_WINDOW} are not served; narrow the search"),
            ));
        }
        if self.search.health() != Health::Serving {
            return Err(index_unavailable());
        }
        let index = Arc::clone(&self.search);
        let results = match tokio::task::spawn_blocking(move || index.search(&request, &audience)).await {
            Ok(Ok(results)) => results,
            Ok(Err(err)) if err.is_damage() => return Err(self.index_damaged(&err)),
            Ok(Err(err)) => return Err(ServiceError::internal("searching the index", err)),
            // Damaged files can make the index's readers panic.
            Err(err) => return Err(self.index_damaged(&err)),
        };
        // The index filter mirrors the policy, and the policy has the last word on every hit,
        // judged on the record as stored now: as the index holds it when the index has every
        // change the database had when this search began, else as read from the database.
        let (seed_facts, need_facts) = if results.complete_to.is_some_and(|seq| seq >= stands.changes) {
            indexed_facts(&results.hits)
        } else {
            let seed_ids: Vec<Uuid> = results.hits.iter().filter(|h| h.kind == Kind::Seed).map(|h| h.id).collect();
            let need_ids: Vec<Uuid> = results.hits.iter().filter(|h| h.kind == Kind::Need).map(|h| h.id).collect();
            let seed_facts: HashMap<Uuid, SeedFacts> =
                seeds::facts_many(&self.db, &seed_ids).await?.into_iter().collect();
            let need_facts: HashMap<Uuid, NeedFacts> =
                needs::facts_many(&self.db, &need_ids).await?.into_iter().collect();
            (seed_facts, need_facts)
        };
        // The organisations of every hit, in one query.
        let mut organization_ids: Vec<Uuid> = results.hits.iter().map(|h| h.organization_id).collect();
        organization_ids.sort_unstable();
        organization_ids.dedup();
        let organizations: HashMap<Uuid, Organization> = self.organizations_by_id(&organization_ids).await?;
        let reveal = self.need_reveal_for(actor, need_facts.values()).await?;
        let mut items = Vec::with_capacity(results.hits.len());
        for hit in results.hits {
            let (visible, reveal) = match hit.kind {
                Kind::Seed => match seed_facts.get(&hit.id).filter(|f| f.status == RecordStatus::Published) {
                    Some(facts) => (seed_access(facts, &viewer, granted_set.contains(&hit.id)).is_some(), true),
                    None => (false, false),
                },
                Kind::Need => match need_facts.get(&hit.id).filter(|f| f.status == RecordStatus::Published) {
                    Some(facts) => (need_access(facts, &viewer).is_some(), reveal.organization(facts)),
                    None => (false, false),
                },
            };
            if !visible {
                tracing::warn!(id = %hit.id, "search hit no longer visible (index behind the database); dropped");
                continue;
            }
            let organization = if reveal {
                Some(organizations.get(&hit.organization_id).cloned().ok_or(ServiceError::NotFound("organization"))?)
            } else {
                None
            };
            items.push(SearchItem { hit, organization });
        }
        Ok(SearchPage {
            items,
            total: results.total as u64,
            facets: labelled(&self.taxonomy, results.facets),
            page: query.page,
        })
    }
}

/// What the policy needs of each hit, as the index holds it: only published records are
/// indexed, and who owns one does not widen who may find it (the audience test below).
fn indexed_facts(hits: &[Hit]) -> (HashMap<Uuid, SeedFacts>, HashMap<Uuid, NeedFacts>) {
    let (mut seeds, mut needs) = (HashMap::new(), HashMap::new());
    for hit in hits {
        let (organization_id, visibility, status, owner_id) =
            (hit.organization_id, hit.visibility, RecordStatus::Published, Uuid::nil());
        match hit.kind {
            Kind::Seed => {
                seeds.insert(hit.id, SeedFacts { owner_id, organization_id, status, visibility });
            }
            Kind::Need => {
                needs.insert(
                    hit.id,
                    NeedFacts { owner_id, organization_id, status, visibility, anonymous: hit.anonymous },
                );
            }
        }
    }
    (seeds, needs)
}

fn index_unavailable() -> ServiceError {
    ServiceError::Unavailable("the search index is being rebuilt from the database".into())
}

impl Services {
    /// A search failed on damaged index files: schedules one rebuild.
    fn index_damaged(&self, err: &dyn std::error::Error) -> ServiceError {
        if self.search.mark_damaged() {
            tracing::error!(error = %crate::error_chain(err), "a search failed on damaged index files; rebuilding");
            self.index_wake.notify_one();
        }
        index_unavailable()
    }
}

fn labelled(taxonomy: &Taxonomy, mut facets: BTreeMap<&'static str, Vec<(String, u64)>>) -> Vec<FacetCounts> {
    FACETS
        .iter()
        .map(|(name, kind)| FacetCounts {
            name,
            values: facets
                .remove(name)
                .into_iter()
                .flatten()
                .map(|(value, count)| {
                    let term = taxonomy.label(*kind, &value);
                    FacetValue {
                        label_ja: term.map_or_else(|| value.clone(), |t| t.label_ja.clone()),
                        label_en: term.map_or_else(|| value.clone(), |t| t.label_en.clone()),
                        value,
                        count,
                    }
                })
                .collect(),
        })
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub kind: Option<Kind>,
    pub filters: FacetFilters,
    pub sort: Sort,
    pub page: Page,
}

#[derive(Debug, Clone)]
pub struct SearchItem {
    pub hit: Hit,
    /// `None` for an anonymous need the viewer may not know the company of.
    pub organization: Option<Organization>,
}

#[derive(Debug, Clone)]
pub struct FacetValue {
    pub value: String,
    pub label_ja: String,
    pub label_en: String,
    pub count: u64,
}

#[derive(Debug, Clone)]
pub struct FacetCounts {
    pub name: &'static str,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    pub items: Vec<SearchItem>,
    pub total: u64,
    pub facets: Vec<FacetCounts>,
    pub page: Page,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_domain::Visibility;

    #[test]
    fn found_positions_are_taken_out_of_their_gaps() {
        let gap = |from, to| Gap { from, to, horizon: Some(7), since: chrono::DateTime::UNIX_EPOCH };
        let gaps = [gap(3, 3), gap(10, 14), gap(20, 21)];
        assert_eq!(without(&gaps, &[]), gaps);
        assert_eq!(without(&gaps, &[3, 10, 12, 14, 21]), [gap(11, 11), gap(13, 13), gap(20, 20)]);
        assert!(without(&gaps, &[3, 10, 11, 12, 13, 14, 20, 21]).is_empty());
    }

    /// The search filter admits exactly the published records the disclosure policy shows.
    #[test]
    fn the_audience_agrees_with_the_policy() {
        let (own, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        for role in Role::ALL {
            for org in [own, other] {
                let viewer = Viewer { member_id: Uuid::from_u128(9), organization_id: own, role };
                for visibility in [Visibility::Members, Visibility::LiaisonOnly] {
                    for granted in [false, true] {
                        let seed = SeedFacts {
                            owner_id: Uuid::nil(),
                            organization_id: org,
                            status: RecordStatus::Published,
                            visibility,
                        };
                        let policy = seed_access(&seed, &viewer, granted).is_some();
                        let filter =
                            match audience(&viewer, if granted { vec![Uuid::from_u128(5)] } else { vec![] }).seeds {
                                SeedAudience::All => true,
                                SeedAudience::Restricted { own_organization, granted: g } => {
                                    visibility == Visibility::Members || own_organization == Some(org) || !g.is_empty()
                                }
                            };
                        assert_eq!(
                            policy,
                            filter,
                            "seed: {role:?} same_org={} {visibility:?} granted={granted}",
                            org == own
                        );
                    }
                    for anonymous in [false, true] {
                        let need = NeedFacts {
                            owner_id: Uuid::nil(),
                            organization_id: org,
                            status: RecordStatus::Published,
                            visibility,
                            anonymous,
                        };
                        let policy = need_access(&need, &viewer).is_some();
                        let filter = match audience(&viewer, vec![]).needs {
                            NeedAudience::All => true,
                            NeedAudience::Members => visibility == Visibility::Members,
                            NeedAudience::Organization(o) => o == org,
                        };
                        assert_eq!(policy, filter, "need: {role:?} same_org={} {visibility:?}", org == own);
                    }
                }
            }
        }
    }
}
