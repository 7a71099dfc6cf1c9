//! Node lifecycle: create, delete, stop, restart, and resize (flavor and volume).

use serde::{Deserialize, Serialize};

use crate::runtime::types::{Database, PrepareRequest, User};
use crate::secrets::Secret;
use crate::store::{
    Instance, InstanceStatus, InstanceUpdate, QuotaState, Reservation, StoreResult, Tx,
};

use super::super::context::InstanceNode;
use super::super::task::{Cx, Next, Runs, StepError, StepResult, Workflow};
use super::common::{commit_all, driver, node, own_node, release_all};

/// A database to create, as a task carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DatabaseSpec {
    /// Its name.
    pub name: String,
    /// Its character set.
    pub character_set: Option<String>,
    /// Its collation.
    pub collation: Option<String>,
}

/// A user to create, as a task carries it (the password sealed; it leaves the task with the
/// `prepare` stage).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserSpec {
    /// Its name.
    pub name: String,
    /// The host it may connect from.
    pub host: Option<String>,
    /// Its password, sealed.
    pub password: Option<Secret>,
    /// The databases it may use.
    pub databases: Vec<String>,
}

/// The databases and users a new instance starts with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Accounts {
    /// Databases.
    pub databases: Vec<DatabaseSpec>,
    /// Users.
    pub users: Vec<UserSpec>,
}

impl Accounts {
    fn request(&self) -> PrepareRequest {
        PrepareRequest {
            databases: self
                .databases
                .iter()
                .map(|d| Database {
                    name: d.name.clone(),
                    character_set: d.character_set.clone(),
                    collation: d.collation.clone(),
                })
                .collect(),
            users: self
                .users
                .iter()
                .map(|u| User {
                    name: u.name.clone(),
                    host: u.host.clone(),
                    password: u.password.as_ref().map(|p| p.expose().to_string()),
                    databases: u.databases.clone(),
                })
                .collect(),
        }
    }
}

/// Creates the node directory and writes the service the driver renders.
pub(super) async fn create_node(
    cx: &Cx<'_>,
    digest: &str,
    target: &InstanceNode,
) -> Result<(), StepError> {
    target.node.create().await.map_err(StepError::new)?;
    install(cx, digest, target).await
}

/// Writes the service the driver renders for the node's context.
pub(super) async fn install(
    cx: &Cx<'_>,
    digest: &str,
    target: &InstanceNode,
) -> Result<(), StepError> {
    let spec = driver(cx, digest)
        .await?
        .render_service(&target.context)
        .await?;
    target.install(&spec).await.map_err(StepError::new)
}

/// Starts the server and waits until it is ready.
pub(super) async fn start(target: &InstanceNode) -> Result<(), StepError> {
    target
        .node
        .start()
        .await
        .map_err(|message| StepError::explained("The datastore server did not start.", message))
}

/// Builds a new instance's node.
pub struct Create;

/// What creating an instance is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateInput {
    /// The driver digest the task is pinned to.
    pub driver: String,
    /// Quota held until the instance is built.
    pub quota: Vec<Reservation>,
}

/// The stages of [`Create`]. The accounts travel with the stages until `prepare` has made
/// them, so their passwords leave the task with it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum CreateStage {
    /// The node directory and service files.
    CreateNode {
        /// To create once it runs.
        accounts: Accounts,
    },
    /// First-time set-up of its data, with the server stopped.
    Initialize {
        /// To create once it runs.
        accounts: Accounts,
    },
    /// The server starts.
    Start {
        /// To create once it runs.
        accounts: Accounts,
    },
    /// The driver's own set-up, then the databases and users.
    Prepare {
        /// To create now.
        accounts: Accounts,
    },
}

impl Workflow for Create {
    const KIND: &'static str = "create_instance";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["create_node", "initialize", "start", "prepare"];
    type Input = CreateInput;
    type Stage = CreateStage;
    type Outcome = ();

    /// With no accounts; a create that has some is admitted at
    /// `CreateStage::CreateNode { accounts }` (see [`Admission::at`](crate::orchestrator::Admission::at)), so that their
    /// passwords are in the stages only, never in the task's input.
    fn first(_: &CreateInput) -> CreateStage {
        CreateStage::CreateNode {
            accounts: Accounts::default(),
        }
    }

    fn driver(input: &CreateInput) -> Option<&str> {
        Some(&input.driver)
    }

    async fn step(
        cx: &Cx<'_>,
        input: &CreateInput,
        stage: CreateStage,
    ) -> StepResult<CreateStage, ()> {
        let target = own_node(cx).await?;
        Ok(match stage {
            CreateStage::CreateNode { accounts } => {
                create_node(cx, &input.driver, &target).await?;
                Next::Step(CreateStage::Initialize { accounts })
            }
            CreateStage::Initialize { accounts } => {
                driver(cx, &input.driver)
                    .await?
                    .initialize(target.ops(), &target.context)
                    .await?;
                Next::Step(CreateStage::Start { accounts })
            }
            CreateStage::Start { accounts } => {
                start(&target).await?;
                Next::Step(CreateStage::Prepare { accounts })
            }
            CreateStage::Prepare { accounts } => {
                driver(cx, &input.driver)
                    .await?
                    .prepare(target.ops(), &target.context, &accounts.request())
                    .await?;
                Next::Done(())
            }
        })
    }

    async fn on_success(cx: &Cx<'_>, tx: &mut Tx, input: &CreateInput, _: &()) -> StoreResult<()> {
        finish_build(cx, tx, &input.quota).await
    }

    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &CreateInput,
        error: &StepError,
    ) -> StoreResult<()> {
        fail_build(cx, tx, &input.quota, error).await
    }
}

/// A build that succeeded: the quota it held is committed, and the instance is ACTIVE.
pub(super) async fn finish_build(
    cx: &Cx<'_>,
    tx: &mut Tx,
    quota: &[Reservation],
) -> StoreResult<()> {
    commit_all(tx, quota).await?;
    tx.update_instance(
        cx.resource_id(),
        InstanceUpdate::to_status(InstanceStatus::Active).quota_state(QuotaState::Committed),
    )
    .await
}

/// A build that failed: a fault, ERROR, and the quota it held given back.
pub(super) async fn fail_build(
    cx: &Cx<'_>,
    tx: &mut Tx,
    quota: &[Reservation],
    error: &StepError,
) -> StoreResult<()> {
    let id = cx.resource_id();
    tx.set_instance_fault(id, &error.message, &error.details)
        .await?;
    release_all(tx, quota).await?;
    tx.update_instance(
        id,
        InstanceUpdate::to_status(InstanceStatus::Error).quota_state(QuotaState::Released),
    )
    .await
}

/// A node action that failed: a fault and ERROR.
async fn fail_action(cx: &Cx<'_>, tx: &mut Tx, error: &StepError) -> StoreResult<()> {
    let id = cx.resource_id();
    tx.set_instance_fault(id, &error.message, &error.details)
        .await?;
    tx.update_instance(id, InstanceUpdate::to_status(InstanceStatus::Error))
        .await
}

/// Deletes an instance's node.
pub struct Delete;

/// The one stage of [`Delete`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum DeleteStage {
    /// Stops the server and removes the node directory.
    Destroy,
}

impl Workflow for Delete {
    const KIND: &'static str = "delete_instance";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["destroy"];
    type Input = ();
    type Stage = DeleteStage;
    type Outcome = ();

    fn first(_: &()) -> DeleteStage {
        DeleteStage::Destroy
    }

    fn driver(_: &()) -> Option<&str> {
        None
    }

    async fn step(cx: &Cx<'_>, _: &(), stage: DeleteStage) -> StepResult<DeleteStage, ()> {
        match stage {
            DeleteStage::Destroy => {
                own_node(cx)
                    .await?
                    .node
                    .destroy()
                    .await
                    .map_err(StepError::new)?;
                Ok(Next::Done(()))
            }
        }
    }

    async fn on_success(cx: &Cx<'_>, tx: &mut Tx, _: &(), _: &()) -> StoreResult<()> {
        let instance = tx.instance_any(cx.resource_id()).await?;
        release_held(tx, &instance).await?;
        tx.mark_instance_deleted(&instance.id).await
    }

    async fn on_failure(cx: &Cx<'_>, tx: &mut Tx, _: &(), error: &StepError) -> StoreResult<()> {
        fail_action(cx, tx, error).await
    }
}

/// Gives back whatever quota an instance still holds.
async fn release_held(tx: &mut Tx, instance: &Instance) -> StoreResult<()> {
    let held = [("instances", 1), ("volumes", instance.volume_size)];
    for (resource, amount) in held {
        let reservation = Reservation {
            project_id: instance.project_id.clone(),
            resource: resource.into(),
            amount,
        };
        match instance.quota_state {
            QuotaState::Committed => tx.release_usage(&reservation).await?,
            QuotaState::Reserved => tx.release_reservation(&reservation).await?,
            QuotaState::Released => {}
        }
    }
    tx.update_instance(
        &instance.id,
        InstanceUpdate::new().quota_state(QuotaState::Released),
    )
    .await
}

/// Stops an instance's server, leaving it SHUTDOWN (the management API's `stop`).
pub struct Stop;

/// The one stage of [`Stop`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StopStage {
    /// The server stops.
    Stop,
}

impl Workflow for Stop {
    const KIND: &'static str = "stop_instance";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["stop"];
    type Input = ();
    type Stage = StopStage;
    type Outcome = ();

    fn first(_: &()) -> StopStage {
        StopStage::Stop
    }

    fn driver(_: &()) -> Option<&str> {
        None
    }

    async fn step(cx: &Cx<'_>, _: &(), stage: StopStage) -> StepResult<StopStage, ()> {
        match stage {
            StopStage::Stop => {
                own_node(cx)
                    .await?
                    .node
                    .stop()
                    .await
                    .map_err(StepError::new)?;
                Ok(Next::Done(()))
            }
        }
    }

    async fn on_success(cx: &Cx<'_>, tx: &mut Tx, _: &(), _: &()) -> StoreResult<()> {
        tx.update_instance(
            cx.resource_id(),
            InstanceUpdate::to_status(InstanceStatus::Shutdown),
        )
        .await
    }

    async fn on_failure(cx: &Cx<'_>, tx: &mut Tx, _: &(), error: &StepError) -> StoreResult<()> {
        fail_action(cx, tx, error).await
    }
}

/// What a restart or a flavor resize is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverInput {
    /// The driver digest the task is pinned to.
    pub driver: String,
}

/// Restarts an instance's server (rendering its service again, so that values that need a
/// restart take effect).
pub struct Restart;

/// The stages of [`Restart`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum RestartStage {
    /// The server stops.
    Stop,
    /// Its service is rendered again.
    Install,
    /// It starts.
    Start,
}

impl Workflow for Restart {
    const KIND: &'static str = "restart_instance";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["stop", "install", "start"];
    type Input = DriverInput;
    type Stage = RestartStage;
    type Outcome = ();

    fn first(_: &DriverInput) -> RestartStage {
        RestartStage::Stop
    }

    fn driver(input: &DriverInput) -> Option<&str> {
        Some(&input.driver)
    }

    async fn step(
        cx: &Cx<'_>,
        input: &DriverInput,
        stage: RestartStage,
    ) -> StepResult<RestartStage, ()> {
        let target = own_node(cx).await?;
        Ok(match stage {
            RestartStage::Stop => {
                target.node.stop().await.map_err(StepError::new)?;
                Next::Step(RestartStage::Install)
            }
            RestartStage::Install => {
                install(cx, &input.driver, &target).await?;
                Next::Step(RestartStage::Start)
            }
            RestartStage::Start => {
                start(&target).await?;
                Next::Done(())
            }
        })
    }

    async fn on_success(cx: &Cx<'_>, tx: &mut Tx, _: &DriverInput, _: &()) -> StoreResult<()> {
        tx.update_instance(
            cx.resource_id(),
            InstanceUpdate::to_status(InstanceStatus::Active),
        )
        .await
    }

    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        _: &DriverInput,
        error: &StepError,
    ) -> StoreResult<()> {
        fail_action(cx, tx, error).await
    }
}

/// Moves an instance to another flavor.
pub struct ResizeFlavor;

/// What a flavor resize is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResizeFlavorInput {
    /// The driver digest the task is pinned to.
    pub driver: String,
    /// The new flavor.
    pub flavor_id: String,
}

/// The stages of [`ResizeFlavor`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ResizeFlavorStage {
    /// The service is rendered for the new flavor.
    Install,
    /// The server stops.
    Stop,
    /// It starts with the new flavor's limits.
    Start,
}

impl Workflow for ResizeFlavor {
    const KIND: &'static str = "resize_flavor";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["install", "stop", "start"];
    type Input = ResizeFlavorInput;
    type Stage = ResizeFlavorStage;
    type Outcome = ();

    fn first(_: &ResizeFlavorInput) -> ResizeFlavorStage {
        ResizeFlavorStage::Install
    }

    fn driver(input: &ResizeFlavorInput) -> Option<&str> {
        Some(&input.driver)
    }

    async fn step(
        cx: &Cx<'_>,
        input: &ResizeFlavorInput,
        stage: ResizeFlavorStage,
    ) -> StepResult<ResizeFlavorStage, ()> {
        let target = node(cx, cx.resource_id(), Some(&input.flavor_id)).await?;
        Ok(match stage {
            ResizeFlavorStage::Install => {
                install(cx, &input.driver, &target).await?;
                Next::Step(ResizeFlavorStage::Stop)
            }
            ResizeFlavorStage::Stop => {
                target.node.stop().await.map_err(StepError::new)?;
                Next::Step(ResizeFlavorStage::Start)
            }
            ResizeFlavorStage::Start => {
                start(&target).await?;
                Next::Done(())
            }
        })
    }

    async fn on_success(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &ResizeFlavorInput,
        _: &(),
    ) -> StoreResult<()> {
        tx.update_instance(
            cx.resource_id(),
            InstanceUpdate::to_status(InstanceStatus::Active).flavor(&input.flavor_id),
        )
        .await
    }

    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        _: &ResizeFlavorInput,
        error: &StepError,
    ) -> StoreResult<()> {
        fail_action(cx, tx, error).await
    }
}

/// Gives an instance a larger volume. The process backend's volumes are directories with no
/// size of their own, so the step has nothing to do on the node: the new size is what the
/// instance is accounted for, and it runs on any host.
pub struct ResizeVolume;

/// What a volume resize is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResizeVolumeInput {
    /// The new size, GiB.
    pub size: i64,
    /// The additional quota held until the resize ends.
    pub quota: Reservation,
}

/// The one stage of [`ResizeVolume`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ResizeVolumeStage {
    /// The volume grows.
    GrowVolume,
}

impl Workflow for ResizeVolume {
    const KIND: &'static str = "resize_volume";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["grow_volume"];
    const RUNS: Runs = Runs::Anywhere;
    type Input = ResizeVolumeInput;
    type Stage = ResizeVolumeStage;
    type Outcome = ();

    fn first(_: &ResizeVolumeInput) -> ResizeVolumeStage {
        ResizeVolumeStage::GrowVolume
    }

    fn driver(_: &ResizeVolumeInput) -> Option<&str> {
        None
    }

    async fn step(
        cx: &Cx<'_>,
        _: &ResizeVolumeInput,
        stage: ResizeVolumeStage,
    ) -> StepResult<ResizeVolumeStage, ()> {
        match stage {
            ResizeVolumeStage::GrowVolume => {
                // The instance must still be there to be grown.
                cx.inner.store.instance(cx.resource_id()).await?;
                Ok(Next::Done(()))
            }
        }
    }

    async fn on_success(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &ResizeVolumeInput,
        _: &(),
    ) -> StoreResult<()> {
        tx.commit_reservation(&input.quota).await?;
        tx.update_instance(
            cx.resource_id(),
            InstanceUpdate::to_status(InstanceStatus::Active).volume_size(input.size),
        )
        .await
    }

    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &ResizeVolumeInput,
        error: &StepError,
    ) -> StoreResult<()> {
        tx.release_reservation(&input.quota).await?;
        tx.set_instance_fault(cx.resource_id(), &error.message, &error.details)
            .await?;
        tx.update_instance(
            cx.resource_id(),
            InstanceUpdate::to_status(InstanceStatus::Active),
        )
        .await
    }
}
