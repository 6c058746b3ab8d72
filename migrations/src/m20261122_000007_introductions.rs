//! Introductions between a company and a seed's side, with their history and message thread.
//!
//! A seed and a requesting organisation have at most one open introduction (a partial unique
//! index, which `SQLite` and `PostgreSQL` both understand); a closed one may be followed by a new one.

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
                    .table(Introductions::Table)
                    .col(uuid(Introductions::Id).primary_key())
                    .col(uuid(Introductions::SeedId))
                    .col(uuid_null(Introductions::NeedId))
                    .col(uuid(Introductions::RequesterId))
                    .col(uuid(Introductions::RequesterOrganizationId))
                    .col(uuid(Introductions::SeedOrganizationId))
                    .col(boolean(Introductions::Anonymous))
                    .col(text(Introductions::Message))
                    .col(string(Introductions::Status))
                    .col(string_null(Introductions::CdaStatus))
                    .col(string_null(Introductions::Outcome))
                    .col(string_null(Introductions::DeclineReason))
                    .col(text_null(Introductions::DeclineComment))
                    .col(string_null(Introductions::DeclinedBy))
                    .col(integer(Introductions::Version))
                    .col(timestamp_with_time_zone(Introductions::CreatedAt))
                    .col(timestamp_with_time_zone(Introductions::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Introductions::ForwardedAt))
                    .col(timestamp_with_time_zone_null(Introductions::AcceptedAt))
                    .col(timestamp_with_time_zone_null(Introductions::CdaSignedAt))
                    .col(timestamp_with_time_zone_null(Introductions::ClosedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("introductions_seed_fk")
                            .from(Introductions::Table, Introductions::SeedId)
                            .to(Seeds::Table, Seeds::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("introductions_need_fk")
                            .from(Introductions::Table, Introductions::NeedId)
                            .to(Needs::Table, Needs::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("introductions_requester_fk")
                            .from(Introductions::Table, Introductions::RequesterId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("introductions_seed_idx", Introductions::SeedId),
            ("introductions_requester_organization_idx", Introductions::RequesterOrganizationId),
            ("introductions_seed_organization_idx", Introductions::SeedOrganizationId),
            ("introductions_created_idx", Introductions::CreatedAt),
        ] {
            manager.create_index(Index::create().name(name).table(Introductions::Table).col(col).to_owned()).await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX introductions_open_key ON introductions (seed_id, requester_organization_id) \
                 WHERE closed_at IS NULL",
            )
            .await?;
        // The funnel report counts matches by the day they were made.
        manager
            .create_index(
                Index::create().name("matches_created_idx").table(Matches::Table).col(Matches::CreatedAt).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IntroductionEvents::Table)
                    .col(uuid(IntroductionEvents::Id).primary_key())
                    .col(uuid(IntroductionEvents::IntroductionId))
                    .col(uuid_null(IntroductionEvents::ActorId))
                    .col(string(IntroductionEvents::Party))
                    .col(string(IntroductionEvents::Step))
                    .col(timestamp_with_time_zone(IntroductionEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("introduction_events_introduction_fk")
                            .from(IntroductionEvents::Table, IntroductionEvents::IntroductionId)
                            .to(Introductions::Table, Introductions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("introduction_events_introduction_idx")
                    .table(IntroductionEvents::Table)
                    .col(IntroductionEvents::IntroductionId)
                    .col(IntroductionEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IntroductionMessages::Table)
                    .col(uuid(IntroductionMessages::Id).primary_key())
                    .col(uuid(IntroductionMessages::IntroductionId))
                    .col(uuid(IntroductionMessages::AuthorId))
                    .col(string(IntroductionMessages::Party))
                    .col(text(IntroductionMessages::Body))
                    .col(timestamp_with_time_zone(IntroductionMessages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("introduction_messages_introduction_fk")
                            .from(IntroductionMessages::Table, IntroductionMessages::IntroductionId)
                            .to(Introductions::Table, Introductions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("introduction_messages_author_fk")
                            .from(IntroductionMessages::Table, IntroductionMessages::AuthorId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("introduction_messages_introduction_idx")
                    .table(IntroductionMessages::Table)
                    .col(IntroductionMessages::IntroductionId)
                    .col(IntroductionMessages::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IntroductionMessages::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(IntroductionEvents::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("matches_created_idx").table(Matches::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Introductions::Table).to_owned()).await
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
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Introductions {
    Table,
    Id,
    SeedId,
    NeedId,
    RequesterId,
    RequesterOrganizationId,
    SeedOrganizationId,
    Anonymous,
    Message,
    Status,
    CdaStatus,
    Outcome,
    DeclineReason,
    DeclineComment,
    DeclinedBy,
    Version,
    CreatedAt,
    UpdatedAt,
    ForwardedAt,
    AcceptedAt,
    CdaSignedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum IntroductionEvents {
    Table,
    Id,
    IntroductionId,
    ActorId,
    Party,
    Step,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IntroductionMessages {
    Table,
    Id,
    IntroductionId,
    AuthorId,
    Party,
    Body,
    CreatedAt,
}
