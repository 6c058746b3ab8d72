//! Organisations, members, their tokens, liaison coverage and the append-only audit log.

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
                    .table(Organizations::Table)
                    .col(uuid(Organizations::Id).primary_key())
                    .col(string(Organizations::Name))
                    .col(string(Organizations::NameEn))
                    .col(string(Organizations::Kind))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("organizations_name_key")
                    .table(Organizations::Table)
                    .col(Organizations::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Members::Table)
                    .col(uuid(Members::Id).primary_key())
                    .col(uuid(Members::OrganizationId))
                    .col(string(Members::Email))
                    .col(string(Members::Name))
                    .col(string(Members::Role))
                    .col(string(Members::Status))
                    .col(string(Members::Locale))
                    .col(string_null(Members::PasswordHash))
                    .col(timestamp_with_time_zone_null(Members::EmailVerifiedAt))
                    .col(integer(Members::FailedLogins).default(0))
                    .col(timestamp_with_time_zone_null(Members::LockedUntil))
                    .col(timestamp_with_time_zone(Members::CreatedAt))
                    .col(timestamp_with_time_zone(Members::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("members_organization_fk")
                            .from(Members::Table, Members::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("members_email_key").table(Members::Table).col(Members::Email).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("members_organization_idx")
                    .table(Members::Table)
                    .col(Members::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("members_status_idx").table(Members::Table).col(Members::Status).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(uuid(RefreshTokens::Id).primary_key())
                    .col(uuid(RefreshTokens::MemberId))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(string(RefreshTokens::TokenHash))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("refresh_tokens_member_fk")
                            .from(RefreshTokens::Table, RefreshTokens::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_hash_key")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_family_idx")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_member_idx")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::MemberId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MemberTokens::Table)
                    .col(uuid(MemberTokens::Id).primary_key())
                    .col(uuid(MemberTokens::MemberId))
                    .col(string(MemberTokens::Purpose))
                    .col(string(MemberTokens::TokenHash))
                    .col(timestamp_with_time_zone(MemberTokens::ExpiresAt))
                    .col(timestamp_with_time_zone(MemberTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(MemberTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("member_tokens_member_fk")
                            .from(MemberTokens::Table, MemberTokens::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("member_tokens_hash_key")
                    .table(MemberTokens::Table)
                    .col(MemberTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LiaisonCoverage::Table)
                    .col(uuid(LiaisonCoverage::LiaisonId))
                    .col(uuid(LiaisonCoverage::OrganizationId))
                    .primary_key(Index::create().col(LiaisonCoverage::LiaisonId).col(LiaisonCoverage::OrganizationId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("liaison_coverage_liaison_fk")
                            .from(LiaisonCoverage::Table, LiaisonCoverage::LiaisonId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("liaison_coverage_organization_fk")
                            .from(LiaisonCoverage::Table, LiaisonCoverage::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Append-only: the application never updates or deletes rows here. No foreign keys, so an
        // entry outlives the member or object it speaks of.
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(uuid(AuditLog::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(uuid_null(AuditLog::OrganizationId))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::ObjectType))
                    .col(string_null(AuditLog::ObjectId))
                    .col(string_null(AuditLog::RequestId))
                    .col(json(AuditLog::Details))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_occurred_idx")
                    .table(AuditLog::Table)
                    .col(AuditLog::OccurredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_object_idx")
                    .table(AuditLog::Table)
                    .col(AuditLog::ObjectType)
                    .col(AuditLog::ObjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("audit_log_actor_idx").table(AuditLog::Table).col(AuditLog::ActorId).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            LiaisonCoverage::Table.into_iden(),
            MemberTokens::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Members::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    NameEn,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
    OrganizationId,
    Email,
    Name,
    Role,
    Status,
    Locale,
    PasswordHash,
    EmailVerifiedAt,
    FailedLogins,
    LockedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    MemberId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    CreatedAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum MemberTokens {
    Table,
    Id,
    MemberId,
    Purpose,
    TokenHash,
    ExpiresAt,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum LiaisonCoverage {
    Table,
    LiaisonId,
    OrganizationId,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    OccurredAt,
    ActorId,
    OrganizationId,
    Action,
    ObjectType,
    ObjectId,
    RequestId,
    Details,
}
