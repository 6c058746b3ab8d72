//! Needs: what companies look for. Versioned like seeds.

use chrono::Utc;
use kakehashi_domain::{NeedContent, NeedFacts, Page, RecordStatus, Visibility};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, prelude::*};
use uuid::Uuid;

use crate::changes::RecordKind;
use crate::entity::need;
use crate::records::{self, Record, versioned};
use crate::{Result, json_list, parse};

/// A need as stored.
pub type Need = Record<NeedContent>;

impl Need {
    #[must_use]
    pub fn facts(&self) -> NeedFacts {
        NeedFacts {
            owner_id: self.owner_id.unwrap_or(Uuid::nil()),
            organization_id: self.organization_id,
            status: self.status,
            visibility: self.content.visibility,
            anonymous: self.content.anonymous,
        }
    }
}

fn content_of(m: need::Model) -> Result<NeedContent> {
    Ok(NeedContent {
        title: m.title,
        description: m.description,
        modalities: json_list("needs.modalities", &m.modalities)?,
        disease_areas: json_list("needs.disease_areas", &m.disease_areas)?,
        stages: json_list("needs.stages", &m.stages)?,
        deal_types: json_list("needs.deal_types", &m.deal_types)?,
        keywords: json_list("needs.keywords", &m.keywords)?,
        anonymous: m.anonymous,
        language: parse("needs.language", &m.language)?,
        visibility: parse("needs.visibility", &m.visibility)?,
    })
}

versioned!(Need, need, NeedContent, RecordKind::Need, "needs");

fn content_columns(model: &mut need::ActiveModel, content: &NeedContent) {
    model.title = Set(content.title.clone());
    model.description = Set(content.description.clone());
    model.modalities = Set(serde_json::json!(content.modalities));
    model.disease_areas = Set(serde_json::json!(content.disease_areas));
    model.stages = Set(serde_json::json!(content.stages));
    model.deal_types = Set(serde_json::json!(content.deal_types));
    model.keywords = Set(serde_json::json!(content.keywords));
    model.anonymous = Set(content.anonymous);
    model.language = Set(content.language.as_str().to_owned());
    model.visibility = Set(content.visibility.as_str().to_owned());
}

#[derive(Debug, Clone)]
pub struct NewNeed {
    pub organization_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub content: NeedContent,
}

/// # Errors
/// On a database failure.
pub async fn insert(conn: &impl ConnectionTrait, new: NewNeed) -> Result<Need> {
    let now = Utc::now();
    let mut model = need::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(new.organization_id),
        owner_id: Set(new.owner_id),
        status: Set(RecordStatus::Draft.as_str().to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
        ..Default::default()
    };
    content_columns(&mut model, &new.content);
    model.insert(conn).await?.try_into()
}

/// The need of `organization_id` carrying `reference`, if any.
///
/// # Errors
/// On a database failure.
pub async fn by_external_ref(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    reference: &str,
) -> Result<Option<Uuid>> {
    let holders = records::by_external_refs::<Need>(conn, organization_id, &[reference.to_owned()]).await?;
    Ok(holders.first().map(|(_, id, _)| *id))
}

/// Sets the organisation's own reference (`None` removes it).
///
/// # Errors
/// `Conflict` when another need of the organisation carries it; on a database failure.
pub async fn set_external_ref(conn: &impl ConnectionTrait, id: Uuid, reference: Option<String>) -> Result<()> {
    records::set_external_ref::<Need>(conn, id, reference).await
}

/// # Errors
/// On a database failure.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Need>> {
    records::get(conn, id).await
}

/// Replaces the content if the stored version is `expected_version`.
///
/// # Errors
/// On a database failure.
pub async fn update_content(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    content: &NeedContent,
) -> Result<bool> {
    records::update_content::<Need>(conn, id, expected_version, content).await
}

/// Moves the need to `status` if the stored version is `expected_version`.
///
/// # Errors
/// On a database failure.
pub async fn set_status(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    status: RecordStatus,
) -> Result<bool> {
    records::set_status::<Need>(conn, id, expected_version, status).await
}

/// Which needs a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Owner(Uuid),
    Organization(Uuid),
    /// Published needs visible to members (academia's view).
    PublishedToMembers,
    /// Every published need (liaisons, admins).
    Published,
}

/// Needs in `scope`, newest first.
///
/// # Errors
/// On a database failure.
pub async fn list(
    conn: &impl ConnectionTrait,
    scope: Scope,
    status: Option<RecordStatus>,
    page: Page,
) -> Result<(Vec<Need>, u64)> {
    let mut query = need::Entity::find().order_by_desc(need::Column::UpdatedAt).order_by_desc(need::Column::Id);
    query = match scope {
        Scope::Owner(owner) => query.filter(need::Column::OwnerId.eq(owner)),
        Scope::Organization(org) => query.filter(need::Column::OrganizationId.eq(org)),
        Scope::PublishedToMembers => query
            .filter(need::Column::Status.eq(RecordStatus::Published.as_str()))
            .filter(need::Column::Visibility.eq(Visibility::Members.as_str())),
        Scope::Published => query.filter(need::Column::Status.eq(RecordStatus::Published.as_str())),
    };
    if let Some(status) = status {
        query = query.filter(need::Column::Status.eq(status.as_str()));
    }
    let total = query.clone().count(conn).await?;
    let rows = query.offset(page.offset()).limit(page.per_page).all(conn).await?;
    let items = rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
    Ok((items, total))
}

/// What the disclosure policy needs of the needs with these ids (missing ones are left out),
/// without reading their content.
///
/// # Errors
/// On a database failure.
pub async fn facts_many(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<(Uuid, NeedFacts)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, Option<Uuid>, Uuid, String, String, bool)> = need::Entity::find()
        .select_only()
        .columns([need::Column::Id, need::Column::OwnerId, need::Column::OrganizationId])
        .columns([need::Column::Status, need::Column::Visibility, need::Column::Anonymous])
        .filter(need::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(id, owner, organization_id, status, visibility, anonymous)| {
            let facts = NeedFacts {
                owner_id: owner.unwrap_or(Uuid::nil()),
                organization_id,
                status: parse("needs.status", &status)?,
                visibility: parse("needs.visibility", &visibility)?,
                anonymous,
            };
            Ok((id, facts))
        })
        .collect()
}

/// The needs with these ids (missing ones are left out).
///
/// # Errors
/// On a database failure.
pub async fn get_many(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Need>> {
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
    records::titles::<Need>(conn, ids).await
}

/// The organisation and owner of each of `ids` that is published.
///
/// # Errors
/// On a database failure.
pub async fn published_owners(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (Uuid, Option<Uuid>)>> {
    records::published_owners::<Need>(conn, ids).await
}

/// Published needs after `after` in id order, for rebuilding the index page by page.
///
/// # Errors
/// On a database failure.
pub async fn published_after(conn: &impl ConnectionTrait, after: Option<Uuid>, limit: u64) -> Result<Vec<Need>> {
    records::published_after(conn, after, limit).await
}

/// How many needs there are.
///
/// # Errors
/// On a database failure.
pub async fn count(conn: &impl ConnectionTrait) -> Result<u64> {
    records::count::<Need>(conn).await
}

/// Publishes many drafts at once (bulk loading).
///
/// # Errors
/// On a database failure.
pub async fn publish_all(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
    records::publish_all::<Need>(conn, ids).await
}
