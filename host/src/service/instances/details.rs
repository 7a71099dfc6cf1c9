//! What the views of an instance show: its details, pages of them, and its tasks.

use crate::store::Instance;

use super::super::views::{FlavorInfo, InstanceInfo, TaskInfo, VersionInfo};

use super::super::lookup::visible_instance;
use super::super::{Ctx, ServiceResult, Services};

/// An instance with what its views need.
#[derive(Debug, Clone)]
pub struct InstanceDetails {
    /// The instance.
    pub instance: InstanceInfo,
    /// Its flavor.
    pub flavor: Option<FlavorInfo>,
    /// Its datastore version.
    pub version: VersionInfo,
    /// GiB used by the node's files, when the instance is settled.
    pub used_gb: Option<f64>,
    /// Ids and names of its replicas.
    pub replicas: Vec<(String, String)>,
    /// How its node is isolated, when it has one.
    pub isolation: Option<crate::backend::Isolation>,
    /// The name of its configuration group.
    pub configuration_name: Option<String>,
    /// The region it runs in.
    pub region: String,
    /// The host its node is placed on, as the store last heard from it.
    pub host: Option<HostState>,
    /// Its active task.
    pub task: Option<TaskInfo>,
}

/// A host as the views show it.
#[derive(Debug, Clone)]
pub struct HostState {
    /// Its name.
    pub name: String,
    /// Whether it has heartbeated recently.
    pub up: bool,
    /// When it last did.
    pub heartbeat_at: i64,
}

/// The hosts sharing the store, by id, as views show them.
async fn hosts(services: &Services) -> ServiceResult<std::collections::HashMap<String, HostState>> {
    Ok(services
        .store
        .hosts()
        .await?
        .into_iter()
        .map(|h| {
            (
                h.id.clone(),
                HostState {
                    name: h.name,
                    up: services.orchestrator.host_is_up(&h.id, h.heartbeat_at),
                    heartbeat_at: h.heartbeat_at,
                },
            )
        })
        .collect())
}

/// A page of instances.
pub struct InstancePage {
    /// The instances.
    pub items: Vec<InstanceDetails>,
    /// The marker of the next page, if there is one.
    pub next_marker: Option<String>,
}

/// The largest page a listing returns.
pub const MAX_PAGE: i64 = 1000;

pub(crate) async fn details(
    services: &Services,
    instance: Instance,
) -> ServiceResult<InstanceDetails> {
    let flavor = services.store.flavor(&instance.flavor_id).await.ok();
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    let replicas = services
        .store
        .replicas_of(&instance.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let settled = instance.status.is_settled_ok();
    let node = services.orchestrator.node_report(&instance).await;
    let configuration_name = match &instance.configuration_id {
        Some(id) => services.store.configuration(id).await.ok().map(|g| g.name),
        None => None,
    };
    let host = match &instance.host_id {
        Some(id) => hosts(services).await?.remove(id),
        None => None,
    };
    let task = services
        .store
        .active_task(&instance.id)
        .await?
        .map(|t| with_steps(services, t));
    Ok(InstanceDetails {
        host,
        task,
        configuration_name,
        region: services.region.clone(),
        used_gb: node
            .as_ref()
            .filter(|_| settled)
            .map(|node| node.used_bytes as f64 / f64::from(1u32 << 30)),
        isolation: node.map(|node| node.isolation),
        instance: instance.into(),
        flavor: flavor.map(FlavorInfo::from),
        version: version.into(),
        replicas,
    })
}

/// A task as the views show it, with the count of its workflow's steps.
pub(super) fn with_steps(services: &Services, task: crate::store::Task) -> TaskInfo {
    let steps = services
        .orchestrator
        .steps_of(&task.kind)
        .map_or(task.step_count as usize, <[_]>::len);
    TaskInfo::new(task, steps)
}

/// `GET /instances/{id}/tasks`: the instance's recent tasks, newest first, with the names of
/// the hosts they are placed on.
pub async fn tasks(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<(TaskInfo, Option<String>)>> {
    ctx.authorize(services, "instance:show")?;
    let instance = visible_instance(services, ctx, id).await?;
    let hosts = hosts(services).await?;
    Ok(services
        .store
        .tasks_of(&instance.id, 20)
        .await?
        .into_iter()
        .map(|t| {
            let host = t
                .host_id
                .as_ref()
                .and_then(|h| hosts.get(h))
                .map(|h| h.name.clone());
            (with_steps(services, t), host)
        })
        .collect())
}

/// `GET /instances/{id}`.
pub async fn show(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<InstanceDetails> {
    ctx.authorize(services, "instance:show")?;
    let instance = visible_instance(services, ctx, id).await?;
    details(services, instance).await
}
