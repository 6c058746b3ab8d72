//! Where the database stands, in one cheap read: the access generation (moved on by triggers at
//! every change to members, grants and revoked sessions; see the `access_generation` migration)
//! and the last change-log position. A process keeping data derived from those in memory checks
//! it against this on every request.

use sea_orm::{ConnectionTrait, Statement};

use crate::{Result, StoreError};

fn missing() -> StoreError {
    StoreError::Corrupt { column: "access_generation.generation", value: "no row".into() }
}

/// The database's position now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    /// Moves on with every committed change to who may do what.
    pub access: i64,
    /// The last change-log position written (0 when none).
    pub changes: i64,
}

/// The current access generation.
///
/// # Errors
/// On a database failure.
pub async fn access(conn: &impl ConnectionTrait) -> Result<i64> {
    let sql = "SELECT generation FROM access_generation WHERE id = 1";
    let row = conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql)).await?;
    let row = row.ok_or_else(missing)?;
    Ok(row.try_get_by_index(0)?)
}

/// The access generation and the last change-log position, in one statement.
///
/// # Errors
/// On a database failure.
pub async fn now(conn: &impl ConnectionTrait) -> Result<Generation> {
    let sql =
        "SELECT generation, (SELECT COALESCE(MAX(seq), 0) FROM record_changes) FROM access_generation WHERE id = 1";
    let row = conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql)).await?;
    let row = row.ok_or_else(missing)?;
    Ok(Generation { access: row.try_get_by_index(0)?, changes: row.try_get_by_index(1)? })
}
