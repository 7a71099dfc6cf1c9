//! What the workflows share: an instance's node and driver as a step needs them, and small
//! status writes.

use crate::runtime::Driver;
use crate::store::{InstanceStatus, InstanceUpdate, Reservation, Tx};

use super::super::context::InstanceNode;
use super::super::task::{Cx, StepError};

/// The node of instance `id` (with another flavor, for a resize in progress), on this host or
/// reached through the host that holds it.
pub async fn node(cx: &Cx<'_>, id: &str, flavor: Option<&str>) -> Result<InstanceNode, StepError> {
    let instance = cx.inner.store.instance_any(id).await?;
    InstanceNode::for_instance(cx.inner, instance, flavor)
        .await
        .map_err(StepError::transient)
}

/// Whether the host that holds `instance`'s node is another one that has stopped
/// heartbeating.
pub async fn host_is_silent(cx: &Cx<'_>, instance: &crate::store::Instance) -> bool {
    let Some(host) = instance.host_id.as_deref() else {
        return false;
    };
    cx.inner
        .store
        .host(host)
        .await
        .is_ok_and(|h| !cx.inner.host_is_up(&h.id, h.heartbeat_at))
}

/// The node of the task's own instance.
pub async fn own_node(cx: &Cx<'_>) -> Result<InstanceNode, StepError> {
    node(cx, cx.resource_id(), None).await
}

/// The driver a task is pinned to.
pub async fn driver(cx: &Cx<'_>, digest: &str) -> Result<Driver, StepError> {
    cx.inner.driver(digest).await.map_err(StepError::new)
}

/// Sets an instance's status in a transaction of its own.
pub async fn set_status(cx: &Cx<'_>, id: &str, status: InstanceStatus) -> Result<(), StepError> {
    let mut tx = cx.inner.store.write().await?;
    tx.update_instance(id, InstanceUpdate::to_status(status))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Commits what a task held for a resource it built.
pub async fn commit_all(tx: &mut Tx, quota: &[Reservation]) -> crate::store::StoreResult<()> {
    for held in quota {
        tx.commit_reservation(held).await?;
    }
    Ok(())
}

/// Gives back what a task held for a resource it did not build.
pub async fn release_all(tx: &mut Tx, quota: &[Reservation]) -> crate::store::StoreResult<()> {
    for held in quota {
        tx.release_reservation(held).await?;
    }
    Ok(())
}
