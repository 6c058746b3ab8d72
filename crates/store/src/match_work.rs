//! The matcher's durable work list: one row per seed or need waiting to be matched.
//!
//! A row is written in the transaction that changes the record (see [`crate::changes`]), so a
//! change is never committed without its matching being owed. Matchers claim due rows with a
//! conditional update and a lease, so two processes rarely match the same record at once (and if a
//! lease runs out, matching the record twice is harmless). A row leaves when its matching has
//! committed; a failure keeps it with the error and a later attempt time. A new change to a record
//! already waiting takes the newer position, priority and batch, and clears any claim, so the record
//! is matched again as it now stands.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, Condition, DbBackend, EntityTrait, QueryOrder, QuerySelect, Statement, prelude::*};
use uuid::Uuid;

use crate::Result;
use crate::changes::RecordKind;
use crate::entity::match_work;

/// Changes made one at a time (through the API) go first.
pub const INTERACTIVE: i32 = 0;
/// Bulk imports and generated data wait behind them.
pub const BULK: i32 = 1;

/// Work claimed by a matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    pub kind: RecordKind,
    pub record_id: Uuid,
    /// The change-log position of the change that queued it.
    pub seq: i64,
    pub priority: i32,
    /// The bulk import it came from.
    pub batch: Option<Uuid>,
    pub attempts: i32,
}

impl From<match_work::Model> for Work {
    fn from(m: match_work::Model) -> Self {
        Work {
            kind: RecordKind::parse(&m.kind),
            record_id: m.record_id,
            seq: m.seq,
            priority: m.priority,
            batch: m.batch,
            attempts: m.attempts,
        }
    }
}

/// Queues `ids` for matching at change-log position `seq`.
///
/// # Errors
/// On a database failure.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    kind: RecordKind,
    ids: &[Uuid],
    seq: i64,
    priority: i32,
    batch: Option<Uuid>,
) -> Result<()> {
    let now = Utc::now();
    for chunk in ids.chunks(1000) {
        let rows = chunk.iter().map(|id| match_work::ActiveModel {
            record_id: Set(*id),
            kind: Set(kind.as_str().to_owned()),
            seq: Set(seq),
            priority: Set(priority),
            batch: Set(batch),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            claim: Set(None),
            claimed_until: Set(None),
            enqueued_at: Set(now),
        });
        match_work::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(match_work::Column::RecordId)
                    .update_columns([
                        match_work::Column::Seq,
                        match_work::Column::Priority,
                        match_work::Column::Batch,
                        match_work::Column::Attempts,
                        match_work::Column::NextAttemptAt,
                        match_work::Column::LastError,
                        match_work::Column::Claim,
                        match_work::Column::ClaimedUntil,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Claims up to `limit` due rows whose change this process's index has applied (`seq <=
/// indexed`), interactive ones first, for `lease`.
///
/// # Errors
/// On a database failure.
pub async fn claim(
    conn: &impl ConnectionTrait,
    indexed: i64,
    limit: u64,
    lease: chrono::Duration,
    claim: Uuid,
) -> Result<Vec<Work>> {
    let now = Utc::now();
    let free = || {
        Condition::any().add(match_work::Column::ClaimedUntil.is_null()).add(match_work::Column::ClaimedUntil.lt(now))
    };
    let due: Vec<Uuid> = match_work::Entity::find()
        .select_only()
        .column(match_work::Column::RecordId)
        .filter(match_work::Column::Seq.lte(indexed))
        .filter(match_work::Column::NextAttemptAt.lte(now))
        .filter(free())
        .order_by_asc(match_work::Column::Priority)
        .order_by_asc(match_work::Column::Seq)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    match_work::Entity::update_many()
        .col_expr(match_work::Column::Claim, Expr::value(Some(claim)))
        .col_expr(match_work::Column::ClaimedUntil, Expr::value(Some(now + lease)))
        .filter(match_work::Column::RecordId.is_in(due))
        .filter(free())
        .exec(conn)
        .await?;
    let mut claimed: Vec<Work> = match_work::Entity::find()
        .filter(match_work::Column::Claim.eq(claim))
        .all(conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    claimed.sort_by_key(|w| (w.priority, w.seq));
    Ok(claimed)
}

/// Of `ids`, those still claimed by `claim` (a newer change clears the claim).
///
/// # Errors
/// On a database failure.
pub async fn still_claimed(conn: &impl ConnectionTrait, claim: Uuid, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(1000) {
        let rows: Vec<Uuid> = match_work::Entity::find()
            .select_only()
            .column(match_work::Column::RecordId)
            .filter(match_work::Column::Claim.eq(claim))
            .filter(match_work::Column::RecordId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Removes the rows of `ids` still claimed by `claim`: their matching is done.
///
/// # Errors
/// On a database failure.
pub async fn done(conn: &impl ConnectionTrait, claim: Uuid, ids: &[Uuid]) -> Result<()> {
    for chunk in ids.chunks(1000) {
        match_work::Entity::delete_many()
            .filter(match_work::Column::Claim.eq(claim))
            .filter(match_work::Column::RecordId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Gives the claimed rows of `ids` back with a failed attempt recorded, due again at `retry_at`.
///
/// # Errors
/// On a database failure.
pub async fn failed(
    conn: &impl ConnectionTrait,
    claim: Uuid,
    ids: &[Uuid],
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<()> {
    let error: String = error.chars().take(1000).collect();
    for chunk in ids.chunks(1000) {
        match_work::Entity::update_many()
            .col_expr(match_work::Column::Attempts, Expr::col(match_work::Column::Attempts).add(1))
            .col_expr(match_work::Column::LastError, Expr::value(Some(error.clone())))
            .col_expr(match_work::Column::NextAttemptAt, Expr::value(retry_at))
            .col_expr(match_work::Column::Claim, Expr::value(Option::<Uuid>::None))
            .col_expr(match_work::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(match_work::Column::Claim.eq(claim))
            .filter(match_work::Column::RecordId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Of `batches`, those with records still waiting to be matched.
///
/// # Errors
/// On a database failure.
pub async fn unfinished_batches(conn: &impl ConnectionTrait, batches: &[Uuid]) -> Result<HashSet<Uuid>> {
    if batches.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<Option<Uuid>> = match_work::Entity::find()
        .select_only()
        .column(match_work::Column::Batch)
        .filter(match_work::Column::Batch.is_in(batches.iter().copied()))
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

/// How many records wait to be matched (readiness, tests, progress).
///
/// # Errors
/// On a database failure.
pub async fn waiting(conn: &impl ConnectionTrait) -> Result<u64> {
    Ok(match_work::Entity::find().count(conn).await?)
}

/// Serialises the matchers' write transactions across processes sharing a `PostgreSQL` database
/// (released at commit or rollback). Each reads the top lists it changes after taking it, so two
/// matchers never both fill the last place of a record's list. `SQLite`'s write transactions are
/// serialised already.
///
/// # Errors
/// On a database failure.
pub async fn lock(conn: &impl ConnectionTrait) -> Result<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        // An arbitrary constant naming the matcher's lock.
        conn.execute_raw(Statement::from_string(DbBackend::Postgres, "SELECT pg_advisory_xact_lock(7215830184)"))
            .await?;
    }
    Ok(())
}
