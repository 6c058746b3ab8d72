//! Kakehashi's database schema as an ordered list of reversible migrations.
//!
//! Every migration runs on `SQLite` (the embedded default) and `PostgreSQL` alike, so only portable
//! column types are used: UUIDs, text, integers, booleans, JSON and UTC timestamps.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_members;
mod m20261122_000002_records;
mod m20261122_000003_record_changes;
mod m20261122_000004_matches;
mod m20261122_000005_notifications;
mod m20261122_000006_saved_searches;
mod m20261122_000007_introductions;
mod m20261122_000008_match_mail;
mod m20261201_000010_web_sessions;
mod m20261201_000020_match_work;
mod m20261202_000030_seed_external_ref;
mod m20261202_000040_need_external_ref;
mod m20261202_000060_access_generation;
mod m20261203_000070_record_lists;
mod m20261206_000080_untold_matches;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_members::Migration),
            Box::new(m20261122_000002_records::Migration),
            Box::new(m20261122_000003_record_changes::Migration),
            Box::new(m20261122_000004_matches::Migration),
            Box::new(m20261122_000005_notifications::Migration),
            Box::new(m20261122_000006_saved_searches::Migration),
            Box::new(m20261122_000007_introductions::Migration),
            Box::new(m20261122_000008_match_mail::Migration),
            Box::new(m20261201_000010_web_sessions::Migration),
            Box::new(m20261201_000020_match_work::Migration),
            Box::new(m20261202_000030_seed_external_ref::Migration),
            Box::new(m20261202_000040_need_external_ref::Migration),
            Box::new(m20261202_000060_access_generation::Migration),
            Box::new(m20261203_000070_record_lists::Migration),
            Box::new(m20261206_000080_untold_matches::Migration),
        ]
    }
}
