//! Configuration apply: an instance's node runs with other values (a group attached,
//! detached, or edited). Changes that arrive while the instance is busy wait for it.

use serde::{Deserialize, Serialize};

use crate::runtime::types::ApplyRequest;
use crate::store::{InstanceStatus, InstanceUpdate, QuotaState, StoreResult, Task, Tx};

use super::super::Inner;
use super::super::context::{active_driver, settings_from_json};
use super::super::task::{Admission, Cx, Next, StepError, StepResult, Workflow};
use super::common::{driver, own_node};

/// Applies configuration values to an instance's node.
pub struct Apply;

/// What an apply is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyInput {
    /// The driver digest the task is pinned to.
    pub driver: String,
    /// The values to run with (JSON `[name, value]` pairs).
    pub target: String,
    /// The values it ran with before.
    pub previous: String,
    /// The group attached before, restored if the server refuses the values.
    pub previous_configuration_id: Option<String>,
    /// The status before, restored on failure.
    pub previous_status: InstanceStatus,
}

/// The one stage of [`Apply`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ApplyStage {
    /// Renders the node's files with the new values and has the driver apply them to the
    /// running server.
    Apply,
}

/// How an apply went.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Applied {
    /// Some value takes effect only after a restart.
    pub restart_required: bool,
    /// The server was not running: only its files changed, and the values take effect when
    /// it next starts.
    pub offline: bool,
}

impl Workflow for Apply {
    const KIND: &'static str = "apply_configuration";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["apply"];
    type Input = ApplyInput;
    type Stage = ApplyStage;
    type Outcome = Applied;

    fn first(_: &ApplyInput) -> ApplyStage {
        ApplyStage::Apply
    }

    fn driver(input: &ApplyInput) -> Option<&str> {
        Some(&input.driver)
    }

    /// If the server refuses a value, the driver has already undone its live changes; the
    /// files are rendered again with the previous values, so nothing is left half-applied.
    async fn step(
        cx: &Cx<'_>,
        input: &ApplyInput,
        stage: ApplyStage,
    ) -> StepResult<ApplyStage, Applied> {
        let ApplyStage::Apply = stage;
        let previous = settings_from_json(&input.previous);
        let mut node = own_node(cx).await?;
        node.context.settings = settings_from_json(&input.target);
        let driver = driver(cx, &input.driver).await?;
        let spec = driver.render_service(&node.context).await?;
        node.install(&spec).await.map_err(StepError::new)?;
        // A stopped or failed server can always be repaired: its files change now, and it
        // starts with them.
        if !node.node.is_running().await {
            return Ok(Next::Done(Applied {
                restart_required: false,
                offline: true,
            }));
        }
        let request = ApplyRequest {
            context: node.context.clone(),
            previous: previous.clone(),
        };
        match driver.apply(node.ops(), &request).await {
            Ok(outcome) => Ok(Next::Done(Applied {
                restart_required: !outcome.restart_required.is_empty(),
                offline: false,
            })),
            Err(error) => {
                node.context.settings = previous;
                let spec = driver.render_service(&node.context).await?;
                node.install(&spec).await.map_err(StepError::new)?;
                let error = StepError::from(error);
                Err(StepError {
                    message: format!(
                        "The configuration was not applied; the instance keeps its previous values: {}",
                        error.message
                    ),
                    ..error
                })
            }
        }
    }

    async fn on_success(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &ApplyInput,
        applied: &Applied,
    ) -> StoreResult<()> {
        let id = cx.resource_id();
        tx.set_applied_settings(id, &input.target).await?;
        // A server that was not running keeps its status until it is started; a restart
        // still owed for earlier values stays owed.
        let owed = input.previous_status == InstanceStatus::RestartRequired;
        let status = if applied.offline && !owed {
            input.previous_status
        } else if applied.restart_required || owed {
            InstanceStatus::RestartRequired
        } else {
            InstanceStatus::Active
        };
        tx.update_instance(id, InstanceUpdate::to_status(status))
            .await
    }

    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &ApplyInput,
        error: &StepError,
    ) -> StoreResult<()> {
        let id = cx.resource_id();
        tx.set_instance_fault(id, &error.message, &error.details)
            .await?;
        tx.set_instance_configuration(id, input.previous_configuration_id.as_deref())
            .await?;
        tx.update_instance(id, InstanceUpdate::to_status(input.previous_status))
            .await
    }
}

/// After any task on an instance has ended: applies a configuration change that arrived while
/// it ran. Changes queue behind the instance's task instead of being refused (Trove sends them
/// at once, whatever the instance is doing). A change is owed when the group's values are
/// neither what the ended task applied nor what the instance runs with; an apply that failed
/// is not tried again unless the group changed since.
pub(crate) fn apply_queued<'a>(
    inner: &'a Inner,
    task: &'a Task,
) -> futures::future::BoxFuture<'a, ()> {
    Box::pin(async move {
        let id = &task.resource_id;
        let Ok(instance) = inner.store.instance(id).await else {
            return;
        };
        let Some(group_id) = instance.configuration_id.clone() else {
            return;
        };
        let Ok(group) = inner.store.configuration(&group_id).await else {
            return;
        };
        let tried = if task.kind == Apply::KIND {
            serde_json::from_str::<ApplyInput>(&task.input)
                .map(|input| input.target)
                .unwrap_or_default()
        } else {
            instance.applied_settings.clone()
        };
        let settled = instance.status.is_settled() && instance.quota_state == QuotaState::Committed;
        if group.settings == tried || group.settings == instance.applied_settings || !settled {
            return;
        }
        let Ok(version) = inner
            .store
            .datastore_version(&instance.datastore_version_id)
            .await
        else {
            return;
        };
        let Ok(driver) = active_driver(inner, &version) else {
            return;
        };
        let input = ApplyInput {
            driver: driver.digest().to_string(),
            target: group.settings.clone(),
            previous: instance.applied_settings.clone(),
            previous_configuration_id: Some(group_id),
            previous_status: instance.status,
        };
        let queued = async {
            let mut tx = inner.store.write().await?;
            Admission::of::<Apply>(id, &input)
                .insert(&mut tx, false)
                .await?;
            tx.commit().await
        };
        match queued.await {
            Ok(()) => {
                tracing::info!(instance = %id, "applying the configuration change that waited for the task");
                inner.wake.notify_one();
            }
            Err(error) => {
                tracing::warn!(instance = %id, "could not queue the configuration change: {error}")
            }
        }
    })
}
