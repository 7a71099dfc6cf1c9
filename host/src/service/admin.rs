//! The management API's instances (`/mgmt/instances`): every project's, deleted ones too,
//! each with what an operator needs (its task, when it was deleted, who enabled root), and the
//! actions an operator takes on an instance whatever its state: stop and reboot.
//! Administrators only.

use crate::orchestrator::Admission;
use crate::orchestrator::workflows::node::Stop;
use crate::store::Instance;

use super::instances::{InstanceDetails, details, start_restart, start_task};
use super::{Ctx, ServiceError, ServiceResult, Services};

fn require_admin(ctx: &Ctx) -> ServiceResult<()> {
    if ctx.is_admin() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "The management API is for administrators.".into(),
        ))
    }
}

/// An instance as the management API shows it.
pub struct OperatorView {
    /// What every view shows.
    pub details: InstanceDetails,
    /// The task under way, if any (its kind).
    pub task: Option<String>,
}

async fn operator_view(services: &Services, instance: Instance) -> ServiceResult<OperatorView> {
    let task = services
        .store
        .active_task(&instance.id)
        .await?
        .map(|task| task.kind);
    Ok(OperatorView {
        details: details(services, instance).await?,
        task,
    })
}

/// `GET /mgmt/instances`: every project's instances (or `project_id`'s), live and deleted
/// unless `deleted` says which, as Trove lists them.
pub async fn list(
    services: &Services,
    ctx: &Ctx,
    project_id: Option<&str>,
    deleted: Option<bool>,
) -> ServiceResult<Vec<OperatorView>> {
    require_admin(ctx)?;
    let mut views = Vec::new();
    for instance in services
        .store
        .instances_for_operators(project_id, deleted)
        .await?
    {
        views.push(operator_view(services, instance).await?);
    }
    Ok(views)
}

/// `GET /mgmt/instances/{id}`: a live instance of any project, or a deleted one with
/// `deleted`.
pub async fn show(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    deleted: bool,
) -> ServiceResult<OperatorView> {
    require_admin(ctx)?;
    let instance = find(services, id, deleted).await?;
    operator_view(services, instance).await
}

/// An instance of any project, live (or deleted too, with `deleted`).
async fn find(services: &Services, id: &str, deleted: bool) -> ServiceResult<Instance> {
    if deleted {
        services.store.instance_any(id).await
    } else {
        services.store.instance(id).await
    }
    .map_err(|_| ServiceError::NotFound(format!("Instance {id} could not be found.")))
}

/// `GET /mgmt/instances/{id}/root`: when root was first enabled and by whom.
pub async fn root_history(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<(Option<i64>, Option<String>)> {
    require_admin(ctx)?;
    let instance = find(services, id, false).await?;
    Ok((instance.root_enabled_at, instance.root_enabled_by))
}

/// An operator's action on an instance.
pub enum Action {
    /// Stop its server; it stays SHUTDOWN until restarted.
    Stop,
    /// Restart its server, whatever its state (not while a task runs).
    Reboot,
}

/// `POST /mgmt/instances/{id}/action`.
pub async fn act(services: &Services, ctx: &Ctx, id: &str, action: Action) -> ServiceResult<()> {
    require_admin(ctx)?;
    let instance = find(services, id, false).await?;
    match action {
        // As in Trove, the status stays what it was until the server has stopped; then it is
        // SHUTDOWN.
        Action::Stop => {
            let status = instance.status;
            start_task(
                services,
                &instance,
                status,
                Admission::of::<Stop>(&instance.id, &()),
            )
            .await
        }
        Action::Reboot => start_restart(services, &instance).await,
    }
}

/// A host sharing the store, as the management API shows it.
#[derive(Debug, Clone)]
pub struct HostSummary {
    /// The host.
    pub host: super::views::HostInfo,
    /// Whether it has heartbeated recently.
    pub up: bool,
    /// How many live instances are placed on it.
    pub instances: usize,
}

/// `GET /mgmt/hosts`: the hosts sharing the store, whether each is heard from, and how many
/// instances each holds.
pub async fn hosts(services: &Services, ctx: &Ctx) -> ServiceResult<Vec<HostSummary>> {
    require_admin(ctx)?;
    let mut summaries = Vec::new();
    for host in services.store.hosts().await? {
        let instances = services.store.instances_on_host(&host.id).await?.len();
        summaries.push(HostSummary {
            up: services
                .orchestrator
                .host_is_up(&host.id, host.heartbeat_at),
            instances,
            host: host.into(),
        });
    }
    Ok(summaries)
}
