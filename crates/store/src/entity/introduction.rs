//! Introductions: a company's request to meet a seed's researchers, and where it stands.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "introductions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub seed_id: Uuid,
    pub need_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub requester_organization_id: Uuid,
    pub seed_organization_id: Uuid,
    pub anonymous: bool,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub status: String,
    pub cda_status: Option<String>,
    pub outcome: Option<String>,
    pub decline_reason: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decline_comment: Option<String>,
    pub declined_by: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub forwarded_at: Option<DateTimeUtc>,
    pub accepted_at: Option<DateTimeUtc>,
    pub cda_signed_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
