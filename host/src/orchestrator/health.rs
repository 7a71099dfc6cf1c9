//! Keeping instance statuses true, and bringing nodes back after the host restarts.

use crate::runtime::types::HealthStatus;
use crate::store::{Instance, InstanceStatus, QuotaState};

use super::Inner;
use super::context::{InstanceNode, active_driver};

/// This host's settled instances: no host checks, starts or adopts another host's nodes.
async fn settled_instances(inner: &Inner) -> Vec<Instance> {
    instances_here(inner, InstanceStatus::is_settled).await
}

/// This host's built instances whose status is `wanted`.
async fn instances_here(inner: &Inner, wanted: fn(InstanceStatus) -> bool) -> Vec<Instance> {
    match inner.store.instances_on_host(&inner.host_id).await {
        Ok(instances) => instances
            .into_iter()
            .filter(|i| i.quota_state == QuotaState::Committed && wanted(i.status))
            .collect(),
        Err(error) => {
            tracing::warn!("health pass could not list instances: {error}");
            Vec::new()
        }
    }
}

/// At start: instances written before nodes recorded their placement are placed on the host
/// that holds their node directory (this one, if it does).
pub async fn adopt_unplaced(inner: &Inner) {
    let unplaced = match inner.store.unplaced_instances().await {
        Ok(unplaced) => unplaced,
        Err(error) => {
            tracing::warn!("could not list unplaced instances: {error}");
            return;
        }
    };
    for instance in unplaced {
        let Ok(target) = InstanceNode::for_instance(inner, instance.clone(), None).await else {
            continue;
        };
        if !target.node.holds().await {
            continue;
        }
        let placement = crate::store::Placement {
            host_id: inner.host_id.clone(),
            backend: inner.backend.kind().to_string(),
            address: inner.backend.address(),
        };
        match inner.store.place_instance(&instance.id, &placement).await {
            Ok(()) => {
                tracing::info!(instance = %instance.id, "placed an instance on the host that holds its node")
            }
            Err(error) => {
                tracing::warn!(instance = %instance.id, "could not place an instance: {error}")
            }
        }
    }
}

/// At start: nodes that should run but do not (the host was down, or the machine rebooted) are
/// started again, all at once; running ones are adopted as they are. While its server starts,
/// an instance shows REBOOT, not the ACTIVE it had before the host went down.
pub async fn restart_dead_nodes(inner: &Inner) {
    let mut starts = Vec::new();
    // REBOOT with no task: this host went down while it started the node at its last start.
    let wanted = |status: InstanceStatus| status.is_settled() || status == InstanceStatus::Reboot;
    for mut instance in instances_here(inner, wanted).await {
        if inner
            .store
            .active_task(&instance.id)
            .await
            .ok()
            .flatten()
            .is_some()
        {
            continue;
        }
        let Ok(target) = InstanceNode::for_instance(inner, instance.clone(), None).await else {
            continue;
        };
        if let Some(by) = &instance.ejected_by {
            // Ejected while this host was down, its server may have outlived the host: it is
            // fenced now, before its old clients find it writable.
            if target.node.is_running().await {
                tracing::warn!(instance = %instance.id, ejected_by = %by, "stopping an ejected source");
                if let Err(error) = target.node.stop().await {
                    tracing::warn!(instance = %instance.id, "could not stop an ejected source: {error}");
                }
            } else {
                tracing::info!(instance = %instance.id, ejected_by = %by, "an ejected source stays stopped");
            }
            continue;
        }
        if instance.status == InstanceStatus::Reboot {
            let _ = inner
                .store
                .set_idle_instance_status(
                    &instance.id,
                    InstanceStatus::Reboot,
                    InstanceStatus::Active,
                )
                .await;
            instance.status = InstanceStatus::Active;
        }
        if target.node.is_running().await {
            tracing::info!(instance = %instance.id, "adopted a running node");
            continue;
        }
        starts.push(start_again(inner, instance, target));
    }
    futures::future::join_all(starts).await;
}

/// Starts a node that should run, showing REBOOT meanwhile.
async fn start_again(inner: &Inner, instance: Instance, target: InstanceNode) {
    tracing::info!(instance = %instance.id, "starting a node that should run");
    let shown = matches!(
        inner
            .store
            .set_idle_instance_status(&instance.id, instance.status, InstanceStatus::Reboot)
            .await,
        Ok(true)
    );
    let result = target.node.start().await;
    if let Err(error) = &result {
        tracing::warn!(instance = %instance.id, "could not start the node: {error}");
        let _ = inner
            .store
            .set_instance_fault(&instance.id, "The datastore server did not start.", error)
            .await;
    }
    if shown {
        // Back to what it was; a server that did not start is the health pass's to show.
        let _ = inner
            .store
            .set_idle_instance_status(&instance.id, InstanceStatus::Reboot, instance.status)
            .await;
    }
}

/// One health pass over every settled instance.
pub async fn pass(inner: &Inner) {
    for instance in settled_instances(inner).await {
        // A node a task is working on (a delete, say) is the task's: no command of the health
        // pass may start on it meanwhile.
        if !matches!(inner.store.active_task(&instance.id).await, Ok(None)) {
            continue;
        }
        let Ok(target) = InstanceNode::for_instance(inner, instance.clone(), None).await else {
            continue;
        };
        let (status, service) = observe(inner, &instance, &target).await;
        record_service_status(inner, &instance, service).await;
        let Some(status) = status else {
            continue;
        };
        if instance.replica_of_id.is_some() {
            observe_replication(inner, &instance, &target, status).await;
        }
        if status != instance.status {
            match inner
                .store
                .set_idle_instance_status(&instance.id, instance.status, status)
                .await
            {
                Ok(true) => {
                    tracing::info!(instance = %instance.id, from = %instance.status, to = %status, "health pass changed the status")
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(instance = %instance.id, "health pass could not record the status: {error}")
                }
            }
        }
    }
}

/// How often the service status is written when it has not changed: the API shows it as
/// `service_status_updated`, Trove's last heartbeat.
const SERVICE_STATUS_REFRESH_MS: i64 = 30_000;

/// Records what was seen of the datastore service when it changed or is getting old.
async fn record_service_status(inner: &Inner, instance: &Instance, seen: Option<&str>) {
    let Some(seen) = seen else { return };
    let fresh = instance
        .service_status_at
        .is_some_and(|at| crate::store::now_ms() - at < SERVICE_STATUS_REFRESH_MS);
    if instance.service_status.as_deref() == Some(seen) && fresh {
        return;
    }
    if let Err(error) = inner.store.set_service_status(&instance.id, seen).await {
        tracing::warn!(instance = %instance.id, "health pass could not record the service status: {error}");
    }
}

/// The status an instance's node shows now (`None` to leave it), and what was seen of its
/// datastore service (`None`: nothing could be asked).
async fn observe(
    inner: &Inner,
    instance: &Instance,
    target: &InstanceNode,
) -> (Option<InstanceStatus>, Option<&'static str>) {
    if !target.node.is_running().await {
        return (Some(InstanceStatus::Shutdown), Some("SHUTDOWN"));
    }
    let Ok(driver) = active_driver(inner, &target.version) else {
        return (None, None);
    };
    let keep = if instance.status == InstanceStatus::RestartRequired {
        InstanceStatus::RestartRequired
    } else {
        InstanceStatus::Active
    };
    match driver.check_health(target.ops(), &target.context).await {
        Ok(health) => match health.status {
            HealthStatus::Healthy => (Some(keep), Some("HEALTHY")),
            HealthStatus::Starting => (None, Some("STARTING")),
            HealthStatus::Unhealthy => {
                tracing::warn!(instance = %instance.id, "unhealthy: {}", health.message);
                (Some(InstanceStatus::Error), Some("ERROR"))
            }
        },
        Err(error) => {
            tracing::warn!(instance = %instance.id, "health check failed: {error}");
            (Some(InstanceStatus::Error), Some("ERROR"))
        }
    }
}

/// Records how a replica follows its source, as its driver reports it: `in_sync` while it is
/// connected and applying, and its lag when the datastore says.
async fn observe_replication(
    inner: &Inner,
    instance: &Instance,
    target: &InstanceNode,
    status: InstanceStatus,
) {
    let (state, lag_ms) = match replication_status(inner, instance, target, status).await {
        Some(seen) => (
            if seen.in_sync {
                "in_sync"
            } else {
                "out_of_sync"
            },
            seen.lag_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX)),
        ),
        None => ("out_of_sync", None),
    };
    if instance.replication_state.as_deref() == Some(state) && instance.replication_lag_ms == lag_ms
    {
        return;
    }
    if let Err(error) = inner
        .store
        .set_replication_health(&instance.id, state, lag_ms)
        .await
    {
        tracing::warn!(instance = %instance.id, "health pass could not record replication: {error}");
    }
}

async fn replication_status(
    inner: &Inner,
    instance: &Instance,
    target: &InstanceNode,
    status: InstanceStatus,
) -> Option<crate::runtime::types::ReplicationStatus> {
    if !status.is_serving() {
        return None;
    }
    let driver = active_driver(inner, &target.version).ok()?;
    match driver
        .replication_status(target.ops(), &target.context)
        .await
    {
        Ok(seen) => Some(seen),
        Err(error) => {
            tracing::warn!(instance = %instance.id, "replication status failed: {error}");
            None
        }
    }
}
