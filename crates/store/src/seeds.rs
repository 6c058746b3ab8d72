//! Seeds. Versioned like needs ([`crate::records`]).

use chrono::{DateTime, Utc};
use kakehashi_domain::{ConfidentialSection, Page, RecordStatus, SeedContent, SeedFacts, Visibility};
use sea_orm::{
    ActiveValue::Set, Condition, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, prelude::*, sea_query::Query,
};
use uuid::Uuid;

use crate::changes::RecordKind;
use crate::entity::{access_grant, seed};
use crate::records::{self, Record, versioned};
use crate::{Result, StoreError, json_list, parse};

/// A seed as stored.
pub type Seed = Record<SeedContent>;

impl Seed {
    /// What the disclosure policy needs to know. A seed without an owner (imported on behalf of an
    /// organisation) is owned by no member: the nil id matches nobody.
    #[must_use]
    pub fn facts(&self) -> SeedFacts {
        SeedFacts {
            owner_id: self.owner_id.unwrap_or(Uuid::nil()),
            organization_id: self.organization_id,
            status: self.status,
            visibility: self.content.visibility,
        }
    }
}

fn content_of(m: seed::Model) -> Result<SeedContent> {
    let confidential: ConfidentialSection = serde_json::from_value(m.confidential.clone())
        .map_err(|_| StoreError::Corrupt { column: "seeds.confidential", value: "(not shown)".into() })?;
    Ok(SeedContent {
        title: m.title,
        summary: m.summary,
        confidential,
        modalities: json_list("seeds.modalities", &m.modalities)?,
        disease_areas: json_list("seeds.disease_areas", &m.disease_areas)?,
        stage: m.stage,
        ip_status: m.ip_status,
        deal_types: json_list("seeds.deal_types", &m.deal_types)?,
        keywords: json_list("seeds.keywords", &m.keywords)?,
        language: parse("seeds.language", &m.language)?,
        visibility: parse("seeds.visibility", &m.visibility)?,
    })
}

versioned!(Seed, seed, SeedContent, RecordKind::Seed, "seeds");

fn content_columns(model: &mut seed::ActiveModel, content: &SeedContent) {
    model.title = Set(content.title.clone());
    model.summary = Set(content.summary.clone());
    model.confidential = Set(serde_json::to_value(&content.confidential).unwrap_or_default());
    model.modalities = Set(serde_json::json!(content.modalities));
    model.disease_areas = Set(serde_json::json!(content.disease_areas));
    model.stage = Set(content.stage.clone());
    model.ip_status = Set(content.ip_status.clone());
    model.deal_types = Set(serde_json::json!(content.deal_types));
    model.keywords = Set(serde_json::json!(content.keywords));
    model.language = Set(content.language.as_str().to_owned());
    model.visibility = Set(content.visibility.as_str().to_owned());
}

#[derive(Debug, Clone)]
pub struct NewSeed {
    pub organization_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub content: SeedContent,
    pub status: RecordStatus,
    pub external_ref: Option<String>,
}

fn new_model(id: Uuid, new: &NewSeed, now: DateTime<Utc>) -> seed::ActiveModel {
    let mut model = seed::ActiveModel {
        id: Set(id),
        organization_id: Set(new.organization_id),
        owner_id: Set(new.owner_id),
        stage: Set(String::new()),
        status: Set(new.status.as_str().to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set((new.status == RecordStatus::Published).then_some(now)),
        external_ref: Set(new.external_ref.clone()),
        ..Default::default()
    };
    content_columns(&mut model, &new.content);
    model
}

/// # Errors
/// On a database failure.
pub async fn insert(conn: &impl ConnectionTrait, new: NewSeed) -> Result<Seed> {
    new_model(Uuid::now_v7(), &new, Utc::now()).insert(conn).await?.try_into()
}

/// The seeds of `organization_id` carrying any of `refs`: reference, id and version.
///
/// # Errors
/// On a database failure.
pub async fn by_external_refs(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    refs: &[String],
) -> Result<Vec<(String, Uuid, i32)>> {
    records::by_external_refs::<Seed>(conn, organization_id, refs).await
}

/// Inserts many seeds in one statement per chunk; returns their ids in order.
///
/// # Errors
/// On a database failure; the caller's transaction then holds none of them.
pub async fn insert_many(conn: &impl ConnectionTrait, news: &[NewSeed]) -> Result<Vec<Uuid>> {
    let now = Utc::now();
    let mut ids = Vec::with_capacity(news.len());
    // SQLite allows 32766 bound values per statement; 19 columns a row.
    for chunk in news.chunks(500) {
        let chunk_ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
        let models = chunk.iter().zip(&chunk_ids).map(|(n, id)| new_model(*id, n, now));
        seed::Entity::insert_many(models).exec(conn).await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// # Errors
/// On a database failure.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Seed>> {
    records::get(conn, id).await
}

/// Replaces the content if the stored version is `expected_version`; `false` means someone else
/// changed it first.
///
/// # Errors
/// On a database failure.
pub async fn update_content(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    content: &SeedContent,
) -> Result<bool> {
    records::update_content::<Seed>(conn, id, expected_version, content).await
}

/// Sets the organisation's own reference (`None` removes it), inside the transaction that
/// bumped the version.
///
/// # Errors
/// `Conflict` when another seed of the organisation carries it; on a database failure.
pub async fn set_external_ref(conn: &impl ConnectionTrait, id: Uuid, reference: Option<String>) -> Result<()> {
    records::set_external_ref::<Seed>(conn, id, reference).await
}

/// Moves the seed to `status` if the stored version is `expected_version`.
///
/// # Errors
/// On a database failure.
pub async fn set_status(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    status: RecordStatus,
) -> Result<bool> {
    records::set_status::<Seed>(conn, id, expected_version, status).await
}

/// Which seeds a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Seeds owned by this member.
    Owner(Uuid),
    /// Every seed of this organisation.
    Organization(Uuid),
    /// Published seeds a member of `organization_id` may find: members-visible ones, their own
    /// organisation's, those granted to it, and every one for liaisons and admins (`all`).
    Published { organization_id: Uuid, all: bool },
}

/// Seeds in `scope`, newest first.
///
/// # Errors
/// On a database failure.
pub async fn list(
    conn: &impl ConnectionTrait,
    scope: Scope,
    status: Option<RecordStatus>,
    page: Page,
) -> Result<(Vec<Seed>, u64)> {
    let mut query = seed::Entity::find().order_by_desc(seed::Column::UpdatedAt).order_by_desc(seed::Column::Id);
    match scope {
        Scope::Owner(owner) => query = query.filter(seed::Column::OwnerId.eq(owner)),
        Scope::Organization(org) => query = query.filter(seed::Column::OrganizationId.eq(org)),
        Scope::Published { organization_id, all } => {
            query = query.filter(seed::Column::Status.eq(RecordStatus::Published.as_str()));
            if !all {
                let granted = Query::select()
                    .column(access_grant::Column::SeedId)
                    .from(access_grant::Entity)
                    .and_where(access_grant::Column::OrganizationId.eq(organization_id))
                    .cond_where(crate::grants::active_at(Utc::now()))
                    .to_owned();
                query = query.filter(
                    Condition::any()
                        .add(seed::Column::Visibility.eq(Visibility::Members.as_str()))
                        .add(seed::Column::OrganizationId.eq(organization_id))
                        .add(seed::Column::Id.in_subquery(granted)),
                );
            }
        }
    }
    if let Some(status) = status {
        query = query.filter(seed::Column::Status.eq(status.as_str()));
    }
    let total = query.clone().count(conn).await?;
    let rows = query.offset(page.offset()).limit(page.per_page).all(conn).await?;
    let items = rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
    Ok((items, total))
}

/// How many seeds there are (progress bars, benchmarks).
///
/// # Errors
/// On a database failure.
pub async fn count(conn: &impl ConnectionTrait) -> Result<u64> {
    records::count::<Seed>(conn).await
}

/// What the disclosure policy needs of the seeds with these ids (missing ones are left out),
/// without reading their content.
///
/// # Errors
/// On a database failure.
pub async fn facts_many(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<(Uuid, SeedFacts)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, Option<Uuid>, Uuid, String, String)> = seed::Entity::find()
        .select_only()
        .columns([seed::Column::Id, seed::Column::OwnerId, seed::Column::OrganizationId])
        .columns([seed::Column::Status, seed::Column::Visibility])
        .filter(seed::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(id, owner, organization_id, status, visibility)| {
            let facts = SeedFacts {
                owner_id: owner.unwrap_or(Uuid::nil()),
                organization_id,
                status: parse("seeds.status", &status)?,
                visibility: parse("seeds.visibility", &visibility)?,
            };
            Ok((id, facts))
        })
        .collect()
}

/// The seeds with these ids (missing ones are left out).
///
/// # Errors
/// On a database failure.
pub async fn get_many(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Seed>> {
    records::get_many(conn, ids).await
}

/// The organisation and title of each of `ids` that exists.
///
/// # Errors
/// On a database failure.
pub async fn titles(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (Uuid, String)>> {
    records::titles::<Seed>(conn, ids).await
}

/// The organisation and owner of each of `ids` that is published.
///
/// # Errors
/// On a database failure.
pub async fn published_owners(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (Uuid, Option<Uuid>)>> {
    records::published_owners::<Seed>(conn, ids).await
}

/// Published seeds after `after` in id order, for rebuilding the index page by page.
///
/// # Errors
/// On a database failure.
pub async fn published_after(conn: &impl ConnectionTrait, after: Option<Uuid>, limit: u64) -> Result<Vec<Seed>> {
    records::published_after(conn, after, limit).await
}
