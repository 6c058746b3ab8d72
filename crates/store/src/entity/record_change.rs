//! The change log the search index follows: one position per change of a seed or need.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub kind: String,
    pub record_id: Uuid,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
