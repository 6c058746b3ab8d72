//! Matching: when a seed or need is published or changed, score it against the published records
//! of the other side and keep the pairs above the threshold, with their reasons.
//!
//! Text relevance comes from the search index: the record's own title, summary and keywords are
//! the query (any word may match), and each candidate's score is divided by the record's score
//! against itself, so 1 means the other side says everything this one says. It is combined with
//! the taxonomy fit ([`kakehashi_domain::matching`]) using the configured weights. Records of the
//! other side sharing a modality and a disease area are candidates too, without words: a Japanese
//! seed and an English need share few, so such a pair is judged on its taxonomy. Matching runs in
//! its own task, fed by the indexer, so a bulk import never holds up indexing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kakehashi_domain::RecordStatus;
use kakehashi_domain::matching::{self, Weights, taxonomy_fit};
use kakehashi_search::{Audience, FacetFilters, Kind, NeedAudience, SearchRequest, SeedAudience};
use kakehashi_store::changes::RecordKind;
use kakehashi_store::matches::{self, Scored};
use kakehashi_store::{needs, seeds};
use tokio::sync::mpsc::UnboundedReceiver;
use uuid::Uuid;

use crate::search::{need_doc, seed_doc};
use crate::{Result, ServiceError, Services};

/// Matching settings, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct MatchingConfig {
    pub enabled: bool,
    pub weights: Weights,
    /// How many candidates the text query brings back before scoring.
    pub candidates: usize,
}

/// What one scoring run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Pairs above the threshold, best first.
    pub matched: Vec<Uuid>,
    /// Pairs seen for the first time.
    pub new: Vec<Uuid>,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> kakehashi_search::Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("search task: {e}")))?
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

impl Services {
    /// Text relevance of the other side's records to `text`: `(id, score relative to self, terms)`.
    async fn text_candidates(&self, self_id: Uuid, text: String, other: Kind) -> Result<Vec<(Uuid, f64, Vec<String>)>> {
        let everyone = Audience { seeds: SeedAudience::All, needs: NeedAudience::All };
        let index = Arc::clone(&self.search);
        let candidates = self.matching.candidates;
        let (own, hits) = blocking(move || {
            let own = SearchRequest {
                text: text.clone(),
                any_term: true,
                only: vec![self_id],
                limit: 1,
                ranking_only: true,
                ..Default::default()
            };
            let own = index.search(&own, &everyone)?;
            let others = SearchRequest {
                text,
                kind: Some(other),
                any_term: true,
                exclude: vec![self_id],
                limit: candidates,
                ranking_only: true,
                matched_terms: true,
                ..Default::default()
            };
            Ok((own, index.search(&others, &everyone)?))
        })
        .await?;
        let best = own.hits.first().and_then(|h| h.score).map_or(0.0, f64::from);
        let top = hits.hits.first().and_then(|h| h.score).map_or(0.0, f64::from);
        // Without the record in the index yet, fall back to the best candidate as the yardstick.
        let yardstick = if best > 0.0 { best.max(top) } else { top };
        Ok(hits
            .hits
            .into_iter()
            .map(|h| {
                let relative = if yardstick > 0.0 { f64::from(h.score.unwrap_or(0.0)) / yardstick } else { 0.0 };
                (h.id, relative, h.matched_terms)
            })
            .collect())
    }

    /// Records of the other side sharing a modality and a disease area with this one: the
    /// candidates words cannot find when the two are written in different languages.
    async fn facet_candidates(
        &self,
        self_id: Uuid,
        modalities: &[String],
        disease_areas: &[String],
        other: Kind,
    ) -> Result<Vec<Uuid>> {
        if modalities.is_empty() || disease_areas.is_empty() {
            return Ok(Vec::new());
        }
        let everyone = Audience { seeds: SeedAudience::All, needs: NeedAudience::All };
        let request = SearchRequest {
            kind: Some(other),
            filters: FacetFilters {
                modality: modalities.to_vec(),
                disease_area: disease_areas.to_vec(),
                ..FacetFilters::default()
            },
            exclude: vec![self_id],
            limit: self.matching.candidates,
            ranking_only: true,
            ..Default::default()
        };
        let index = Arc::clone(&self.search);
        let hits = blocking(move || index.search(&request, &everyone)).await?;
        Ok(hits.hits.into_iter().map(|h| h.id).collect())
    }

    /// Text candidates, then the taxonomy's, each record once.
    async fn candidates(
        &self,
        self_id: Uuid,
        text: String,
        modalities: &[String],
        disease_areas: &[String],
        other: Kind,
    ) -> Result<Vec<(Uuid, f64, Vec<String>)>> {
        let mut candidates = self.text_candidates(self_id, text, other).await?;
        let known: HashSet<Uuid> = candidates.iter().map(|c| c.0).collect();
        for id in self.facet_candidates(self_id, modalities, disease_areas, other).await? {
            if !known.contains(&id) {
                candidates.push((id, 0.0, Vec::new()));
            }
        }
        Ok(candidates)
    }

    /// Scores one record against the other side and stores the result. An unpublished record
    /// loses its open matches.
    ///
    /// # Errors
    /// On a database or index failure.
    pub async fn match_record(&self, kind: RecordKind, id: Uuid) -> Result<Outcome> {
        let weights = self.matching.weights;
        // The pairs found, with both records as read for scoring.
        let mut scored: Vec<(Scored, seeds::Seed, needs::Need)> = Vec::new();
        let mut outcome = Outcome::default();
        match kind {
            RecordKind::Seed => {
                let Some(seed) = seeds::get(&self.db, id).await?.filter(|s| s.status == RecordStatus::Published) else {
                    matches::prune(&self.db, Some(id), None, &[]).await?;
                    return Ok(outcome);
                };
                let doc = seed_doc(&seed);
                let (modalities, diseases) = (&seed.content.modalities, &seed.content.disease_areas);
                let text = format!("{}\n{}", doc.title, doc.body);
                let candidates = self.candidates(id, text, modalities, diseases, Kind::Need).await?;
                let ids: Vec<Uuid> = candidates.iter().map(|c| c.0).collect();
                let mut found: HashMap<Uuid, needs::Need> =
                    needs::get_many(&self.db, &ids).await?.into_iter().map(|n| (n.id, n)).collect();
                for (need_id, text, terms) in candidates {
                    let Some(need) = found.remove(&need_id).filter(|n| n.status == RecordStatus::Published) else {
                        continue;
                    };
                    let fit = taxonomy_fit(&seed.content, &need.content);
                    let score = weights.score(text, &fit, seed.content.language == need.content.language);
                    if score >= weights.threshold {
                        scored.push((self.scored(&seed, &need, score, text, &fit, &terms), seed.clone(), need));
                    }
                }
            }
            RecordKind::Need => {
                let Some(need) = needs::get(&self.db, id).await?.filter(|n| n.status == RecordStatus::Published) else {
                    matches::prune(&self.db, None, Some(id), &[]).await?;
                    return Ok(outcome);
                };
                let doc = need_doc(&need);
                let (modalities, diseases) = (&need.content.modalities, &need.content.disease_areas);
                let text = format!("{}\n{}", doc.title, doc.body);
                let candidates = self.candidates(id, text, modalities, diseases, Kind::Seed).await?;
                let ids: Vec<Uuid> = candidates.iter().map(|c| c.0).collect();
                let mut found: HashMap<Uuid, seeds::Seed> =
                    seeds::get_many(&self.db, &ids).await?.into_iter().map(|s| (s.id, s)).collect();
                for (seed_id, text, terms) in candidates {
                    let Some(seed) = found.remove(&seed_id).filter(|s| s.status == RecordStatus::Published) else {
                        continue;
                    };
                    let fit = taxonomy_fit(&seed.content, &need.content);
                    let score = weights.score(text, &fit, seed.content.language == need.content.language);
                    if score >= weights.threshold {
                        scored.push((self.scored(&seed, &need, score, text, &fit, &terms), seed, need.clone()));
                    }
                }
            }
        }
        scored.sort_by(|a, b| b.0.score.total_cmp(&a.0.score));
        let txn = self.write_txn().await?;
        let keep: Vec<Uuid> =
            scored.iter().map(|(s, ..)| if kind == RecordKind::Seed { s.need_id } else { s.seed_id }).collect();
        // Everything read once per run, not per pair: the stored pairs and who hears of new ones.
        let existing = match kind {
            RecordKind::Seed => matches::pairs_of(&txn, Some(id), None).await?,
            RecordKind::Need => matches::pairs_of(&txn, None, Some(id)).await?,
        };
        let mut liaisons = None;
        for (s, seed, need) in scored {
            let (seed_id, need_id, score) = (s.seed_id, s.need_id, s.score);
            let other = if kind == RecordKind::Seed { need_id } else { seed_id };
            let known = existing.get(&(seed_id, need_id)).copied();
            if let Some(match_id) = matches::upsert(&txn, s, known).await? {
                // The liaisons hear of a pair once: when it is first matched.
                let liaisons = match &liaisons {
                    Some(l) => l,
                    None => liaisons.insert(self.liaisons_with_coverage(&txn).await?),
                };
                self.notify_new_match(&txn, liaisons, match_id, &seed, &need, score).await?;
                outcome.new.push(other);
            }
            outcome.matched.push(other);
        }
        match kind {
            RecordKind::Seed => matches::prune(&txn, Some(id), None, &keep).await?,
            RecordKind::Need => matches::prune(&txn, None, Some(id), &keep).await?,
        };
        txn.commit().await?;
        Ok(outcome)
    }

    fn scored(
        &self,
        seed: &seeds::Seed,
        need: &needs::Need,
        score: f64,
        text: f64,
        fit: &matching::Fit,
        terms: &[String],
    ) -> Scored {
        let reasons = matching::reasons(fit, terms, &self.taxonomy);
        Scored {
            seed_id: seed.id,
            seed_organization_id: seed.organization_id,
            seed_owner_id: seed.owner_id,
            need_id: need.id,
            need_organization_id: need.organization_id,
            score,
            text_score: text.clamp(0.0, 1.0),
            taxonomy_score: fit.score,
            reasons: serde_json::to_value(reasons).unwrap_or_default(),
        }
    }

    /// Scores the records the indexer reports, and checks them against saved searches, one at a
    /// time until the process ends. Records queued more than once while busy are handled once.
    pub async fn run_matcher(self: Arc<Self>, mut queue: UnboundedReceiver<(RecordKind, Uuid)>) {
        while let Some(first) = queue.recv().await {
            let mut batch = vec![first];
            while let Ok(next) = queue.try_recv() {
                batch.push(next);
            }
            let mut seen = HashSet::new();
            for (kind, id) in batch {
                if !seen.insert((kind == RecordKind::Seed, id)) {
                    continue;
                }
                if let Err(err) = self.match_record(kind, id).await {
                    tracing::error!(error = %crate::error_chain(&err), %id, "matching failed");
                }
                if let Err(err) = self.alert_saved_searches(kind, id).await {
                    tracing::error!(error = %crate::error_chain(&err), %id, "saved-search alerts failed");
                }
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
    pub status: String,
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
        use kakehashi_domain::{Role, need_access, reveals_need_organization, seed_access};
        let viewer = crate::seeds::viewer(actor);
        let seed_ids: Vec<Uuid> = rows.iter().map(|m| m.seed_id).collect();
        let need_ids: Vec<Uuid> = rows.iter().map(|m| m.need_id).collect();
        let seeds: HashMap<Uuid, seeds::Seed> =
            seeds::get_many(&self.db, &seed_ids).await?.into_iter().map(|s| (s.id, s)).collect();
        let needs: HashMap<Uuid, needs::Need> =
            needs::get_many(&self.db, &need_ids).await?.into_iter().map(|n| (n.id, n)).collect();
        let granted = kakehashi_store::grants::granted_among(&self.db, actor.organization_id, &seed_ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            let (Some(seed), Some(need)) = (seeds.get(&m.seed_id), needs.get(&m.need_id)) else { continue };
            if seed_access(&seed.facts(), &viewer, granted.contains(&seed.id)).is_none()
                || need_access(&need.facts(), &viewer).is_none()
            {
                continue;
            }
            // An accepted introduction between the two organisations names an anonymous company.
            let accepted = need.content.anonymous
                && matches!(actor.role, Role::Researcher | Role::Tto)
                && kakehashi_store::introductions::accepted_between(
                    &self.db,
                    actor.organization_id,
                    need.organization_id,
                )
                .await?;
            let need_organization = if reveals_need_organization(&need.facts(), &viewer, accepted) {
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
    pub async fn list_matches(
        &self,
        actor: &crate::auth::Authenticated,
        filter: matches::Filter,
        page: kakehashi_domain::Page,
    ) -> Result<crate::members::Listed<VisibleMatch>> {
        use kakehashi_domain::Role;
        let scope = match actor.role {
            Role::Admin => matches::Scope::All,
            Role::Liaison => {
                let coverage = self.coverage(actor.id).await?;
                if coverage.is_empty() { matches::Scope::All } else { matches::Scope::Organizations(coverage) }
            }
            Role::Researcher => matches::Scope::SeedOwner(actor.id),
            Role::Tto => matches::Scope::SeedOrganization(actor.organization_id),
            Role::Company => matches::Scope::NeedOrganization(actor.organization_id),
        };
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

    /// Dismisses a match (liaisons and admins); it stays dismissed through re-scoring.
    ///
    /// # Errors
    /// `NotFound` when the member may not see it; `Forbidden` for other roles.
    pub async fn dismiss_match(
        &self,
        actor: &crate::auth::Authenticated,
        id: Uuid,
        ctx: &crate::RequestContext,
    ) -> Result<VisibleMatch> {
        use kakehashi_domain::Role;
        let m = matches::get(&self.db, id).await?.ok_or(ServiceError::NotFound("match"))?;
        if actor.role == Role::Liaison {
            let coverage = self.coverage(actor.id).await?;
            if !coverage.is_empty()
                && !coverage.contains(&m.seed_organization_id)
                && !coverage.contains(&m.need_organization_id)
            {
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
        matches::set_status(&txn, id, matches::DISMISSED).await?;
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
