//! Actions on an instance: delete, restart, resize (flavor or volume) and rename.

use crate::orchestrator::Admission;
use crate::orchestrator::workflows::node::{
    self, DriverInput, ResizeFlavorInput, ResizeVolumeInput,
};
use crate::store::{Instance, InstanceStatus, InstanceUpdate};

use super::super::lookup::{driver_for, driver_of, flavor_allowed, visible_instance};
use super::super::{Ctx, ServiceError, ServiceResult, Services};
use super::{over_max_volume, require_settled, start_task};

/// `DELETE /instances/{id}`.
pub async fn delete(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:delete", &instance.project_id)?;
    let replicas = services.store.replicas_of(&instance.id).await?;
    if !replicas.is_empty() {
        return Err(ServiceError::Forbidden(format!(
            "Instance {} has {} replica(s); detach or delete them first.",
            instance.id,
            replicas.len()
        )));
    }
    start_task(
        services,
        &instance,
        InstanceStatus::Shutdown,
        Admission::of::<node::Delete>(&instance.id, &()),
    )
    .await
}

/// `POST /instances/{id}/action {"restart": {}}`.
pub async fn restart(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:restart", &instance.project_id)?;
    require_settled(&instance, "restart")?;
    start_restart(services, &instance).await
}

/// Starts restarting an instance's server (REBOOT until it is back).
pub(crate) async fn start_restart(services: &Services, instance: &Instance) -> ServiceResult<()> {
    let driver = driver_of(services, instance).await?;
    start_task(
        services,
        instance,
        InstanceStatus::Reboot,
        Admission::of::<node::Restart>(
            instance.id.as_str(),
            &DriverInput {
                driver: driver.digest().into(),
            },
        ),
    )
    .await
}

/// `POST /instances/{id}/action {"resize": {"flavorRef": …}}`.
pub async fn resize_flavor(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    flavor_id: &str,
) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:resize_flavor", &instance.project_id)?;
    let flavor =
        services.store.flavor(flavor_id).await.map_err(|_| {
            ServiceError::NotFound(format!("Flavor '{flavor_id}' could not be found."))
        })?;
    if flavor.id == instance.flavor_id {
        return Err(ServiceError::BadRequest(format!(
            "The instance already has flavor {}.",
            flavor.id
        )));
    }
    require_settled(&instance, "resize")?;
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    if !flavor_allowed(services, &version, &flavor.id).await? {
        return Err(ServiceError::NotFound(format!(
            "Flavor '{}' is not supported for datastore version {}.",
            flavor.id, version.name
        )));
    }
    let driver = driver_for(services, &version)?;
    start_task(
        services,
        &instance,
        InstanceStatus::Resize,
        Admission::of::<node::ResizeFlavor>(
            &instance.id,
            &ResizeFlavorInput {
                driver: driver.digest().into(),
                flavor_id: flavor.id,
            },
        ),
    )
    .await
}

/// `POST /instances/{id}/action {"resize": {"volume": {"size": …}}}`: volumes only grow, and
/// the additional gigabytes count against the quota.
pub async fn resize_volume(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    size: i64,
) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:resize_volume", &instance.project_id)?;
    if size <= instance.volume_size {
        return Err(ServiceError::BadRequest(format!(
            "volume.size: the new size ({size} GB) must be larger than the current size ({} GB).",
            instance.volume_size
        )));
    }
    over_max_volume(services, size)?;
    require_settled(&instance, "resize")?;
    let limit = services
        .quotas
        .limit(&services.store, &instance.project_id, "volumes")
        .await?;
    let mut tx = services.store.write().await?;
    let reservation = tx
        .reserve(
            &instance.project_id,
            "volumes",
            size - instance.volume_size,
            limit,
        )
        .await?;
    let admission = Admission::of::<node::ResizeVolume>(
        &instance.id,
        &ResizeVolumeInput {
            size,
            quota: reservation,
        },
    );
    admission.insert(&mut tx, false).await.map_err(|_| {
        ServiceError::Unprocessable(format!(
            "Instance {} is not ready: it is busy with another operation.",
            instance.id
        ))
    })?;
    tx.update_instance(
        &instance.id,
        InstanceUpdate::to_status(InstanceStatus::Resize),
    )
    .await?;
    tx.commit().await?;
    services.orchestrator.wake();
    Ok(())
}

/// `PUT`/`PATCH /instances/{id}` with a new name.
pub async fn rename(services: &Services, ctx: &Ctx, id: &str, name: &str) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:update", &instance.project_id)?;
    let name = name.trim();
    if !crate::service::is_name(name) {
        return Err(ServiceError::BadRequest(
            "name: must be 1 to 255 characters.".into(),
        ));
    }
    let mut tx = services.store.write().await?;
    tx.rename_instance(&instance.id, name).await?;
    tx.commit().await?;
    Ok(())
}
