//! Durable tasks: a resource's workflow, the step it has reached, and the lease of the worker
//! running it. The database refuses a second active task for a resource.

use super::{Store, StoreError, StoreResult, Tx, now_ms, on_db, on_tx};

/// A task row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Task {
    /// Its id.
    pub id: String,
    /// The resource it changes.
    pub resource_id: String,
    /// What it does (for example `instance.create`).
    pub kind: String,
    /// `pending`, `running`, `done` or `failed`.
    pub state: String,
    /// The first step not yet done.
    pub step: i64,
    /// Inputs and what earlier steps learnt, JSON.
    pub payload: String,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Until when the lease holds.
    pub lease_until: Option<i64>,
    /// How many times a worker has claimed it.
    pub attempts: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, resource_id, kind, state, step, payload, lease_owner, lease_until, attempts, error, created_at, updated_at";

impl Tx {
    /// Adds a pending task for a resource. Fails with `Conflict` if the resource already has an
    /// active task.
    pub async fn insert_task(
        &mut self,
        resource_id: &str,
        kind: &str,
        payload: &str,
    ) -> StoreResult<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        on_tx!(self, t => sqlx::query(
            "INSERT INTO tasks (id, resource_id, kind, state, step, payload, attempts, created_at, updated_at) \
             VALUES ($1, $2, $3, 'pending', 0, $4, 0, $5, $5)",
        )
        .bind(&id)
        .bind(resource_id)
        .bind(kind)
        .bind(payload)
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|done| done.rows_affected()))
        .map_err(|e| StoreError::unique(e, || format!("{resource_id} is busy with another operation; try again when it has finished")))?;
        Ok(id)
    }
}

impl Store {
    /// Tasks a worker may claim: pending or running with an expired lease, or held by `owner`
    /// itself (a restarted host resumes its own tasks at once). Oldest first.
    pub async fn claimable_tasks(
        &self,
        owner: &str,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<Task>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tasks WHERE state IN ('pending', 'running') \
             AND (lease_until IS NULL OR lease_until < $1 OR lease_owner = $2) ORDER BY created_at LIMIT $3"
        );
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(now).bind(owner).bind(limit).fetch_all(pool).await?))
    }

    /// Claims a task for `owner` until `until`, if nobody else holds a live lease on it. A task
    /// taken over from another host starts again at its first step: the steps it had done
    /// built things on that host's nodes (directories, processes), which this host does not
    /// have; every step is idempotent, so redoing them here is safe.
    pub async fn claim_task(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool> {
        let claimed = on_db!(self, pool => sqlx::query(
            "UPDATE tasks SET step = CASE WHEN lease_owner IS NOT NULL AND lease_owner <> $2 THEN 0 ELSE step END, \
             lease_owner = $2, lease_until = $4, state = 'running', attempts = attempts + 1, updated_at = $3 \
             WHERE id = $1 AND state IN ('pending', 'running') AND (lease_until IS NULL OR lease_until < $3 OR lease_owner = $2)",
        )
        .bind(id)
        .bind(owner)
        .bind(now)
        .bind(until)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(claimed == 1)
    }

    /// Extends a lease the owner still holds; false if it lost it.
    pub async fn renew_lease(&self, id: &str, owner: &str, until: i64) -> StoreResult<bool> {
        let renewed = on_db!(self, pool => sqlx::query("UPDATE tasks SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
            .bind(id)
            .bind(owner)
            .bind(until)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(renewed == 1)
    }

    /// Records that a step is done and what the task knows now; only while `owner` holds it.
    pub async fn advance_task(
        &self,
        id: &str,
        owner: &str,
        step: i64,
        payload: &str,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let advanced = on_db!(self, pool => sqlx::query(
            "UPDATE tasks SET step = $3, payload = $4, updated_at = $5 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(step)
        .bind(payload)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(advanced == 1)
    }

    /// A task by id.
    pub async fn task(&self, id: &str) -> StoreResult<Task> {
        let sql = format!("SELECT {COLUMNS} FROM tasks WHERE id = $1");
        on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
            .ok_or_else(|| StoreError::NotFound(format!("Task {id}")))
    }

    /// The active task of a resource, if any.
    pub async fn active_task(&self, resource_id: &str) -> StoreResult<Option<Task>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tasks WHERE resource_id = $1 AND state IN ('pending', 'running')"
        );
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(resource_id).fetch_optional(pool).await?))
    }

    /// How many active tasks carry `value` as a string in their payload: the tasks pinned to a
    /// driver digest, or the tasks of one batch of replicas.
    pub async fn active_tasks_naming(&self, value: &str) -> StoreResult<i64> {
        let pattern = format!("%\"{value}\"%");
        on_db!(self, pool => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE state IN ('pending', 'running') AND payload LIKE $1")
            .bind(pattern)
            .fetch_one(pool)
            .await?))
    }

    /// The tasks of a resource, newest first.
    pub async fn tasks_of(&self, resource_id: &str) -> StoreResult<Vec<Task>> {
        let sql =
            format!("SELECT {COLUMNS} FROM tasks WHERE resource_id = $1 ORDER BY created_at DESC");
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(resource_id).fetch_all(pool).await?))
    }
}

impl Tx {
    /// Ends a task: `done`, or `failed` with an error. Only while `owner` holds it.
    pub async fn finish_task(
        &mut self,
        id: &str,
        owner: &str,
        error: Option<&str>,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let state = if error.is_some() { "failed" } else { "done" };
        let finished = on_tx!(self, t => sqlx::query(
            "UPDATE tasks SET state = $3, error = $4, lease_until = NULL, updated_at = $5 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(state)
        .bind(error)
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(finished == 1)
    }
}
