//! sea-orm entities, one per table. Enumerations are stored as their `snake_case` names and converted
//! to domain types at the edge of this crate.

/// The entity of a kind of record ([`crate::records`]): the columns seeds and needs share, and
/// those of the kind (`name: Type` with a one-word type).
macro_rules! record_entity {
    ($table:tt, { $($field:ident: $ty:ident),* $(,)? }) => {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = $table)]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub organization_id: Uuid,
            pub owner_id: Option<Uuid>,
            pub title: String,
            $(pub $field: $ty,)*
            pub modalities: Json,
            pub disease_areas: Json,
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
    };
}

pub mod access_grant;
pub mod audit_log;
pub mod introduction;
pub mod introduction_event;
pub mod introduction_message;
pub mod liaison_coverage;
pub mod match_;
pub mod match_work;
pub mod member;
pub mod member_token;
pub mod need;
pub mod notification;
pub mod organization;
pub mod outbox;
pub mod record_change;
pub mod refresh_token;
pub mod saved_search;
pub mod seed;
pub mod web_session;
