//! Configuration groups.

use super::{Store, StoreError, StoreResult, Tx, now_ms, on_db, on_tx};

/// A configuration group row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Configuration {
    /// Its id (a UUID).
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The datastore version its values are for.
    pub datastore_version_id: String,
    /// The values as the driver normalised them: a JSON list of `[name, value]` pairs.
    pub settings: String,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, project_id, name, description, datastore_version_id, settings, created_at, updated_at";

impl Store {
    /// A project's groups (every project's for `None`), oldest first.
    pub async fn configurations(
        &self,
        project_id: Option<&str>,
    ) -> StoreResult<Vec<Configuration>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM configurations WHERE ($1 = '' OR project_id = $1) ORDER BY created_at, id"
        );
        let project = project_id.unwrap_or_default();
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(project).fetch_all(pool).await?))
    }

    /// One group by id.
    pub async fn configuration(&self, id: &str) -> StoreResult<Configuration> {
        let sql = format!("SELECT {COLUMNS} FROM configurations WHERE id = $1");
        on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
            .ok_or_else(|| StoreError::NotFound(format!("Configuration group {id}")))
    }
}

impl Tx {
    /// Records a new group.
    pub async fn insert_configuration(&mut self, group: &Configuration) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO configurations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        on_tx!(self, t => sqlx::query(&sql)
            .bind(&group.id)
            .bind(&group.project_id)
            .bind(&group.name)
            .bind(&group.description)
            .bind(&group.datastore_version_id)
            .bind(&group.settings)
            .bind(group.created_at)
            .bind(group.updated_at)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Replaces a group's name, description and values.
    pub async fn update_configuration(
        &mut self,
        id: &str,
        name: &str,
        description: &str,
        settings: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        on_tx!(self, t => sqlx::query(
            "UPDATE configurations SET name = $2, description = $3, settings = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(description)
        .bind(settings)
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Deletes a group, unless a live instance uses it; returns whether it was deleted.
    pub async fn delete_unused_configuration(&mut self, id: &str) -> StoreResult<bool> {
        let deleted = on_tx!(self, t => sqlx::query(
            "DELETE FROM configurations WHERE id = $1 AND NOT EXISTS \
             (SELECT 1 FROM instances WHERE configuration_id = $1 AND deleted_at IS NULL)",
        )
        .bind(id)
        .execute(&mut **t)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }
}
