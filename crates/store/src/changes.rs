//! The change log behind the search index. Written in the same transaction as the change it
//! records, read in `seq` order by each process's indexer.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    EntityTrait, QueryOrder, QuerySelect,
    prelude::*,
};
use uuid::Uuid;

use crate::Result;
use crate::entity::record_change;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Seed,
    Need,
}

impl RecordKind {
    fn as_str(self) -> &'static str {
        match self {
            RecordKind::Seed => "seed",
            RecordKind::Need => "need",
        }
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
    record_change::Entity::insert(model(kind, record_id, Utc::now())).exec(conn).await?;
    Ok(())
}

/// Records many changes (bulk import).
///
/// # Errors
/// On a database failure.
pub async fn record_many(conn: &impl ConnectionTrait, kind: RecordKind, record_ids: &[Uuid]) -> Result<()> {
    let now = Utc::now();
    for chunk in record_ids.chunks(1000) {
        record_change::Entity::insert_many(chunk.iter().map(|id| model(kind, *id, now))).exec(conn).await?;
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
            kind: if r.kind == "need" { RecordKind::Need } else { RecordKind::Seed },
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
