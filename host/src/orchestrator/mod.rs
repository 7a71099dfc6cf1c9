//! Durable workflows. Every mutating API call writes its change and a task in one transaction
//! (an [`Admission`]); the engine runs tasks step by step. Each step's typed result is
//! persisted as the stage the workflow reached; a worker holds a lease on the task and renews
//! it while it works. If the process dies, the task resumes at the step its stage names: at
//! once by this host when it starts again (the lease names it), or, for a task that acts on
//! no node, by another host sharing the database once the lease has expired. A task that acts
//! on a node runs only on the host the node is placed on.
//!
//! A periodic health pass keeps the statuses of this host's instances true, and at start this
//! host's nodes that should run but do not are started again.
//!
//! Must not import: http, service.

mod context;
mod engine;
mod health;
mod remote;
mod snapshots;
pub mod task;
#[cfg(test)]
mod tests;
pub mod workflows;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::backend::Backend;
use crate::runtime::{Driver, Runtime};
use crate::store::{Store, now_ms};

pub use crate::backend::NodeReport;
pub use context::{
    InstanceNode, resolve_active, settings_from_json, settings_to_json, value_from_json,
    value_to_json,
};
pub use remote::{LinkError, NODES_PATH, NodeReply, NodeRequest, TOKEN_HEADER};
pub use task::{Admission, Registry, StepError, Workflow};

/// How the orchestrator paces itself.
#[derive(Debug, Clone)]
pub struct OrchestratorSettings {
    /// How long a claimed task stays with its worker without a renewal.
    pub lease: Duration,
    /// How often workers look for tasks other hosts left or that were added elsewhere.
    pub poll: Duration,
    /// How often the health pass runs.
    pub health_interval: Duration,
    /// How long a step is retried while the driver answers `not-ready`.
    pub not_ready_patience: Duration,
    /// How many tasks this host runs at once (tasks in durable waits hold none).
    pub workers: usize,
    /// How often this host says in the store that it is alive.
    pub heartbeat: Duration,
    /// How long a host may be silent before the others show its nodes' state as unknown.
    pub host_down_after: Duration,
    /// This host's name, for people (faults, views).
    pub host_name: String,
    /// Where the other hosts reach this one (no trailing `/`).
    pub link_url: String,
}

impl Default for OrchestratorSettings {
    fn default() -> Self {
        OrchestratorSettings {
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            health_interval: Duration::from_secs(5),
            not_ready_patience: Duration::from_secs(120),
            workers: 256,
            heartbeat: Duration::from_secs(2),
            host_down_after: Duration::from_secs(10),
            host_name: "drover".into(),
            link_url: String::new(),
        }
    }
}

/// The orchestrator. Cheap to clone.
#[derive(Clone)]
pub struct Orchestrator {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) runtime: Runtime,
    pub(crate) backend: Arc<dyn Backend>,
    /// This host's identity in task leases.
    pub(crate) owner: String,
    /// This host's id in the store (where its nodes are placed).
    pub(crate) host_id: String,
    pub(crate) settings: OrchestratorSettings,
    pub(crate) workflows: Registry,
    pub(crate) wake: Notify,
    /// Tasks this process is running now.
    running: Mutex<HashSet<String>>,
    /// The worker pool: one permit per running task.
    workers: Arc<tokio::sync::Semaphore>,
}

impl Orchestrator {
    /// An orchestrator for this host (`owner` must be stable across restarts of this host and
    /// unique among hosts sharing the database).
    pub fn new(
        store: Store,
        runtime: Runtime,
        backend: Arc<dyn Backend>,
        owner: String,
        settings: OrchestratorSettings,
    ) -> Self {
        Self::with_workflows(store, runtime, backend, owner, settings, workflows::all())
    }

    /// An orchestrator running the workflows of `registry` (tests add their own).
    pub fn with_workflows(
        store: Store,
        runtime: Runtime,
        backend: Arc<dyn Backend>,
        owner: String,
        settings: OrchestratorSettings,
        registry: Registry,
    ) -> Self {
        Orchestrator {
            inner: Arc::new(Inner {
                store,
                runtime,
                backend,
                host_id: owner.clone(),
                owner,
                workers: Arc::new(tokio::sync::Semaphore::new(settings.workers.max(1))),
                settings,
                workflows: registry,
                wake: Notify::new(),
                running: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// Where a node created now is placed: on this host, on its backend.
    pub fn placement(&self) -> crate::store::Placement {
        crate::store::Placement {
            host_id: self.inner.host_id.clone(),
            backend: self.inner.backend.kind().to_string(),
            address: self.inner.backend.address(),
        }
    }

    /// Whether host `host_id`, last heard from at `heartbeat_at`, counts as running.
    pub fn host_is_up(&self, host_id: &str, heartbeat_at: i64) -> bool {
        self.inner.host_is_up(host_id, heartbeat_at)
    }

    /// This host's id.
    pub fn host_id(&self) -> &str {
        &self.inner.host_id
    }

    /// The steps of a workflow kind, for views.
    pub fn steps_of(&self, kind: &str) -> Option<&'static [&'static str]> {
        self.inner.workflows.steps(kind)
    }

    /// Records in the store that this host runs (before it serves, so that views can name it).
    pub async fn register_host(&self) -> Result<(), crate::store::StoreError> {
        let inner = &self.inner;
        inner.store.heartbeat(&inner.announcement(), true).await
    }

    /// Starts the workers, the heartbeat and the health pass; they stop when `shutdown` is
    /// notified.
    pub fn start(&self, shutdown: Arc<Notify>) {
        let inner = self.inner.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(inner.settings.heartbeat) => {
                        if let Err(error) = inner.store.heartbeat(&inner.announcement(), false).await {
                            tracing::warn!("heartbeat failed: {error}");
                        }
                    }
                    _ = stop.notified() => break,
                }
            }
        });
        let inner = self.inner.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            health::adopt_unplaced(&inner).await;
            health::restart_dead_nodes(&inner).await;
            loop {
                inner.dispatch().await;
                tokio::select! {
                    _ = inner.wake.notified() => {}
                    _ = tokio::time::sleep(inner.settings.poll) => {}
                    _ = stop.notified() => break,
                }
            }
        });
        let inner = self.inner.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(inner.settings.health_interval) => health::pass(&inner).await,
                    _ = shutdown.notified() => break,
                }
            }
        });
    }

    /// Tells the workers a task was added.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// A free port for a new node, not among `taken` (the ports the store has given out).
    pub fn allocate_port(&self, taken: &HashSet<u16>) -> Result<u16, String> {
        self.inner.backend.allocate_port(taken)
    }

    /// Why this host's nodes cannot run a program a driver names, if they cannot.
    pub fn cannot_run(&self, program: &str) -> Option<String> {
        self.inner.backend.cannot_run(program)
    }

    /// What the host that holds an instance's node sees of it, if the node exists.
    pub async fn node_report(&self, instance: &crate::store::Instance) -> Option<NodeReport> {
        let target = context::InstanceNode::for_instance(&self.inner, instance.clone(), None)
            .await
            .ok()?;
        target.node.report().await
    }

    /// Runs a node operation another host sent over the host link (the caller's token is
    /// checked by then).
    pub async fn serve_node(
        &self,
        instance_id: &str,
        request: NodeRequest,
    ) -> Result<NodeReply, LinkError> {
        remote::serve(&self.inner, instance_id, request).await
    }

    /// A driver version by digest, loading it from the store if this process has not yet.
    pub async fn driver(&self, digest: &str) -> Result<Driver, String> {
        self.inner.driver(digest).await
    }

    /// The node context and handle of an instance, for service calls that act on a running
    /// node directly (accounts, configuration reads); a node on another host is reached
    /// through that host.
    pub async fn instance_node(&self, instance_id: &str) -> Result<context::InstanceNode, String> {
        context::InstanceNode::load(&self.inner, instance_id).await
    }
}

impl Inner {
    /// Whether a host counts as running: it has heartbeated within `host_down_after`, or it is
    /// this one (which is answering: its heartbeat may only be late, on a busy store).
    pub(crate) fn host_is_up(&self, host_id: &str, heartbeat_at: i64) -> bool {
        host_id == self.host_id
            || now_ms() - heartbeat_at <= self.settings.host_down_after.as_millis() as i64
    }

    /// What this host says of itself in its heartbeats.
    fn announcement(&self) -> crate::store::HostAnnouncement {
        crate::store::HostAnnouncement {
            id: self.host_id.clone(),
            name: self.settings.host_name.clone(),
            backend: self.backend.kind().to_string(),
            url: self.settings.link_url.clone(),
            nodes_dir: self.backend.nodes_dir().display().to_string(),
        }
    }

    /// Claims every claimable task not already running here and runs each in its own task.
    async fn dispatch(self: &Arc<Self>) {
        let now = now_ms();
        let free = self.workers.available_permits();
        if free == 0 {
            return;
        }
        let tasks = match self
            .store
            .claimable_tasks(&self.owner, &self.host_id, now, free.min(64) as i64)
            .await
        {
            Ok(tasks) => tasks,
            Err(error) => {
                tracing::warn!("looking for tasks failed: {error}");
                return;
            }
        };
        for task in tasks {
            if self.running.lock().unwrap().contains(&task.id) {
                continue;
            }
            let Ok(permit) = self.workers.clone().try_acquire_owned() else {
                return;
            };
            let until = now + self.settings.lease.as_millis() as i64;
            match self
                .store
                .claim_task(&task.id, &self.owner, now, until)
                .await
            {
                Ok(true) => {
                    self.running.lock().unwrap().insert(task.id.clone());
                    let inner = self.clone();
                    tokio::spawn(async move {
                        let id = task.id.clone();
                        engine::run(&inner, task).await;
                        drop(permit);
                        inner.running.lock().unwrap().remove(&id);
                        // Finishing one task may unblock others (a resource's next request).
                        inner.wake.notify_one();
                    });
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(task = %task.id, "claiming a task failed: {error}"),
            }
        }
    }

    pub(crate) async fn driver(&self, digest: &str) -> Result<Driver, String> {
        if let Some(driver) = self.runtime.registry().get(digest) {
            return Ok(driver);
        }
        let bytes = self
            .store
            .driver_component(digest)
            .await
            .map_err(|e| format!("driver {digest}: {e}"))?;
        let driver = self
            .runtime
            .load(bytes)
            .await
            .map_err(|e| format!("driver {digest}: {e}"))?;
        self.runtime.registry().add(driver.clone());
        Ok(driver)
    }
}
