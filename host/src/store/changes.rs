//! A number that changes whenever anything is committed to the store, for what is built from
//! it and kept (the instance pages). SQLite only: `PRAGMA data_version` on a connection of its
//! own, which never writes, so every commit of the pool (or of any process on the file) moves
//! it. PostgreSQL, shared by hosts that write without telling each other, has none: what is
//! read from it is always read again.

use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::{Store, StoreResult};

/// The connection that watches for commits.
pub(super) struct Changes {
    watcher: tokio::sync::Mutex<SqliteConnection>,
}

impl Changes {
    /// A watcher on the SQLite file `options` opens.
    pub(super) async fn open(options: &SqliteConnectOptions) -> StoreResult<Changes> {
        Ok(Changes {
            watcher: tokio::sync::Mutex::new(SqliteConnection::connect_with(options).await?),
        })
    }
}

impl Store {
    /// A number that differs from the one read before whenever something was committed in
    /// between; `None` when the store cannot tell (PostgreSQL).
    pub async fn data_version(&self) -> StoreResult<Option<i64>> {
        let Some(changes) = &self.changes else {
            return Ok(None);
        };
        let mut watcher = changes.watcher.lock().await;
        let version: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *watcher)
            .await?;
        Ok(Some(version))
    }
}
