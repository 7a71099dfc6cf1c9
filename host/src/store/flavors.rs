//! Flavors: compute sizes defined by the operator.

use super::{Store, StoreError, StoreResult, now_ms, on_db, on_tx};

/// A flavor.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Flavor {
    /// Its id (Trove shows it as a string; integer-looking ids are also shown as numbers).
    pub id: String,
    /// Its name, unique.
    pub name: String,
    /// Memory, MiB.
    pub ram_mb: i64,
    /// Virtual CPUs.
    pub vcpus: i64,
    /// When it was created.
    pub created_at: i64,
}

impl Store {
    /// Every flavor, ordered by memory then id.
    pub async fn flavors(&self) -> StoreResult<Vec<Flavor>> {
        Ok(self.flavors_shared().await?.to_vec())
    }

    /// Every flavor, from the database.
    pub(super) async fn read_flavors(&self) -> StoreResult<Vec<Flavor>> {
        on_db!(self, pool => Ok(sqlx::query_as("SELECT id, name, ram_mb, vcpus, created_at FROM flavors ORDER BY ram_mb, id")
            .fetch_all(pool)
            .await?))
    }

    /// One flavor by id.
    pub async fn flavor(&self, id: &str) -> StoreResult<Flavor> {
        on_db!(self, pool => sqlx::query_as("SELECT id, name, ram_mb, vcpus, created_at FROM flavors WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or_else(|| StoreError::NotFound(format!("Flavor {id}")))
    }

    /// Creates a flavor. Fails with `Conflict` if the id or name is taken.
    pub async fn create_flavor(
        &self,
        id: &str,
        name: &str,
        ram_mb: i64,
        vcpus: i64,
    ) -> StoreResult<Flavor> {
        let _catalog = self.catalog_write();
        let created_at = now_ms();
        on_db!(self, pool => sqlx::query("INSERT INTO flavors (id, name, ram_mb, vcpus, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(name)
            .bind(ram_mb)
            .bind(vcpus)
            .bind(created_at)
            .execute(pool)
            .await.map(|done| done.rows_affected()))
        .map_err(|e| StoreError::unique(e, || format!("A flavor with id {id} or name {name} already exists.")))?;
        Ok(Flavor {
            id: id.into(),
            name: name.into(),
            ram_mb,
            vcpus,
            created_at,
        })
    }

    /// Creates a flavor unless one with this id exists (seeding from configuration).
    pub async fn ensure_flavor(
        &self,
        id: &str,
        name: &str,
        ram_mb: i64,
        vcpus: i64,
    ) -> StoreResult<()> {
        let _catalog = self.catalog_write();
        let created_at = now_ms();
        on_db!(self, pool => sqlx::query(
            "INSERT INTO flavors (id, name, ram_mb, vcpus, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .bind(ram_mb)
        .bind(vcpus)
        .bind(created_at)
        .execute(pool)
        .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Deletes a flavor that no datastore version refers to.
    pub async fn delete_flavor(&self, id: &str) -> StoreResult<()> {
        let _catalog = self.catalog_write();
        let mut tx = self.write().await?;
        let result = on_tx!(&mut tx, t => {
            sqlx::query("DELETE FROM datastore_version_flavors WHERE flavor_id = $1").bind(id).execute(&mut **t).await?;
            sqlx::query("DELETE FROM flavors WHERE id = $1").bind(id).execute(&mut **t).await?.rows_affected()
        });
        if result == 0 {
            return Err(StoreError::NotFound(format!("Flavor {id}")));
        }
        tx.commit().await
    }
}
