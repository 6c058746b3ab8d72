//! Saved searches: a member's query, alerted on when a newly published record matches it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SavedSearches::Table)
                    .col(uuid(SavedSearches::Id).primary_key())
                    .col(uuid(SavedSearches::MemberId))
                    .col(string(SavedSearches::Name))
                    .col(json(SavedSearches::Query))
                    .col(timestamp_with_time_zone(SavedSearches::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("saved_searches_member_fk")
                            .from(SavedSearches::Table, SavedSearches::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("saved_searches_member_idx")
                    .table(SavedSearches::Table)
                    .col(SavedSearches::MemberId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SavedSearches::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SavedSearches {
    Table,
    Id,
    MemberId,
    Name,
    Query,
    CreatedAt,
}
