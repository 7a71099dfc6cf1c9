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
    /// Where the other hosts reach it (its link URL; empty for a host that never gave one).
    pub url: String,
    /// Where its node directories are.
    pub nodes_dir: String,
}

/// What a host says of itself when it heartbeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAnnouncement {
    /// Its id (stable across its restarts).
    pub id: String,
    /// Its name, for people.
    pub name: String,
    /// The backend its nodes run on.
    pub backend: String,
    /// Where the other hosts reach it.
    pub url: String,
    /// Where its node directories are.
    pub nodes_dir: String,
}

const COLUMNS: &str = "id, name, backend, started_at, heartbeat_at, url, nodes_dir";

impl Store {
    /// Records that a host has started (or, with `started` false, is still alive).
    pub async fn heartbeat(&self, host: &HostAnnouncement, started: bool) -> StoreResult<()> {
        let now = now_ms();
        on_db!(self, pool => sqlx::query(
            "INSERT INTO hosts (id, name, backend, started_at, heartbeat_at, url, nodes_dir) VALUES ($1, $2, $3, $4, $4, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET name = $2, backend = $3, heartbeat_at = $4, url = $6, nodes_dir = $7, \
             started_at = CASE WHEN $5 THEN $4 ELSE hosts.started_at END",
        )
        .bind(&host.id)
        .bind(&host.name)
        .bind(&host.backend)
        .bind(now)
        .bind(started)
        .bind(&host.url)
        .bind(&host.nodes_dir)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Every host that ever ran on this store.
    pub async fn hosts(&self) -> StoreResult<Vec<HostRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM hosts ORDER BY name, id");
        on_db!(self, pool => Ok(sqlx::query_as(&sql).fetch_all(pool).await?))
    }

    /// One host.
    pub async fn host(&self, id: &str) -> StoreResult<HostRecord> {
        let sql = format!("SELECT {COLUMNS} FROM hosts WHERE id = $1");
        on_db!(self, pool => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| super::StoreError::NotFound(format!("host {id}"))))
    }
}
