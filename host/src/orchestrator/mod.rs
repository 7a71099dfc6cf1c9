//! Durable workflows. Every mutating API call writes its change and a task in one transaction;
//! the orchestrator runs tasks step by step. Progress is persisted after each step; a worker
//! holds a lease on the task and renews it while it works. If the process dies, the task is
//! resumed at its first unfinished step: at once by this host when it starts again (the lease
//! names it), or by another host sharing the database once the lease has expired.
//!
//! A periodic health pass keeps instance statuses true, and at start nodes that should run but
//! do not are started again.
//!
//! Must not import: http, service.

mod context;
mod health;
mod instances;
mod snapshots;
pub mod work;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::backend::ProcessBackend;
use crate::runtime::{Driver, Runtime};
use crate::store::{Store, now_ms};

pub use context::{
    InstanceNode, resolve_active, settings_from_json, settings_to_json, value_from_json,
    value_to_json,
};
pub use work::{TaskKind, TaskPayload};

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
}

impl Default for OrchestratorSettings {
    fn default() -> Self {
        OrchestratorSettings {
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            health_interval: Duration::from_secs(5),
            not_ready_patience: Duration::from_secs(120),
        }
    }
}

/// What the host sees of an instance's node.
pub struct NodeReport {
    /// The bytes its files hold.
    pub used_bytes: u64,
    /// How it is isolated.
    pub isolation: crate::backend::Isolation,
}

/// The orchestrator. Cheap to clone.
#[derive(Clone)]
pub struct Orchestrator {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) runtime: Runtime,
    pub(crate) backend: Arc<ProcessBackend>,
    /// This host's identity in task leases.
    pub(crate) owner: String,
    pub(crate) settings: OrchestratorSettings,
    wake: Notify,
    /// Tasks this process is running now.
    running: Mutex<HashSet<String>>,
    /// Serialises `replication.enable-source` calls: replicas created together must not set
    /// up their source's credentials at the same time (each would make its own).
    pub(crate) source_setup: tokio::sync::Mutex<()>,
}

impl Orchestrator {
    /// An orchestrator for this host (`owner` must be stable across restarts of this host and
    /// unique among hosts sharing the database).
    pub fn new(
        store: Store,
        runtime: Runtime,
        backend: Arc<ProcessBackend>,
        owner: String,
        settings: OrchestratorSettings,
    ) -> Self {
        Orchestrator {
            inner: Arc::new(Inner {
                store,
                runtime,
                backend,
                owner,
                settings,
                wake: Notify::new(),
                running: Mutex::new(HashSet::new()),
                source_setup: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Starts the workers and the health pass; they stop when `shutdown` is notified.
    pub fn start(&self, shutdown: Arc<Notify>) {
        let inner = self.inner.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
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

    /// The backend nodes run on.
    pub fn backend(&self) -> &Arc<ProcessBackend> {
        &self.inner.backend
    }

    /// What the host sees of an instance's node, if it has one here.
    pub async fn node_report(&self, instance: &crate::store::Instance) -> Option<NodeReport> {
        let target = context::InstanceNode::for_instance(&self.inner, instance.clone(), None)
            .await
            .ok()?;
        if !target.node.dir().exists() {
            return None;
        }
        Some(NodeReport {
            used_bytes: target.node.disk_usage(),
            isolation: target.node.isolation(),
        })
    }

    /// A driver version by digest, loading it from the store if this process has not yet.
    pub async fn driver(&self, digest: &str) -> Result<Driver, String> {
        self.inner.driver(digest).await
    }

    /// The node context and handle of an instance, for service calls that act on a running
    /// node directly (accounts, configuration reads).
    pub async fn instance_node(&self, instance_id: &str) -> Result<context::InstanceNode, String> {
        context::InstanceNode::load(&self.inner, instance_id).await
    }
}

impl Inner {
    /// Claims every claimable task not already running here and runs each in its own task.
    async fn dispatch(self: &Arc<Self>) {
        let now = now_ms();
        let tasks = match self.store.claimable_tasks(&self.owner, now, 32).await {
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
            let until = now + self.settings.lease.as_millis() as i64;
            match self
                .store
                .claim_task(&task.id, &self.owner, now, until)
                .await
            {
                Ok(true) => {
                    let mut task = task;
                    // Taken over from another host: the claim restarted it (see `claim_task`).
                    if task
                        .lease_owner
                        .as_deref()
                        .is_some_and(|previous| previous != self.owner)
                    {
                        task.step = 0;
                    }
                    self.running.lock().unwrap().insert(task.id.clone());
                    let inner = self.clone();
                    tokio::spawn(async move {
                        let id = task.id.clone();
                        work::run(&inner, task).await;
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
