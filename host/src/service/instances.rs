//! Instances: create, list, show, delete, restart, resize, rename, and the databases, users,
//! access and root of a running instance.

use std::collections::HashSet;

use crate::orchestrator::Admission;
use crate::orchestrator::workflows::node::{
    self, Accounts, CreateInput, CreateStage, DatabaseSpec, DriverInput, ResizeFlavorInput,
    ResizeVolumeInput, UserSpec,
};
use crate::orchestrator::workflows::replicas::{
    CreateReplica, CreateReplicaInput, CreateReplicas, CreateReplicasInput, Detach,
};
use crate::orchestrator::workflows::switchover::{Eject, Promote, PromoteInput};
use crate::runtime::types::{Credentials, Database, DriverError, User, UserUpdate};
use crate::runtime::{Driver, NodeOps};
use crate::store::Reservation;
use crate::store::{DatastoreVersion, Flavor, Instance, InstanceFilter, NewInstance, Visibility};

use super::{Ctx, ServiceError, ServiceResult, Services};

/// What creating an instance asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateInstance {
    /// Its name.
    pub name: Option<String>,
    /// The flavor id.
    pub flavor_id: Option<String>,
    /// The volume size, GiB.
    pub volume_size: Option<i64>,
    /// The datastore type (name or id).
    pub datastore: Option<String>,
    /// The datastore version (name or id).
    pub datastore_version: Option<String>,
    /// Databases to create.
    pub databases: Vec<Database>,
    /// Users to create.
    pub users: Vec<User>,
    /// A configuration group to attach.
    pub configuration_id: Option<String>,
    /// The instance to replicate: the new instances are its replicas.
    pub replica_of: Option<String>,
    /// How many replicas to create (1 unless given; only with `replica_of`).
    pub replica_count: Option<i64>,
    /// Whether it should be reachable from outside the host (Trove's `access.is_public`).
    pub public: bool,
    /// The networks clients may connect from (Trove's `access.allowed_cidrs`).
    pub allowed_cidrs: Vec<String>,
    /// The region asked for.
    pub region: Option<String>,
}

/// Refuses what an instance's network cannot be made to do. Nodes listen on their host's
/// loopback, so they are private and any client that can reach them is on the host: a public
/// instance, or one limited to some networks, would be a promise the service cannot keep.
fn check_reach(services: &Services, request: &CreateInstance) -> ServiceResult<()> {
    if let Some(region) = &request.region
        && *region != services.region
    {
        return Err(ServiceError::BadRequest(format!(
            "region: this service runs in region '{}', not '{region}'.",
            services.region
        )));
    }
    if request.public {
        return Err(ServiceError::BadRequest(
            "access.is_public: instances of this installation listen on their host's loopback only, so they cannot be made public.".into(),
        ));
    }
    if !request.allowed_cidrs.is_empty() {
        return Err(ServiceError::BadRequest(
            "access.allowed_cidrs: instances of this installation listen on their host's loopback only, so access cannot be limited to networks; leave allowed_cidrs out.".into(),
        ));
    }
    Ok(())
}

/// An instance with what its views need.
#[derive(Debug, Clone)]
pub struct InstanceDetails {
    /// The instance.
    pub instance: Instance,
    /// Its flavor.
    pub flavor: Option<Flavor>,
    /// Its datastore version.
    pub version: DatastoreVersion,
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
    /// Its active task, with the count of its workflow's steps.
    pub task: Option<(crate::store::Task, usize)>,
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
    let down_after = services.orchestrator.host_down_after().as_millis() as i64;
    let now = crate::store::now_ms();
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
                    // This host is answering: its heartbeat may only be late (a busy store).
                    up: h.id == services.orchestrator.host_id()
                        || now - h.heartbeat_at <= down_after,
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

/// Resolves a datastore version from a request's type and version (names or ids), applying
/// defaults, activity and visibility.
pub async fn resolve_version(
    services: &Services,
    ctx: &Ctx,
    datastore: Option<&str>,
    version: Option<&str>,
) -> ServiceResult<DatastoreVersion> {
    // As Trove: the named datastore (404 if unknown), or the configured default one (400 if
    // there is none or it is gone).
    let datastore =
        match (datastore, services.default_datastore.as_deref()) {
            (Some(name), _) => services.store.datastore(name).await.map_err(|_| {
                ServiceError::NotFound(format!("Datastore '{name}' cannot be found."))
            })?,
            (None, Some(default)) => services.store.datastore(default).await.map_err(|_| {
                ServiceError::BadRequest(format!(
                    "Please specify datastore: the default datastore '{default}' cannot be found."
                ))
            })?,
            (None, None) => {
                return Err(ServiceError::BadRequest(
                    "Please specify datastore. No default datastore is defined.".into(),
                ));
            }
        };
    // An unknown version is a 400 in Trove (`DatastoreVersionNotFound`).
    let version = match version.or(datastore.default_version_id.as_deref()) {
        Some(version) => services
            .store
            .datastore_version_of(&datastore.id, version)
            .await
            .map_err(|_| {
                ServiceError::BadRequest(format!("Datastore version '{version}' cannot be found."))
            })?,
        None => {
            return Err(ServiceError::BadRequest(format!(
                "Default version for datastore '{}' not found; please specify one.",
                datastore.name
            )));
        }
    };
    if version.visibility() == Visibility::Private && !ctx.is_admin() {
        let members = services
            .store
            .datastore_version_members(&version.id)
            .await?;
        if !members.contains(&ctx.project_id) {
            return Err(ServiceError::NotFound(format!(
                "Datastore version '{}' cannot be found.",
                version.name
            )));
        }
    }
    if !version.active {
        return Err(ServiceError::BadRequest(format!(
            "Datastore version '{}' is not active.",
            version.name
        )));
    }
    Ok(version)
}

/// The active driver for a version, or why there is none, as an API error.
pub fn driver_for(services: &Services, version: &DatastoreVersion) -> ServiceResult<Driver> {
    crate::orchestrator::resolve_active(&services.runtime, version)
        .map_err(ServiceError::Unprocessable)
}

/// The active driver for an instance's datastore version.
pub(super) async fn driver_of(services: &Services, instance: &Instance) -> ServiceResult<Driver> {
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    driver_for(services, &version)
}

/// The programs a driver needs that this host does not have, as an API error naming packages.
fn check_binaries(services: &Services, driver: &Driver) -> ServiceResult<()> {
    let missing: Vec<String> = driver
        .manifest()
        .binaries
        .iter()
        .filter(|binary| {
            services
                .orchestrator
                .backend()
                .resolve(&binary.name)
                .is_err()
        })
        .map(|binary| format!("{} (package {})", binary.name, binary.package))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Unprocessable(format!(
            "This host cannot run {} nodes: missing {}. The operator must install them.",
            driver.manifest().datastore,
            missing.join(", ")
        )))
    }
}

/// `POST /instances`.
pub async fn create(
    services: &Services,
    ctx: &Ctx,
    request: CreateInstance,
) -> ServiceResult<InstanceDetails> {
    ctx.authorize(services, "instance:create")?;
    check_reach(services, &request)?;
    let name = request.name.as_deref().map(str::trim).unwrap_or("");
    if !super::is_name(name) {
        return Err(ServiceError::BadRequest(
            "name: an instance needs a name of 1 to 255 characters.".into(),
        ));
    }
    let source = match &request.replica_of {
        Some(source_id) => Some(replication_source(services, ctx, source_id).await?),
        None => None,
    };
    // A replica is placed on the host that takes the request, and a host cannot yet act on
    // another host's nodes (a replica's attach, a promotion's freeze of its source).
    if let Some(source) = &source
        && source
            .host_id
            .as_deref()
            .is_some_and(|h| h != services.orchestrator.host_id())
    {
        return Err(ServiceError::Unprocessable(format!(
            "Instance {} runs on another host sharing this service; create its replicas through that host's API.",
            source.id
        )));
    }
    let count = match (&source, request.replica_count) {
        (None, Some(_)) => {
            return Err(ServiceError::BadRequest(
                "replica_count: only replicas (replica_of) come in numbers.".into(),
            ));
        }
        (_, Some(n)) if !(1..=3).contains(&n) => {
            return Err(ServiceError::BadRequest(format!(
                "replica_count: between 1 and 3, not {n}."
            )));
        }
        (_, n) => n.unwrap_or(1),
    };
    // Replicas inherit what they are not given from their source.
    let flavor_id = request
        .flavor_id
        .as_deref()
        .or(source.as_ref().map(|s| s.flavor_id.as_str()))
        .ok_or_else(|| ServiceError::BadRequest("flavorRef: a flavor is required.".into()))?;
    let flavor =
        services.store.flavor(flavor_id).await.map_err(|_| {
            ServiceError::NotFound(format!("Flavor '{flavor_id}' could not be found."))
        })?;
    let size = request
        .volume_size
        .or(source.as_ref().map(|s| s.volume_size))
        .ok_or_else(|| ServiceError::BadRequest("volume: a volume size is required.".into()))?;
    if size < 1 {
        return Err(ServiceError::BadRequest(format!(
            "volume.size: must be at least 1 GB, not {size}."
        )));
    }
    over_max_volume(services, size)?;
    let version = match &source {
        // A replica runs its source's datastore version.
        Some(source) => {
            services
                .store
                .datastore_version(&source.datastore_version_id)
                .await?
        }
        None => {
            resolve_version(
                services,
                ctx,
                request.datastore.as_deref(),
                request.datastore_version.as_deref(),
            )
            .await?
        }
    };
    let allowed = services
        .store
        .datastore_version_flavors(&version.id)
        .await?;
    if !allowed.is_empty() && !allowed.contains(&flavor.id) {
        return Err(ServiceError::NotFound(format!(
            "Flavor '{}' is not supported for datastore {} version {}.",
            flavor.id, version.datastore_name, version.name
        )));
    }
    let driver = driver_for(services, &version)?;
    let databases = if request.databases.is_empty() {
        Vec::new()
    } else {
        driver
            .validate_databases(&version.name, &request.databases)
            .await?
    };
    let users = if request.users.is_empty() {
        Vec::new()
    } else {
        driver.validate_users(&version.name, &request.users).await?
    };
    check_binaries(services, &driver)?;
    if source.is_some() {
        if !driver.has_feature("replication") {
            return Err(ServiceError::NotImplemented(format!(
                "Replication is not supported for datastore {} version {}.",
                version.datastore_name, version.name
            )));
        }
        if !request.databases.is_empty() || !request.users.is_empty() {
            return Err(ServiceError::BadRequest(
                "A replica copies its source's databases and users; give none.".into(),
            ));
        }
    }
    let applied_settings = match &request.configuration_id {
        Some(group) => {
            super::configurations::for_new_instance(services, ctx, group, &version, &flavor).await?
        }
        None => "[]".to_string(),
    };

    let ids: Vec<String> = (0..count)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let id = ids[0].clone();
    // The replicas of one request are seeded from one snapshot where the driver can take one.
    // The replicas are placed on this host; a snapshot is copied from one node directory to
    // another, so only replicas on their source's host seed from one.
    let beside_source = source
        .as_ref()
        .is_some_and(|s| s.host_id.as_deref() == Some(services.orchestrator.host_id()));
    let batch = (beside_source && count > 1 && driver.has_feature("replica-snapshot"))
        .then(|| uuid::Uuid::new_v4().to_string());
    let accounts = Accounts {
        databases: databases
            .iter()
            .map(|d| DatabaseSpec {
                name: d.name.clone(),
                character_set: d.character_set.clone(),
                collation: d.collation.clone(),
            })
            .collect(),
        users: users
            .iter()
            .map(|u| UserSpec {
                name: u.name.clone(),
                host: u.host.clone(),
                password: u.password.clone().map(crate::secrets::Secret::new),
                databases: u.databases.clone(),
            })
            .collect(),
    };
    let instance_limit = services
        .quotas
        .limit(&services.store, &ctx.project_id, "instances")
        .await?;
    let volume_limit = services
        .quotas
        .limit(&services.store, &ctx.project_id, "volumes")
        .await?;
    // A port another create takes between our choice and our commit makes the insert fail on
    // the live-port index; try other ports. Every replica of one request is written in the
    // same transaction: all of them or none.
    let mut taken: HashSet<u16> = services.store.live_ports().await?;
    'attempt: for _ in 0..20 {
        let mut tx = services.store.write().await?;
        tx.reserve(&ctx.project_id, "instances", count, instance_limit)
            .await?;
        tx.reserve(&ctx.project_id, "volumes", size * count, volume_limit)
            .await?;
        let held = |resource: &str, amount: i64| Reservation {
            project_id: ctx.project_id.clone(),
            resource: resource.into(),
            amount,
        };
        let mut first = None;
        let mut ports = Vec::new();
        let mut children = Vec::new();
        for (index, id) in ids.iter().enumerate() {
            let port = services
                .orchestrator
                .backend()
                .allocate_port(&taken)
                .map_err(|e| ServiceError::Unprocessable(e.to_string()))?;
            taken.insert(port);
            ports.push(port);
            let serial = tx.next_serial().await?;
            let new = NewInstance {
                id: id.clone(),
                project_id: ctx.project_id.clone(),
                name: if count > 1 {
                    format!("{name}-{}", index + 1)
                } else {
                    name.to_string()
                },
                flavor_id: flavor.id.clone(),
                volume_size: size,
                datastore_version_id: version.id.clone(),
                driver_digest: driver.digest().to_string(),
                configuration_id: request.configuration_id.clone(),
                replica_of_id: source.as_ref().map(|s| s.id.clone()),
                port,
                applied_settings: applied_settings.clone(),
                placement: services.orchestrator.placement(),
            };
            let instance = match tx.insert_instance(&new, serial).await {
                Ok(instance) => instance,
                Err(crate::store::StoreError::Conflict(_)) => {
                    // Another create took the port meanwhile: look again at what is taken.
                    drop(tx);
                    taken = services.store.live_ports().await?;
                    continue 'attempt;
                }
                Err(error) => return Err(error.into()),
            };
            let quota = vec![held("instances", 1), held("volumes", size)];
            match &source {
                Some(_) => children.push(Admission::of::<CreateReplica>(
                    id,
                    &CreateReplicaInput {
                        driver: driver.digest().to_string(),
                        quota,
                        batch: batch.clone(),
                    },
                )),
                None => {
                    let input = CreateInput {
                        driver: driver.digest().to_string(),
                        quota,
                    };
                    let stage = CreateStage::CreateNode {
                        accounts: accounts.clone(),
                    };
                    Admission::at::<node::Create>(id, &input, stage)
                        .insert(&mut tx, false)
                        .await?;
                }
            }
            first.get_or_insert(instance);
        }
        // A replica set grows by one parent task on its source, which waits behind the
        // source's own task if it has one, and lets the replicas' tasks go once the source
        // is ready for them.
        if let Some(source) = &source {
            let input = CreateReplicasInput {
                driver: driver.digest().to_string(),
                replicas: ids.clone(),
                batch: batch.clone(),
            };
            Admission::of::<CreateReplicas>(&source.id, &input)
                .insert_with_children(&mut tx, true, &children)
                .await?;
        }
        tx.commit().await?;
        services.orchestrator.wake();
        tracing::info!(instance = %id, project = %ctx.project_id, datastore = %version.datastore_name, count, "instance accepted");
        return Ok(InstanceDetails {
            instance: first.expect("at least one instance"),
            flavor: Some(flavor),
            version,
            used_gb: None,
            replicas: vec![],
            isolation: None,
            configuration_name: None,
            region: services.region.clone(),
            host: None,
            task: None,
        });
    }
    Err(ServiceError::Unprocessable(
        "No node port could be allocated; try again.".into(),
    ))
}

pub(super) async fn owned(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<Instance> {
    let instance = services
        .store
        .instance(id)
        .await
        .map_err(|_| ServiceError::NotFound(format!("Instance {id} could not be found.")))?;
    if instance.project_id != ctx.project_id && !ctx.is_admin() {
        return Err(ServiceError::NotFound(format!(
            "Instance {id} could not be found."
        )));
    }
    Ok(instance)
}

pub(super) async fn details(
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
    let settled = matches!(
        instance.status.as_str(),
        "ACTIVE" | "SHUTDOWN" | "RESTART_REQUIRED"
    );
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
        instance,
        flavor,
        version,
        replicas,
    })
}

/// `GET /instances`.
pub async fn list(
    services: &Services,
    ctx: &Ctx,
    include_clustered: bool,
    include_replicas: bool,
    limit: Option<i64>,
    marker: Option<String>,
) -> ServiceResult<InstancePage> {
    ctx.authorize(services, "instance:index")?;
    let limit = limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let filter = InstanceFilter {
        project_id: Some(ctx.project_id.clone()),
        include_clustered,
        include_replicas,
        limit: Some(limit + 1),
        marker,
    };
    super::listing::instance_page(services, &filter, limit).await
}

fn with_steps(services: &Services, task: crate::store::Task) -> (crate::store::Task, usize) {
    let steps = services
        .orchestrator
        .steps_of(&task.kind)
        .map_or(task.step_count as usize, <[_]>::len);
    (task, steps)
}

/// `GET /instances/{id}/tasks`: the instance's recent tasks, newest first, with the names of
/// the hosts they are placed on.
pub async fn tasks(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<(crate::store::Task, usize, Option<String>)>> {
    ctx.authorize(services, "instance:show")?;
    let instance = owned(services, ctx, id).await?;
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
            let (t, steps) = with_steps(services, t);
            (t, steps, host)
        })
        .collect())
}

/// `GET /instances/{id}`.
pub async fn show(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<InstanceDetails> {
    ctx.authorize(services, "instance:show")?;
    let instance = owned(services, ctx, id).await?;
    details(services, instance).await
}

/// Starts a task on an instance in one transaction with its new status.
pub(super) async fn start_task(
    services: &Services,
    instance: &Instance,
    status: &str,
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
    tx.update_instance(&instance.id, Some(status), None, None, None)
        .await?;
    tx.clear_instance_fault(&instance.id).await?;
    tx.commit().await?;
    services.orchestrator.wake();
    Ok(())
}

/// A volume over the installation's maximum is a 413, as Trove answers it
/// (`VolumeQuotaExceeded`).
fn over_max_volume(services: &Services, size: i64) -> ServiceResult<()> {
    if size > services.max_volume_gb {
        return Err(ServiceError::OverLimit(format!(
            "Volume 'size' cannot exceed maximum of {} GB, {size} cannot be accepted.",
            services.max_volume_gb
        )));
    }
    Ok(())
}

fn require_settled(instance: &Instance, action: &str) -> ServiceResult<()> {
    if let Some(by) = &instance.ejected_by {
        return Err(ServiceError::Unprocessable(format!(
            "Instance {} was ejected from its replication set and instance {by} took over; it \
             stays stopped so that it never takes writes beside the new source, and can only \
             be deleted.",
            instance.id
        )));
    }
    if matches!(
        instance.status.as_str(),
        "ACTIVE" | "SHUTDOWN" | "RESTART_REQUIRED" | "ERROR"
    ) && instance.quota_state == "committed"
    {
        Ok(())
    } else {
        Err(ServiceError::Unprocessable(format!(
            "Instance {} is not ready to {action}: its status is {}.",
            instance.id, instance.status
        )))
    }
}

/// The instance a new replica will follow: the caller's, running, and not a replica itself.
async fn replication_source(
    services: &Services,
    ctx: &Ctx,
    source_id: &str,
) -> ServiceResult<Instance> {
    let source = owned(services, ctx, source_id).await?;
    if let Some(its_source) = &source.replica_of_id {
        return Err(ServiceError::BadRequest(format!(
            "Instance {} is a replica of {its_source}; a replica of a replica is not supported.",
            source.id
        )));
    }
    if !matches!(source.status.as_str(), "ACTIVE" | "RESTART_REQUIRED") {
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
    let instance = owned(services, ctx, id).await?;
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
        "DETACH_REPLICA",
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
    let instance = owned(services, ctx, id).await?;
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
    if source.status != "ACTIVE" {
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
        "PROMOTE",
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
    let instance = owned(services, ctx, id).await?;
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
    if matches!(instance.status.as_str(), "ACTIVE" | "RESTART_REQUIRED") {
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
        &instance.status,
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
pub async fn replicas(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<Vec<Instance>> {
    ctx.authorize(services, "instance:show")?;
    let instance = owned(services, ctx, id).await?;
    Ok(services.store.replicas_of(&instance.id).await?)
}

/// `DELETE /instances/{id}`.
pub async fn delete(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let instance = owned(services, ctx, id).await?;
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
        "SHUTDOWN",
        Admission::of::<node::Delete>(&instance.id, &()),
    )
    .await
}

/// `POST /instances/{id}/action {"restart": {}}`.
pub async fn restart(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let instance = owned(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:restart", &instance.project_id)?;
    require_settled(&instance, "restart")?;
    start_restart(services, &instance).await
}

/// Starts restarting an instance's server (REBOOT until it is back).
pub(super) async fn start_restart(services: &Services, instance: &Instance) -> ServiceResult<()> {
    let driver = driver_of(services, instance).await?;
    start_task(
        services,
        instance,
        "REBOOT",
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
    let instance = owned(services, ctx, id).await?;
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
    let allowed = services
        .store
        .datastore_version_flavors(&version.id)
        .await?;
    if !allowed.is_empty() && !allowed.contains(&flavor.id) {
        return Err(ServiceError::NotFound(format!(
            "Flavor '{}' is not supported for datastore version {}.",
            flavor.id, version.name
        )));
    }
    let driver = driver_for(services, &version)?;
    start_task(
        services,
        &instance,
        "RESIZE",
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
    let instance = owned(services, ctx, id).await?;
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
    tx.update_instance(&instance.id, Some("RESIZE"), None, None, None)
        .await?;
    tx.commit().await?;
    services.orchestrator.wake();
    Ok(())
}

/// `PUT`/`PATCH /instances/{id}` with a new name.
pub async fn rename(services: &Services, ctx: &Ctx, id: &str, name: &str) -> ServiceResult<()> {
    let instance = owned(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:update", &instance.project_id)?;
    let name = name.trim();
    if !super::is_name(name) {
        return Err(ServiceError::BadRequest(
            "name: must be 1 to 255 characters.".into(),
        ));
    }
    let mut tx = services.store.write().await?;
    tx.rename_instance(&instance.id, name).await?;
    tx.commit().await?;
    Ok(())
}

/// `GET /instances/{id}/configuration`: the configuration the node runs with.
pub async fn effective_configuration(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<(String, serde_json::Value)>> {
    let instance = owned(services, ctx, id).await?;
    ctx.authorize_for(services, "instance:configuration", &instance.project_id)?;
    let target = services
        .orchestrator
        .instance_node(&instance.id)
        .await
        .map_err(ServiceError::Conflict)?;
    let driver = driver_for(services, &target.version)?;
    let values = driver.effective_configuration(&target.context).await?;
    let catalog = driver.parameters(&target.version.name).await?;
    Ok(values
        .into_iter()
        .map(|(name, text)| {
            let kind = catalog.iter().find(|p| p.name == name).map(|p| p.kind);
            let value = typed(kind, &text);
            (name, value)
        })
        .collect())
}

/// A value as its catalog types it: numbers and booleans as JSON numbers and booleans (as
/// Trove's view parses them), a size or duration with its unit and any other text as text.
fn typed(kind: Option<crate::runtime::types::ParamKind>, text: &str) -> serde_json::Value {
    use crate::runtime::types::ParamKind;
    let number = || {
        text.parse::<i64>()
            .map(serde_json::Value::from)
            .ok()
            .or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .and_then(|f| serde_json::Number::from_f64(f).map(serde_json::Value::Number))
            })
    };
    let value = match kind {
        // Settings outside the catalog (the port, say) read as Trove's view reads them: a
        // number if they are one.
        None
        | Some(ParamKind::Integer | ParamKind::Float | ParamKind::Size | ParamKind::Duration) => {
            number()
        }
        Some(ParamKind::Boolean) => match text.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" => Some(serde_json::Value::Bool(true)),
            "off" | "false" | "no" | "0" => Some(serde_json::Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    value.unwrap_or_else(|| serde_json::Value::String(text.to_string()))
}

/// A settled instance's node and driver, for the accounts calls.
async fn live_node(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    action: &str,
) -> ServiceResult<(Instance, Driver, std::sync::Arc<dyn NodeOps>)> {
    let instance = owned(services, ctx, id).await?;
    ctx.authorize_for(services, action, &instance.project_id)?;
    if !matches!(instance.status.as_str(), "ACTIVE" | "RESTART_REQUIRED") {
        return Err(ServiceError::Unprocessable(format!(
            "Instance {id} is not ACTIVE (its status is {}).",
            instance.status
        )));
    }
    let target = services
        .orchestrator
        .instance_node(&instance.id)
        .await
        .map_err(ServiceError::Conflict)?;
    let driver = driver_for(services, &target.version)?;
    Ok((instance, driver, target.ops()))
}

/// `POST /instances/{id}/databases`.
pub async fn create_databases(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    databases: Vec<Database>,
) -> ServiceResult<()> {
    let (instance, driver, node) =
        live_node(services, ctx, id, "instance:extension:database:create").await?;
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    let databases = driver.validate_databases(&version.name, &databases).await?;
    Ok(driver.create_databases(node, &databases).await?)
}

/// `GET /instances/{id}/databases`.
pub async fn list_databases(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<Database>> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:database:index").await?;
    Ok(driver.list_databases(node).await?)
}

/// `DELETE /instances/{id}/databases/{name}`.
pub async fn delete_database(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
) -> ServiceResult<()> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:database:delete").await?;
    Ok(driver.delete_database(node, name).await?)
}

/// `POST /instances/{id}/users`.
pub async fn create_users(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    users: Vec<User>,
) -> ServiceResult<()> {
    let (instance, driver, node) =
        live_node(services, ctx, id, "instance:extension:user:create").await?;
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    let users = driver.validate_users(&version.name, &users).await?;
    Ok(driver.create_users(node, &users).await?)
}

/// `GET /instances/{id}/users`.
pub async fn list_users(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<Vec<User>> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:user:index").await?;
    Ok(driver.list_users(node).await?)
}

/// `GET /instances/{id}/users/{name}`.
pub async fn show_user(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
) -> ServiceResult<User> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:user:show").await?;
    Ok(driver.get_user(node, name, host).await?)
}

/// `DELETE /instances/{id}/users/{name}`.
pub async fn delete_user(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
) -> ServiceResult<()> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:user:delete").await?;
    Ok(driver.delete_user(node, name, host).await?)
}

/// `PUT /instances/{id}/users/{name}`: rename, new host or password.
pub async fn update_user(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
    update: UserUpdate,
) -> ServiceResult<()> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:user:update").await?;
    // Renaming onto a user that exists is a 400 in Trove (a create of one is a 409).
    match driver.update_user(node, name, host, &update).await {
        Err(crate::runtime::CallError::Driver(DriverError::Conflict(message))) => {
            Err(ServiceError::BadRequest(message))
        }
        other => Ok(other?),
    }
}

/// `PUT /instances/{id}/users`: change passwords of several users.
pub async fn change_passwords(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    users: Vec<User>,
) -> ServiceResult<()> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:user:update_all").await?;
    for user in users {
        let update = UserUpdate {
            name: None,
            host: None,
            password: user.password.clone(),
        };
        driver
            .update_user(node.clone(), &user.name, user.host.as_deref(), &update)
            .await?;
    }
    Ok(())
}

/// `GET /instances/{id}/users/{name}/databases`.
pub async fn list_access(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
) -> ServiceResult<Vec<String>> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:user_access:index").await?;
    Ok(driver.list_access(node, name, host).await?)
}

/// `PUT /instances/{id}/users/{name}/databases`.
pub async fn grant_access(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
    databases: Vec<String>,
) -> ServiceResult<()> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:user_access:update").await?;
    Ok(driver.grant_access(node, name, host, &databases).await?)
}

/// `DELETE /instances/{id}/users/{name}/databases/{database}`.
pub async fn revoke_access(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
    database: &str,
) -> ServiceResult<()> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:user_access:delete").await?;
    Ok(driver.revoke_access(node, name, host, database).await?)
}

/// `POST /instances/{id}/root`.
pub async fn enable_root(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    password: Option<String>,
) -> ServiceResult<Credentials> {
    let (instance, driver, node) =
        live_node(services, ctx, id, "instance:extension:root:create").await?;
    let credentials = driver.enable_root(node, password.as_deref()).await?;
    services
        .store
        .mark_root_enabled(&instance.id, ctx.caller.user_id.as_deref())
        .await?;
    Ok(credentials)
}

/// `GET /instances/{id}/root`: whether root was ever enabled (Trove's root history).
pub async fn root_enabled(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<bool> {
    let instance = owned(services, ctx, id).await?;
    ctx.authorize_for(
        services,
        "instance:extension:root:index",
        &instance.project_id,
    )?;
    Ok(instance.root_enabled_at.is_some())
}

/// `DELETE /instances/{id}/root`.
pub async fn disable_root(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:root:delete").await?;
    Ok(driver.disable_root(node).await?)
}
