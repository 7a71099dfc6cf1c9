//! The task runner: payloads, steps, leases, retries, and the transaction that ends a task.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::runtime::CallError;
use crate::runtime::types::DriverError;
use crate::secrets::Secret;
use crate::store::{Reservation, Task, Tx, now_ms};

use super::Inner;
use super::instances;

/// A database to create, as a task carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DatabaseSpec {
    /// Name.
    pub name: String,
    /// Character set.
    pub character_set: Option<String>,
    /// Collation.
    pub collation: Option<String>,
}

/// A user to create, as a task carries it (the password sealed, and removed once the user
/// exists).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserSpec {
    /// Name.
    pub name: String,
    /// Host.
    pub host: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// Databases it may use.
    pub databases: Vec<String>,
}

/// A quota reservation, as a task carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HeldQuota {
    /// Project.
    pub project_id: String,
    /// Resource.
    pub resource: String,
    /// Amount.
    pub amount: i64,
}

impl From<&Reservation> for HeldQuota {
    fn from(r: &Reservation) -> Self {
        HeldQuota {
            project_id: r.project_id.clone(),
            resource: r.resource.clone(),
            amount: r.amount,
        }
    }
}

impl HeldQuota {
    /// As the store's reservation.
    pub fn reservation(&self) -> Reservation {
        Reservation {
            project_id: self.project_id.clone(),
            resource: self.resource.clone(),
            amount: self.amount,
        }
    }
}

/// What a task does, with its inputs. The `kind` tag is also the task row's kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskPayload {
    /// Build a new instance's node.
    CreateInstance {
        /// The driver digest the task is pinned to.
        driver: String,
        /// Databases to create.
        databases: Vec<DatabaseSpec>,
        /// Users to create.
        users: Vec<UserSpec>,
        /// Quota held until the instance is built.
        quota: Vec<HeldQuota>,
    },
    /// Build a replica's node and make it follow its source.
    CreateReplica {
        /// The driver digest the task is pinned to.
        driver: String,
        /// Quota held until the replica is built.
        quota: Vec<HeldQuota>,
        /// The id of the batch this replica is created in, when the replicas of one request
        /// are seeded from one snapshot of the source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch: Option<String>,
    },
    /// Make a replica a standalone, writable instance.
    DetachReplica {
        /// The driver digest.
        driver: String,
    },
    /// Make a replica the source of its set (a switchover): the old source stops taking
    /// writes, the replica catches up with it and takes over, the others and the old source
    /// follow it.
    PromoteReplica {
        /// The driver digest.
        driver: String,
        /// The source being replaced.
        old_source: String,
        /// The old source's position once it stopped taking writes.
        #[serde(default)]
        position: Option<String>,
        /// What followers of the new source need (its `enable-source` answer).
        #[serde(default)]
        info: Option<Secret>,
    },
    /// Replace an unreachable source by its most advanced replica.
    EjectSource {
        /// The driver digest.
        driver: String,
        /// The replica chosen to take over.
        #[serde(default)]
        candidate: Option<String>,
        /// What followers of the new source need.
        #[serde(default)]
        info: Option<Secret>,
    },
    /// Delete an instance's node.
    DeleteInstance,
    /// Stop an instance's server, leaving it SHUTDOWN (the management API's `stop`).
    StopInstance,
    /// Restart an instance's server.
    RestartInstance {
        /// The driver digest.
        driver: String,
    },
    /// Move an instance to another flavor.
    ResizeFlavor {
        /// The driver digest.
        driver: String,
        /// The new flavor.
        flavor_id: String,
    },
    /// Make an instance's node run with other configuration values (attach, detach, or an
    /// edit of its group).
    ApplyConfiguration {
        /// The driver digest.
        driver: String,
        /// The values to run with (JSON `[name, value]` pairs).
        target: String,
        /// The values it ran with before.
        previous: String,
        /// The group attached before, restored if the server refuses the values.
        previous_configuration_id: Option<String>,
        /// The status before, restored on failure.
        previous_status: String,
        /// Set once applied: some value takes effect only after a restart.
        #[serde(default)]
        restart_required: bool,
        /// Set once applied to a server that was not running: only its files changed, and
        /// the values take effect when it next starts.
        #[serde(default)]
        offline: bool,
    },
    /// Give an instance a larger volume.
    ResizeVolume {
        /// The new size, GiB.
        size: i64,
        /// The additional quota held until the resize ends.
        quota: HeldQuota,
    },
}

/// The kinds of task, as stored.
pub type TaskKind = &'static str;

impl TaskPayload {
    /// The task row's kind.
    pub fn kind(&self) -> TaskKind {
        match self {
            TaskPayload::CreateInstance { .. } => "create_instance",
            TaskPayload::DeleteInstance => "delete_instance",
            TaskPayload::StopInstance => "stop_instance",
            TaskPayload::RestartInstance { .. } => "restart_instance",
            TaskPayload::ResizeFlavor { .. } => "resize_flavor",
            TaskPayload::ResizeVolume { .. } => "resize_volume",
            TaskPayload::ApplyConfiguration { .. } => "apply_configuration",
            TaskPayload::CreateReplica { .. } => "create_replica",
            TaskPayload::DetachReplica { .. } => "detach_replica",
            TaskPayload::PromoteReplica { .. } => "promote_replica",
            TaskPayload::EjectSource { .. } => "eject_source",
        }
    }

    /// As JSON for the task row.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("task payloads serialise")
    }

    /// The driver digest a task is pinned to, if it calls one.
    pub fn driver(&self) -> Option<&str> {
        match self {
            TaskPayload::CreateInstance { driver, .. }
            | TaskPayload::RestartInstance { driver }
            | TaskPayload::ResizeFlavor { driver, .. }
            | TaskPayload::ApplyConfiguration { driver, .. }
            | TaskPayload::CreateReplica { driver, .. }
            | TaskPayload::DetachReplica { driver }
            | TaskPayload::PromoteReplica { driver, .. }
            | TaskPayload::EjectSource { driver, .. } => Some(driver),
            TaskPayload::DeleteInstance
            | TaskPayload::StopInstance
            | TaskPayload::ResizeVolume { .. } => None,
        }
    }
}

/// Why a step did not succeed.
#[derive(Debug, Clone)]
pub struct StepError {
    /// For the resource's owner.
    pub message: String,
    /// For admins.
    pub details: String,
    /// Whether trying the step again later may succeed.
    pub retry: bool,
}

impl StepError {
    /// A failure with the same text for owner and admins.
    pub fn new(message: impl Into<String>) -> StepError {
        let message = message.into();
        StepError {
            details: message.clone(),
            message,
            retry: false,
        }
    }

    /// A failure the step may get past by trying again.
    pub fn transient(message: impl Into<String>) -> StepError {
        StepError {
            retry: true,
            ..StepError::new(message)
        }
    }
}

impl From<CallError> for StepError {
    fn from(error: CallError) -> StepError {
        match error {
            CallError::Driver(DriverError::NotReady(message)) => StepError::transient(message),
            CallError::Driver(other) => StepError::new(crate::runtime::driver_message(&other)),
            CallError::Fault {
                driver, message, ..
            } => StepError {
                message: format!("The datastore driver failed: {message}"),
                details: format!("driver {driver} {message}"),
                retry: false,
            },
        }
    }
}

impl From<crate::store::StoreError> for StepError {
    fn from(error: crate::store::StoreError) -> StepError {
        StepError::transient(error.to_string())
    }
}

/// The task being run, as steps see it.
pub struct TaskRun {
    /// The task row as claimed.
    pub task: Task,
    /// Its payload; steps may change it (it is saved after every step).
    pub payload: TaskPayload,
}

/// The result of a step.
pub type StepResult = Result<(), StepError>;

/// A step: a name for logs and a function.
pub(crate) type Step = (
    &'static str,
    for<'a> fn(&'a Inner, &'a mut TaskRun) -> BoxFuture<'a, StepResult>,
);

/// Wraps an `async fn(&Inner, &mut TaskRun) -> StepResult` as a [`Step`].
macro_rules! step {
    ($name:path) => {
        (stringify!($name), {
            fn call<'a>(
                inner: &'a $crate::orchestrator::Inner,
                run: &'a mut $crate::orchestrator::work::TaskRun,
            ) -> futures::future::BoxFuture<'a, $crate::orchestrator::work::StepResult> {
                Box::pin($name(inner, run))
            }
            call
        })
    };
}
pub(crate) use step;

/// Runs a claimed task from its first unfinished step to its end.
pub(crate) async fn run(inner: &Arc<Inner>, task: Task) {
    let span = tracing::info_span!("task", task = %task.id, kind = %task.kind, resource = %task.resource_id, attempt = task.attempts + 1);
    async move {
        let payload: TaskPayload = match serde_json::from_str(&task.payload) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!("task payload is unreadable: {error}");
                let mut run = TaskRun {
                    task: task.clone(),
                    payload: TaskPayload::DeleteInstance,
                };
                end(
                    inner,
                    &mut run,
                    Err(StepError::new(format!("unreadable task: {error}"))),
                )
                .await;
                return;
            }
        };
        let mut run = TaskRun { task, payload };
        let steps = instances::steps(&run.payload);
        let renewal = renew_lease(inner.clone(), run.task.id.clone());
        let mut outcome = Ok(());
        let mut index = run.task.step.max(0) as usize;
        while index < steps.len() {
            let (name, step) = steps[index];
            tracing::debug!(step = name, index, "step starts");
            match retrying(inner, &mut run, step).await {
                Ok(()) => {
                    index += 1;
                    match inner
                        .store
                        .advance_task(
                            &run.task.id,
                            &inner.owner,
                            index as i64,
                            &run.payload.to_json(),
                        )
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(
                                step = name,
                                "lost the task's lease; another worker owns it now"
                            );
                            renewal.abort();
                            return;
                        }
                        Err(error) => {
                            outcome = Err(StepError::new(format!(
                                "could not record progress: {error}"
                            )));
                            break;
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(step = name, "step failed: {}", error.details);
                    outcome = Err(error);
                    break;
                }
            }
        }
        renewal.abort();
        end(inner, &mut run, outcome).await;
    }
    .instrument(span)
    .await
}

/// Runs a step, trying again while it fails with something transient.
async fn retrying(
    inner: &Inner,
    run: &mut TaskRun,
    step: for<'a> fn(&'a Inner, &'a mut TaskRun) -> BoxFuture<'a, StepResult>,
) -> StepResult {
    let give_up = Instant::now() + inner.settings.not_ready_patience;
    // Most waits (a replica connecting, a standby catching up) end within milliseconds; a
    // fixed second between tries was most of a failover. Doubling from 20 ms keeps the early
    // tries quick and the long waits at one try a second.
    let mut pause = Duration::from_millis(20);
    loop {
        match step(inner, run).await {
            Err(error) if error.retry && Instant::now() < give_up => {
                tracing::debug!("step will be retried: {}", error.details);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

/// Keeps a task's lease alive while its steps run.
fn renew_lease(inner: Arc<Inner>, task_id: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = inner.settings.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let until = now_ms() + inner.settings.lease.as_millis() as i64;
            match inner.store.renew_lease(&task_id, &inner.owner, until).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => tracing::warn!(task = %task_id, "renewing the lease failed: {error}"),
            }
        }
    })
}

/// Ends a task in one transaction: the resource's final state and the task's.
async fn end(inner: &Inner, run: &mut TaskRun, outcome: StepResult) {
    for attempt in 0..10 {
        match finish(inner, run, &outcome).await {
            Ok(true) => {
                match &outcome {
                    Ok(()) => tracing::info!("task done"),
                    Err(error) => tracing::warn!("task failed: {}", error.details),
                }
                instances::apply_queued_configuration(inner, run).await;
                return;
            }
            Ok(false) => {
                tracing::warn!("task was taken over by another worker before it could end");
                return;
            }
            Err(error) => {
                tracing::warn!(attempt, "ending the task failed: {error}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn finish(
    inner: &Inner,
    run: &mut TaskRun,
    outcome: &StepResult,
) -> Result<bool, crate::store::StoreError> {
    let mut tx: Tx = inner.store.write().await?;
    match outcome {
        Ok(()) => instances::complete(inner, &mut tx, run).await?,
        Err(error) => instances::fail(inner, &mut tx, run, error).await?,
    }
    if !tx
        .finish_task(
            &run.task.id,
            &inner.owner,
            outcome.as_ref().err().map(|e| e.details.as_str()),
        )
        .await?
    {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}
