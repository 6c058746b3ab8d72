//! The organisation's own reference for a seed (`external_ref`), unique within the organisation:
//! an import updates the seed it names instead of adding a duplicate.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Seeds::Table).add_column(string_null(Seeds::ExternalRef)).to_owned())
            .await?;
        // Seeds without a reference (NULL) do not collide.
        manager
            .create_index(
                Index::create()
                    .name("seeds_organization_external_ref")
                    .table(Seeds::Table)
                    .col(Seeds::OrganizationId)
                    .col(Seeds::ExternalRef)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("seeds_organization_external_ref").table(Seeds::Table).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Seeds::Table).drop_column(Seeds::ExternalRef).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Seeds {
    Table,
    OrganizationId,
    ExternalRef,
}
