//! Uploaded driver components and which version of each driver is active.

use super::{Store, StoreError, StoreResult, now_ms, on_db, on_tx};

/// A stored driver, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredDriver {
    /// `sha256:<hex>` of the component.
    pub digest: String,
    /// The manifest's name.
    pub name: String,
    /// The driver's version.
    pub version: String,
    /// The contract version it implements.
    pub contract: String,
    /// The manifest, as JSON.
    pub manifest: String,
    /// The component's size in bytes.
    pub size: i64,
    /// When it was uploaded.
    pub uploaded_at: i64,
}

/// A stored driver with its place in the activation history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverRecord {
    /// The driver.
    pub driver: StoredDriver,
    /// Whether it is the active version of its name.
    pub active: bool,
    /// Whether it is the version a rollback would return to.
    pub previous: bool,
}

#[derive(sqlx::FromRow)]
struct Activation {
    name: String,
    active_digest: String,
    previous_digest: Option<String>,
}

const COLUMNS: &str = "digest, name, version, contract, manifest, size, uploaded_at";

impl Store {
    /// Stores a component. Storing the same digest again changes nothing.
    pub async fn insert_driver(&self, driver: &StoredDriver, component: &[u8]) -> StoreResult<()> {
        on_db!(self, pool => sqlx::query(&format!("INSERT INTO drivers ({COLUMNS}, component) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"))
            .bind(&driver.digest)
            .bind(&driver.name)
            .bind(&driver.version)
            .bind(&driver.contract)
            .bind(&driver.manifest)
            .bind(driver.size)
            .bind(driver.uploaded_at)
            .bind(component)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Every stored driver with its activation state, by name then upload time.
    pub async fn drivers(&self) -> StoreResult<Vec<DriverRecord>> {
        let drivers: Vec<StoredDriver> = on_db!(self, pool => sqlx::query_as(&format!("SELECT {COLUMNS} FROM drivers ORDER BY name, uploaded_at, digest"))
            .fetch_all(pool)
            .await?);
        let activations: Vec<Activation> = on_db!(self, pool => sqlx::query_as("SELECT name, active_digest, previous_digest FROM driver_activations")
            .fetch_all(pool)
            .await?);
        Ok(drivers
            .into_iter()
            .map(|driver| {
                let slot = activations.iter().find(|a| a.name == driver.name);
                DriverRecord {
                    active: slot.is_some_and(|a| a.active_digest == driver.digest),
                    previous: slot.is_some_and(|a| {
                        a.previous_digest.as_deref() == Some(driver.digest.as_str())
                    }),
                    driver,
                }
            })
            .collect())
    }

    /// One stored driver by digest.
    pub async fn driver(&self, digest: &str) -> StoreResult<DriverRecord> {
        self.drivers()
            .await?
            .into_iter()
            .find(|record| record.driver.digest == digest)
            .ok_or_else(|| StoreError::NotFound(format!("Driver {digest}")))
    }

    /// A stored component's bytes.
    pub async fn driver_component(&self, digest: &str) -> StoreResult<Vec<u8>> {
        on_db!(self, pool => sqlx::query_scalar("SELECT component FROM drivers WHERE digest = $1").bind(digest).fetch_optional(pool).await?)
            .ok_or_else(|| StoreError::NotFound(format!("Driver {digest}")))
    }

    /// Makes `digest` the active version of its driver; the version it replaces is kept for
    /// rollback. Returns the replaced digest.
    pub async fn activate_driver(&self, name: &str, digest: &str) -> StoreResult<Option<String>> {
        let now = now_ms();
        let mut tx = self.write().await?;
        let previous = on_tx!(&mut tx, t => {
            let current: Option<String> = sqlx::query_scalar("SELECT active_digest FROM driver_activations WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut **t)
                .await?;
            match &current {
                Some(active) if active == digest => {}
                Some(active) => {
                    sqlx::query("UPDATE driver_activations SET active_digest = $2, previous_digest = $3, activated_at = $4 WHERE name = $1")
                        .bind(name)
                        .bind(digest)
                        .bind(active)
                        .bind(now)
                        .execute(&mut **t)
                        .await?;
                }
                None => {
                    sqlx::query("INSERT INTO driver_activations (name, active_digest, previous_digest, activated_at) VALUES ($1, $2, NULL, $3)")
                        .bind(name)
                        .bind(digest)
                        .bind(now)
                        .execute(&mut **t)
                        .await?;
                }
            }
            current.filter(|active| active != digest)
        });
        tx.commit().await?;
        Ok(previous)
    }

    /// Swaps a driver's active version with the previous one. Returns the digest now active.
    pub async fn rollback_driver(&self, name: &str) -> StoreResult<String> {
        let now = now_ms();
        let mut tx = self.write().await?;
        let restored = on_tx!(&mut tx, t => {
            let slot: Option<Activation> = sqlx::query_as("SELECT name, active_digest, previous_digest FROM driver_activations WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut **t)
                .await?;
            let Some(slot) = slot else {
                return Err(StoreError::NotFound(format!("Active driver {name}")));
            };
            let Some(previous) = slot.previous_digest else {
                return Err(StoreError::Conflict(format!("Driver {name} has no previous version to roll back to.")));
            };
            sqlx::query("UPDATE driver_activations SET active_digest = $2, previous_digest = $3, activated_at = $4 WHERE name = $1")
                .bind(name)
                .bind(&previous)
                .bind(&slot.active_digest)
                .bind(now)
                .execute(&mut **t)
                .await?;
            previous
        });
        tx.commit().await?;
        Ok(restored)
    }

    /// Deletes a stored driver that is not active. If it was the rollback target, there is no
    /// rollback target any more.
    pub async fn delete_driver(&self, digest: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        on_tx!(&mut tx, t => {
            let active: Option<String> = sqlx::query_scalar("SELECT name FROM driver_activations WHERE active_digest = $1")
                .bind(digest)
                .fetch_optional(&mut **t)
                .await?;
            if let Some(name) = active {
                return Err(StoreError::Conflict(format!(
                    "Driver {digest} is the active version of {name}; activate another version before deleting it."
                )));
            }
            sqlx::query("UPDATE driver_activations SET previous_digest = NULL WHERE previous_digest = $1")
                .bind(digest)
                .execute(&mut **t)
                .await?;
            let deleted = sqlx::query("DELETE FROM drivers WHERE digest = $1").bind(digest).execute(&mut **t).await?.rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound(format!("Driver {digest}")));
            }
        });
        tx.commit().await
    }
}
