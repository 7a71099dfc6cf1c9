//! Quota limits per project and what each project uses. A reservation is taken inside the
//! transaction that creates the resource, with a conditional update that never lets usage
//! pass the limit, however many transactions race: PostgreSQL re-checks the condition on the
//! locked row, SQLite serialises writers.

use super::{Store, StoreError, StoreResult, Tx, on_db, on_tx};

/// What a project uses of one resource.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Usage {
    /// The resource.
    pub resource: String,
    /// Held by existing resources.
    pub in_use: i64,
    /// Held by resources still being built.
    pub reserved: i64,
}

/// An amount reserved for a resource being built: committed when it is built, released if it
/// fails.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reservation {
    /// The project.
    pub project_id: String,
    /// The resource.
    pub resource: String,
    /// How much.
    pub amount: i64,
}

impl Store {
    /// The limits a project has that differ from the defaults.
    pub async fn quota_overrides(&self, project_id: &str) -> StoreResult<Vec<(String, i64)>> {
        on_db!(self, pool => Ok(sqlx::query_as("SELECT resource, hard_limit FROM quotas WHERE project_id = $1 ORDER BY resource")
            .bind(project_id)
            .fetch_all(pool)
            .await?))
    }

    /// Sets a project's limit for a resource.
    pub async fn set_quota(&self, project_id: &str, resource: &str, limit: i64) -> StoreResult<()> {
        on_db!(self, pool => sqlx::query(
            "INSERT INTO quotas (project_id, resource, hard_limit) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit",
        )
        .bind(project_id)
        .bind(resource)
        .bind(limit)
        .execute(pool)
        .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// What a project uses, per resource it has ever used.
    pub async fn usages(&self, project_id: &str) -> StoreResult<Vec<Usage>> {
        on_db!(self, pool => Ok(sqlx::query_as("SELECT resource, in_use, reserved FROM quota_usages WHERE project_id = $1 ORDER BY resource")
            .bind(project_id)
            .fetch_all(pool)
            .await?))
    }
}

impl Tx {
    /// Reserves `amount` of `resource` for `project_id` if it stays within `limit` (a negative
    /// limit means unlimited); fails with `OverQuota` otherwise. Part of this transaction.
    pub async fn reserve(
        &mut self,
        project_id: &str,
        resource: &str,
        amount: i64,
        limit: i64,
    ) -> StoreResult<Reservation> {
        on_tx!(self, t => {
            sqlx::query("INSERT INTO quota_usages (project_id, resource, in_use, reserved) VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING")
                .bind(project_id)
                .bind(resource)
                .execute(&mut **t)
                .await?;
            let granted = sqlx::query(
                "UPDATE quota_usages SET reserved = reserved + $3 \
                 WHERE project_id = $1 AND resource = $2 AND ($4 < 0 OR in_use + reserved + $3 <= $4)",
            )
            .bind(project_id)
            .bind(resource)
            .bind(amount)
            .bind(limit)
            .execute(&mut **t)
            .await?
            .rows_affected();
            if granted == 0 {
                let usage: Usage = sqlx::query_as("SELECT resource, in_use, reserved FROM quota_usages WHERE project_id = $1 AND resource = $2")
                    .bind(project_id)
                    .bind(resource)
                    .fetch_one(&mut **t)
                    .await?;
                return Err(StoreError::OverQuota {
                    resource: resource.into(),
                    requested: amount,
                    in_use: usage.in_use,
                    reserved: usage.reserved,
                    limit,
                });
            }
        });
        Ok(Reservation {
            project_id: project_id.into(),
            resource: resource.into(),
            amount,
        })
    }

    /// Turns a reservation into usage: the resource exists now.
    pub async fn commit_reservation(&mut self, reservation: &Reservation) -> StoreResult<()> {
        self.shift(
            reservation,
            "reserved = reserved - $3, in_use = in_use + $3",
        )
        .await
    }

    /// Gives a reservation back: the resource was never built.
    pub async fn release_reservation(&mut self, reservation: &Reservation) -> StoreResult<()> {
        self.shift(reservation, "reserved = reserved - $3").await
    }

    /// Gives usage back: the resource was deleted.
    pub async fn release_usage(&mut self, reservation: &Reservation) -> StoreResult<()> {
        self.shift(reservation, "in_use = in_use - $3").await
    }

    /// Changes usage by a resize: `delta` may be negative.
    pub async fn adjust_usage(&mut self, reservation: &Reservation) -> StoreResult<()> {
        self.shift(reservation, "in_use = in_use + $3").await
    }

    async fn shift(&mut self, reservation: &Reservation, assignment: &str) -> StoreResult<()> {
        let sql =
            format!("UPDATE quota_usages SET {assignment} WHERE project_id = $1 AND resource = $2");
        on_tx!(self, t => sqlx::query(&sql)
            .bind(&reservation.project_id)
            .bind(&reservation.resource)
            .bind(reservation.amount)
            .execute(&mut **t)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }
}
