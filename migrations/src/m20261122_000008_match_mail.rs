//! How a member wants to hear of new matches by e-mail: at once, or in a daily digest.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Members::Table)
                    .add_column(string(Members::MatchMail).default("immediate"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Members::Table).drop_column(Members::MatchMail).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Members {
    Table,
    MatchMail,
}
