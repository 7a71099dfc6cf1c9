//! `POST /instances`: the plan (what is asked, checked against flavors, versions, drivers
//! and quotas) and its admission (the rows and tasks written in one transaction).

use std::collections::HashSet;

use crate::orchestrator::Admission;
use crate::orchestrator::workflows::node::{
    self, Accounts, CreateInput, CreateStage, DatabaseSpec, UserSpec,
};
use crate::orchestrator::workflows::replicas::{
    CreateReplica, CreateReplicaInput, CreateReplicas, CreateReplicasInput,
};
use crate::runtime::Driver;
use crate::runtime::types as wit;
use crate::store::{NewInstance, Reservation};

use super::super::configurations;
use super::super::lookup::{driver_for, flavor_allowed, resolve_version};
use super::super::views::{Database, User, all};
use super::super::{Ctx, ServiceError, ServiceResult, Services};
use super::details::InstanceDetails;
use super::over_max_volume;
use super::replication::replication_source;

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

/// The programs a driver needs that this host does not have, as an API error naming packages.
fn check_binaries(services: &Services, driver: &Driver) -> ServiceResult<()> {
    let missing: Vec<String> = driver
        .manifest()
        .binaries
        .iter()
        .filter(|binary| services.orchestrator.cannot_run(&binary.name).is_some())
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
    if !crate::service::is_name(name) {
        return Err(ServiceError::BadRequest(
            "name: an instance needs a name of 1 to 255 characters.".into(),
        ));
    }
    let source = match &request.replica_of {
        Some(source_id) => Some(replication_source(services, ctx, source_id).await?),
        None => None,
    };
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
    if !flavor_allowed(services, &version, &flavor.id).await? {
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
            .validate_databases(
                &version.name,
                &all::<_, wit::Database>(request.databases.clone()),
            )
            .await?
    };
    let users = if request.users.is_empty() {
        Vec::new()
    } else {
        driver
            .validate_users(&version.name, &all::<_, wit::User>(request.users.clone()))
            .await?
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
            configurations::for_new_instance(services, ctx, group, &version, &flavor).await?
        }
        None => "[]".to_string(),
    };

    let ids: Vec<String> = (0..count)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let id = ids[0].clone();
    // The replicas of one request are seeded from one snapshot where the driver can take one.
    // The replicas are placed on the host that takes the request; a snapshot is copied from one
    // node directory to another on one host, so only replicas on their source's host seed from
    // one (the others initialize from their source over the network, as a single replica does).
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
                .allocate_port(&taken)
                .map_err(ServiceError::Unprocessable)?;
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
            instance: first.expect("at least one instance").into(),
            flavor: Some(flavor.into()),
            version: version.into(),
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
