//! The matcher's durable queue: records indexed but not yet matched, with their attempts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "match_work")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: Uuid,
    pub kind: String,
    pub seq: i64,
    pub priority: i32,
    pub batch: Option<Uuid>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub claim: Option<Uuid>,
    pub claimed_until: Option<DateTimeUtc>,
    pub enqueued_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
