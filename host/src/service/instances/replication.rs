//! Replication: the source a new replica follows, detaching a replica, promoting one,
//! ejecting a source, and listing a source's replicas.

use crate::orchestrator::Admission;
use crate::orchestrator::workflows::node::DriverInput;
use crate::orchestrator::workflows::replicas::Detach;
use crate::orchestrator::workflows::switchover::{Eject, Promote, PromoteInput};
use crate::store::{Instance, InstanceStatus};

use super::super::lookup::{driver_of, visible_instance};
use super::super::views::{InstanceInfo, all};
use super::super::{Ctx, ServiceError, ServiceResult, Services};
use super::{require_settled, start_task};

/// The instance a new replica will follow: the caller's, running, and not a replica itself.
pub(super) async fn replication_source(
    services: &Services,
    ctx: &Ctx,
    source_id: &str,
) -> ServiceResult<Instance> {
    let source = visible_instance(services, ctx, source_id).await?;
    if let Some(its_source) = &source.replica_of_id {
        return Err(ServiceError::BadRequest(format!(
            "Instance {} is a replica of {its_source}; a replica of a replica is not supported.",
            source.id
        )));
    }
    if !source.status.is_serving() {
        return Err(ServiceError::Unprocessable(format!(
            "Instance {} cannot take replicas now: its status is {}.",
            source.id, source.status
        )));
    }
    Ok(source)
}

/// `PUT /instances/{id} {"instance": {"replica_of": null}}`: the replica becomes a standalone,
/// writable instance and its source forgets it.
pub async fn detach_replica(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:update", &instance.project_id)?;
    if instance.replica_of_id.is_none() {
        return Err(ServiceError::BadRequest(format!(
            "Instance {} is not a replica.",
            instance.id
        )));
    }
    require_settled(&instance, "detach")?;
    let driver = driver_of(services, &instance).await?;
    start_task(
        services,
        &instance,
        InstanceStatus::DetachReplica,
        Admission::of::<Detach>(
            &instance.id,
            &DriverInput {
                driver: driver.digest().into(),
            },
        ),
    )
    .await
}

/// `POST /instances/{id}/action {"promote_to_replica_source": {}}`: a switchover to this
/// replica, with its source healthy.
pub async fn promote(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(
        services,
        "instance:promote_to_replica_source",
        &instance.project_id,
    )?;
    let Some(source_id) = instance.replica_of_id.clone() else {
        return Err(ServiceError::BadRequest(format!(
            "Instance {} is not a replica; only a replica can be promoted.",
            instance.id
        )));
    };
    require_settled(&instance, "promote")?;
    let source = services.store.instance(&source_id).await?;
    if source.status != InstanceStatus::Active {
        return Err(ServiceError::Unprocessable(format!(
            "The source {} is not healthy (status {}); promote needs it, eject replaces it.",
            source.id, source.status
        )));
    }
    let driver = driver_of(services, &instance).await?;
    if !driver.has_feature("promote") {
        return Err(ServiceError::NotImplemented(format!(
            "Promoting replicas is not supported by driver {}.",
            driver.name()
        )));
    }
    start_task(
        services,
        &instance,
        InstanceStatus::Promote,
        Admission::of::<Promote>(
            &instance.id,
            &PromoteInput {
                driver: driver.digest().into(),
                old_source: source.id,
            },
        ),
    )
    .await
}

/// `POST /instances/{id}/action {"eject_replica_source": {}}`: replace this source, which
/// must be unreachable, by its most advanced replica.
pub async fn eject(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(
        services,
        "instance:eject_replica_source",
        &instance.project_id,
    )?;
    if services.store.replicas_of(&instance.id).await?.is_empty() {
        return Err(ServiceError::BadRequest(format!(
            "Instance {} has no replicas to take over.",
            instance.id
        )));
    }
    if instance.status.is_serving() {
        return Err(ServiceError::BadRequest(format!(
            "Instance {} is reachable (status {}); use promote on a replica for a switchover.",
            instance.id, instance.status
        )));
    }
    let driver = driver_of(services, &instance).await?;
    if !driver.has_feature("promote") {
        return Err(ServiceError::NotImplemented(format!(
            "Ejecting sources is not supported by driver {}.",
            driver.name()
        )));
    }
    start_task(
        services,
        &instance,
        instance.status,
        Admission::of::<Eject>(
            &instance.id,
            &DriverInput {
                driver: driver.digest().into(),
            },
        ),
    )
    .await
}

/// `GET /instances/{id}/replicas`.
pub async fn replicas(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<InstanceInfo>> {
    ctx.authorize(services, "instance:show")?;
    let instance = visible_instance(services, ctx, id).await?;
    Ok(all(services.store.replicas_of(&instance.id).await?))
}
