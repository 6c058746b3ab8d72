//! Kakehashi's persistence. The only crate that speaks SQL.
//!
//! Functions take any [`ConnectionTrait`], so a service can run several of them in one
//! transaction. Rows leave this crate as plain records with domain enums, never as entities: a
//! value the domain does not know is reported as [`StoreError::Corrupt`] rather than guessed at.

pub mod audit;
pub mod changes;
pub mod coverage;
pub mod entity;
pub mod generation;
pub mod grants;
pub mod introductions;
pub mod match_work;
pub mod matches;
pub mod members;
pub mod needs;
pub mod notifications;
pub mod organizations;
pub mod outbox;
pub mod records;
pub mod saved_searches;
pub mod seeds;
pub mod tokens;
pub mod web_sessions;

use std::time::Duration;

use kakehashi_migration::{Migrator, MigratorTrait};
pub use sea_orm::{ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use sea_orm::{ConnectOptions, Database, DbBackend, SqlErr, SqliteTransactionMode, Statement, TransactionOptions};

/// Errors of the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (an e-mail address or a name already taken).
    #[error("a record with the same unique value already exists")]
    Conflict,
    #[error("stored value `{value}` of {column} is not understood")]
    Corrupt { column: &'static str, value: String },
    #[error(transparent)]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict,
            _ => StoreError::Db(err),
        }
    }
}

impl StoreError {
    /// Whether the database cannot serve right now (unreachable, no connection free in time,
    /// disk full, read-only, locked) rather than refusing this request: the caller may retry.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(err) => is_unavailable(err),
            StoreError::Conflict | StoreError::Corrupt { .. } => false,
        }
    }
}

/// See [`StoreError::is_unavailable`].
#[must_use]
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // Primary result codes (the low byte of an extended one): BUSY, LOCKED,
                    // NOMEM, READONLY, IOERR, FULL, CANTOPEN.
                    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 7 | 8 | 10 | 13 | 14))
                } else {
                    // SQLSTATE classes: connection exception, insufficient resources (disk full,
                    // out of memory, too many connections), operator intervention (shutdown).
                    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
                }
            }
            _ => false,
        },
        _ => false,
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub(crate) fn json_list(column: &'static str, value: &serde_json::Value) -> Result<Vec<String>> {
    serde::Deserialize::deserialize(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
}

pub(crate) fn parse<T: std::str::FromStr>(column: &'static str, value: &str) -> Result<T> {
    value.parse().map_err(|_| StoreError::Corrupt { column, value: value.to_owned() })
}

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`); a request waits at most
/// `acquire_timeout` for a connection.
///
/// `SQLite` gets WAL journaling, enforced foreign keys and a busy timeout, so that the API's
/// concurrent writers wait for each other instead of failing.
///
/// The first connection may take longer than `acquire_timeout` (a server starting on a busy
/// machine, or beside a database that is still coming up): a pool timeout at this point is tried
/// again, with a warning, for up to [`START_PATIENCE`]. Any other error is returned at once.
///
/// # Errors
/// When the database cannot be reached or opened.
pub async fn connect(url: &str, max_connections: u32, acquire_timeout: Duration) -> Result<DatabaseConnection> {
    let deadline = std::time::Instant::now() + START_PATIENCE;
    loop {
        match open_pool(url, max_connections, acquire_timeout).await {
            Err(err) if is_pool_timeout(&err) && std::time::Instant::now() < deadline => {
                tracing::warn!(
                    acquire_timeout_ms = acquire_timeout.as_millis(),
                    "the database gave no connection in time at start; trying again"
                );
            }
            result => return Ok(result?),
        }
    }
}

/// How long [`connect`] keeps trying for a first connection that times out.
pub const START_PATIENCE: Duration = Duration::from_secs(30);

/// Whether `err` is the pool's timeout waiting for a connection, however sea-orm wraps it.
fn is_pool_timeout(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Conn(sea_orm::RuntimeErr::SqlxError(inner)) | DbErr::Query(sea_orm::RuntimeErr::SqlxError(inner)) => {
            matches!(**inner, sea_orm::sqlx::Error::PoolTimedOut)
        }
        _ => false,
    }
}

async fn open_pool(url: &str, max_connections: u32, acquire_timeout: Duration) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        // Short, so that a database outage answers 503 quickly instead of holding every
        // request until a long timeout.
        .acquire_timeout(acquire_timeout)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // No memory map: each connection of the pool would map the file anew, and the
                // process's resident size would count the same pages once per connection (1.5 GiB
                // of a 100,000-seed database across the pool). Reads go through the kernel's page
                // cache, shared and reclaimable, and SQLite's own small cache per connection.
                .pragma("mmap_size", "0")
        })
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_release(|conn, _| Box::pin(release_only_outside_transaction(conn)))
        });
    Database::connect(options).await
}

/// Keeps a connection in the pool only if it is outside any transaction (closing it otherwise).
///
/// After a failed statement or `COMMIT` (a full disk: `SQLITE_FULL`, `SQLITE_IOERR`), `SQLite` may
/// already have rolled the transaction back by itself, so the driver's `ROLLBACK` fails and its
/// count of open transactions stays at one. Reused, such a connection would turn the next
/// transaction's `BEGIN` into a `SAVEPOINT` and its `COMMIT` into a `RELEASE`, and after a second
/// failure leave a transaction open that is never committed: writes acknowledged but never
/// stored, and the write lock held against every other connection ("database is locked").
async fn release_only_outside_transaction(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> std::result::Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection as _;
    // The rollback of a dropped transaction is queued on the connection: a round trip lets it
    // run before the count is read.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("closing a database connection left inside a failed transaction");
        return Ok(false);
    }
    Ok(true)
}

/// Applies every pending migration.
///
/// # Errors
/// When a migration fails; it is reported with its name.
pub async fn migrate(db: &DatabaseConnection) -> Result<()> {
    Ok(Migrator::up(db, None).await?)
}

/// Starts a transaction that writes. On `SQLite` it takes the write lock at `BEGIN`
/// (`IMMEDIATE`), so a transaction that reads first cannot fail at its first write because
/// another writer committed in between (`SQLITE_BUSY_SNAPSHOT`); it waits its turn instead.
///
/// # Errors
/// When the database cannot start one.
pub async fn write_txn(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    db.begin_with_options(options).await
}

/// Names of the migrations not yet applied.
///
/// # Errors
/// When the migration table cannot be read.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>> {
    Ok(Migrator::get_pending_migrations(db).await?.iter().map(|m| m.name().to_owned()).collect())
}

/// A trivial query that proves the database answers.
///
/// # Errors
/// When it does not.
pub async fn ping(db: &DatabaseConnection) -> Result<()> {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(backend, "SELECT 1")).await?;
    Ok(())
}

/// Which engine a connection speaks to, for the few places where that matters (logs, readiness).
#[must_use]
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgresql",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}
