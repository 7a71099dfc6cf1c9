//! Durable tasks: a resource's workflow, the stage it has reached, the lease of the worker
//! running it, its parent and children, and where it may run. The database refuses a second
//! active task for a resource; further ones wait `queued` behind it.

use super::{Store, StoreError, StoreResult, Tx, now_ms, on_db, on_tx};

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Behind the resource's active task; it becomes `Pending` when that one ends.
    Queued,
    /// A child created with its parent, waiting for the parent to let it go.
    Held,
    /// Ready for a worker.
    Pending,
    /// A worker holds it.
    Running,
    /// In a durable wait: for a time, or for its children.
    Waiting,
    /// Ended well.
    Done,
    /// Ended with an error.
    Failed,
    /// Ended because someone asked it to stop.
    Cancelled,
}

impl TaskState {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Held => "held",
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Waiting => "waiting",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }

    pub(super) fn parse(text: &str) -> StoreResult<TaskState> {
        Ok(match text {
            "queued" => TaskState::Queued,
            "held" => TaskState::Held,
            "pending" => TaskState::Pending,
            "running" => TaskState::Running,
            "waiting" => TaskState::Waiting,
            "done" => TaskState::Done,
            "failed" => TaskState::Failed,
            "cancelled" => TaskState::Cancelled,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "a task has the unknown state '{other}'"
                )));
            }
        })
    }

    /// Whether the task has ended.
    pub fn ended(self) -> bool {
        matches!(
            self,
            TaskState::Done | TaskState::Failed | TaskState::Cancelled
        )
    }
}

/// The states that hold a resource (one per resource, enforced by the database).
pub(super) const ACTIVE: &str = "('pending', 'running', 'waiting', 'held')";

/// A task row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Its id.
    pub id: String,
    /// The resource it changes.
    pub resource_id: String,
    /// Its workflow (for example `create_instance`).
    pub kind: String,
    /// Where it is in its life.
    pub state: TaskState,
    /// The version of the workflow that wrote it.
    pub workflow_version: i64,
    /// The workflow's inputs, JSON.
    pub input: String,
    /// The typed stage its workflow reached (JSON naming the next step, or its outcome).
    pub stage: Option<String>,
    /// The last step that finished.
    pub last_step: Option<String>,
    /// The running or next step's number, from 1.
    pub step_number: i64,
    /// How many steps the workflow has.
    pub step_count: i64,
    /// Its parent.
    pub parent_id: Option<String>,
    /// While it waits for children: `all` or `first_failure`.
    pub join_policy: Option<String>,
    /// The end of a durable wait.
    pub wake_at: Option<i64>,
    /// The only host that may run it.
    pub host_id: Option<String>,
    /// Someone asked it to stop.
    pub cancel_requested: bool,
    /// What its long step has done, JSON.
    pub progress: Option<String>,
    /// When its current step first started.
    pub step_started_at: Option<i64>,
    /// The driver digest it is pinned to.
    pub driver: Option<String>,
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

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: String,
    resource_id: String,
    kind: String,
    state: String,
    workflow_version: i64,
    payload: String,
    stage: Option<String>,
    last_step: Option<String>,
    step_number: i64,
    step_count: i64,
    parent_id: Option<String>,
    join_policy: Option<String>,
    wake_at: Option<i64>,
    host_id: Option<String>,
    cancel_requested: bool,
    progress: Option<String>,
    step_started_at: Option<i64>,
    driver: Option<String>,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    attempts: i64,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;
    fn try_from(row: TaskRow) -> StoreResult<Task> {
        Ok(Task {
            state: TaskState::parse(&row.state)?,
            id: row.id,
            resource_id: row.resource_id,
            kind: row.kind,
            workflow_version: row.workflow_version,
            input: row.payload,
            stage: row.stage,
            last_step: row.last_step,
            step_number: row.step_number,
            step_count: row.step_count,
            parent_id: row.parent_id,
            join_policy: row.join_policy,
            wake_at: row.wake_at,
            host_id: row.host_id,
            cancel_requested: row.cancel_requested,
            progress: row.progress,
            step_started_at: row.step_started_at,
            driver: row.driver,
            lease_owner: row.lease_owner,
            lease_until: row.lease_until,
            attempts: row.attempts,
            error: row.error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn tasks(rows: Vec<TaskRow>) -> StoreResult<Vec<Task>> {
    rows.into_iter().map(Task::try_from).collect()
}

pub(super) const COLUMNS: &str = "id, resource_id, kind, state, workflow_version, payload, stage, last_step, step_number, \
     step_count, parent_id, join_policy, wake_at, host_id, cancel_requested, progress, step_started_at, driver, \
     lease_owner, lease_until, attempts, error, created_at, updated_at";

/// Where a new task may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskHost {
    /// On any host.
    Any,
    /// Only on the host the instance's node is placed on (read in the inserting transaction).
    NodeOf(String),
}

/// A task to add.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// The resource it changes.
    pub resource_id: String,
    /// Its workflow.
    pub kind: &'static str,
    /// The workflow's version.
    pub workflow_version: u32,
    /// The workflow's inputs, JSON.
    pub input: String,
    /// Its first stage, JSON.
    pub stage: String,
    /// How many steps the workflow has.
    pub step_count: u32,
    /// The driver digest it is pinned to.
    pub driver: Option<String>,
    /// Where it may run.
    pub host: TaskHost,
    /// Its parent, for a child.
    pub parent_id: Option<String>,
    /// `Held` for a child its parent lets go later; otherwise `Pending` (or `Queued`, see
    /// [`Tx::insert_task`]).
    pub held: bool,
}

impl Tx {
    /// Adds a task. Fails with `Conflict` if the resource already has an active task, unless
    /// `queue` is set: then the task waits `queued` behind it.
    pub async fn insert_task(&mut self, task: &NewTask, queue: bool) -> StoreResult<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let busy = queue && self.active_task(&task.resource_id).await?.is_some();
        let state = if busy {
            TaskState::Queued
        } else if task.held {
            TaskState::Held
        } else {
            TaskState::Pending
        };
        let node = match &task.host {
            TaskHost::Any => None,
            TaskHost::NodeOf(instance) => Some(instance.as_str()),
        };
        on_tx!(self, t => sqlx::query(
            "INSERT INTO tasks (id, resource_id, kind, state, step, payload, attempts, created_at, updated_at, \
             workflow_version, stage, step_number, step_count, parent_id, host_id, driver) \
             VALUES ($1, $2, $3, $4, 0, $5, 0, $6, $6, $7, $8, 1, $9, $10, \
             (SELECT host_id FROM instances WHERE id = $11), $12)",
        )
        .bind(&id)
        .bind(&task.resource_id)
        .bind(task.kind)
        .bind(state.as_str())
        .bind(&task.input)
        .bind(now)
        .bind(i64::from(task.workflow_version))
        .bind(&task.stage)
        .bind(i64::from(task.step_count))
        .bind(&task.parent_id)
        .bind(node)
        .bind(&task.driver)
        .execute(&mut **t)
        .await
        .map(|done| done.rows_affected()))
        .map_err(|e| StoreError::unique(e, || format!("{} is busy with another operation; try again when it has finished", task.resource_id)))?;
        Ok(id)
    }

    /// The active task of a resource, if any, read in this transaction.
    pub async fn active_task(&mut self, resource_id: &str) -> StoreResult<Option<Task>> {
        let sql =
            format!("SELECT {COLUMNS} FROM tasks WHERE resource_id = $1 AND state IN {ACTIVE}");
        let row: Option<TaskRow> = on_tx!(self, t => sqlx::query_as(&sql).bind(resource_id).fetch_optional(&mut **t).await?);
        row.map(Task::try_from).transpose()
    }

    /// Records a step's end: the stage reached, the last finished step, and whether the task
    /// keeps running, waits until `wake_at`, or waits for its children (`join`). Children to
    /// wait for are let go (`held` → `pending`). Only while `owner` holds it. Returns whether
    /// it still held it, and whether someone asked the task to stop.
    pub async fn advance_task(
        &mut self,
        id: &str,
        owner: &str,
        advance: &Advance<'_>,
    ) -> StoreResult<Option<bool>> {
        let now = now_ms();
        let (state, wake_at, join) = match advance.wait {
            Wait::None => (TaskState::Running, None, None),
            Wait::Until(at) => (TaskState::Waiting, Some(at), None),
            Wait::Children { first_failure } => (
                TaskState::Waiting,
                None,
                Some(if first_failure {
                    "first_failure"
                } else {
                    "all"
                }),
            ),
        };
        let lease_until = (state == TaskState::Running).then_some(advance.lease_until);
        let cancel: Option<bool> = on_tx!(self, t => sqlx::query_scalar(
            "UPDATE tasks SET stage = $3, last_step = COALESCE($4, last_step), step_number = $5, state = $6, \
             wake_at = $7, join_policy = $8, lease_until = $9, updated_at = $10, \
             progress = CASE WHEN $11 THEN NULL ELSE progress END, \
             step_started_at = CASE WHEN $11 THEN $10 ELSE step_started_at END \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running' RETURNING cancel_requested",
        )
        .bind(id)
        .bind(owner)
        .bind(advance.stage)
        .bind(advance.last_step)
        .bind(advance.step_number)
        .bind(state.as_str())
        .bind(wake_at)
        .bind(join)
        .bind(lease_until)
        .bind(now)
        .bind(advance.new_step)
        .fetch_optional(&mut **t)
        .await?);
        if cancel.is_some() && join.is_some() {
            on_tx!(self, t => sqlx::query("UPDATE tasks SET state = 'pending', updated_at = $2 WHERE parent_id = $1 AND state = 'held'")
                .bind(id)
                .bind(now)
                .execute(&mut **t)
                .await
                .map(|_| ())?);
            self.wake_parent_if_joined(id).await?;
        }
        Ok(cancel)
    }

    /// Adds a child task of `parent` (pending at once).
    pub async fn spawn_child(&mut self, parent: &str, child: &NewTask) -> StoreResult<String> {
        let child = NewTask {
            parent_id: Some(parent.to_string()),
            held: false,
            ..child.clone()
        };
        self.insert_task(&child, false).await
    }

    /// A waiting parent whose children have all ended, or (with `first_failure`) one of which
    /// failed, becomes pending again.
    async fn wake_parent_if_joined(&mut self, parent: &str) -> StoreResult<()> {
        let now = now_ms();
        let sql = format!(
            "UPDATE tasks SET state = 'pending', join_policy = NULL, updated_at = $2 \
             WHERE id = $1 AND state = 'waiting' AND join_policy IS NOT NULL AND ( \
             NOT EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = $1 AND c.state IN {ACTIVE}) \
             OR (join_policy = 'first_failure' AND EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = $1 AND c.state IN ('failed', 'cancelled'))))"
        );
        on_tx!(self, t => sqlx::query(&sql).bind(parent).bind(now).execute(&mut **t).await.map(|_| ())?);
        Ok(())
    }

    /// Ends a task: `done`, `failed` or `cancelled`, with an error. Only while `owner` holds
    /// it. A parent waiting for it is woken if it was the last (or a failure it waits for);
    /// the resource's oldest queued task becomes pending.
    pub async fn finish_task(
        &mut self,
        task: &Task,
        owner: &str,
        state: TaskState,
        error: Option<&str>,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let finished = on_tx!(self, t => sqlx::query(
            "UPDATE tasks SET state = $3, error = $4, lease_until = NULL, wake_at = NULL, join_policy = NULL, \
             updated_at = $5 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(&task.id)
        .bind(owner)
        .bind(state.as_str())
        .bind(error)
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|done| done.rows_affected()))?;
        if finished != 1 {
            return Ok(false);
        }
        if let Some(parent) = &task.parent_id {
            self.wake_parent_if_joined(parent).await?;
        }
        let queued: Option<String> = on_tx!(self, t => sqlx::query_scalar(
            "SELECT id FROM tasks WHERE resource_id = $1 AND state = 'queued' ORDER BY created_at, id LIMIT 1",
        )
        .bind(&task.resource_id)
        .fetch_optional(&mut **t)
        .await?);
        if let Some(next) = queued {
            on_tx!(self, t => sqlx::query("UPDATE tasks SET state = 'pending', updated_at = $2 WHERE id = $1")
                .bind(&next)
                .bind(now)
                .execute(&mut **t)
                .await
                .map(|_| ())?);
        }
        Ok(true)
    }

    /// Asks the tasks of a resource to stop, and their children and theirs. Held, queued and
    /// waiting ones become pending so that a worker ends them now.
    pub async fn cancel_tasks_of(&mut self, resource_id: &str) -> StoreResult<usize> {
        let now = now_ms();
        let mut ids: Vec<String> = on_tx!(self, t => sqlx::query_scalar(
            "SELECT id FROM tasks WHERE resource_id = $1 AND state IN ('queued', 'held', 'pending', 'running', 'waiting')",
        )
        .bind(resource_id)
        .fetch_all(&mut **t)
        .await?);
        let mut cancelled = 0;
        while let Some(id) = ids.pop() {
            let queued_before: Option<String> = on_tx!(self, t => sqlx::query_scalar("SELECT state FROM tasks WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut **t)
                .await?);
            // A queued task takes no resource yet: it ends here, never having run.
            if queued_before.as_deref() == Some("queued") {
                on_tx!(self, t => sqlx::query("UPDATE tasks SET state = 'cancelled', error = 'cancelled before it started', updated_at = $2 WHERE id = $1")
                    .bind(&id)
                    .bind(now)
                    .execute(&mut **t)
                    .await
                    .map(|_| ())?);
            } else {
                on_tx!(self, t => sqlx::query(
                    "UPDATE tasks SET cancel_requested = TRUE, updated_at = $2, \
                     state = CASE WHEN state IN ('held', 'waiting') THEN 'pending' ELSE state END, \
                     wake_at = NULL, join_policy = NULL WHERE id = $1",
                )
                .bind(&id)
                .bind(now)
                .execute(&mut **t)
                .await
                .map(|_| ())?);
            }
            cancelled += 1;
            let children: Vec<String> = on_tx!(self, t => sqlx::query_scalar(
                "SELECT id FROM tasks WHERE parent_id = $1 AND state IN ('queued', 'held', 'pending', 'running', 'waiting')",
            )
            .bind(&id)
            .fetch_all(&mut **t)
            .await?);
            ids.extend(children);
        }
        Ok(cancelled)
    }
}

/// How a task waits after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// It does not: the next step runs now.
    None,
    /// Until this time (ms).
    Until(i64),
    /// For its children: all of them, or the first that fails.
    Children {
        /// Wake at the first failure.
        first_failure: bool,
    },
}

/// What [`Tx::advance_task`] records.
#[derive(Debug, Clone)]
pub struct Advance<'a> {
    /// The stage reached, JSON.
    pub stage: &'a str,
    /// The step that just finished (`None`: the step only waits, and will run again).
    pub last_step: Option<&'a str>,
    /// The next step's number, from 1.
    pub step_number: i64,
    /// How it waits.
    pub wait: Wait,
    /// The lease's new end, while it keeps running.
    pub lease_until: i64,
    /// Whether the next step is another step (its patience starts afresh).
    pub new_step: bool,
}

impl Store {
    /// Tasks `host` may claim: pending; running with an expired lease or held by `owner`
    /// itself (a restarted host resumes its own tasks at once); waiting for a time that has
    /// come. A task placed on another host is left to it. Oldest first.
    pub async fn claimable_tasks(
        &self,
        owner: &str,
        host: &str,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<Task>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tasks WHERE (host_id IS NULL OR host_id = $2) AND ( \
             state = 'pending' \
             OR (state = 'running' AND (lease_until IS NULL OR lease_until < $1 OR lease_owner = $3)) \
             OR (state = 'waiting' AND join_policy IS NULL AND wake_at <= $1)) \
             ORDER BY created_at LIMIT $4"
        );
        let rows: Vec<TaskRow> = on_db!(self, pool => sqlx::query_as(&sql).bind(now).bind(host).bind(owner).bind(limit).fetch_all(pool).await?);
        tasks(rows)
    }

    /// Claims a task for `owner` until `until`, if it is still claimable. The claim keeps the
    /// task's stage: a node task is only ever claimed on its node's host, and a task that acts
    /// on no node can go on anywhere.
    pub async fn claim_task(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool> {
        let claimed = on_db!(self, pool => sqlx::query(
            "UPDATE tasks SET lease_owner = $2, lease_until = $4, state = 'running', attempts = attempts + 1, \
             wake_at = NULL, step_started_at = COALESCE(step_started_at, $3), updated_at = $3 \
             WHERE id = $1 AND (state = 'pending' \
             OR (state = 'running' AND (lease_until IS NULL OR lease_until < $3 OR lease_owner = $2)) \
             OR (state = 'waiting' AND join_policy IS NULL AND wake_at <= $3))",
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

    /// Records what a long step has done so far (JSON); only while `owner` holds the task.
    pub async fn set_task_progress(
        &self,
        id: &str,
        owner: &str,
        progress: &str,
    ) -> StoreResult<bool> {
        let set = on_db!(self, pool => sqlx::query("UPDATE tasks SET progress = $3, updated_at = $4 WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
            .bind(id)
            .bind(owner)
            .bind(progress)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(set == 1)
    }

    /// Whether someone asked a task to stop.
    pub async fn cancel_requested(&self, id: &str) -> StoreResult<bool> {
        Ok(on_db!(self, pool => sqlx::query_scalar("SELECT cancel_requested FROM tasks WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .unwrap_or(false))
    }

    /// A task by id.
    pub async fn task(&self, id: &str) -> StoreResult<Task> {
        let sql = format!("SELECT {COLUMNS} FROM tasks WHERE id = $1");
        let row: Option<TaskRow> =
            on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        row.map(Task::try_from)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("Task {id}")))
    }

    /// The active task of a resource, if any.
    pub async fn active_task(&self, resource_id: &str) -> StoreResult<Option<Task>> {
        let sql =
            format!("SELECT {COLUMNS} FROM tasks WHERE resource_id = $1 AND state IN {ACTIVE}");
        let row: Option<TaskRow> = on_db!(self, pool => sqlx::query_as(&sql).bind(resource_id).fetch_optional(pool).await?);
        row.map(Task::try_from).transpose()
    }

    /// The active tasks of many resources at once (for a page of views).
    pub async fn active_tasks(&self) -> StoreResult<Vec<Task>> {
        let sql = format!("SELECT {COLUMNS} FROM tasks WHERE state IN {ACTIVE}");
        let rows: Vec<TaskRow> = on_db!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        tasks(rows)
    }

    /// The children of a task, oldest first.
    pub async fn children_of(&self, parent: &str) -> StoreResult<Vec<Task>> {
        let sql =
            format!("SELECT {COLUMNS} FROM tasks WHERE parent_id = $1 ORDER BY created_at, id");
        let rows: Vec<TaskRow> =
            on_db!(self, pool => sqlx::query_as(&sql).bind(parent).fetch_all(pool).await?);
        tasks(rows)
    }

    /// How many tasks not yet ended are pinned to a driver digest.
    pub async fn active_tasks_pinned_to(&self, digest: &str) -> StoreResult<i64> {
        on_db!(self, pool => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE state IN ('queued', 'held', 'pending', 'running', 'waiting') AND driver = $1")
            .bind(digest)
            .fetch_one(pool)
            .await?))
    }

    /// The tasks of a resource, newest first, at most `limit`.
    pub async fn tasks_of(&self, resource_id: &str, limit: i64) -> StoreResult<Vec<Task>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tasks WHERE resource_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<TaskRow> = on_db!(self, pool => sqlx::query_as(&sql).bind(resource_id).bind(limit).fetch_all(pool).await?);
        tasks(rows)
    }
}
