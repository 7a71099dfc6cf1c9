//! Instances: create, list, show, delete, restart, resize, rename, replication, and the
//! databases, users, access and root of a running instance. One file per concern; this one
//! holds what the actions share.

mod accounts;
mod actions;
mod configuration;
mod create;
mod details;
mod listing;
mod replication;

pub use accounts::{
    change_passwords, create_databases, create_users, delete_database, delete_user, disable_root,
    enable_root, grant_access, list_access, list_databases, list_users, revoke_access,
    root_enabled, show_user, update_user,
};
pub(crate) use actions::start_restart;
pub use actions::{delete, rename, resize_flavor, resize_volume, restart};
pub use configuration::effective_configuration;
pub use create::{CreateInstance, create};
pub(crate) use details::details;
pub use details::{HostState, InstanceDetails, InstancePage, MAX_PAGE, show, tasks};
pub use listing::{list, page_version};
pub use replication::{detach_replica, eject, promote, replicas};

use crate::orchestrator::Admission;
use crate::store::{Instance, InstanceStatus, InstanceUpdate, QuotaState};

use super::{ServiceError, ServiceResult, Services};

/// Starts a task on an instance in one transaction with its new status.
pub(crate) async fn start_task(
    services: &Services,
    instance: &Instance,
    status: InstanceStatus,
    admission: Admission,
) -> ServiceResult<()> {
    let mut tx = services.store.write().await?;
    admission.insert(&mut tx, false).await.map_err(|e| match e {
        // Trove's answer to an action on an instance that is not ready (a delete during
        // BUILD, say) is 422 UnprocessableEntity.
        crate::store::StoreError::Conflict(_) => ServiceError::Unprocessable(format!(
            "Instance {} is not ready: it is busy with another operation (status {}); try again when it has finished.",
            instance.id, instance.status
        )),
        other => other.into(),
    })?;
    tx.update_instance(&instance.id, InstanceUpdate::to_status(status))
        .await?;
    tx.clear_instance_fault(&instance.id).await?;
    tx.commit().await?;
    services.orchestrator.wake();
    Ok(())
}

/// A volume over the installation's maximum is a 413, as Trove answers it
/// (`VolumeQuotaExceeded`).
pub(super) fn over_max_volume(services: &Services, size: i64) -> ServiceResult<()> {
    if size > services.max_volume_gb {
        return Err(ServiceError::OverLimit(format!(
            "Volume 'size' cannot exceed maximum of {} GB, {size} cannot be accepted.",
            services.max_volume_gb
        )));
    }
    Ok(())
}

/// Actions take settled instances that hold their quota, never an ejected source.
pub(super) fn require_settled(instance: &Instance, action: &str) -> ServiceResult<()> {
    if let Some(by) = &instance.ejected_by {
        return Err(ServiceError::Unprocessable(format!(
            "Instance {} was ejected from its replication set and instance {by} took over; it \
             stays stopped so that it never takes writes beside the new source, and can only \
             be deleted.",
            instance.id
        )));
    }
    if instance.status.is_settled() && instance.quota_state == QuotaState::Committed {
        Ok(())
    } else {
        Err(ServiceError::Unprocessable(format!(
            "Instance {} is not ready to {action}: its status is {}.",
            instance.id, instance.status
        )))
    }
}
