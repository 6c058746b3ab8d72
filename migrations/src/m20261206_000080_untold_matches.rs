//! An index for the pairs the liaisons have not been told of yet, by the import each came from and
//! its status: after every matched batch the matcher asks which imports still have untold pairs and
//! reads the untold pairs made one at a time. On `notified_at` alone both read every untold pair's
//! row, a number that grows through an import (38,000 by the end of one of 2,000 seeds), so each
//! batch cost more than the one before; on these three columns they read the index alone. It
//! replaces the index on `notified_at`, whose lookups it serves.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NEW: &str = "matches_untold_idx";
const REPLACED: &str = "matches_notified_at_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Alias::new("matches");
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table(table.clone())
                    .col(Alias::new("notified_at"))
                    .col(Alias::new("origin"))
                    .col(Alias::new("status"))
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(REPLACED).table(table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Alias::new("matches");
        manager
            .create_index(Index::create().name(REPLACED).table(table.clone()).col(Alias::new("notified_at")).to_owned())
            .await?;
        manager.drop_index(Index::drop().name(NEW).table(table).to_owned()).await
    }
}
