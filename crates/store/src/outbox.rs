//! The e-mail outbox. A row is written in the same transaction as the event it tells of, with an
//! idempotency key (one per message and recipient): writing the same key twice keeps one row.
//! Workers claim due rows with a conditional update, so two processes never send the same row
//! at the same time, and record every attempt and the last error.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    EntityTrait, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::entity::outbox;
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub idempotency_key: String,
    pub member_id: Option<Uuid>,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<outbox::Model> for OutboxMessage {
    fn from(m: outbox::Model) -> Self {
        OutboxMessage {
            id: m.id,
            idempotency_key: m.idempotency_key,
            member_id: m.member_id,
            to_address: m.to_address,
            subject: m.subject,
            text_body: m.text_body,
            html_body: m.html_body,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            sent_at: m.sent_at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub idempotency_key: String,
    pub member_id: Option<Uuid>,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

/// Queues a message; returns `false` when one with the same key exists already.
///
/// # Errors
/// On a database failure.
pub async fn enqueue(conn: &impl ConnectionTrait, new: NewMessage) -> Result<bool> {
    let now = Utc::now();
    let exists = outbox::Entity::find()
        .filter(outbox::Column::IdempotencyKey.eq(new.idempotency_key.as_str()))
        .one(conn)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    let model = outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        idempotency_key: Set(new.idempotency_key),
        member_id: Set(new.member_id),
        to_address: Set(new.to_address),
        subject: Set(new.subject),
        text_body: Set(new.text_body),
        html_body: Set(new.html_body),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
    };
    match outbox::Entity::insert(model).exec(conn).await {
        Ok(_) => Ok(true),
        Err(err) if matches!(StoreError::from(err.clone()), StoreError::Conflict) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// How many messages wait to be sent: never tried yet (a worker may be sending one now), or due
/// for another try. One whose retry is later does not count.
///
/// # Errors
/// On a database failure.
pub async fn pending(conn: &impl ConnectionTrait) -> Result<u64> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::Attempts.eq(0).or(outbox::Column::NextAttemptAt.lte(Utc::now())))
        .count(conn)
        .await?)
}

/// Claims up to `limit` due messages for `lease`: they are not due again until then, so another
/// worker will not pick them up while this one sends.
///
/// # Errors
/// On a database failure.
pub async fn claim_due(conn: &impl ConnectionTrait, limit: u64, lease: chrono::Duration) -> Result<Vec<OutboxMessage>> {
    let now = Utc::now();
    let due = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(limit)
        .all(conn)
        .await?;
    let mut claimed = Vec::with_capacity(due.len());
    for row in due {
        let result = outbox::Entity::update_many()
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(now + lease))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::NextAttemptAt.eq(row.next_attempt_at))
            .filter(outbox::Column::SentAt.is_null())
            .exec(conn)
            .await?;
        if result.rows_affected == 1 {
            claimed.push(row.into());
        }
    }
    Ok(claimed)
}

/// # Errors
/// On a database failure.
pub async fn mark_sent(conn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::SentAt, Expr::value(Some(Utc::now())))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .filter(outbox::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt and when to try again.
///
/// # Errors
/// On a database failure.
pub async fn mark_failed(conn: &impl ConnectionTrait, id: Uuid, error: &str, retry_at: DateTime<Utc>) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::LastError, Expr::value(Some(error.chars().take(1000).collect::<String>())))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(retry_at))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .filter(outbox::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Every message to an address (tests, support).
///
/// # Errors
/// On a database failure.
pub async fn to_address(conn: &impl ConnectionTrait, address: &str) -> Result<Vec<OutboxMessage>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::ToAddress.eq(address))
        .order_by_asc(outbox::Column::CreatedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Whether a message with this idempotency key was ever queued.
///
/// # Errors
/// On a database failure.
pub async fn exists(conn: &impl ConnectionTrait, idempotency_key: &str) -> Result<bool> {
    Ok(outbox::Entity::find().filter(outbox::Column::IdempotencyKey.eq(idempotency_key)).one(conn).await?.is_some())
}
