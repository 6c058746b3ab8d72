//! Browser sessions of the web application: an opaque id kept only as a SHA-256 hash, the
//! member, the per-session CSRF token, and the times that bound its life (idle and absolute).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebSessions::Table)
                    .col(uuid(WebSessions::Id).primary_key())
                    .col(uuid(WebSessions::MemberId))
                    .col(string(WebSessions::TokenHash))
                    .col(string(WebSessions::CsrfToken))
                    .col(timestamp_with_time_zone(WebSessions::CreatedAt))
                    .col(timestamp_with_time_zone(WebSessions::LastSeenAt))
                    .col(timestamp_with_time_zone(WebSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("web_sessions_member_fk")
                            .from(WebSessions::Table, WebSessions::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("web_sessions_hash_key")
                    .table(WebSessions::Table)
                    .col(WebSessions::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("web_sessions_member_idx")
                    .table(WebSessions::Table)
                    .col(WebSessions::MemberId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebSessions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum WebSessions {
    Table,
    Id,
    MemberId,
    TokenHash,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}
