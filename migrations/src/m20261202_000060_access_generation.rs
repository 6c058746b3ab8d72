//! The access generation: one counter that every change to who may do what moves on, so a process
//! that keeps members, open sessions and grants in memory learns with one cheap read per request
//! that what it keeps is out of date — whichever process, command or hand made the change.
//!
//! Triggers move it on: any write to `members`, a grant given, changed or removed, and a session
//! revoked or removed. Being written in the changing transaction, the new value becomes visible
//! with the change, never before it. On `PostgreSQL` the counter is written when the transaction
//! commits (a deferred trigger), so a transaction takes the counter's row lock last and holds it
//! only while committing, and no two transactions can deadlock over it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables and the writes to them that change access.
const WATCHED: [(&str, &str); 3] = [
    ("members", "INSERT OR UPDATE OR DELETE"),
    ("access_grants", "INSERT OR UPDATE OR DELETE"),
    ("refresh_tokens", "UPDATE OF revoked_at OR DELETE"),
];

fn sqlite_triggers() -> Vec<String> {
    let mut out = Vec::new();
    for (table, events) in WATCHED {
        for event in events.split(" OR ") {
            let name = event.split_whitespace().next().unwrap_or(event).to_lowercase();
            out.push(format!(
                "CREATE TRIGGER {table}_{name}_access_generation AFTER {event} ON {table} \
                 BEGIN UPDATE access_generation SET generation = generation + 1; END"
            ));
        }
    }
    out
}

fn sqlite_trigger_names() -> Vec<String> {
    let mut out = Vec::new();
    for (table, events) in WATCHED {
        for event in events.split(" OR ") {
            let name = event.split_whitespace().next().unwrap_or(event).to_lowercase();
            out.push(format!("{table}_{name}_access_generation"));
        }
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE TABLE access_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)")
            .await?;
        db.execute_unprepared("INSERT INTO access_generation (id, generation) VALUES (1, 0)").await?;
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION access_generation_bump() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN UPDATE access_generation SET generation = generation + 1; RETURN NULL; END $$",
                )
                .await?;
                for (table, events) in WATCHED {
                    db.execute_unprepared(&format!(
                        "CREATE CONSTRAINT TRIGGER {table}_access_generation AFTER {events} ON {table} \
                         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION access_generation_bump()"
                    ))
                    .await?;
                }
            }
            _ => {
                for trigger in sqlite_triggers() {
                    db.execute_unprepared(&trigger).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                for (table, _) in WATCHED {
                    db.execute_unprepared(&format!("DROP TRIGGER {table}_access_generation ON {table}")).await?;
                }
                db.execute_unprepared("DROP FUNCTION access_generation_bump()").await?;
            }
            _ => {
                for name in sqlite_trigger_names() {
                    db.execute_unprepared(&format!("DROP TRIGGER {name}")).await?;
                }
            }
        }
        db.execute_unprepared("DROP TABLE access_generation").await?;
        Ok(())
    }
}
