//! The change log behind the search index. Written in the same transaction as the change it
//! records, read in `seq` order by each process's indexer. Each change also queues the record for
//! the matcher ([`crate::match_work`]) in that transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    EntityTrait, QueryOrder, QuerySelect,
    prelude::*,
};
use uuid::Uuid;

use crate::entity::record_change;
use crate::{Result, match_work};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Seed,
    Need,
}

impl RecordKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Seed => "seed",
            RecordKind::Need => "need",
        }
    }

    #[must_use]
    pub fn parse(value: &str) -> Self {
        if value == "need" { RecordKind::Need } else { RecordKind::Seed }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub changed_at: DateTime<Utc>,
}

fn model(kind: RecordKind, record_id: Uuid, now: DateTime<Utc>) -> record_change::ActiveModel {
    record_change::ActiveModel {
        seq: NotSet,
        kind: Set(kind.as_str().to_owned()),
        record_id: Set(record_id),
        changed_at: Set(now),
    }
}

/// # Errors
/// On a database failure.
pub async fn record(conn: &impl ConnectionTrait, kind: RecordKind, record_id: Uuid) -> Result<()> {
    let seq = record_change::Entity::insert(model(kind, record_id, Utc::now())).exec(conn).await?.last_insert_id;
    match_work::enqueue(conn, kind, &[record_id], seq, match_work::INTERACTIVE, None).await
}

/// Records many changes (bulk import, generated data) as one `batch`: their matching waits behind
/// changes made one at a time, and the liaisons hear of the batch's matches in one digest.
///
/// # Errors
/// On a database failure.
pub async fn record_many(
    conn: &impl ConnectionTrait,
    kind: RecordKind,
    record_ids: &[Uuid],
    batch: Uuid,
) -> Result<()> {
    let now = Utc::now();
    for chunk in record_ids.chunks(1000) {
        record_change::Entity::insert_many(chunk.iter().map(|id| model(kind, *id, now))).exec(conn).await?;
        // The chunk's latest position, read back inside this transaction (its own rows).
        let seq: Option<i64> = record_change::Entity::find()
            .select_only()
            .column_as(record_change::Column::Seq.max(), "seq")
            .filter(record_change::Column::RecordId.is_in(chunk.iter().copied()))
            .into_tuple()
            .one(conn)
            .await?
            .flatten();
        match_work::enqueue(conn, kind, chunk, seq.unwrap_or(0), match_work::BULK, Some(batch)).await?;
    }
    Ok(())
}

/// Up to `limit` changes after position `seq`, in order.
///
/// # Errors
/// On a database failure.
pub async fn after(conn: &impl ConnectionTrait, seq: i64, limit: u64) -> Result<Vec<Change>> {
    let rows = record_change::Entity::find()
        .filter(record_change::Column::Seq.gt(seq))
        .order_by_asc(record_change::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Change {
            seq: r.seq,
            kind: RecordKind::parse(&r.kind),
            record_id: r.record_id,
            changed_at: r.changed_at,
        })
        .collect())
}

/// The latest position, 0 when the log is empty.
///
/// # Errors
/// On a database failure.
pub async fn last_seq(conn: &impl ConnectionTrait) -> Result<i64> {
    Ok(record_change::Entity::find().order_by_desc(record_change::Column::Seq).one(conn).await?.map_or(0, |r| r.seq))
}

/// The latest position written before `time`, 0 when none.
///
/// # Errors
/// On a database failure.
pub async fn last_seq_before(conn: &impl ConnectionTrait, time: DateTime<Utc>) -> Result<i64> {
    Ok(record_change::Entity::find()
        .filter(record_change::Column::ChangedAt.lt(time))
        .order_by_desc(record_change::Column::Seq)
        .one(conn)
        .await?
        .map_or(0, |r| r.seq))
}

/// The changes whose positions fall in any of the inclusive `ranges` (gaps the indexer skipped,
/// looked at again in case their transactions committed late), in order.
///
/// # Errors
/// On a database failure.
pub async fn in_ranges(conn: &impl ConnectionTrait, ranges: &[(i64, i64)]) -> Result<Vec<Change>> {
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = sea_orm::Condition::any();
    for &(from, to) in ranges {
        any = any.add(record_change::Column::Seq.between(from, to));
    }
    let rows = record_change::Entity::find().filter(any).order_by_asc(record_change::Column::Seq).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| Change {
            seq: r.seq,
            kind: RecordKind::parse(&r.kind),
            record_id: r.record_id,
            changed_at: r.changed_at,
        })
        .collect())
}

/// Where the database's transactions stand, for telling a gap that may still fill from one that
/// never will. On `PostgreSQL`: `next` is the transaction id the next transaction will get, and
/// `oldest_open` the oldest still running (or `next` when none); once `oldest_open` has passed a
/// `next` read earlier, every transaction that was running then has ended. `SQLite` serialises
/// its writers, so a position is committed before the next one is taken: `None`.
///
/// # Errors
/// On a database failure.
pub async fn transaction_horizon(conn: &impl ConnectionTrait) -> Result<Option<TransactionHorizon>> {
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(None);
    }
    let sql = "SELECT pg_snapshot_xmin(s)::text::bigint AS oldest_open, pg_snapshot_xmax(s)::text::bigint AS next \
               FROM pg_current_snapshot() AS s";
    let row = conn.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(TransactionHorizon { oldest_open: row.try_get("", "oldest_open")?, next: row.try_get("", "next")? }))
}

/// See [`transaction_horizon`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionHorizon {
    pub oldest_open: i64,
    pub next: i64,
}
