//! The company's own reference for a need (`external_ref`), unique within the organisation, as
//! seeds have.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Needs::Table).add_column(string_null(Needs::ExternalRef)).to_owned())
            .await?;
        // Needs without a reference (NULL) do not collide.
        manager
            .create_index(
                Index::create()
                    .name("needs_organization_external_ref")
                    .table(Needs::Table)
                    .col(Needs::OrganizationId)
                    .col(Needs::ExternalRef)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("needs_organization_external_ref").table(Needs::Table).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Needs::Table).drop_column(Needs::ExternalRef).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Needs {
    Table,
    OrganizationId,
    ExternalRef,
}
