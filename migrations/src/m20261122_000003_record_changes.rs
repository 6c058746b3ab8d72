//! The change log the search index follows: one row per change to a seed or need, written in the
//! same transaction as the change. Each API process applies it in order to its own index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RecordChanges::Table)
                    .col(big_pk_auto(RecordChanges::Seq))
                    .col(string(RecordChanges::Kind))
                    .col(uuid(RecordChanges::RecordId))
                    .col(timestamp_with_time_zone(RecordChanges::ChangedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RecordChanges::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RecordChanges {
    Table,
    Seq,
    Kind,
    RecordId,
    ChangedAt,
}
