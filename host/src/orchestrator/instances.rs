//! Instance workflows: create, delete, restart, resize. Each step is idempotent: a step that
//! was interrupted is simply run again.

use crate::runtime::NodeOps;
use crate::runtime::types::{
    ApplyRequest, Database, NodeRole, PrepareRequest, ReplicaSource, User,
};
use crate::store::{StoreResult, Tx};

use super::Inner;
use super::context::{InstanceNode, settings_from_json};
use super::snapshots;
use super::work::{StepError, StepResult, TaskPayload, TaskRun, step};

/// The steps of a task.
pub fn steps(payload: &TaskPayload) -> &'static [super::work::Step] {
    match payload {
        TaskPayload::CreateInstance { .. } => &[
            step!(create_node),
            step!(initialize),
            step!(start),
            step!(prepare),
        ],
        TaskPayload::DeleteInstance => &[step!(destroy)],
        TaskPayload::StopInstance => &[step!(stop)],
        TaskPayload::RestartInstance { .. } => &[step!(stop), step!(install), step!(start)],
        TaskPayload::ResizeFlavor { .. } => &[step!(install), step!(stop), step!(start)],
        TaskPayload::ResizeVolume { .. } => &[],
        TaskPayload::ApplyConfiguration { .. } => &[step!(apply_configuration)],
        TaskPayload::CreateReplica { .. } => &[
            step!(enable_source),
            step!(create_node),
            step!(initialize),
            step!(start),
            step!(attach_replica),
        ],
        TaskPayload::DetachReplica { .. } => &[step!(detach_replica)],
        TaskPayload::PromoteReplica { .. } => &[
            step!(freeze_source),
            step!(wait_caught_up),
            step!(promote_candidate),
            step!(repoint_replicas),
            step!(demote_old_source),
        ],
        TaskPayload::EjectSource { .. } => &[
            step!(fence_source),
            step!(choose_successor),
            step!(promote_successor),
            step!(repoint_to_successor),
        ],
    }
}

async fn node(inner: &Inner, run: &TaskRun) -> Result<InstanceNode, StepError> {
    let instance = inner.store.instance_any(&run.task.resource_id).await?;
    let flavor = match &run.payload {
        TaskPayload::ResizeFlavor { flavor_id, .. } => Some(flavor_id.as_str()),
        _ => None,
    };
    let mut target = InstanceNode::for_instance(inner, instance, flavor)
        .await
        .map_err(StepError::transient)?;
    // A replica of a batch seeds from its copy of the batch's snapshot.
    if let (TaskPayload::CreateReplica { batch: Some(_), .. }, NodeRole::Replica(source)) =
        (&run.payload, &mut target.context.role)
    {
        source.snapshot = Some(
            target
                .node
                .dir()
                .join(snapshots::COPY)
                .display()
                .to_string(),
        );
    }
    Ok(target)
}

async fn driver(inner: &Inner, run: &TaskRun) -> Result<crate::runtime::Driver, StepError> {
    let digest = run
        .payload
        .driver()
        .ok_or_else(|| StepError::new("this task has no driver"))?;
    inner.driver(digest).await.map_err(StepError::new)
}

/// Creates the node directory and writes the service the driver renders.
async fn create_node(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    target.node.create().await.map_err(StepError::new)?;
    install_service(inner, run, &target).await
}

/// Writes the service the driver renders for the node's current context.
async fn install(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    install_service(inner, run, &target).await
}

async fn install_service(inner: &Inner, run: &TaskRun, target: &InstanceNode) -> StepResult {
    let driver = driver(inner, run).await?;
    let spec = driver.render_service(&target.context).await?;
    target.node.install(&spec).await.map_err(StepError::new)
}

/// The batch a replica is created in, if any.
fn batch(run: &TaskRun) -> Option<&str> {
    match &run.payload {
        TaskPayload::CreateReplica {
            batch: Some(batch), ..
        } => Some(batch),
        _ => None,
    }
}

/// First-time set-up of the node's data, with the server stopped. A replica of a batch gets
/// its private copy of the batch's snapshot first (kept until it is attached).
async fn initialize(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    if let Some(batch) = batch(run) {
        snapshots::lend(inner, batch, &target.node).await?;
    }
    driver(inner, run)
        .await?
        .initialize(target.ops(), &target.context)
        .await?;
    Ok(())
}

/// Starts the server and waits until it is ready.
async fn start(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    target.node.start().await.map_err(|message| StepError {
        message: "The datastore server did not start.".into(),
        details: message,
        retry: false,
    })
}

/// Stops the server.
async fn stop(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    target.node.stop().await.map_err(StepError::new)
}

/// The driver's own set-up, then the requested databases and users. Their passwords leave the
/// task once the users exist.
async fn prepare(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    let TaskPayload::CreateInstance {
        databases, users, ..
    } = &mut run.payload
    else {
        return Err(StepError::new(
            "prepare runs only when creating an instance",
        ));
    };
    let request = PrepareRequest {
        databases: databases
            .iter()
            .map(|d| Database {
                name: d.name.clone(),
                character_set: d.character_set.clone(),
                collation: d.collation.clone(),
            })
            .collect(),
        users: users
            .iter()
            .map(|u| User {
                name: u.name.clone(),
                host: u.host.clone(),
                password: u.password.as_ref().map(|p| p.expose().to_string()),
                databases: u.databases.clone(),
            })
            .collect(),
    };
    let digest = run.payload.driver().unwrap_or_default().to_string();
    let driver = inner.driver(&digest).await.map_err(StepError::new)?;
    driver
        .prepare(target.ops(), &target.context, &request)
        .await?;
    if let TaskPayload::CreateInstance { users, .. } = &mut run.payload {
        for user in users {
            user.password = None;
        }
    }
    Ok(())
}

/// Renders the node's files with the new values and has the driver apply them to the running
/// server. If the server refuses a value, the driver has already undone its live changes; the
/// files are rendered again with the previous values, so nothing is left half-applied.
async fn apply_configuration(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let TaskPayload::ApplyConfiguration {
        target, previous, ..
    } = &run.payload
    else {
        return Err(StepError::new(
            "apply_configuration runs only when applying a configuration",
        ));
    };
    let previous = settings_from_json(previous);
    let mut node = node(inner, run).await?;
    node.context.settings = settings_from_json(target);
    let driver = driver(inner, run).await?;
    let spec = driver.render_service(&node.context).await?;
    node.node.install(&spec).await.map_err(StepError::new)?;
    // A stopped or failed server can always be repaired: its files change now, and it starts
    // with them.
    if !node.node.is_running().await {
        if let TaskPayload::ApplyConfiguration { offline, .. } = &mut run.payload {
            *offline = true;
        }
        return Ok(());
    }
    let request = ApplyRequest {
        context: node.context.clone(),
        previous: previous.clone(),
    };
    match driver.apply(node.ops(), &request).await {
        Ok(outcome) => {
            if let TaskPayload::ApplyConfiguration {
                restart_required, ..
            } = &mut run.payload
            {
                *restart_required = !outcome.restart_required.is_empty();
            }
            Ok(())
        }
        Err(error) => {
            node.context.settings = previous;
            let spec = driver.render_service(&node.context).await?;
            node.node.install(&spec).await.map_err(StepError::new)?;
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

/// Has the source's driver prepare it for replicas and keeps what replicas need.
async fn enable_source(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let replica = inner.store.instance_any(&run.task.resource_id).await?;
    let source_id = replica
        .replica_of_id
        .clone()
        .ok_or_else(|| StepError::new("the replica has no source"))?;
    let source = InstanceNode::load(inner, &source_id)
        .await
        .map_err(StepError::transient)?;
    let driver = driver(inner, run).await?;
    let _one_at_a_time = inner.source_setup.lock().await;
    let setup = driver.enable_source(source.ops(), &source.context).await?;
    if setup.restart_required {
        // The source shows RESTART while it restarts for its replicas, then ACTIVE again.
        let status = match source.instance.status.as_str() {
            // A retried step finds its own RESTART.
            "RESTART" => "ACTIVE".to_string(),
            other => other.to_string(),
        };
        set_status(inner, &source_id, "RESTART").await?;
        source.node.stop().await.map_err(StepError::new)?;
        source.node.start().await.map_err(StepError::new)?;
        set_status(inner, &source_id, &status).await?;
    }
    let mut tx = inner.store.write().await?;
    tx.set_replication(&replica.id, Some(&source_id), Some(&setup.info))
        .await?;
    tx.commit().await?;
    if let TaskPayload::CreateReplica {
        batch: Some(batch), ..
    } = &run.payload
    {
        let seen_by_replicas = ReplicaSource {
            node_id: source_id.clone(),
            address: source.context.address.clone(),
            info: setup.info,
            snapshot: None,
        };
        snapshots::take(inner, &driver, batch, source.ops(), &seen_by_replicas).await?;
    }
    Ok(())
}

async fn set_status(inner: &Inner, id: &str, status: &str) -> StepResult {
    let mut tx = inner.store.write().await?;
    tx.update_instance(id, Some(status), None, None, None)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes the running replica follow its source (seeding it first where the datastore seeds
/// after start).
async fn attach_replica(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    let source_id = target
        .instance
        .replica_of_id
        .clone()
        .ok_or_else(|| StepError::new("the replica has no source"))?;
    let source = InstanceNode::load(inner, &source_id)
        .await
        .map_err(StepError::transient)?;
    if let Some(batch) = batch(run) {
        snapshots::lend(inner, batch, &target.node).await?;
    }
    driver(inner, run)
        .await?
        .attach_replica(target.ops(), &target.context, Some(source.ops()))
        .await?;
    if batch(run).is_some() {
        snapshots::give_back(&target.node).await?;
    }
    Ok(())
}

/// Stops the replica following its source and renders it as a standalone node.
async fn detach_replica(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let mut target = node(inner, run).await?;
    target.context.role = NodeRole::Standalone;
    let driver = driver(inner, run).await?;
    driver.detach_replica(target.ops(), &target.context).await?;
    let spec = driver.render_service(&target.context).await?;
    target.node.install(&spec).await.map_err(StepError::new)
}

fn promotion(run: &TaskRun) -> Result<(String, Option<String>, Option<String>), StepError> {
    match &run.payload {
        TaskPayload::PromoteReplica {
            old_source,
            position,
            info,
            ..
        } => Ok((
            old_source.clone(),
            position.clone(),
            info.as_ref().map(|i| i.expose().to_string()),
        )),
        _ => Err(StepError::new("this step runs only in a promotion")),
    }
}

/// The old source stops taking writes; its position then is what the candidate must reach.
async fn freeze_source(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let (old_source, _, _) = promotion(run)?;
    let source = InstanceNode::load(inner, &old_source)
        .await
        .map_err(StepError::transient)?;
    let driver = driver(inner, run).await?;
    driver.set_read_only(source.ops(), true).await?;
    let position = driver.position(source.ops()).await?;
    if let TaskPayload::PromoteReplica { position: slot, .. } = &mut run.payload {
        *slot = Some(position);
    }
    Ok(())
}

/// Waits (the step is retried while the driver says no) until the candidate has applied
/// everything the old source acknowledged.
async fn wait_caught_up(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let (_, position, _) = promotion(run)?;
    let position = position.ok_or_else(|| StepError::new("no position was recorded"))?;
    let target = node(inner, run).await?;
    if driver(inner, run)
        .await?
        .caught_up(target.ops(), &position)
        .await?
    {
        Ok(())
    } else {
        Err(StepError::transient(format!(
            "the replica has not applied position {position} yet"
        )))
    }
}

/// A replica stops following and becomes a writable source; returns what its followers need.
async fn take_over(inner: &Inner, run: &TaskRun, candidate: &str) -> Result<String, StepError> {
    let mut target = InstanceNode::load(inner, candidate)
        .await
        .map_err(StepError::transient)?;
    target.context.role = NodeRole::Standalone;
    let driver = driver(inner, run).await?;
    driver.promote(target.ops(), &target.context).await?;
    let spec = driver.render_service(&target.context).await?;
    target.node.install(&spec).await.map_err(StepError::new)?;
    let _one_at_a_time = inner.source_setup.lock().await;
    Ok(driver
        .enable_source(target.ops(), &target.context)
        .await?
        .info)
}

/// The candidate stops following and becomes a writable source for the others.
async fn promote_candidate(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let candidate = run.task.resource_id.clone();
    let setup = take_over(inner, run, &candidate).await?;
    if let TaskPayload::PromoteReplica { info, .. } = &mut run.payload {
        *info = Some(crate::secrets::Secret::new(setup));
    }
    Ok(())
}

/// Every other replica of the old source follows the new one.
async fn repoint_replicas(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let (old_source, _, info) = promotion(run)?;
    let info = info.ok_or_else(|| StepError::new("the new source's setup is missing"))?;
    let candidate = run.task.resource_id.clone();
    repoint(inner, run, &old_source, &candidate, &info).await
}

/// Every replica of `old_source` but `candidate` follows `candidate`.
async fn repoint(
    inner: &Inner,
    run: &TaskRun,
    old_source: &str,
    candidate: &str,
    info: &str,
) -> StepResult {
    let new_source = InstanceNode::load(inner, candidate)
        .await
        .map_err(StepError::transient)?;
    let driver = driver(inner, run).await?;
    for other in inner.store.replicas_of(old_source).await? {
        if other.id == candidate {
            continue;
        }
        let mut tx = inner.store.write().await?;
        tx.set_replication(&other.id, Some(candidate), Some(info))
            .await?;
        tx.commit().await?;
        let follower = InstanceNode::load(inner, &other.id)
            .await
            .map_err(StepError::transient)?;
        let spec = driver.render_service(&follower.context).await?;
        follower.node.install(&spec).await.map_err(StepError::new)?;
        driver
            .attach_replica(follower.ops(), &follower.context, Some(new_source.ops()))
            .await?;
    }
    Ok(())
}

/// The old source follows the new one; its paused writers are let go.
async fn demote_old_source(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let (old_source, _, info) = promotion(run)?;
    let info = info.ok_or_else(|| StepError::new("the new source's setup is missing"))?;
    let candidate = run.task.resource_id.clone();
    let mut tx = inner.store.write().await?;
    tx.set_replication(&old_source, Some(&candidate), Some(&info))
        .await?;
    tx.set_replication(&candidate, None, None).await?;
    tx.commit().await?;
    let new_source = InstanceNode::load(inner, &candidate)
        .await
        .map_err(StepError::transient)?;
    let old = InstanceNode::load(inner, &old_source)
        .await
        .map_err(StepError::transient)?;
    let driver = driver(inner, run).await?;
    let spec = driver.render_service(&old.context).await?;
    old.node.install(&spec).await.map_err(StepError::new)?;
    driver
        .demote(old.ops(), &old.context, new_source.ops())
        .await?;
    Ok(())
}

fn ejection(run: &TaskRun) -> (Option<String>, Option<String>) {
    match &run.payload {
        TaskPayload::EjectSource {
            candidate, info, ..
        } => (
            candidate.clone(),
            info.as_ref().map(|i| i.expose().to_string()),
        ),
        _ => (None, None),
    }
}

/// The unreachable source is stopped for good (if it is half alive, it must not take writes
/// once a replica has taken over); it is never started again.
async fn fence_source(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    target.node.stop().await.map_err(StepError::new)
}

/// The replica with the most recent position (among those that answer) is chosen.
async fn choose_successor(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let driver = driver(inner, run).await?;
    let mut best: Option<(String, String)> = None;
    for replica in inner.store.replicas_of(&run.task.resource_id).await? {
        let Ok(node) = InstanceNode::load(inner, &replica.id).await else {
            continue;
        };
        let Ok(position) = driver.position(node.ops()).await else {
            continue;
        };
        let ahead = match &best {
            None => true,
            Some((_, known)) => driver.compare_positions(&position, known).await? > 0,
        };
        if ahead {
            best = Some((replica.id, position));
        }
    }
    let (chosen, _) =
        best.ok_or_else(|| StepError::new("no replica answered; none can take over"))?;
    if let TaskPayload::EjectSource { candidate, .. } = &mut run.payload {
        *candidate = Some(chosen);
    }
    Ok(())
}

/// The chosen replica becomes the source.
async fn promote_successor(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let (candidate, _) = ejection(run);
    let candidate = candidate.ok_or_else(|| StepError::new("no replica was chosen"))?;
    let setup = take_over(inner, run, &candidate).await?;
    let mut tx = inner.store.write().await?;
    tx.set_replication(&candidate, None, None).await?;
    tx.update_instance(&candidate, Some("ACTIVE"), None, None, None)
        .await?;
    tx.commit().await?;
    if let TaskPayload::EjectSource { info, .. } = &mut run.payload {
        *info = Some(crate::secrets::Secret::new(setup));
    }
    Ok(())
}

/// The other replicas follow the new source; the ejected one is left with none.
async fn repoint_to_successor(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let (candidate, info) = ejection(run);
    let candidate = candidate.ok_or_else(|| StepError::new("no replica was chosen"))?;
    let info = info.ok_or_else(|| StepError::new("the new source's setup is missing"))?;
    let old_source = run.task.resource_id.clone();
    repoint(inner, run, &old_source, &candidate, &info).await
}

/// Stops the server and removes the node directory.
async fn destroy(inner: &Inner, run: &mut TaskRun) -> StepResult {
    let target = node(inner, run).await?;
    target.node.destroy().await.map_err(StepError::new)
}

/// Applies a configuration change that arrived while a task ran on the instance, once the task
/// has ended: changes queue behind the instance's task instead of being refused (Trove sends
/// them at once, whatever the instance is doing). A change is owed when the group's values are
/// neither what the ended task applied nor what the instance runs with; an apply that failed
/// is not tried again unless the group changed since.
pub async fn apply_queued_configuration(inner: &Inner, run: &TaskRun) {
    let id = &run.task.resource_id;
    let Ok(instance) = inner.store.instance(id).await else {
        return;
    };
    let Some(group_id) = instance.configuration_id.clone() else {
        return;
    };
    let Ok(group) = inner.store.configuration(&group_id).await else {
        return;
    };
    let tried = match &run.payload {
        TaskPayload::ApplyConfiguration { target, .. } => target.as_str(),
        _ => instance.applied_settings.as_str(),
    };
    let settled = matches!(
        instance.status.as_str(),
        "ACTIVE" | "RESTART_REQUIRED" | "SHUTDOWN" | "ERROR"
    ) && instance.quota_state == "committed";
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
    let Ok(driver) = super::context::active_driver(inner, &version) else {
        return;
    };
    let payload = TaskPayload::ApplyConfiguration {
        driver: driver.digest().to_string(),
        target: group.settings.clone(),
        previous: instance.applied_settings.clone(),
        previous_configuration_id: Some(group_id),
        previous_status: instance.status.clone(),
        restart_required: false,
        offline: false,
    };
    let queued = async {
        let mut tx = inner.store.write().await?;
        tx.insert_task(id, payload.kind(), &payload.to_json())
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
}

/// The resource's state when its task succeeded, in the task's ending transaction.
pub async fn complete(inner: &Inner, tx: &mut Tx, run: &TaskRun) -> StoreResult<()> {
    let id = &run.task.resource_id;
    match &run.payload {
        TaskPayload::CreateInstance { quota, .. } | TaskPayload::CreateReplica { quota, .. } => {
            for held in quota {
                tx.commit_reservation(&held.reservation()).await?;
            }
            tx.update_instance(id, Some("ACTIVE"), None, None, Some("committed"))
                .await
        }
        TaskPayload::DeleteInstance => {
            let instance = inner.store.instance_any(id).await?;
            release_all(tx, &instance).await?;
            tx.mark_instance_deleted(id).await
        }
        TaskPayload::RestartInstance { .. } => {
            tx.update_instance(id, Some("ACTIVE"), None, None, None)
                .await
        }
        TaskPayload::StopInstance => {
            tx.update_instance(id, Some("SHUTDOWN"), None, None, None)
                .await
        }
        TaskPayload::ResizeFlavor { flavor_id, .. } => {
            tx.update_instance(id, Some("ACTIVE"), Some(flavor_id), None, None)
                .await
        }
        TaskPayload::ResizeVolume { size, quota } => {
            tx.commit_reservation(&quota.reservation()).await?;
            tx.update_instance(id, Some("ACTIVE"), None, Some(*size), None)
                .await
        }
        TaskPayload::DetachReplica { .. } => {
            tx.set_replication(id, None, None).await?;
            tx.update_instance(id, Some("ACTIVE"), None, None, None)
                .await
        }
        TaskPayload::PromoteReplica { .. } => {
            tx.update_instance(id, Some("ACTIVE"), None, None, None)
                .await
        }
        // The ejected source leaves the set, in ERROR with a fault saying who took over.
        TaskPayload::EjectSource { candidate, .. } => {
            let message = format!(
                "Ejected from its replication set: replica {} took over as the source.",
                candidate.as_deref().unwrap_or("?")
            );
            tx.set_instance_fault(id, &message, &message).await?;
            if let Some(candidate) = candidate {
                tx.mark_ejected(id, candidate).await?;
            }
            tx.update_instance(id, Some("ERROR"), None, None, None)
                .await
        }
        TaskPayload::ApplyConfiguration {
            target,
            previous_status,
            restart_required,
            offline,
            ..
        } => {
            tx.set_applied_settings(id, target).await?;
            // A server that was not running keeps its status until it is started; a restart
            // still owed for earlier values stays owed.
            let status = if *offline && previous_status != "RESTART_REQUIRED" {
                previous_status.as_str()
            } else if *restart_required || previous_status == "RESTART_REQUIRED" {
                "RESTART_REQUIRED"
            } else {
                "ACTIVE"
            };
            tx.update_instance(id, Some(status), None, None, None).await
        }
    }
}

/// The resource's state when its task failed: a defined status, a fault, and quota given
/// back where nothing was built.
pub async fn fail(inner: &Inner, tx: &mut Tx, run: &TaskRun, error: &StepError) -> StoreResult<()> {
    let id = &run.task.resource_id;
    tx.set_instance_fault(id, &error.message, &error.details)
        .await?;
    match &run.payload {
        TaskPayload::CreateInstance { quota, .. } | TaskPayload::CreateReplica { quota, .. } => {
            for held in quota {
                tx.release_reservation(&held.reservation()).await?;
            }
            tx.update_instance(id, Some("ERROR"), None, None, Some("released"))
                .await
        }
        TaskPayload::ResizeVolume { quota, .. } => {
            tx.release_reservation(&quota.reservation()).await?;
            tx.update_instance(id, Some("ACTIVE"), None, None, None)
                .await
        }
        TaskPayload::ApplyConfiguration {
            previous_configuration_id,
            previous_status,
            ..
        } => {
            tx.set_instance_configuration(id, previous_configuration_id.as_deref())
                .await?;
            tx.update_instance(id, Some(previous_status), None, None, None)
                .await
        }
        TaskPayload::DetachReplica { .. } => {
            tx.update_instance(id, Some("ACTIVE"), None, None, None)
                .await
        }
        // A promotion that fails midway leaves the set as its steps left it, with the fault
        // saying where; the old source is not made writable again behind anyone's back.
        TaskPayload::PromoteReplica { .. } => {
            tx.update_instance(id, Some("ERROR"), None, None, None)
                .await
        }
        TaskPayload::EjectSource { .. } => {
            tx.update_instance(id, Some("ERROR"), None, None, None)
                .await
        }
        TaskPayload::DeleteInstance
        | TaskPayload::StopInstance
        | TaskPayload::RestartInstance { .. }
        | TaskPayload::ResizeFlavor { .. } => {
            let _ = inner;
            tx.update_instance(id, Some("ERROR"), None, None, None)
                .await
        }
    }
}

/// Gives back whatever quota an instance still holds.
async fn release_all(tx: &mut Tx, instance: &crate::store::Instance) -> StoreResult<()> {
    let held = [("instances", 1), ("volumes", instance.volume_size)];
    for (resource, amount) in held {
        let reservation = crate::store::Reservation {
            project_id: instance.project_id.clone(),
            resource: resource.into(),
            amount,
        };
        match instance.quota_state.as_str() {
            "committed" => tx.release_usage(&reservation).await?,
            "reserved" => tx.release_reservation(&reservation).await?,
            _ => {}
        }
    }
    tx.update_instance(&instance.id, None, None, None, Some("released"))
        .await
}
