//! Seeds: a research result, its public and confidential parts and its life-cycle status.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "seeds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub title: String,
    pub summary: String,
    pub confidential: Json,
    pub modalities: Json,
    pub disease_areas: Json,
    pub stage: String,
    pub ip_status: String,
    pub deal_types: Json,
    pub keywords: Json,
    pub language: String,
    pub visibility: String,
    pub status: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub external_ref: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
