//! The matcher's durable work list, and the notification state of matches.
//!
//! `match_work` holds one row per seed or need waiting to be matched, written in the transaction
//! that changes the record (with the change-log position the matcher waits for its index to
//! reach). A row leaves only when the record's matching has committed, so a stop or a crash
//! loses nothing. `matches.notified_at` is empty while the liaisons have not been told of a pair;
//! `matches.origin` names the bulk import a pair came from, whose liaisons hear of it in one
//! digest once the whole import has been matched.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MatchWork::Table)
                    .col(uuid(MatchWork::RecordId).primary_key())
                    .col(string(MatchWork::Kind))
                    .col(big_integer(MatchWork::Seq))
                    .col(integer(MatchWork::Priority))
                    .col(uuid_null(MatchWork::Batch))
                    .col(integer(MatchWork::Attempts).default(0))
                    .col(timestamp_with_time_zone(MatchWork::NextAttemptAt))
                    .col(text_null(MatchWork::LastError))
                    .col(uuid_null(MatchWork::Claim))
                    .col(timestamp_with_time_zone_null(MatchWork::ClaimedUntil))
                    .col(timestamp_with_time_zone(MatchWork::EnqueuedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("match_work_order_idx")
                    .table(MatchWork::Table)
                    .col(MatchWork::Priority)
                    .col(MatchWork::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("match_work_batch_idx").table(MatchWork::Table).col(MatchWork::Batch).to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Matches::Table)
                    .add_column(timestamp_with_time_zone_null(Matches::NotifiedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Matches::Table).add_column(uuid_null(Matches::Origin)).to_owned())
            .await?;
        // Pairs matched before this migration were told of when they were made.
        manager
            .exec_stmt(
                Query::update()
                    .table(Matches::Table)
                    .value(Matches::NotifiedAt, Expr::col(Matches::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("matches_notified_at_idx")
                    .table(Matches::Table)
                    .col(Matches::NotifiedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("matches_notified_at_idx").table(Matches::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Matches::Table).drop_column(Matches::Origin).to_owned()).await?;
        manager.alter_table(Table::alter().table(Matches::Table).drop_column(Matches::NotifiedAt).to_owned()).await?;
        manager.drop_table(Table::drop().table(MatchWork::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum MatchWork {
    Table,
    RecordId,
    Kind,
    Seq,
    Priority,
    Batch,
    Attempts,
    NextAttemptAt,
    LastError,
    Claim,
    ClaimedUntil,
    EnqueuedAt,
}

#[derive(DeriveIden)]
enum Matches {
    Table,
    CreatedAt,
    NotifiedAt,
    Origin,
}
