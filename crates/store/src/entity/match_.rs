//! Matches: a seed and a need the matcher paired, with their score, reasons and status.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "matches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub seed_id: Uuid,
    pub seed_organization_id: Uuid,
    pub seed_owner_id: Option<Uuid>,
    pub need_id: Uuid,
    pub need_organization_id: Uuid,
    pub score: f64,
    pub text_score: f64,
    pub taxonomy_score: f64,
    pub reasons: Json,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub notified_at: Option<DateTimeUtc>,
    pub origin: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
