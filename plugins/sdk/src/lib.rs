//! The SDK for writing Drover datastore drivers: WebAssembly components (`wasm32-wasip2`) that
//! implement the `drover:driver` contract in `wit/`.
//!
//! A driver is a `cdylib` crate that implements [`Driver`] for a type and exports it:
//!
//! ```ignore
//! use drover_driver_sdk::prelude::*;
//!
//! struct MyDriver;
//!
//! impl Driver for MyDriver {
//!     fn manifest() -> DriverManifest { /* name, datastore, versions, features, binaries */ }
//!     // Implement the functions of the features the manifest declares; every other function
//!     // answers `unsupported` by default.
//! }
//!
//! drover_driver_sdk::export_driver!(MyDriver);
//! ```
//!
//! Beside the bindings the SDK offers what every driver needs: typed errors ([`errors`]),
//! running commands on nodes ([`exec`]), parameter catalogs with a validator ([`catalog`]) and
//! logging ([`log`]).
#![deny(missing_docs)]

use std::marker::PhantomData;

pub mod catalog;
pub mod errors;
pub mod exec;
pub mod secrets;

/// The generated bindings of the `datastore-driver` world. Use the re-exports instead.
#[doc(hidden)]
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "datastore-driver",
        pub_export_macro: true,
        export_macro_name: "export_bindings",
        default_bindings_module: "::drover_driver_sdk::bindings",
        additional_derives: [PartialEq],
    });
}

/// The version of the `drover:driver` contract this SDK implements (the WIT package version).
/// Put it in [`DriverManifest::contract_version`].
pub const CONTRACT_VERSION: &str = env!("DROVER_CONTRACT_VERSION");

pub use bindings::drover::driver::node_api::{ExecOutput, ExecRequest, Node};
pub use bindings::drover::driver::types::{
    ClusterMembership, ClusterPeer, Database, DriverError, Endpoint, FieldError, Flavor,
    NodeContext, NodeRole, ReplicaSource, Setting, User, Value,
};
pub use bindings::exports::drover::driver::manifest::{Binary, DriverManifest, Maturity};

/// Types of the `lifecycle` interface.
pub mod lifecycle {
    pub use crate::bindings::exports::drover::driver::lifecycle::{
        Command, Health, HealthStatus, PrepareRequest, Readiness, ServiceFile, ServiceSpec,
        StopSignal,
    };
}

/// Types of the `configuration` interface.
pub mod configuration {
    pub use crate::bindings::exports::drover::driver::configuration::{
        ApplyOutcome, ApplyRequest, ExcludedParam, ParamDef, ParamKind, Validated,
        ValidationRequest,
    };
}

/// Types of the `accounts` interface.
pub mod accounts {
    pub use crate::bindings::exports::drover::driver::accounts::{Credentials, UserUpdate};
}

/// Types of the `replication` interface.
pub mod replication {
    pub use crate::bindings::exports::drover::driver::replication::{
        ReplicationRole, ReplicationStatus, SourceSetup,
    };
}

/// Types of the `cluster` interface.
pub mod cluster {
    pub use crate::bindings::exports::drover::driver::cluster::{Member, MemberRequest};
}

/// Types of the `backup` interface.
pub mod backup {
    pub use crate::bindings::exports::drover::driver::backup::BackupInfo;
}

/// Writing to the host's log.
pub mod log {
    pub use crate::bindings::drover::driver::log::Level;

    /// Writes a message to the host's log at `level`.
    pub fn write(level: Level, message: &str) {
        crate::bindings::drover::driver::log::log(level, message)
    }
}

/// The names a manifest uses for optional features (`DriverManifest::features`).
pub mod features {
    /// Configuration groups: the `configuration` interface.
    pub const CONFIGURATION: &str = "configuration";
    /// Databases: the database functions of `accounts`.
    pub const DATABASES: &str = "databases";
    /// Users and their access: the user functions of `accounts`.
    pub const USERS: &str = "users";
    /// Enabling the superuser and showing whether it is enabled.
    pub const ROOT: &str = "root";
    /// Disabling the superuser.
    pub const ROOT_DISABLE: &str = "root-disable";
    /// Replicas: create and detach (`replication`).
    pub const REPLICATION: &str = "replication";
    /// The replicas of one request seeded from one snapshot (`replication.take-snapshot`).
    pub const REPLICA_SNAPSHOT: &str = "replica-snapshot";
    /// Promoting a replica while its source is healthy.
    pub const PROMOTE: &str = "promote";
    /// Ejecting an unreachable source.
    pub const EJECT: &str = "eject";
    /// Detaching a replica.
    pub const DETACH: &str = "detach";
    /// Clusters: create and delete.
    pub const CLUSTER: &str = "cluster";
    /// Growing a cluster.
    pub const CLUSTER_GROW: &str = "cluster-grow";
    /// Shrinking a cluster.
    pub const CLUSTER_SHRINK: &str = "cluster-shrink";
    /// Backups and restores.
    pub const BACKUP: &str = "backup";
}

/// What most drivers import.
pub mod prelude {
    pub use crate::errors::{DriverResult, Problems};
    pub use crate::exec::NodeExt;
    pub use crate::{
        CONTRACT_VERSION, Database, Driver, DriverError, DriverManifest, Endpoint, FieldError,
        Flavor, Maturity, Node, NodeContext, NodeRole, ReplicaSource, Setting, User, Value,
    };
}

use configuration::{
    ApplyOutcome, ApplyRequest, ExcludedParam, ParamDef, Validated, ValidationRequest,
};
use errors::DriverResult;
use lifecycle::{Health, PrepareRequest, ServiceSpec};

fn unsupported<T>(what: &str) -> DriverResult<T> {
    Err(DriverError::Unsupported(format!(
        "this driver does not support {what}"
    )))
}

/// A datastore driver. Only [`Driver::manifest`] is required: every other function answers
/// `unsupported` until the driver implements it, so a driver implements exactly the features
/// its manifest declares. The functions mirror the contract's exports one to one; their
/// documentation is in `wit/`.
pub trait Driver {
    /// `manifest.get`: what the driver is, serves and needs.
    fn manifest() -> DriverManifest;

    /// `lifecycle.render-service`.
    fn render_service(_context: NodeContext) -> DriverResult<ServiceSpec> {
        unsupported("running nodes")
    }
    /// `lifecycle.initialize`.
    fn initialize(_node: &Node, _context: NodeContext) -> DriverResult<()> {
        unsupported("running nodes")
    }
    /// `lifecycle.prepare`.
    fn prepare(_node: &Node, _context: NodeContext, _request: PrepareRequest) -> DriverResult<()> {
        unsupported("running nodes")
    }
    /// `lifecycle.check-health`.
    fn check_health(_node: &Node, _context: NodeContext) -> DriverResult<Health> {
        unsupported("health checks")
    }
    /// `lifecycle.effective-configuration`.
    fn effective_configuration(_context: NodeContext) -> DriverResult<Vec<(String, String)>> {
        unsupported("showing the configuration")
    }

    /// `configuration.parameters`.
    fn parameters(_datastore_version: String) -> DriverResult<Vec<ParamDef>> {
        unsupported("configuration groups")
    }
    /// `configuration.excluded`.
    fn excluded(_datastore_version: String) -> DriverResult<Vec<ExcludedParam>> {
        unsupported("configuration groups")
    }
    /// `configuration.validate`.
    fn validate(_request: ValidationRequest) -> DriverResult<Validated> {
        unsupported("configuration groups")
    }
    /// `configuration.apply`.
    fn apply(_node: &Node, _request: ApplyRequest) -> DriverResult<ApplyOutcome> {
        unsupported("configuration groups")
    }

    /// `accounts.validate-databases`.
    fn validate_databases(
        _version: String,
        _databases: Vec<Database>,
    ) -> DriverResult<Vec<Database>> {
        unsupported("databases")
    }
    /// `accounts.validate-users`.
    fn validate_users(_version: String, _users: Vec<User>) -> DriverResult<Vec<User>> {
        unsupported("users")
    }
    /// `accounts.create-databases`.
    fn create_databases(_node: &Node, _databases: Vec<Database>) -> DriverResult<()> {
        unsupported("databases")
    }
    /// `accounts.list-databases`.
    fn list_databases(_node: &Node) -> DriverResult<Vec<Database>> {
        unsupported("databases")
    }
    /// `accounts.delete-database`.
    fn delete_database(_node: &Node, _name: String) -> DriverResult<()> {
        unsupported("databases")
    }
    /// `accounts.create-users`.
    fn create_users(_node: &Node, _users: Vec<User>) -> DriverResult<()> {
        unsupported("users")
    }
    /// `accounts.list-users`.
    fn list_users(_node: &Node) -> DriverResult<Vec<User>> {
        unsupported("users")
    }
    /// `accounts.get-user`.
    fn get_user(_node: &Node, _name: String, _host: Option<String>) -> DriverResult<User> {
        unsupported("users")
    }
    /// `accounts.delete-user`.
    fn delete_user(_node: &Node, _name: String, _host: Option<String>) -> DriverResult<()> {
        unsupported("users")
    }
    /// `accounts.update-user`.
    fn update_user(
        _node: &Node,
        _name: String,
        _host: Option<String>,
        _update: accounts::UserUpdate,
    ) -> DriverResult<()> {
        unsupported("users")
    }
    /// `accounts.grant-access`.
    fn grant_access(
        _node: &Node,
        _name: String,
        _host: Option<String>,
        _databases: Vec<String>,
    ) -> DriverResult<()> {
        unsupported("user access")
    }
    /// `accounts.revoke-access`.
    fn revoke_access(
        _node: &Node,
        _name: String,
        _host: Option<String>,
        _database: String,
    ) -> DriverResult<()> {
        unsupported("user access")
    }
    /// `accounts.list-access`.
    fn list_access(
        _node: &Node,
        _name: String,
        _host: Option<String>,
    ) -> DriverResult<Vec<String>> {
        unsupported("user access")
    }
    /// `accounts.enable-root`.
    fn enable_root(_node: &Node, _password: Option<String>) -> DriverResult<accounts::Credentials> {
        unsupported("the root user")
    }
    /// `accounts.disable-root`.
    fn disable_root(_node: &Node) -> DriverResult<()> {
        unsupported("disabling the root user")
    }
    /// `accounts.root-enabled`.
    fn root_enabled(_node: &Node) -> DriverResult<bool> {
        unsupported("the root user")
    }

    /// `replication.enable-source`.
    fn enable_source(
        _node: &Node,
        _context: NodeContext,
    ) -> DriverResult<replication::SourceSetup> {
        unsupported("replication")
    }
    /// `replication.attach-replica`.
    fn attach_replica(
        _node: &Node,
        _context: NodeContext,
        _source: Option<&Node>,
    ) -> DriverResult<()> {
        unsupported("replication")
    }
    /// `replication.take-snapshot`.
    fn take_snapshot(
        _snapshot: &Node,
        _source_node: &Node,
        _source: ReplicaSource,
    ) -> DriverResult<()> {
        unsupported("seeding replicas from one snapshot")
    }
    /// `replication.detach-replica`.
    fn detach_replica(_node: &Node, _context: NodeContext) -> DriverResult<()> {
        unsupported("detaching replicas")
    }
    /// `replication.promote`.
    fn promote(_node: &Node, _context: NodeContext) -> DriverResult<()> {
        unsupported("promoting replicas")
    }
    /// `replication.demote`.
    fn demote(_node: &Node, _context: NodeContext, _source: &Node) -> DriverResult<()> {
        unsupported("promoting replicas")
    }
    /// `replication.set-read-only`.
    fn set_read_only(_node: &Node, _read_only: bool) -> DriverResult<()> {
        unsupported("replication")
    }
    /// `replication.position`.
    fn position(_node: &Node) -> DriverResult<String> {
        unsupported("replication")
    }
    /// `replication.caught-up`.
    fn caught_up(_node: &Node, _position: String) -> DriverResult<bool> {
        unsupported("replication")
    }
    /// `replication.compare-positions`.
    fn compare_positions(_a: String, _b: String) -> DriverResult<i8> {
        unsupported("replication")
    }
    /// `replication.status`.
    fn replication_status(
        _node: &Node,
        _context: NodeContext,
    ) -> DriverResult<replication::ReplicationStatus> {
        unsupported("replication")
    }

    /// `cluster.plan-create`.
    fn plan_create(
        _version: String,
        _members: Vec<cluster::MemberRequest>,
    ) -> DriverResult<Vec<String>> {
        unsupported("clusters")
    }
    /// `cluster.plan-grow`.
    fn plan_grow(
        _version: String,
        _existing: Vec<cluster::Member>,
        _added: Vec<cluster::MemberRequest>,
    ) -> DriverResult<Vec<String>> {
        unsupported("growing clusters")
    }
    /// `cluster.check-shrink`.
    fn check_shrink(
        _version: String,
        _existing: Vec<cluster::Member>,
        _removed: Vec<String>,
    ) -> DriverResult<()> {
        unsupported("shrinking clusters")
    }
    /// `cluster.bootstrap`.
    fn bootstrap(_first: &Node, _context: NodeContext) -> DriverResult<String> {
        unsupported("clusters")
    }
    /// `cluster.join`.
    fn join(_node: &Node, _context: NodeContext, _via: &Node) -> DriverResult<()> {
        unsupported("growing clusters")
    }
    /// `cluster.leave`.
    fn leave(_node: &Node, _context: NodeContext, _via: &Node) -> DriverResult<()> {
        unsupported("shrinking clusters")
    }
    /// `cluster.check-member`.
    fn check_member(_node: &Node, _context: NodeContext) -> DriverResult<Option<String>> {
        unsupported("clusters")
    }

    /// `backup.create-backup`.
    fn create_backup(
        _node: &Node,
        _context: NodeContext,
        _target_dir: String,
    ) -> DriverResult<backup::BackupInfo> {
        unsupported("backups")
    }
    /// `backup.restore-backup`.
    fn restore_backup(
        _node: &Node,
        _context: NodeContext,
        _source_dir: String,
        _metadata: String,
    ) -> DriverResult<()> {
        unsupported("backups")
    }
}

/// Exports a [`Driver`] as the component's implementation of the contract. Invoke it once, at
/// the root of the driver crate. Outside WebAssembly it expands to nothing, so that a driver's
/// pure logic can be unit-tested natively.
#[macro_export]
macro_rules! export_driver {
    ($driver:ty) => {
        #[cfg(target_arch = "wasm32")]
        type __DroverExportedDriver = $crate::Component<$driver>;
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export_bindings!(__DroverExportedDriver with_types_in $crate::bindings);
    };
}

/// The adapter between the generated `Guest` traits and [`Driver`]. Used by [`export_driver!`].
#[doc(hidden)]
pub struct Component<D>(PhantomData<D>);

mod component;
