//! Forwards every exported function of the contract to the driver's [`Driver`] implementation.

use crate::bindings::exports::drover::driver::{
    accounts, backup, cluster, configuration, lifecycle, manifest, replication,
};
use crate::errors::DriverResult;
use crate::{Component, Database, Driver, Node, NodeContext, ReplicaSource, User};

impl<D: Driver> manifest::Guest for Component<D> {
    fn get() -> manifest::DriverManifest {
        D::manifest()
    }
}

impl<D: Driver> lifecycle::Guest for Component<D> {
    fn render_service(context: NodeContext) -> DriverResult<lifecycle::ServiceSpec> {
        D::render_service(context)
    }
    fn initialize(node: &Node, context: NodeContext) -> DriverResult<()> {
        D::initialize(node, context)
    }
    fn prepare(
        node: &Node,
        context: NodeContext,
        request: lifecycle::PrepareRequest,
    ) -> DriverResult<()> {
        D::prepare(node, context, request)
    }
    fn check_health(node: &Node, context: NodeContext) -> DriverResult<lifecycle::Health> {
        D::check_health(node, context)
    }
    fn effective_configuration(context: NodeContext) -> DriverResult<Vec<(String, String)>> {
        D::effective_configuration(context)
    }
}

impl<D: Driver> configuration::Guest for Component<D> {
    fn parameters(datastore_version: String) -> DriverResult<Vec<configuration::ParamDef>> {
        D::parameters(datastore_version)
    }
    fn excluded(datastore_version: String) -> DriverResult<Vec<configuration::ExcludedParam>> {
        D::excluded(datastore_version)
    }
    fn validate(
        request: configuration::ValidationRequest,
    ) -> DriverResult<configuration::Validated> {
        D::validate(request)
    }
    fn apply(
        node: &Node,
        request: configuration::ApplyRequest,
    ) -> DriverResult<configuration::ApplyOutcome> {
        D::apply(node, request)
    }
}

impl<D: Driver> accounts::Guest for Component<D> {
    fn validate_databases(
        version: String,
        databases: Vec<Database>,
    ) -> DriverResult<Vec<Database>> {
        D::validate_databases(version, databases)
    }
    fn validate_users(version: String, users: Vec<User>) -> DriverResult<Vec<User>> {
        D::validate_users(version, users)
    }
    fn create_databases(node: &Node, databases: Vec<Database>) -> DriverResult<()> {
        D::create_databases(node, databases)
    }
    fn list_databases(node: &Node) -> DriverResult<Vec<Database>> {
        D::list_databases(node)
    }
    fn delete_database(node: &Node, name: String) -> DriverResult<()> {
        D::delete_database(node, name)
    }
    fn create_users(node: &Node, users: Vec<User>) -> DriverResult<()> {
        D::create_users(node, users)
    }
    fn list_users(node: &Node) -> DriverResult<Vec<User>> {
        D::list_users(node)
    }
    fn get_user(node: &Node, name: String, host: Option<String>) -> DriverResult<User> {
        D::get_user(node, name, host)
    }
    fn delete_user(node: &Node, name: String, host: Option<String>) -> DriverResult<()> {
        D::delete_user(node, name, host)
    }
    fn update_user(
        node: &Node,
        name: String,
        host: Option<String>,
        update: accounts::UserUpdate,
    ) -> DriverResult<()> {
        D::update_user(node, name, host, update)
    }
    fn grant_access(
        node: &Node,
        name: String,
        host: Option<String>,
        databases: Vec<String>,
    ) -> DriverResult<()> {
        D::grant_access(node, name, host, databases)
    }
    fn revoke_access(
        node: &Node,
        name: String,
        host: Option<String>,
        database: String,
    ) -> DriverResult<()> {
        D::revoke_access(node, name, host, database)
    }
    fn list_access(node: &Node, name: String, host: Option<String>) -> DriverResult<Vec<String>> {
        D::list_access(node, name, host)
    }
    fn enable_root(node: &Node, password: Option<String>) -> DriverResult<accounts::Credentials> {
        D::enable_root(node, password)
    }
    fn disable_root(node: &Node) -> DriverResult<()> {
        D::disable_root(node)
    }
    fn root_enabled(node: &Node) -> DriverResult<bool> {
        D::root_enabled(node)
    }
}

impl<D: Driver> replication::Guest for Component<D> {
    fn enable_source(node: &Node, context: NodeContext) -> DriverResult<replication::SourceSetup> {
        D::enable_source(node, context)
    }
    fn attach_replica(
        node: &Node,
        context: NodeContext,
        source: Option<&Node>,
    ) -> DriverResult<()> {
        D::attach_replica(node, context, source)
    }
    fn take_snapshot(
        snapshot: &Node,
        source_node: &Node,
        source: ReplicaSource,
    ) -> DriverResult<()> {
        D::take_snapshot(snapshot, source_node, source)
    }
    fn detach_replica(node: &Node, context: NodeContext) -> DriverResult<()> {
        D::detach_replica(node, context)
    }
    fn promote(node: &Node, context: NodeContext) -> DriverResult<()> {
        D::promote(node, context)
    }
    fn demote(node: &Node, context: NodeContext, source: &Node) -> DriverResult<()> {
        D::demote(node, context, source)
    }
    fn set_read_only(node: &Node, read_only: bool) -> DriverResult<()> {
        D::set_read_only(node, read_only)
    }
    fn position(node: &Node) -> DriverResult<String> {
        D::position(node)
    }
    fn caught_up(node: &Node, position: String) -> DriverResult<bool> {
        D::caught_up(node, position)
    }
    fn compare_positions(a: String, b: String) -> DriverResult<i8> {
        D::compare_positions(a, b)
    }
    fn status(node: &Node, context: NodeContext) -> DriverResult<replication::ReplicationStatus> {
        D::replication_status(node, context)
    }
}

impl<D: Driver> cluster::Guest for Component<D> {
    fn plan_create(
        version: String,
        members: Vec<cluster::MemberRequest>,
    ) -> DriverResult<Vec<String>> {
        D::plan_create(version, members)
    }
    fn plan_grow(
        version: String,
        existing: Vec<cluster::Member>,
        added: Vec<cluster::MemberRequest>,
    ) -> DriverResult<Vec<String>> {
        D::plan_grow(version, existing, added)
    }
    fn check_shrink(
        version: String,
        existing: Vec<cluster::Member>,
        removed: Vec<String>,
    ) -> DriverResult<()> {
        D::check_shrink(version, existing, removed)
    }
    fn bootstrap(first: &Node, context: NodeContext) -> DriverResult<String> {
        D::bootstrap(first, context)
    }
    fn join(node: &Node, context: NodeContext, via: &Node) -> DriverResult<()> {
        D::join(node, context, via)
    }
    fn leave(node: &Node, context: NodeContext, via: &Node) -> DriverResult<()> {
        D::leave(node, context, via)
    }
    fn check_member(node: &Node, context: NodeContext) -> DriverResult<Option<String>> {
        D::check_member(node, context)
    }
}

impl<D: Driver> backup::Guest for Component<D> {
    fn create_backup(
        node: &Node,
        context: NodeContext,
        target_dir: String,
    ) -> DriverResult<backup::BackupInfo> {
        D::create_backup(node, context, target_dir)
    }
    fn restore_backup(
        node: &Node,
        context: NodeContext,
        source_dir: String,
        metadata: String,
    ) -> DriverResult<()> {
        D::restore_backup(node, context, source_dir, metadata)
    }
}
