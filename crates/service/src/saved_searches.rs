//! Saved searches: a member keeps a query and is told (in-app and by e-mail, through the outbox)
//! when a newly published record matches it. A record is checked against each saved search as its
//! owner would search, so an alert never names a record the owner may not find; each pair of search
//! and record alerts once.

use std::collections::HashMap;

use kakehashi_domain::{MemberStatus, RecordStatus, TaxonomyKind};
use kakehashi_notify::templates::saved_search_mail;
use kakehashi_search::{FacetFilters, Kind, SearchRequest};
use kakehashi_store::changes::RecordKind;
use kakehashi_store::notifications::{self, NewNotification};
use kakehashi_store::outbox::{self, NewMessage};
use kakehashi_store::saved_searches;
pub use kakehashi_store::saved_searches::SavedSearch;
use kakehashi_store::{members, needs, seeds};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::{Result, ServiceError, Services};

/// At most this many saved searches per member.
pub const MAX_PER_MEMBER: u64 = 50;

/// A saved query, in the search endpoint's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub kind: Option<Kind>,
    #[serde(default)]
    pub modality: Vec<String>,
    #[serde(default)]
    pub disease_area: Vec<String>,
    #[serde(default)]
    pub stage: Vec<String>,
    #[serde(default)]
    pub ip_status: Vec<String>,
    #[serde(default)]
    pub deal_type: Vec<String>,
}

impl StoredQuery {
    fn filters(&self) -> FacetFilters {
        FacetFilters {
            modality: self.modality.clone(),
            disease_area: self.disease_area.clone(),
            stage: self.stage.clone(),
            ip_status: self.ip_status.clone(),
            deal_type: self.deal_type.clone(),
        }
    }
}

impl Services {
    /// # Errors
    /// Validation errors for unknown facet values, an empty query or too many saved searches.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn create_saved_search(
        &self,
        actor: &Authenticated,
        name: String,
        query: StoredQuery,
    ) -> Result<SavedSearch> {
        for (field, kind, values) in [
            ("modality", TaxonomyKind::Modality, &query.modality),
            ("disease_area", TaxonomyKind::DiseaseArea, &query.disease_area),
            ("stage", TaxonomyKind::Stage, &query.stage),
            ("ip_status", TaxonomyKind::IpStatus, &query.ip_status),
            ("deal_type", TaxonomyKind::DealType, &query.deal_type),
        ] {
            if let Some(unknown) = values.iter().find(|v| !self.taxonomy.contains(kind, v)) {
                return Err(ServiceError::validation(field, format!("unknown value `{unknown}`")));
            }
        }
        if query.q.trim().is_empty() && query.filters() == FacetFilters::default() {
            return Err(ServiceError::validation("q", "a saved search needs words or facets"));
        }
        if saved_searches::count_of_member(&self.db, actor.id).await? >= MAX_PER_MEMBER {
            return Err(ServiceError::validation(
                "name",
                format!("at most {MAX_PER_MEMBER} saved searches per member"),
            ));
        }
        let value = serde_json::to_value(&query).map_err(|e| ServiceError::internal("encoding a saved search", e))?;
        Ok(saved_searches::insert(&self.db, actor.id, name, value).await?)
    }

    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn saved_searches(&self, actor: &Authenticated) -> Result<Vec<SavedSearch>> {
        Ok(saved_searches::of_member(&self.db, actor.id).await?)
    }

    /// # Errors
    /// `NotFound` unless the saved search is the member's.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn delete_saved_search(&self, actor: &Authenticated, id: Uuid) -> Result<()> {
        if saved_searches::delete(&self.db, actor.id, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("saved search"))
        }
    }

    /// Checks records (a batch the matcher has matched) against every saved search and alerts the
    /// owners they newly match: each saved search is run once over the whole batch, as its owner
    /// may see it now.
    ///
    /// # Errors
    /// On a database or index failure.
    #[tracing::instrument(skip_all, fields(records = records.len()))]
    pub async fn alert_saved_searches(&self, records: &[(RecordKind, Uuid)]) -> Result<usize> {
        let ids =
            |kind: RecordKind| -> Vec<Uuid> { records.iter().filter(|(k, _)| *k == kind).map(|(_, id)| *id).collect() };
        let mut titles: HashMap<Uuid, (RecordKind, String)> = HashMap::new();
        for seed in seeds::get_many(&self.db, &ids(RecordKind::Seed)).await? {
            if seed.status == RecordStatus::Published {
                titles.insert(seed.id, (RecordKind::Seed, seed.content.title));
            }
        }
        for need in needs::get_many(&self.db, &ids(RecordKind::Need)).await? {
            if need.status == RecordStatus::Published {
                titles.insert(need.id, (RecordKind::Need, need.content.title));
            }
        }
        if titles.is_empty() {
            return Ok(0);
        }
        let mut alerted = 0;
        for search in saved_searches::all(&self.db).await? {
            let Ok(query) = serde_json::from_value::<StoredQuery>(search.query.clone()) else { continue };
            let Some(owner) =
                members::get(&self.db, search.member_id).await?.filter(|m| m.status == MemberStatus::Active)
            else {
                continue;
            };
            let viewer = kakehashi_domain::Viewer {
                member_id: owner.id,
                organization_id: owner.organization_id,
                role: owner.role,
            };
            let granted = self.granted_seeds(&viewer).await?;
            let audience = crate::search::audience(&viewer, granted);
            let request = SearchRequest {
                text: query.q.clone(),
                kind: query.kind,
                filters: query.filters(),
                only: titles.keys().copied().collect(),
                limit: titles.len(),
                ranking_only: true,
                ..Default::default()
            };
            let index = std::sync::Arc::clone(&self.search);
            let found = tokio::task::spawn_blocking(move || index.search(&request, &audience))
                .await
                .map_err(|e| ServiceError::internal("the search task", e))?
                .map_err(|e| ServiceError::internal("searching for a saved search", e))?
                .hits;
            for hit in found {
                let Some((kind, title)) = titles.get(&hit.id) else { continue };
                if self.alert_saved_search(&search, &owner, *kind, hit.id, title).await? {
                    alerted += 1;
                }
            }
        }
        Ok(alerted)
    }

    /// Tells the owner of `search` of a record it newly finds; whether it was new to them.
    async fn alert_saved_search(
        &self,
        search: &saved_searches::SavedSearch,
        owner: &members::Member,
        kind: RecordKind,
        id: Uuid,
        title: &str,
    ) -> Result<bool> {
        let link = format!(
            "{}/{}s/{id}",
            self.public_url.trim_end_matches('/'),
            if kind == RecordKind::Seed { "seed" } else { "need" }
        );
        let mail = saved_search_mail(owner.locale, &owner.email, &owner.name, &search.name, title, &link);
        let txn = self.write_txn().await?;
        let new = outbox::enqueue(
            &txn,
            NewMessage {
                idempotency_key: format!("saved_search:{}:{id}", search.id),
                member_id: Some(owner.id),
                to_address: mail.to,
                subject: mail.subject,
                text_body: mail.text,
                html_body: mail.html,
            },
        )
        .await?;
        if new {
            notifications::insert(
                &txn,
                NewNotification {
                    member_id: owner.id,
                    kind: "saved_search.new",
                    title_ja: format!("保存した検索「{}」に新着: {title}", search.name),
                    title_en: format!("New for \"{}\": {title}", search.name),
                    object_type: if kind == RecordKind::Seed { "seed" } else { "need" },
                    object_id: id,
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(new)
    }
}
