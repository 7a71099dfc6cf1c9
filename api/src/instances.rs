//! Instances, replicas and instance actions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::{DatabaseRequest, UserRequest};
use crate::common::{Count, FlavorRef, Link, ResourceRef};

/// The volume of a new instance. `type` is accepted and ignored: nodes have no volume types.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct VolumeRequest {
    /// Size in GiB (a number or a string of digits).
    #[serde(default)]
    pub size: Option<Count>,
    /// A volume type.
    #[serde(rename = "type", default)]
    pub volume_type: Option<String>,
}

/// A datastore and version, by name or id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DatastoreRef {
    /// The datastore (its type).
    #[serde(rename = "type", default)]
    pub datastore_type: Option<String>,
    /// The version.
    #[serde(default)]
    pub version: Option<String>,
}

/// An instance to create. Fields the clients send that Drover does not use
/// (`availability_zone`, `nics`, `locality`, `modules`) are accepted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct NewInstance {
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// The flavor (id, number, or link); optional for replicas, which inherit their source's.
    #[serde(rename = "flavorRef", alias = "flavor", default)]
    pub flavor_ref: Option<FlavorRef>,
    /// The volume; optional for replicas.
    #[serde(default)]
    pub volume: Option<VolumeRequest>,
    /// The datastore and version; defaults to the only datastore's default version.
    #[serde(default)]
    pub datastore: Option<DatastoreRef>,
    /// Databases to create.
    #[serde(default)]
    pub databases: Vec<DatabaseRequest>,
    /// Users to create.
    #[serde(default)]
    pub users: Vec<UserRequest>,
    /// A configuration group to attach.
    #[serde(default)]
    pub configuration: Option<String>,
    /// The instance to replicate.
    #[serde(alias = "slave_of", default)]
    pub replica_of: Option<String>,
    /// How many replicas to create (with `replica_of`).
    #[serde(default)]
    pub replica_count: Option<Count>,
    /// Who may reach it; what the installation cannot enforce is refused.
    #[serde(default)]
    pub access: Option<AccessView>,
    /// Accepted, unused.
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// Accepted, unused.
    #[serde(default)]
    pub locality: Option<String>,
    /// The region: the service's own, or a 400.
    #[serde(default)]
    pub region: Option<String>,
    /// Accepted, unused.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub nics: Vec<serde_json::Value>,
    /// Accepted, unused.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub modules: Vec<serde_json::Value>,
    /// A backup to restore from (`{"backupRef": id}`).
    #[serde(rename = "restorePoint", default)]
    #[schema(value_type = Object)]
    pub restore_point: Option<serde_json::Value>,
}

/// `POST /instances`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateInstanceRequest {
    /// The instance.
    pub instance: NewInstance,
}

/// `PUT` or `PATCH /instances/{id}`. A key left out is not changed, with one exception kept
/// from Trove: a `PUT` without `configuration`, `name` and `replica_of` detaches the
/// configuration group (what the legacy CLI sends as `{"instance": {}}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct InstanceUpdate {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A configuration group to attach, or `null` to detach.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub configuration: Option<serde_json::Value>,
    /// `""` or `null` detaches a replica from its source.
    #[serde(default, alias = "slave_of", deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub replica_of: Option<serde_json::Value>,
    /// A datastore version to upgrade to.
    #[serde(default)]
    pub datastore_version: Option<String>,
}

/// Keeps an explicit `null` apart from an absent key.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    Ok(Some(serde_json::Value::deserialize(deserializer)?))
}

/// `PUT` or `PATCH /instances/{id}` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateInstanceRequest {
    /// The changes.
    pub instance: InstanceUpdate,
}

/// The new volume of a resize: `{"size": N}`, or a bare number as openstacksdk sends it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum VolumeResize {
    /// `{"size": N}`.
    Sized {
        /// GiB.
        size: Count,
    },
    /// `N`.
    Bare(Count),
}

impl VolumeResize {
    /// The size asked for.
    pub fn size(&self) -> i64 {
        match self {
            VolumeResize::Sized { size } | VolumeResize::Bare(size) => size.0,
        }
    }
}

/// `{"resize": …}`: a new flavor or a larger volume.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResizeAction {
    /// A new flavor.
    #[serde(rename = "flavorRef", default)]
    pub flavor_ref: Option<FlavorRef>,
    /// A larger volume.
    #[serde(default)]
    pub volume: Option<VolumeResize>,
}

/// `POST /instances/{id}/action`: exactly one of these keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceAction {
    /// Restart the datastore server (`{}` or `null`).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub restart: Option<serde_json::Value>,
    /// Resize the flavor or the volume.
    #[serde(default)]
    pub resize: Option<ResizeAction>,
    /// Make this replica the source of its replication set.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub promote_to_replica_source: Option<serde_json::Value>,
    /// Replace this unreachable source by its most recent replica.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub eject_replica_source: Option<serde_json::Value>,
    /// Reset a stuck status (admins).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub reset_status: Option<serde_json::Value>,
}

/// The flavor of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FlavorLink {
    /// The flavor id.
    pub id: String,
    /// Links.
    pub links: Vec<Link>,
}

/// The datastore of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InstanceDatastore {
    /// The datastore (type).
    #[serde(rename = "type")]
    pub datastore_type: String,
    /// The version's name.
    pub version: String,
    /// The version number (Trove shows the name where a version has no other number).
    pub version_number: String,
}

/// The volume of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VolumeView {
    /// Size, GiB.
    pub size: i64,
    /// GiB used by the node's files (shown when the instance is settled).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub used: Option<f64>,
    /// The share of the volume used, percent (with `used`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub used_percent: Option<f64>,
}

/// Where an instance listens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AddressView {
    /// The address.
    pub address: String,
    /// `private`.
    #[serde(rename = "type")]
    pub address_type: String,
    /// The network it is on: `loopback` for nodes that listen on the host's loopback.
    pub network: String,
    /// The port (Drover: every instance has its own).
    pub port: u16,
}

/// Who may reach an instance: Trove's `access`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessView {
    /// Whether it is reachable from outside its host's private network.
    #[serde(default)]
    pub is_public: bool,
    /// The networks (CIDR) clients may connect from; empty for any the network lets through.
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
}

/// The last failure of an instance's operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FaultView {
    /// What went wrong, for the owner.
    pub message: String,
    /// When (ISO 8601).
    pub created: String,
    /// Details, for admins only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub details: Option<String>,
}

/// An instance, as list and show present it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InstanceView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// BUILD, ACTIVE, REBOOT, RESIZE, SHUTDOWN, ERROR, RESTART_REQUIRED, PROMOTE, EJECT,
    /// DETACH_REPLICA, …
    pub status: String,
    /// What the health pass last saw of the datastore service while the instance is ACTIVE:
    /// `HEALTHY`, `ACTIVE` (starting), `SHUTDOWN`, `ERROR` (also when it has not been seen for
    /// 90 s); `""` while a task runs or the instance is not ACTIVE, as in Trove.
    pub operating_status: String,
    /// The region the service runs in (configuration).
    pub region: String,
    /// Who may reach it.
    pub access: AccessView,
    /// Links.
    pub links: Vec<Link>,
    /// Its flavor.
    pub flavor: FlavorLink,
    /// Its datastore.
    pub datastore: InstanceDatastore,
    /// Its volume.
    pub volume: VolumeView,
    /// Addresses to connect to.
    pub ip: Vec<String>,
    /// Addresses with ports.
    pub addresses: Vec<AddressView>,
    /// When it was created (ISO 8601).
    pub created: String,
    /// When it last changed (ISO 8601).
    pub updated: String,
    /// When the health pass last saw the datastore service (ISO 8601).
    pub service_status_updated: String,
    /// The attached configuration group.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub configuration: Option<ResourceRef>,
    /// The source it replicates.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replica_of: Option<ResourceRef>,
    /// Its replicas.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replicas: Option<Vec<ResourceRef>>,
    /// For replicas (Drover): `in_sync` or `out_of_sync`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replication_state: Option<String>,
    /// For replicas (Drover): how far behind its source it is, in seconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replication_lag: Option<f64>,
    /// The last failure.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fault: Option<FaultView>,
    /// The cluster it belongs to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cluster_id: Option<String>,
    /// The owning project.
    pub tenant_id: String,
    /// How the instance's node is isolated on its host (Drover; shown by `GET
    /// /instances/{id}` once the node exists).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub isolation: Option<IsolationView>,
    /// A Drover extension: the host its node is placed on.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// A Drover extension: the task running on it, with its progress (absent when none is).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub task: Option<TaskProgressView>,
}

/// How a node is kept apart from other tenants' nodes and from the host (Drover).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct IsolationView {
    /// The Unix account the node's processes run as, its own; absent when the service does
    /// not run as root and every node runs as the service's user.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<String>,
    /// Whether the node's processes see a file system of their own (a private mount
    /// namespace holding only their directory and read-only system paths).
    pub private_filesystem: bool,
    /// The Landlock ABI version its processes are confined with; 0 when the kernel has none.
    pub landlock_abi: u32,
    /// How its memory and process count are limited: `cgroup` (by the kernel, per node) or
    /// `rlimit` (per process, where the host cannot use cgroups).
    pub limits: String,
    /// The memory limit, MiB. For `rlimit` this is the address-space limit that stands in for
    /// it, larger than the flavor's memory.
    pub memory_mb: u64,
    /// The limit on processes (threads included), when one applies.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_processes: Option<u64>,
}

/// `GET /instances/{id}`, and the answer to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceResponse {
    /// The instance.
    pub instance: InstanceView,
}

/// `GET /instances` and `GET /instances/{id}/replicas`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstancesResponse {
    /// The instances.
    pub instances: Vec<InstanceView>,
    /// A `next` link when there are more.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<Link>,
}

/// The configuration an instance runs with.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceConfiguration {
    /// Parameter → value.
    pub configuration: BTreeMap<String, serde_json::Value>,
}

/// `GET /instances/{id}/configuration`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceConfigurationResponse {
    /// Wrapped as Trove does.
    pub instance: InstanceConfiguration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openstack_client_create_body_parses() {
        // As `openstack database instance create new1 --flavor 6 --size 2 …` sends it.
        let body = r#"{"instance":{"access":{"allowed_cidrs":["10.0.0.0/8"],"is_public":true},"databases":[{"name":"appdb"}],
            "datastore":{"type":"mysql","version":"5.7"},"flavorRef":6,"name":"new1",
            "users":[{"databases":[{"name":"appdb"}],"name":"u1","password":"pw1"}],"volume":{"size":2,"type":null}}}"#;
        let request: CreateInstanceRequest = serde_json::from_str(body).unwrap();
        let instance = request.instance;
        assert_eq!(instance.flavor_ref.unwrap().id(), "6");
        assert_eq!(instance.volume.unwrap().size, Some(Count(2)));
        assert_eq!(instance.users[0].databases[0].name, "appdb");
        assert_eq!(
            instance.datastore.unwrap().datastore_type.as_deref(),
            Some("mysql")
        );
    }

    #[test]
    fn a_replica_needs_neither_flavor_nor_volume() {
        let body = r#"{"instance":{"access":{"is_public":false},"name":"rep1","replica_count":1,"replica_of":"abc"}}"#;
        let request: CreateInstanceRequest = serde_json::from_str(body).unwrap();
        assert!(request.instance.flavor_ref.is_none() && request.instance.volume.is_none());
        assert_eq!(request.instance.replica_of.as_deref(), Some("abc"));
    }

    #[test]
    fn updates_tell_null_from_absent() {
        let detach: UpdateInstanceRequest =
            serde_json::from_str(r#"{"instance":{"replica_of":null}}"#).unwrap();
        // `null` is present (detach), and the configuration key is absent.
        assert_eq!(detach.instance.replica_of, Some(serde_json::Value::Null));
        assert_eq!(detach.instance.configuration, None);
        let attach: UpdateInstanceRequest =
            serde_json::from_str(r#"{"instance":{"configuration":"cfg"}}"#).unwrap();
        assert_eq!(
            attach.instance.configuration,
            Some(serde_json::json!("cfg"))
        );
    }

    #[test]
    fn actions_take_every_shape_clients_send() {
        let restart: InstanceAction = serde_json::from_str(r#"{"restart":{}}"#).unwrap();
        assert!(restart.restart.is_some());
        let restart_null: InstanceAction = serde_json::from_str(r#"{"restart":null}"#).unwrap();
        assert!(restart_null.restart.is_some());
        let flavor: InstanceAction =
            serde_json::from_str(r#"{"resize":{"flavorRef":"7"}}"#).unwrap();
        assert_eq!(flavor.resize.unwrap().flavor_ref.unwrap().id(), "7");
        let volume: InstanceAction =
            serde_json::from_str(r#"{"resize":{"volume":{"size":5}}}"#).unwrap();
        assert_eq!(volume.resize.unwrap().volume.unwrap().size(), 5);
        let bare: InstanceAction = serde_json::from_str(r#"{"resize":{"volume":5}}"#).unwrap();
        assert_eq!(bare.resize.unwrap().volume.unwrap().size(), 5);
        // An unknown action is a schema error naming it.
        let error = serde_json::from_str::<InstanceAction>(r#"{"explode":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("explode"), "{error}");
    }
}

/// What a long step has done so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProgressView {
    /// How much is done.
    pub done: u64,
    /// Out of how much, when known.
    pub total: Option<u64>,
    /// `bytes`, `items`, or none.
    pub unit: Option<String>,
}

/// A Drover extension: where a resource's running task is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskProgressView {
    /// The task.
    pub id: String,
    /// Its workflow (`create_instance`, `restart_instance`, …).
    pub kind: String,
    /// The step running or next (null once the last has run).
    pub step: Option<String>,
    /// Its number, from 1.
    pub step_number: i64,
    /// How many steps the workflow has.
    pub steps: i64,
    /// What a long step has done so far.
    pub progress: Option<ProgressView>,
}

/// A Drover extension: one of an instance's tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    /// The task.
    pub id: String,
    /// Its workflow.
    pub kind: String,
    /// `queued`, `held`, `pending`, `running`, `waiting`, `done`, `failed` or `cancelled`.
    pub state: String,
    /// The step running or next (null once it has ended).
    pub step: Option<String>,
    /// Its number, from 1.
    pub step_number: i64,
    /// How many steps the workflow has.
    pub steps: i64,
    /// What a long step has done so far.
    pub progress: Option<ProgressView>,
    /// The task it is a child of.
    pub parent_id: Option<String>,
    /// The host it is placed on (null: any host).
    pub host: Option<String>,
    /// When it was accepted (ISO 8601).
    pub created: String,
    /// When it last changed.
    pub updated: String,
    /// Why it failed, for admins; for the owner, the instance's fault.
    pub error: Option<String>,
}

/// `GET /instances/{id}/tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TasksResponse {
    /// Newest first, at most 20.
    pub tasks: Vec<TaskView>,
}
