//! Persistence: an SQLite file by default, PostgreSQL when several hosts share the work. Both
//! run the same SQL (numbered `$n` parameters, standard types); every query is written once and
//! compiled for both through [`on_db!`] and [`on_tx!`]. Migrations are forward-only and applied
//! at start. One file per aggregate; SQL lives nowhere else.
//!
//! Must not import: http, service, orchestrator, runtime, backends.

mod changes;
mod configurations;
mod datastores;
mod drivers;
mod flavors;
mod hosts;
mod instances;
mod listing;
mod quotas;
mod status;
mod tasks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

pub use configurations::Configuration;
pub use datastores::{Datastore, DatastoreVersion, NewDatastoreVersion, Visibility};
pub use drivers::{DriverRecord, StoredDriver};
pub use flavors::Flavor;
pub use hosts::{HostAnnouncement, HostRecord};
pub use instances::{Instance, InstanceFilter, InstanceUpdate, NewInstance, Placement};
pub use listing::ListedInstance;
pub use quotas::{Reservation, Usage};
pub use status::{InstanceStatus, QuotaState, UnknownState};
pub use tasks::{Advance, NewTask, Task, TaskHost, TaskState, Wait};

/// Migrations for each database.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// What went wrong in the store, by who is to blame.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness or reference rule would be broken.
    #[error("{0}")]
    Conflict(String),
    /// A quota would be exceeded.
    #[error(
        "quota exceeded for {resource}: {requested} requested, {in_use} in use and {reserved} reserved of a limit of {limit}"
    )]
    OverQuota {
        /// The resource (`instances`, `volumes`, …).
        resource: String,
        /// How much was asked for.
        requested: i64,
        /// What is in use.
        in_use: i64,
        /// What is reserved for resources being built.
        reserved: i64,
        /// The limit.
        limit: i64,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A stored value this release cannot read.
    #[error("the store holds something unreadable: {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// A shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    /// A row whose state names nothing this release knows is `Corrupt`; anything else is the
    /// database's failure.
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::ColumnDecode { index, source } = &error
            && let Some(unknown) = source.downcast_ref::<UnknownState>()
        {
            return StoreError::Corrupt(format!("column {index}: {unknown}"));
        }
        StoreError::Database(error)
    }
}

impl StoreError {
    /// Maps a unique-constraint violation to `Conflict(message)`, anything else to `Database`.
    pub(crate) fn unique(error: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(message())
            }
            _ => StoreError::Database(error),
        }
    }
}

#[derive(Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// The catalog held in memory (SQLite only: see [`listing`]).
    catalog: Option<std::sync::Arc<listing::Catalog>>,
    /// What tells that something was committed (SQLite only: see [`changes`]).
    changes: Option<std::sync::Arc<changes::Changes>>,
}

/// An open write transaction.
pub enum Tx {
    /// On SQLite.
    Sqlite(Transaction<'static, Sqlite>),
    /// On PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$pool` bound to the concrete pool; the body is compiled once per database.
macro_rules! on_db {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Runs `$body` with `$tx` bound to the concrete transaction (`&mut Transaction<…>`); execute
/// statements with `&mut **$tx`.
macro_rules! on_tx {
    ($transaction:expr, $tx:ident => $body:expr) => {
        match $transaction {
            $crate::store::Tx::Sqlite($tx) => $body,
            $crate::store::Tx::Postgres($tx) => $body,
        }
    };
}
pub(crate) use on_tx;

impl Store {
    /// Connects (creating an SQLite file if needed) and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let mut changes = None;
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Db::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone())
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            changes = Some(std::sync::Arc::new(changes::Changes::open(&options).await?));
            Db::Sqlite(pool)
        };
        let catalog = matches!(db, Db::Sqlite(_)).then(Default::default);
        Ok(Store {
            db,
            catalog,
            changes,
        })
    }

    /// Which database this is, for logs.
    pub fn kind(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgresql",
        }
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so transactions that read before they write serialise instead of failing
    /// when they try to upgrade their lock.
    pub async fn write(&self) -> StoreResult<Tx> {
        Ok(match &self.db {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Milliseconds since the Unix epoch, the store's time unit.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
