//! Browser sessions. Only the SHA-256 hash of a session id is stored, so a copy of the table
//! opens no session; the CSRF token is stored as is (it is no credential without the cookie).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, prelude::*, sea_query::Expr};
use uuid::Uuid;

use crate::Result;
use crate::entity::web_session;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub id: Uuid,
    pub member_id: Uuid,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end, however active the session is.
    pub expires_at: DateTime<Utc>,
}

impl From<web_session::Model> for WebSession {
    fn from(m: web_session::Model) -> Self {
        WebSession {
            id: m.id,
            member_id: m.member_id,
            csrf_token: m.csrf_token,
            created_at: m.created_at,
            last_seen_at: m.last_seen_at,
            expires_at: m.expires_at,
        }
    }
}

/// # Errors
/// On a database failure.
pub async fn insert(
    conn: &impl ConnectionTrait,
    member_id: Uuid,
    token_hash: String,
    csrf_token: String,
    expires_at: DateTime<Utc>,
) -> Result<WebSession> {
    let now = Utc::now();
    let model = web_session::ActiveModel {
        id: Set(Uuid::now_v7()),
        member_id: Set(member_id),
        token_hash: Set(token_hash),
        csrf_token: Set(csrf_token),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(conn)
    .await?;
    Ok(model.into())
}

/// # Errors
/// On a database failure.
pub async fn by_hash(conn: &impl ConnectionTrait, token_hash: &str) -> Result<Option<WebSession>> {
    Ok(web_session::Entity::find()
        .filter(web_session::Column::TokenHash.eq(token_hash))
        .one(conn)
        .await?
        .map(Into::into))
}

/// Records activity, which pushes the idle deadline back.
///
/// # Errors
/// On a database failure.
pub async fn touch(conn: &impl ConnectionTrait, id: Uuid, at: DateTime<Utc>) -> Result<()> {
    web_session::Entity::update_many()
        .col_expr(web_session::Column::LastSeenAt, Expr::value(at))
        .filter(web_session::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// # Errors
/// On a database failure.
pub async fn delete(conn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    web_session::Entity::delete_many().filter(web_session::Column::Id.eq(id)).exec(conn).await?;
    Ok(())
}

/// Ends every browser session of a member; returns how many there were.
///
/// # Errors
/// On a database failure.
pub async fn delete_member(conn: &impl ConnectionTrait, member_id: Uuid) -> Result<u64> {
    let result =
        web_session::Entity::delete_many().filter(web_session::Column::MemberId.eq(member_id)).exec(conn).await?;
    Ok(result.rows_affected)
}

/// Removes sessions past their absolute end or idle since `idle_before`.
///
/// # Errors
/// On a database failure.
pub async fn delete_stale(conn: &impl ConnectionTrait, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> Result<u64> {
    let result = web_session::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(web_session::Column::ExpiresAt.lte(now))
                .add(web_session::Column::LastSeenAt.lt(idle_before)),
        )
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
