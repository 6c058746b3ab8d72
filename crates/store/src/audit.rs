//! The append-only audit trail: who did what to which object, when, under which request.
//!
//! Entries carry identifiers and field names, never confidential text; callers put only such
//! values into `details`. Nothing here updates or deletes an entry.

use chrono::{DateTime, Utc};
use kakehashi_domain::Page;
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, prelude::*};
use uuid::Uuid;

use crate::Result;
use crate::entity::audit_log;

#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    pub actor_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: Option<String>,
    pub request_id: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub request_id: Option<String>,
    pub details: serde_json::Value,
}

impl From<audit_log::Model> for Entry {
    fn from(m: audit_log::Model) -> Self {
        Entry {
            id: m.id,
            occurred_at: m.occurred_at,
            actor_id: m.actor_id,
            organization_id: m.organization_id,
            action: m.action,
            object_type: m.object_type,
            object_id: m.object_id,
            request_id: m.request_id,
            details: m.details,
        }
    }
}

/// # Errors
/// On a database failure.
pub async fn record(conn: &impl ConnectionTrait, entry: NewEntry) -> Result<()> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(Utc::now()),
        actor_id: Set(entry.actor_id),
        organization_id: Set(entry.organization_id),
        action: Set(entry.action.to_owned()),
        object_type: Set(entry.object_type.to_owned()),
        object_id: Set(entry.object_id),
        request_id: Set(entry.request_id),
        details: Set(if entry.details.is_null() { serde_json::json!({}) } else { entry.details }),
    }
    .insert(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Entries matching `filter`, newest first.
///
/// # Errors
/// On a database failure.
pub async fn list(conn: &impl ConnectionTrait, filter: Filter, page: Page) -> Result<(Vec<Entry>, u64)> {
    let mut query = audit_log::Entity::find().order_by_desc(audit_log::Column::Id);
    if let Some(v) = filter.actor_id {
        query = query.filter(audit_log::Column::ActorId.eq(v));
    }
    if let Some(v) = filter.organization_id {
        query = query.filter(audit_log::Column::OrganizationId.eq(v));
    }
    if let Some(v) = filter.action {
        query = query.filter(audit_log::Column::Action.eq(v));
    }
    if let Some(v) = filter.object_type {
        query = query.filter(audit_log::Column::ObjectType.eq(v));
    }
    if let Some(v) = filter.object_id {
        query = query.filter(audit_log::Column::ObjectId.eq(v));
    }
    if let Some(v) = filter.from {
        query = query.filter(audit_log::Column::OccurredAt.gte(v));
    }
    if let Some(v) = filter.to {
        query = query.filter(audit_log::Column::OccurredAt.lt(v));
    }
    let total = query.clone().count(conn).await?;
    let rows = query.offset(page.offset()).limit(page.per_page).all(conn).await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}
