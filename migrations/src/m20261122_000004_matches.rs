//! Matches between seeds and needs, with their score and reasons. One row per pair: re-scoring
//! updates it, and a dismissal survives re-scoring.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Matches::Table)
                    .col(uuid(Matches::Id).primary_key())
                    .col(uuid(Matches::SeedId))
                    .col(uuid(Matches::SeedOrganizationId))
                    .col(uuid_null(Matches::SeedOwnerId))
                    .col(uuid(Matches::NeedId))
                    .col(uuid(Matches::NeedOrganizationId))
                    .col(double(Matches::Score))
                    .col(double(Matches::TextScore))
                    .col(double(Matches::TaxonomyScore))
                    .col(json(Matches::Reasons))
                    .col(string(Matches::Status))
                    .col(timestamp_with_time_zone(Matches::CreatedAt))
                    .col(timestamp_with_time_zone(Matches::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("matches_seed_fk")
                            .from(Matches::Table, Matches::SeedId)
                            .to(Seeds::Table, Seeds::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("matches_need_fk")
                            .from(Matches::Table, Matches::NeedId)
                            .to(Needs::Table, Needs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("matches_pair_key")
                    .table(Matches::Table)
                    .col(Matches::SeedId)
                    .col(Matches::NeedId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("matches_need_idx", Matches::NeedId),
            ("matches_seed_organization_idx", Matches::SeedOrganizationId),
            ("matches_need_organization_idx", Matches::NeedOrganizationId),
            ("matches_seed_owner_idx", Matches::SeedOwnerId),
        ] {
            manager.create_index(Index::create().name(name).table(Matches::Table).col(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Matches::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Seeds {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Needs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    Id,
    SeedId,
    SeedOrganizationId,
    SeedOwnerId,
    NeedId,
    NeedOrganizationId,
    Score,
    TextScore,
    TaxonomyScore,
    Reasons,
    Status,
    CreatedAt,
    UpdatedAt,
}
