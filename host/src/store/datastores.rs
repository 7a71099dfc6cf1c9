//! Datastores, their versions, who may see private versions, and which flavors a version allows.

use super::{Store, StoreError, StoreResult, Tx, now_ms, on_db, on_tx};

/// A datastore (the API's datastore type).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Datastore {
    /// Its id (a UUID).
    pub id: String,
    /// Its name, unique (for example the name a driver's manifest gives as its datastore).
    pub name: String,
    /// The version used when a request names none.
    pub default_version_id: Option<String>,
    /// When it was created.
    pub created_at: i64,
}

/// Who may see and use a datastore version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone.
    Public,
    /// Admins and member projects.
    Private,
}

impl Visibility {
    /// The stored and shown spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Visibility> {
        match text {
            "public" => Some(Visibility::Public),
            "private" => Some(Visibility::Private),
            _ => None,
        }
    }
}

/// A datastore version and the driver that serves it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DatastoreVersion {
    /// Its id (a UUID).
    pub id: String,
    /// Its datastore's id.
    pub datastore_id: String,
    /// Its datastore's name.
    pub datastore_name: String,
    /// Its name (for example `7.0`).
    pub name: String,
    /// The driver's name.
    pub driver_name: String,
    /// A semver requirement on the driver's version.
    pub driver_requirement: String,
    /// Trove's image field, kept for compatibility.
    pub image: String,
    /// Trove's packages field, kept for compatibility.
    pub packages: String,
    /// Whether new instances may use it.
    pub active: bool,
    /// `public` or `private`.
    pub visibility: String,
    /// When it was registered.
    pub created_at: i64,
}

impl DatastoreVersion {
    /// The visibility, parsed.
    pub fn visibility(&self) -> Visibility {
        Visibility::parse(&self.visibility).unwrap_or(Visibility::Public)
    }
}

/// What registering a datastore version needs.
#[derive(Debug, Clone)]
pub struct NewDatastoreVersion {
    /// The datastore's name; it is created when missing.
    pub datastore_name: String,
    /// The version's name.
    pub name: String,
    /// The driver's name.
    pub driver_name: String,
    /// A semver requirement on the driver's version.
    pub driver_requirement: String,
    /// Trove's image field.
    pub image: String,
    /// Trove's packages field.
    pub packages: String,
    /// Whether new instances may use it.
    pub active: bool,
    /// Whether it becomes its datastore's default version: `Some(false)` leaves the default as
    /// it is (as Trove does), `None` makes the first version of a datastore its default.
    pub default: Option<bool>,
    /// Who may see it.
    pub visibility: Visibility,
}

const VERSION_COLUMNS: &str = "v.id, v.datastore_id, d.name AS datastore_name, v.name, v.driver_name, v.driver_requirement, \
     v.image, v.packages, v.active, v.visibility, v.created_at";

impl Store {
    /// Every datastore, by name.
    pub async fn datastores(&self) -> StoreResult<Vec<Datastore>> {
        on_db!(self, pool => Ok(sqlx::query_as("SELECT id, name, default_version_id, created_at FROM datastores ORDER BY name")
            .fetch_all(pool)
            .await?))
    }

    /// A datastore by id or name.
    pub async fn datastore(&self, id_or_name: &str) -> StoreResult<Datastore> {
        on_db!(self, pool => sqlx::query_as("SELECT id, name, default_version_id, created_at FROM datastores WHERE id = $1 OR name = $1")
            .bind(id_or_name)
            .fetch_optional(pool)
            .await?)
        .ok_or_else(|| StoreError::NotFound(format!("Datastore '{id_or_name}'")))
    }

    /// Every version of every datastore, by datastore and version name.
    pub async fn datastore_versions(&self) -> StoreResult<Vec<DatastoreVersion>> {
        Ok(self.datastore_versions_shared().await?.to_vec())
    }

    /// Every version of every datastore, from the database.
    pub(super) async fn read_datastore_versions(&self) -> StoreResult<Vec<DatastoreVersion>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM datastore_versions v JOIN datastores d ON d.id = v.datastore_id ORDER BY d.name, v.name"
        );
        on_db!(self, pool => Ok(sqlx::query_as(&sql).fetch_all(pool).await?))
    }

    /// A datastore version by id.
    pub async fn datastore_version(&self, id: &str) -> StoreResult<DatastoreVersion> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM datastore_versions v JOIN datastores d ON d.id = v.datastore_id WHERE v.id = $1"
        );
        on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
            .ok_or_else(|| StoreError::NotFound(format!("Datastore version '{id}'")))
    }

    /// A version of a datastore by the version's id or name.
    pub async fn datastore_version_of(
        &self,
        datastore_id: &str,
        id_or_name: &str,
    ) -> StoreResult<DatastoreVersion> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM datastore_versions v JOIN datastores d ON d.id = v.datastore_id \
             WHERE v.datastore_id = $1 AND (v.id = $2 OR v.name = $2)"
        );
        on_db!(self, pool => sqlx::query_as(&sql).bind(datastore_id).bind(id_or_name).fetch_optional(pool).await?)
            .ok_or_else(|| StoreError::NotFound(format!("Datastore version '{id_or_name}'")))
    }

    /// Registers a datastore version, creating its datastore if needed. Fails with `Conflict`
    /// if the datastore already has a version of that name.
    pub async fn create_datastore_version(
        &self,
        new: &NewDatastoreVersion,
    ) -> StoreResult<DatastoreVersion> {
        let _catalog = self.catalog_write();
        let mut tx = self.write().await?;
        let id = insert_version(&mut tx, new).await?;
        tx.commit().await?;
        self.datastore_version(&id).await
    }

    /// Registers a datastore version from configuration unless it exists; returns whether it
    /// was created.
    pub async fn ensure_datastore_version(&self, new: &NewDatastoreVersion) -> StoreResult<bool> {
        let _catalog = self.catalog_write();
        let mut tx = self.write().await?;
        match insert_version(&mut tx, new).await {
            Ok(_) => {
                tx.commit().await?;
                Ok(true)
            }
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Changes a version's driver, image, packages, activity, visibility, or makes it the default.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_datastore_version(
        &self,
        id: &str,
        driver_name: Option<&str>,
        driver_requirement: Option<&str>,
        image: Option<&str>,
        packages: Option<&str>,
        active: Option<bool>,
        visibility: Option<Visibility>,
        default: Option<bool>,
    ) -> StoreResult<DatastoreVersion> {
        let _catalog = self.catalog_write();
        let current = self.datastore_version(id).await?;
        let mut tx = self.write().await?;
        on_tx!(&mut tx, t => {
            sqlx::query(
                "UPDATE datastore_versions SET driver_name = $2, driver_requirement = $3, image = $4, packages = $5, \
                 active = $6, visibility = $7 WHERE id = $1",
            )
            .bind(id)
            .bind(driver_name.unwrap_or(&current.driver_name))
            .bind(driver_requirement.unwrap_or(&current.driver_requirement))
            .bind(image.unwrap_or(&current.image))
            .bind(packages.unwrap_or(&current.packages))
            .bind(active.unwrap_or(current.active))
            .bind(visibility.unwrap_or(current.visibility()).as_str())
            .execute(&mut **t)
            .await?;
            match default {
                Some(true) => {
                    sqlx::query("UPDATE datastores SET default_version_id = $2 WHERE id = $1")
                        .bind(&current.datastore_id)
                        .bind(id)
                        .execute(&mut **t)
                        .await?;
                }
                Some(false) => {
                    sqlx::query("UPDATE datastores SET default_version_id = NULL WHERE id = $1 AND default_version_id = $2")
                        .bind(&current.datastore_id)
                        .bind(id)
                        .execute(&mut **t)
                        .await?;
                }
                None => {}
            }
        });
        tx.commit().await?;
        self.datastore_version(id).await
    }

    /// Deletes a datastore version with its member and flavor lists. The caller checks that no
    /// instance uses it.
    pub async fn delete_datastore_version(&self, id: &str) -> StoreResult<()> {
        let _catalog = self.catalog_write();
        let version = self.datastore_version(id).await?;
        let mut tx = self.write().await?;
        on_tx!(&mut tx, t => {
            sqlx::query("DELETE FROM datastore_version_members WHERE version_id = $1").bind(id).execute(&mut **t).await?;
            sqlx::query("DELETE FROM datastore_version_flavors WHERE version_id = $1").bind(id).execute(&mut **t).await?;
            sqlx::query("UPDATE datastores SET default_version_id = NULL WHERE default_version_id = $1").bind(id).execute(&mut **t).await?;
            sqlx::query("DELETE FROM datastore_versions WHERE id = $1").bind(id).execute(&mut **t).await?;
            // A datastore without versions goes with its last version.
            sqlx::query("DELETE FROM datastores WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM datastore_versions WHERE datastore_id = $1)")
                .bind(&version.datastore_id)
                .execute(&mut **t)
                .await?;
        });
        tx.commit().await
    }

    /// The projects a private version is shared with.
    pub async fn datastore_version_members(&self, version_id: &str) -> StoreResult<Vec<String>> {
        on_db!(self, pool => Ok(sqlx::query_scalar("SELECT project_id FROM datastore_version_members WHERE version_id = $1 ORDER BY project_id")
            .bind(version_id)
            .fetch_all(pool)
            .await?))
    }

    /// Shares a private version with a project.
    pub async fn add_datastore_version_member(
        &self,
        version_id: &str,
        project_id: &str,
    ) -> StoreResult<()> {
        self.datastore_version(version_id).await?;
        on_db!(self, pool => sqlx::query("INSERT INTO datastore_version_members (version_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(version_id)
            .bind(project_id)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Stops sharing a private version with a project.
    pub async fn remove_datastore_version_member(
        &self,
        version_id: &str,
        project_id: &str,
    ) -> StoreResult<()> {
        let removed = on_db!(self, pool => sqlx::query("DELETE FROM datastore_version_members WHERE version_id = $1 AND project_id = $2")
            .bind(version_id)
            .bind(project_id)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        if removed == 0 {
            return Err(StoreError::NotFound(format!(
                "Member {project_id} of datastore version {version_id}"
            )));
        }
        Ok(())
    }

    /// The flavors a version is limited to; empty means every flavor.
    pub async fn datastore_version_flavors(&self, version_id: &str) -> StoreResult<Vec<String>> {
        on_db!(self, pool => Ok(sqlx::query_scalar("SELECT flavor_id FROM datastore_version_flavors WHERE version_id = $1 ORDER BY flavor_id")
            .bind(version_id)
            .fetch_all(pool)
            .await?))
    }

    /// Replaces the flavors a version is limited to.
    pub async fn set_datastore_version_flavors(
        &self,
        version_id: &str,
        flavor_ids: &[String],
    ) -> StoreResult<()> {
        self.datastore_version(version_id).await?;
        let mut tx = self.write().await?;
        on_tx!(&mut tx, t => {
            sqlx::query("DELETE FROM datastore_version_flavors WHERE version_id = $1").bind(version_id).execute(&mut **t).await?;
            for flavor_id in flavor_ids {
                sqlx::query("INSERT INTO datastore_version_flavors (version_id, flavor_id) VALUES ($1, $2)")
                    .bind(version_id)
                    .bind(flavor_id)
                    .execute(&mut **t)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                            StoreError::NotFound(format!("Flavor {flavor_id}"))
                        }
                        _ => StoreError::Database(e),
                    })?;
            }
        });
        tx.commit().await
    }
}

/// Inserts a version (and its datastore when missing) in `tx`; returns the version's id.
async fn insert_version(tx: &mut Tx, new: &NewDatastoreVersion) -> StoreResult<String> {
    let now = now_ms();
    let version_id = uuid::Uuid::new_v4().to_string();
    on_tx!(tx, t => {
        let existing: Option<String> = sqlx::query_scalar("SELECT id FROM datastores WHERE name = $1")
            .bind(&new.datastore_name)
            .fetch_optional(&mut **t)
            .await?;
        let datastore_id = match existing {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query("INSERT INTO datastores (id, name, default_version_id, created_at) VALUES ($1, $2, NULL, $3)")
                    .bind(&id)
                    .bind(&new.datastore_name)
                    .bind(now)
                    .execute(&mut **t)
                    .await?;
                id
            }
        };
        sqlx::query(
            "INSERT INTO datastore_versions (id, datastore_id, name, driver_name, driver_requirement, image, packages, active, visibility, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&version_id)
        .bind(&datastore_id)
        .bind(&new.name)
        .bind(&new.driver_name)
        .bind(&new.driver_requirement)
        .bind(&new.image)
        .bind(&new.packages)
        .bind(new.active)
        .bind(new.visibility.as_str())
        .bind(now)
        .execute(&mut **t)
        .await
        .map_err(|e| StoreError::unique(e, || "Datastore Version Already Exists.".to_string()))?;
        if new.default == Some(true) {
            sqlx::query("UPDATE datastores SET default_version_id = $2 WHERE id = $1")
                .bind(&datastore_id)
                .bind(&version_id)
                .execute(&mut **t)
                .await?;
        } else if new.default.is_none() {
            // The first version of a datastore is its default until another is chosen.
            sqlx::query("UPDATE datastores SET default_version_id = $2 WHERE id = $1 AND default_version_id IS NULL")
                .bind(&datastore_id)
                .bind(&version_id)
                .execute(&mut **t)
                .await?;
        }
    });
    Ok(version_id)
}
