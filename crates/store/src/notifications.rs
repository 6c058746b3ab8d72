//! In-app notifications: what a member is told, in both languages, linked to an object.

use chrono::{DateTime, Utc};
use kakehashi_domain::Page;
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, prelude::*, sea_query::Expr};
use uuid::Uuid;

use crate::Result;
use crate::entity::notification;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub member_id: Uuid,
    pub kind: String,
    pub title_ja: String,
    pub title_en: String,
    pub object_type: String,
    pub object_id: Uuid,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<notification::Model> for Notification {
    fn from(m: notification::Model) -> Self {
        Notification {
            id: m.id,
            member_id: m.member_id,
            kind: m.kind,
            title_ja: m.title_ja,
            title_en: m.title_en,
            object_type: m.object_type,
            object_id: m.object_id,
            read_at: m.read_at,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub member_id: Uuid,
    pub kind: &'static str,
    pub title_ja: String,
    pub title_en: String,
    pub object_type: &'static str,
    pub object_id: Uuid,
}

/// # Errors
/// On a database failure.
pub async fn insert(conn: &impl ConnectionTrait, new: NewNotification) -> Result<()> {
    insert_many(conn, vec![new]).await
}

/// Stores notifications a few hundred rows to a statement (telling liaisons of an import's
/// matches writes thousands at once).
///
/// # Errors
/// On a database failure.
pub async fn insert_many(conn: &impl ConnectionTrait, new: Vec<NewNotification>) -> Result<()> {
    let now = Utc::now();
    let mut rows = new.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<notification::ActiveModel> = rows
            .by_ref()
            .take(500)
            .map(|new| notification::ActiveModel {
                id: Set(Uuid::now_v7()),
                member_id: Set(new.member_id),
                kind: Set(new.kind.to_owned()),
                title_ja: Set(new.title_ja),
                title_en: Set(new.title_en),
                object_type: Set(new.object_type.to_owned()),
                object_id: Set(new.object_id),
                read_at: Set(None),
                created_at: Set(now),
            })
            .collect();
        notification::Entity::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// A member's notifications, newest first.
///
/// # Errors
/// On a database failure.
pub async fn list(
    conn: &impl ConnectionTrait,
    member_id: Uuid,
    unread_only: bool,
    page: Page,
) -> Result<(Vec<Notification>, u64)> {
    let mut q = notification::Entity::find()
        .filter(notification::Column::MemberId.eq(member_id))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id);
    if unread_only {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    let total = q.clone().count(conn).await?;
    let rows = q.offset(page.offset()).limit(page.per_page).all(conn).await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// Marks a member's notification read; `false` when the member has no such notification.
///
/// # Errors
/// On a database failure.
pub async fn mark_read(conn: &impl ConnectionTrait, member_id: Uuid, id: Uuid) -> Result<bool> {
    let found = notification::Entity::find()
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::MemberId.eq(member_id))
        .one(conn)
        .await?
        .is_some();
    if found {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Some(Utc::now())))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(conn)
            .await?;
    }
    Ok(found)
}

/// A member's notifications of `kind` created in `[from, to)`, oldest first (daily digests).
///
/// # Errors
/// On a database failure.
pub async fn of_kind_between(
    conn: &impl ConnectionTrait,
    member_id: Uuid,
    kind: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Notification>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::MemberId.eq(member_id))
        .filter(notification::Column::Kind.eq(kind))
        .filter(notification::Column::CreatedAt.gte(from))
        .filter(notification::Column::CreatedAt.lt(to))
        .order_by_asc(notification::Column::CreatedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}
