//! The hosts sharing this store: each one heartbeats while it runs, so that the others can
//! tell its nodes' state apart from their own and show it truthfully when it stops.

use super::{Store, StoreResult, now_ms, on_db};

/// A host row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HostRecord {
    /// Its id (stable across its restarts).
    pub id: String,
    /// Its name, for people.
    pub name: String,
    /// The backend its nodes run on.
    pub backend: String,
    /// When it last started.
    pub started_at: i64,
    /// When it last said it was alive.
    pub heartbeat_at: i64,
}

impl Store {
    /// Records that `id` has started (or is still alive, with `started` false).
    pub async fn heartbeat(
        &self,
        id: &str,
        name: &str,
        backend: &str,
        started: bool,
    ) -> StoreResult<()> {
        let now = now_ms();
        on_db!(self, pool => sqlx::query(
            "INSERT INTO hosts (id, name, backend, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (id) DO UPDATE SET name = $2, backend = $3, heartbeat_at = $4, \
             started_at = CASE WHEN $5 THEN $4 ELSE hosts.started_at END",
        )
        .bind(id)
        .bind(name)
        .bind(backend)
        .bind(now)
        .bind(started)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Every host that ever ran on this store.
    pub async fn hosts(&self) -> StoreResult<Vec<HostRecord>> {
        on_db!(self, pool => Ok(sqlx::query_as("SELECT id, name, backend, started_at, heartbeat_at FROM hosts ORDER BY name, id")
            .fetch_all(pool)
            .await?))
    }
}
