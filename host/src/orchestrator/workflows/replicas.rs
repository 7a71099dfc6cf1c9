//! Replicas: a replica set grows by a parent task on its source ([`CreateReplicas`]) with one
//! child per new replica ([`CreateReplica`]); a replica leaves its set with [`Detach`].
//!
//! The parent prepares the source once (`enable-source`, so that replicas made together never
//! set up its credentials at the same time, on any host), takes the snapshot they seed from
//! when there is one, lets its children go and waits for all of them, then removes the
//! snapshot. The children were admitted with it, held, so each new replica is busy from the
//! moment it is accepted.

use serde::{Deserialize, Serialize};

use crate::runtime::types::{NodeRole, ReplicaSource};
use crate::secrets::Secret;
use crate::store::{InstanceStatus, InstanceUpdate, Reservation, StoreResult, TaskState, Tx};

use super::super::context::InstanceNode;
use super::super::snapshots;
use super::super::task::{Cx, Next, StepError, StepResult, Workflow};
use super::common::{driver, node, own_node, set_status};
use super::node::{create_node, fail_build, finish_build, install, start};

/// Grows a source's replica set: the parent of the new replicas' tasks.
pub struct CreateReplicas;

/// What a replica set's growth is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateReplicasInput {
    /// The driver digest the task is pinned to.
    pub driver: String,
    /// The new replicas.
    pub replicas: Vec<String>,
    /// The snapshot they seed from, when the driver takes one and they share the source's
    /// host.
    pub batch: Option<String>,
}

/// The stages of [`CreateReplicas`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum CreateReplicasStage {
    /// The source's driver prepares it for replicas.
    EnableSource,
    /// The snapshot the replicas seed from is taken.
    TakeSnapshot {
        /// What replicas need to follow the source.
        info: Secret,
    },
    /// The replicas' tasks are let go.
    SpawnReplicas,
    /// Once they have all ended: how they went.
    JoinReplicas,
    /// The snapshot goes.
    RemoveSnapshot {
        /// The replicas that failed, with why.
        failed: Vec<(String, String)>,
    },
}

impl Workflow for CreateReplicas {
    const KIND: &'static str = "create_replicas";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &[
        "enable_source",
        "take_snapshot",
        "spawn_replicas",
        "join_replicas",
        "remove_snapshot",
    ];
    type Input = CreateReplicasInput;
    type Stage = CreateReplicasStage;
    type Outcome = ();

    fn first(_: &CreateReplicasInput) -> CreateReplicasStage {
        CreateReplicasStage::EnableSource
    }

    fn driver(input: &CreateReplicasInput) -> Option<&str> {
        Some(&input.driver)
    }

    async fn step(
        cx: &Cx<'_>,
        input: &CreateReplicasInput,
        stage: CreateReplicasStage,
    ) -> StepResult<CreateReplicasStage, ()> {
        Ok(match stage {
            CreateReplicasStage::EnableSource => {
                let info = enable_source(cx, input).await?;
                Next::Step(CreateReplicasStage::TakeSnapshot { info })
            }
            CreateReplicasStage::TakeSnapshot { info } => {
                if let Some(batch) = &input.batch {
                    let source = own_node(cx).await?;
                    let seen_by_replicas = ReplicaSource {
                        node_id: source.instance.id.clone(),
                        address: source.context.address.clone(),
                        info: info.expose().to_string(),
                        snapshot: None,
                    };
                    let driver = driver(cx, &input.driver).await?;
                    snapshots::take(cx.inner, &driver, batch, source.ops(), &seen_by_replicas)
                        .await?;
                }
                Next::Step(CreateReplicasStage::SpawnReplicas)
            }
            CreateReplicasStage::SpawnReplicas => Next::Join {
                first_failure: false,
                then: CreateReplicasStage::JoinReplicas,
            },
            CreateReplicasStage::JoinReplicas => {
                let failed = cx
                    .children()
                    .await?
                    .into_iter()
                    .filter(|c| c.state != TaskState::Done)
                    .map(|c| (c.resource_id, c.error.unwrap_or_default()))
                    .collect();
                Next::Step(CreateReplicasStage::RemoveSnapshot { failed })
            }
            CreateReplicasStage::RemoveSnapshot { failed } => {
                if let Some(batch) = &input.batch {
                    snapshots::remove(cx.inner, batch).await?;
                }
                if !failed.is_empty() {
                    let list: Vec<String> = failed
                        .iter()
                        .map(|(id, why)| format!("{id}: {why}"))
                        .collect();
                    return Err(StepError::new(format!(
                        "{} of {} replicas failed: {}",
                        failed.len(),
                        input.replicas.len(),
                        list.join("; ")
                    )));
                }
                Next::Done(())
            }
        })
    }

    /// The replicas record their own outcomes; the source is as it was.
    async fn on_success(
        _: &Cx<'_>,
        _: &mut Tx,
        _: &CreateReplicasInput,
        _: &(),
    ) -> StoreResult<()> {
        Ok(())
    }

    /// Replicas still held (the source could not be prepared) are cancelled: each ends in
    /// ERROR with its quota given back.
    async fn on_failure(
        _: &Cx<'_>,
        tx: &mut Tx,
        input: &CreateReplicasInput,
        error: &StepError,
    ) -> StoreResult<()> {
        for replica in &input.replicas {
            if let Some(task) = tx.active_task(replica).await?
                && task.state == TaskState::Held
            {
                tx.set_instance_fault(replica, &error.message, &error.details)
                    .await?;
                tx.cancel_tasks_of(replica).await?;
            }
        }
        Ok(())
    }
}

/// Has the source's driver prepare it for replicas; records what they need on each of them.
async fn enable_source(cx: &Cx<'_>, input: &CreateReplicasInput) -> Result<Secret, StepError> {
    let source = own_node(cx).await?;
    let driver = driver(cx, &input.driver).await?;
    let setup = driver.enable_source(source.ops(), &source.context).await?;
    if setup.restart_required {
        // The source shows RESTART while it restarts for its replicas, then its status again
        // (a retried step finds its own RESTART).
        let status = match source.instance.status {
            InstanceStatus::Restart => InstanceStatus::Active,
            other => other,
        };
        set_status(cx, &source.instance.id, InstanceStatus::Restart).await?;
        source.node.stop().await.map_err(StepError::new)?;
        source.node.start().await.map_err(StepError::new)?;
        set_status(cx, &source.instance.id, status).await?;
    }
    let mut tx = cx.inner.store.write().await?;
    for replica in &input.replicas {
        tx.set_replication(replica, Some(&source.instance.id), Some(&setup.info))
            .await?;
    }
    tx.commit().await?;
    Ok(Secret::new(setup.info))
}

/// Builds one replica's node and makes it follow its source: a child of [`CreateReplicas`].
pub struct CreateReplica;

/// What a replica's build is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateReplicaInput {
    /// The driver digest the task is pinned to.
    pub driver: String,
    /// Quota held until the replica is built.
    pub quota: Vec<Reservation>,
    /// The batch snapshot it seeds from.
    pub batch: Option<String>,
}

/// The stages of [`CreateReplica`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum CreateReplicaStage {
    /// The node directory and service files.
    CreateNode,
    /// Its data is set up, from its copy of the batch's snapshot where there is one.
    Initialize,
    /// The server starts.
    Start,
    /// It follows its source.
    Attach,
}

/// The replica's node, seeded from its copy of the batch's snapshot where there is one.
async fn replica_node(cx: &Cx<'_>, batch: Option<&str>) -> Result<InstanceNode, StepError> {
    let mut target = own_node(cx).await?;
    if let (Some(_), NodeRole::Replica(source)) = (batch, &mut target.context.role) {
        source.snapshot = Some(
            target
                .node
                .directory()
                .join(snapshots::COPY)
                .display()
                .to_string(),
        );
    }
    Ok(target)
}

impl Workflow for CreateReplica {
    const KIND: &'static str = "create_replica";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["create_node", "initialize", "start", "attach"];
    type Input = CreateReplicaInput;
    type Stage = CreateReplicaStage;
    type Outcome = ();

    fn first(_: &CreateReplicaInput) -> CreateReplicaStage {
        CreateReplicaStage::CreateNode
    }

    fn driver(input: &CreateReplicaInput) -> Option<&str> {
        Some(&input.driver)
    }

    async fn step(
        cx: &Cx<'_>,
        input: &CreateReplicaInput,
        stage: CreateReplicaStage,
    ) -> StepResult<CreateReplicaStage, ()> {
        let batch = input.batch.as_deref();
        let target = replica_node(cx, batch).await?;
        Ok(match stage {
            CreateReplicaStage::CreateNode => {
                create_node(cx, &input.driver, &target).await?;
                Next::Step(CreateReplicaStage::Initialize)
            }
            CreateReplicaStage::Initialize => {
                if let Some(batch) = batch {
                    snapshots::lend(cx.inner, batch, &target).await?;
                }
                driver(cx, &input.driver)
                    .await?
                    .initialize(target.ops(), &target.context)
                    .await?;
                Next::Step(CreateReplicaStage::Start)
            }
            CreateReplicaStage::Start => {
                start(&target).await?;
                Next::Step(CreateReplicaStage::Attach)
            }
            CreateReplicaStage::Attach => {
                let source_id = target
                    .instance
                    .replica_of_id
                    .clone()
                    .ok_or_else(|| StepError::new("the replica has no source"))?;
                let source = node(cx, &source_id, None).await?;
                if let Some(batch) = batch {
                    snapshots::lend(cx.inner, batch, &target).await?;
                }
                driver(cx, &input.driver)
                    .await?
                    .attach_replica(target.ops(), &target.context, Some(source.ops()))
                    .await?;
                if batch.is_some() {
                    snapshots::give_back(&*target.node).await?;
                }
                Next::Done(())
            }
        })
    }

    async fn on_success(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &CreateReplicaInput,
        _: &(),
    ) -> StoreResult<()> {
        finish_build(cx, tx, &input.quota).await
    }

    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &CreateReplicaInput,
        error: &StepError,
    ) -> StoreResult<()> {
        fail_build(cx, tx, &input.quota, error).await
    }
}

/// Makes a replica a standalone, writable instance.
pub struct Detach;

/// What a detach is given.
pub type DetachInput = super::node::DriverInput;

/// The one stage of [`Detach`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum DetachStage {
    /// The replica stops following and is rendered as a standalone node.
    Detach,
}

impl Workflow for Detach {
    const KIND: &'static str = "detach_replica";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["detach"];
    type Input = DetachInput;
    type Stage = DetachStage;
    type Outcome = ();

    fn first(_: &DetachInput) -> DetachStage {
        DetachStage::Detach
    }

    fn driver(input: &DetachInput) -> Option<&str> {
        Some(&input.driver)
    }

    async fn step(
        cx: &Cx<'_>,
        input: &DetachInput,
        stage: DetachStage,
    ) -> StepResult<DetachStage, ()> {
        let DetachStage::Detach = stage;
        let mut target = own_node(cx).await?;
        target.context.role = NodeRole::Standalone;
        driver(cx, &input.driver)
            .await?
            .detach_replica(target.ops(), &target.context)
            .await?;
        install(cx, &input.driver, &target).await?;
        Ok(Next::Done(()))
    }

    async fn on_success(cx: &Cx<'_>, tx: &mut Tx, _: &DetachInput, _: &()) -> StoreResult<()> {
        tx.set_replication(cx.resource_id(), None, None).await?;
        tx.update_instance(
            cx.resource_id(),
            InstanceUpdate::to_status(InstanceStatus::Active),
        )
        .await
    }

    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        _: &DetachInput,
        error: &StepError,
    ) -> StoreResult<()> {
        tx.set_instance_fault(cx.resource_id(), &error.message, &error.details)
            .await?;
        tx.update_instance(
            cx.resource_id(),
            InstanceUpdate::to_status(InstanceStatus::Active),
        )
        .await
    }
}
