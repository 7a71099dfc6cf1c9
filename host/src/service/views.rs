//! What the use cases answer with: the service's own view of instances, tasks, flavors,
//! datastores, configuration groups, drivers, hosts, parameters and accounts. `http` renders
//! these and nothing else; the store's rows and the drivers' binding types stay behind the
//! service, which converts them here.

use crate::runtime::types as wit;
use crate::store;

pub use crate::store::{InstanceStatus, QuotaState, Visibility};

/// An instance, as the views show it (no secrets, no node internals but its directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Its id (a UUID).
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// Its name.
    pub name: String,
    /// The status the API shows.
    pub status: InstanceStatus,
    /// Its flavor.
    pub flavor_id: String,
    /// Its volume size, GiB.
    pub volume_size: i64,
    /// The attached configuration group.
    pub configuration_id: Option<String>,
    /// The instance this one is a replica of.
    pub replica_of_id: Option<String>,
    /// The cluster it belongs to.
    pub cluster_id: Option<String>,
    /// The node's directory name.
    pub node_dir: String,
    /// The node's port.
    pub port: i64,
    /// The last fault, for the owner.
    pub fault_message: Option<String>,
    /// The last fault's details, for admins.
    pub fault_details: Option<String>,
    /// When the fault happened.
    pub fault_at: Option<i64>,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// When it was deleted.
    pub deleted_at: Option<i64>,
    /// For a replica: `in_sync` or `out_of_sync`, as the health pass last saw it.
    pub replication_state: Option<String>,
    /// For a replica: how far behind its source it was, when the datastore said.
    pub replication_lag_ms: Option<i64>,
    /// What the health pass last saw of the datastore service.
    pub service_status: Option<String>,
    /// When the health pass last saw it.
    pub service_status_at: Option<i64>,
}

impl From<store::Instance> for InstanceInfo {
    fn from(i: store::Instance) -> Self {
        InstanceInfo {
            id: i.id,
            project_id: i.project_id,
            name: i.name,
            status: i.status,
            flavor_id: i.flavor_id,
            volume_size: i.volume_size,
            configuration_id: i.configuration_id,
            replica_of_id: i.replica_of_id,
            cluster_id: i.cluster_id,
            node_dir: i.node_dir,
            port: i.port,
            fault_message: i.fault_message,
            fault_details: i.fault_details,
            fault_at: i.fault_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
            deleted_at: i.deleted_at,
            replication_state: i.replication_state,
            replication_lag_ms: i.replication_lag_ms,
            service_status: i.service_status,
            service_status_at: i.service_status_at,
        }
    }
}

/// How far a task's step has come, as its workflow reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskProgress {
    /// Units done.
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
    /// What is counted.
    pub unit: Option<String>,
}

/// A task, as the views show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// Its id.
    pub id: String,
    /// Its workflow.
    pub kind: String,
    /// Where it is in its life (`pending`, `running`, `done`, …).
    pub state: &'static str,
    /// Whether it has ended.
    pub ended: bool,
    /// The step it is at, by name (none once its last step has run).
    pub step: Option<String>,
    /// The number of the step it is at.
    pub step_number: i64,
    /// How many steps its workflow has.
    pub steps: usize,
    /// Its step's progress.
    pub progress: Option<TaskProgress>,
    /// Its parent task.
    pub parent_id: Option<String>,
    /// Why it failed (for admins).
    pub error: Option<String>,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

impl TaskInfo {
    /// A task row, with the count of its workflow's steps.
    pub(crate) fn new(task: store::Task, steps: usize) -> Self {
        TaskInfo {
            step: step_of(&task),
            progress: progress(&task),
            id: task.id,
            kind: task.kind,
            state: task.state.as_str(),
            ended: task.state.ended(),
            step_number: task.step_number,
            steps,
            parent_id: task.parent_id,
            error: task.error,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

/// A task's progress, from what its workflow recorded.
fn progress(task: &store::Task) -> Option<TaskProgress> {
    let value: serde_json::Value = serde_json::from_str(task.progress.as_deref()?).ok()?;
    Some(TaskProgress {
        done: value.get("done")?.as_u64()?,
        total: value.get("total").and_then(serde_json::Value::as_u64),
        unit: value
            .get("unit")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
    })
}

/// The step a task is at, by name (none once its last step has run).
fn step_of(task: &store::Task) -> Option<String> {
    let stage: serde_json::Value = serde_json::from_str(task.stage.as_deref()?).ok()?;
    stage.get("next")?.get("step")?.as_str().map(str::to_string)
}

/// A flavor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlavorInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Memory, MiB.
    pub ram_mb: i64,
    /// Virtual CPUs.
    pub vcpus: i64,
}

impl From<store::Flavor> for FlavorInfo {
    fn from(f: store::Flavor) -> Self {
        FlavorInfo {
            id: f.id,
            name: f.name,
            ram_mb: f.ram_mb,
            vcpus: f.vcpus,
        }
    }
}

/// A datastore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its default version's id.
    pub default_version_id: Option<String>,
}

impl From<store::Datastore> for DatastoreInfo {
    fn from(d: store::Datastore) -> Self {
        DatastoreInfo {
            id: d.id,
            name: d.name,
            default_version_id: d.default_version_id,
        }
    }
}

/// A datastore version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// Its id.
    pub id: String,
    /// Its datastore's id.
    pub datastore_id: String,
    /// Its datastore's name.
    pub datastore_name: String,
    /// Its name.
    pub name: String,
    /// The driver that serves it.
    pub driver_name: String,
    /// The driver versions that may serve it.
    pub driver_requirement: String,
    /// Its image (Trove's field; informational).
    pub image: String,
    /// Its packages, comma-separated.
    pub packages: String,
    /// Whether new instances may use it.
    pub active: bool,
    /// `public` or `private`.
    pub visibility: String,
}

impl From<store::DatastoreVersion> for VersionInfo {
    fn from(v: store::DatastoreVersion) -> Self {
        VersionInfo {
            id: v.id,
            datastore_id: v.datastore_id,
            datastore_name: v.datastore_name,
            name: v.name,
            driver_name: v.driver_name,
            driver_requirement: v.driver_requirement,
            image: v.image,
            packages: v.packages,
            active: v.active,
            visibility: v.visibility,
        }
    }
}

/// A configuration group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

impl From<store::Configuration> for GroupInfo {
    fn from(g: store::Configuration) -> Self {
        GroupInfo {
            id: g.id,
            name: g.name,
            description: g.description,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// A stored driver component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverFile {
    /// Its digest.
    pub digest: String,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The contract version it was built against.
    pub contract: String,
    /// Its size, bytes.
    pub size: i64,
    /// When it was uploaded.
    pub uploaded_at: i64,
}

/// A driver and its standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    /// The component.
    pub driver: DriverFile,
    /// Whether it is its name's active driver.
    pub active: bool,
    /// Whether it is what a rollback returns to.
    pub previous: bool,
}

impl From<store::DriverRecord> for DriverInfo {
    fn from(r: store::DriverRecord) -> Self {
        let d = r.driver;
        DriverInfo {
            driver: DriverFile {
                digest: d.digest,
                name: d.name,
                version: d.version,
                contract: d.contract,
                size: d.size,
                uploaded_at: d.uploaded_at,
            },
            active: r.active,
            previous: r.previous,
        }
    }
}

/// A host sharing the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The backend its nodes run on.
    pub backend: String,
    /// When it started.
    pub started_at: i64,
    /// When it last heartbeated.
    pub heartbeat_at: i64,
}

impl From<store::HostRecord> for HostInfo {
    fn from(h: store::HostRecord) -> Self {
        HostInfo {
            id: h.id,
            name: h.name,
            backend: h.backend,
            started_at: h.started_at,
            heartbeat_at: h.heartbeat_at,
        }
    }
}

/// What kind of value a configuration parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A boolean.
    Boolean,
    /// A whole number.
    Integer,
    /// A decimal number.
    Float,
    /// Text.
    Text,
    /// One of a list.
    Enumeration,
    /// A size (a number with a unit).
    Size,
    /// A duration (a number with a unit).
    Duration,
}

impl From<wit::ParamKind> for ParamKind {
    fn from(kind: wit::ParamKind) -> Self {
        match kind {
            wit::ParamKind::Boolean => ParamKind::Boolean,
            wit::ParamKind::Integer => ParamKind::Integer,
            wit::ParamKind::Float => ParamKind::Float,
            wit::ParamKind::Text => ParamKind::Text,
            wit::ParamKind::Enumeration => ParamKind::Enumeration,
            wit::ParamKind::Size => ParamKind::Size,
            wit::ParamKind::Duration => ParamKind::Duration,
        }
    }
}

/// A configuration parameter of a driver's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Its name.
    pub name: String,
    /// What it takes.
    pub kind: ParamKind,
    /// The least value.
    pub min: Option<String>,
    /// The greatest value.
    pub max: Option<String>,
    /// The values allowed (an enumeration's).
    pub allowed: Vec<String>,
    /// Its unit.
    pub unit: Option<String>,
    /// Whether it changes without a restart.
    pub dynamic: bool,
    /// Its default.
    pub default: Option<String>,
    /// What it does.
    pub description: String,
}

impl From<wit::ParamDef> for Parameter {
    fn from(p: wit::ParamDef) -> Self {
        Parameter {
            name: p.name,
            kind: p.kind.into(),
            min: p.min,
            max: p.max,
            allowed: p.allowed,
            unit: p.unit,
            dynamic: p.dynamic,
            default: p.default,
            description: p.description,
        }
    }
}

/// A parameter the service controls, and the driver's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcludedParameter {
    /// Its name.
    pub name: String,
    /// Why groups may not set it.
    pub reason: String,
}

impl From<wit::ExcludedParam> for ExcludedParameter {
    fn from(p: wit::ExcludedParam) -> Self {
        ExcludedParameter {
            name: p.name,
            reason: p.reason,
        }
    }
}

/// A database on an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// Its name.
    pub name: String,
    /// Its character set.
    pub character_set: Option<String>,
    /// Its collation.
    pub collation: Option<String>,
}

impl From<wit::Database> for Database {
    fn from(d: wit::Database) -> Self {
        Database {
            name: d.name,
            character_set: d.character_set,
            collation: d.collation,
        }
    }
}

impl From<Database> for wit::Database {
    fn from(d: Database) -> Self {
        wit::Database {
            name: d.name,
            character_set: d.character_set,
            collation: d.collation,
        }
    }
}

/// A user on an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its name.
    pub name: String,
    /// The host it may connect from.
    pub host: Option<String>,
    /// Its password (given, never shown).
    pub password: Option<String>,
    /// The databases it may use.
    pub databases: Vec<String>,
}

impl From<wit::User> for User {
    fn from(u: wit::User) -> Self {
        User {
            name: u.name,
            host: u.host,
            password: u.password,
            databases: u.databases,
        }
    }
}

impl From<User> for wit::User {
    fn from(u: User) -> Self {
        wit::User {
            name: u.name,
            host: u.host,
            password: u.password,
            databases: u.databases,
        }
    }
}

/// A change to a user: a new name, host or password.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// The new name.
    pub name: Option<String>,
    /// The new host.
    pub host: Option<String>,
    /// The new password.
    pub password: Option<String>,
}

impl From<UserUpdate> for wit::UserUpdate {
    fn from(u: UserUpdate) -> Self {
        wit::UserUpdate {
            name: u.name,
            host: u.host,
            password: u.password,
        }
    }
}

/// A name and password (root's, once enabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The name.
    pub name: String,
    /// The password.
    pub password: String,
}

impl From<wit::Credentials> for Credentials {
    fn from(c: wit::Credentials) -> Self {
        Credentials {
            name: c.name,
            password: c.password,
        }
    }
}

/// Converts each of a list.
pub(crate) fn all<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}
