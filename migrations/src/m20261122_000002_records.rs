//! Seeds, needs and access grants.
//!
//! Taxonomy lists and the confidential section are JSON: they are read and written whole, and
//! searched through the search index, never by SQL. `version` counts every change, for optimistic
//! concurrency.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
#[allow(clippy::too_many_lines, reason = "a migration's tables read best as one statement each, in order")]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Seeds::Table)
                    .col(uuid(Seeds::Id).primary_key())
                    .col(uuid(Seeds::OrganizationId))
                    .col(uuid_null(Seeds::OwnerId))
                    .col(text(Seeds::Title))
                    .col(text(Seeds::Summary))
                    .col(json(Seeds::Confidential))
                    .col(json(Seeds::Modalities))
                    .col(json(Seeds::DiseaseAreas))
                    .col(string(Seeds::Stage))
                    .col(string(Seeds::IpStatus))
                    .col(json(Seeds::DealTypes))
                    .col(json(Seeds::Keywords))
                    .col(string(Seeds::Language))
                    .col(string(Seeds::Visibility))
                    .col(string(Seeds::Status))
                    .col(integer(Seeds::Version))
                    .col(timestamp_with_time_zone(Seeds::CreatedAt))
                    .col(timestamp_with_time_zone(Seeds::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Seeds::PublishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("seeds_organization_fk")
                            .from(Seeds::Table, Seeds::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("seeds_owner_fk")
                            .from(Seeds::Table, Seeds::OwnerId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("seeds_organization_idx", Seeds::OrganizationId),
            ("seeds_owner_idx", Seeds::OwnerId),
            ("seeds_status_idx", Seeds::Status),
        ] {
            manager.create_index(Index::create().name(name).table(Seeds::Table).col(col).to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Needs::Table)
                    .col(uuid(Needs::Id).primary_key())
                    .col(uuid(Needs::OrganizationId))
                    .col(uuid_null(Needs::OwnerId))
                    .col(text(Needs::Title))
                    .col(text(Needs::Description))
                    .col(json(Needs::Modalities))
                    .col(json(Needs::DiseaseAreas))
                    .col(json(Needs::Stages))
                    .col(json(Needs::DealTypes))
                    .col(json(Needs::Keywords))
                    .col(boolean(Needs::Anonymous))
                    .col(string(Needs::Language))
                    .col(string(Needs::Visibility))
                    .col(string(Needs::Status))
                    .col(integer(Needs::Version))
                    .col(timestamp_with_time_zone(Needs::CreatedAt))
                    .col(timestamp_with_time_zone(Needs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Needs::PublishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("needs_organization_fk")
                            .from(Needs::Table, Needs::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("needs_owner_fk")
                            .from(Needs::Table, Needs::OwnerId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("needs_organization_idx", Needs::OrganizationId),
            ("needs_owner_idx", Needs::OwnerId),
            ("needs_status_idx", Needs::Status),
        ] {
            manager.create_index(Index::create().name(name).table(Needs::Table).col(col).to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AccessGrants::Table)
                    .col(uuid(AccessGrants::Id).primary_key())
                    .col(uuid(AccessGrants::SeedId))
                    .col(uuid(AccessGrants::OrganizationId))
                    .col(uuid_null(AccessGrants::GrantedBy))
                    .col(timestamp_with_time_zone(AccessGrants::GrantedAt))
                    .col(timestamp_with_time_zone_null(AccessGrants::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccessGrants::RevokedAt))
                    .col(uuid_null(AccessGrants::RevokedBy))
                    .col(uuid_null(AccessGrants::IntroductionId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("access_grants_seed_fk")
                            .from(AccessGrants::Table, AccessGrants::SeedId)
                            .to(Seeds::Table, Seeds::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("access_grants_organization_fk")
                            .from(AccessGrants::Table, AccessGrants::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("access_grants_seed_organization_idx")
                    .table(AccessGrants::Table)
                    .col(AccessGrants::SeedId)
                    .col(AccessGrants::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("access_grants_organization_idx")
                    .table(AccessGrants::Table)
                    .col(AccessGrants::OrganizationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [AccessGrants::Table.into_iden(), Needs::Table.into_iden(), Seeds::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Seeds {
    Table,
    Id,
    OrganizationId,
    OwnerId,
    Title,
    Summary,
    Confidential,
    Modalities,
    DiseaseAreas,
    Stage,
    IpStatus,
    DealTypes,
    Keywords,
    Language,
    Visibility,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum Needs {
    Table,
    Id,
    OrganizationId,
    OwnerId,
    Title,
    Description,
    Modalities,
    DiseaseAreas,
    Stages,
    DealTypes,
    Keywords,
    Anonymous,
    Language,
    Visibility,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum AccessGrants {
    Table,
    Id,
    SeedId,
    OrganizationId,
    GrantedBy,
    GrantedAt,
    ExpiresAt,
    RevokedAt,
    RevokedBy,
    IntroductionId,
}
