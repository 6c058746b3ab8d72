//! Saved searches. The query is stored as JSON in the shape the service gives it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder, prelude::*};
use uuid::Uuid;

use crate::Result;
use crate::entity::saved_search;

#[derive(Debug, Clone, PartialEq)]
pub struct SavedSearch {
    pub id: Uuid,
    pub member_id: Uuid,
    pub name: String,
    pub query: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<saved_search::Model> for SavedSearch {
    fn from(m: saved_search::Model) -> Self {
        SavedSearch { id: m.id, member_id: m.member_id, name: m.name, query: m.query, created_at: m.created_at }
    }
}

/// # Errors
/// On a database failure.
pub async fn insert(
    conn: &impl ConnectionTrait,
    member_id: Uuid,
    name: String,
    query: serde_json::Value,
) -> Result<SavedSearch> {
    let model = saved_search::ActiveModel {
        id: Set(Uuid::now_v7()),
        member_id: Set(member_id),
        name: Set(name),
        query: Set(query),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(model.into())
}

/// # Errors
/// On a database failure.
pub async fn of_member(conn: &impl ConnectionTrait, member_id: Uuid) -> Result<Vec<SavedSearch>> {
    Ok(saved_search::Entity::find()
        .filter(saved_search::Column::MemberId.eq(member_id))
        .order_by_asc(saved_search::Column::CreatedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// # Errors
/// On a database failure.
pub async fn count_of_member(conn: &impl ConnectionTrait, member_id: Uuid) -> Result<u64> {
    Ok(saved_search::Entity::find().filter(saved_search::Column::MemberId.eq(member_id)).count(conn).await?)
}

/// Every saved search (alerting checks each against a newly published record).
///
/// # Errors
/// On a database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<SavedSearch>> {
    Ok(saved_search::Entity::find().all(conn).await?.into_iter().map(Into::into).collect())
}

/// Deletes a member's saved search; `false` when the member has none with this id.
///
/// # Errors
/// On a database failure.
pub async fn delete(conn: &impl ConnectionTrait, member_id: Uuid, id: Uuid) -> Result<bool> {
    let result = saved_search::Entity::delete_many()
        .filter(saved_search::Column::Id.eq(id))
        .filter(saved_search::Column::MemberId.eq(member_id))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
