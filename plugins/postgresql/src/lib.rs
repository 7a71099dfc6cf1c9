//! Drover's PostgreSQL driver: a WebAssembly component implementing the `drover:driver`
//! contract for PostgreSQL 15.
//!
//! Module map: `manifest`, `lifecycle` (postgresql.conf, pg_hba.conf, initdb, health),
//! `accounts` (databases, users, access, root), `replication` (streaming standbys, promote,
//! rewind), `configuration` (the catalog generated from
//! pg_settings, with `units`, and validation; `values` checks free text the way the server does),
//! `sql` (quoting, the driver's pinned sessions, and psql).

mod accounts;
mod catalog_15;
mod configuration;
mod lifecycle;
mod manifest;
mod replication;
mod sql;
mod units;
mod values;

use drover_driver_sdk::accounts::{Credentials, UserUpdate};
use drover_driver_sdk::configuration::{
    ApplyOutcome, ApplyRequest, ExcludedParam, ParamDef, Validated, ValidationRequest,
};
use drover_driver_sdk::lifecycle::{Health, PrepareRequest, ServiceSpec};
use drover_driver_sdk::prelude::*;

/// The PostgreSQL driver.
pub struct Postgresql;

impl Driver for Postgresql {
    fn manifest() -> DriverManifest {
        manifest::manifest()
    }

    fn render_service(context: NodeContext) -> DriverResult<ServiceSpec> {
        lifecycle::render_service(&context)
    }

    fn initialize(node: &Node, context: NodeContext) -> DriverResult<()> {
        lifecycle::initialize(node, &context)
    }

    fn prepare(node: &Node, _context: NodeContext, request: PrepareRequest) -> DriverResult<()> {
        lifecycle::prepare(node, request)
    }

    fn check_health(node: &Node, _context: NodeContext) -> DriverResult<Health> {
        lifecycle::check_health(node)
    }

    fn effective_configuration(context: NodeContext) -> DriverResult<Vec<(String, String)>> {
        Ok(lifecycle::effective_configuration(&context))
    }

    fn parameters(version: String) -> DriverResult<Vec<ParamDef>> {
        Ok(configuration::catalog(&version)?.definitions())
    }

    fn excluded(version: String) -> DriverResult<Vec<ExcludedParam>> {
        Ok(configuration::catalog(&version)?.exclusions())
    }

    fn validate(request: ValidationRequest) -> DriverResult<Validated> {
        configuration::validate(&request)
    }

    fn apply(node: &Node, request: ApplyRequest) -> DriverResult<ApplyOutcome> {
        configuration::apply(node, &request)
    }

    fn enable_source(
        node: &Node,
        _context: NodeContext,
    ) -> DriverResult<drover_driver_sdk::replication::SourceSetup> {
        replication::enable_source(node)
    }

    fn take_snapshot(
        snapshot: &Node,
        _source_node: &Node,
        source: ReplicaSource,
    ) -> DriverResult<()> {
        replication::take_snapshot(snapshot, &source)
    }

    fn attach_replica(
        node: &Node,
        context: NodeContext,
        _source: Option<&Node>,
    ) -> DriverResult<()> {
        replication::attach_replica(node, &context)
    }

    fn detach_replica(node: &Node, _context: NodeContext) -> DriverResult<()> {
        replication::detach_replica(node)
    }

    fn promote(node: &Node, _context: NodeContext) -> DriverResult<()> {
        replication::detach_replica(node)
    }

    fn demote(node: &Node, context: NodeContext, source: &Node) -> DriverResult<()> {
        replication::demote(node, &context, source)
    }

    fn set_read_only(node: &Node, read_only: bool) -> DriverResult<()> {
        replication::set_read_only(node, read_only)
    }

    fn position(node: &Node) -> DriverResult<String> {
        replication::position(node)
    }

    fn caught_up(node: &Node, position: String) -> DriverResult<bool> {
        replication::caught_up(node, &position)
    }

    fn compare_positions(a: String, b: String) -> DriverResult<i8> {
        replication::compare_positions(&a, &b)
    }

    fn replication_status(
        node: &Node,
        _context: NodeContext,
    ) -> DriverResult<drover_driver_sdk::replication::ReplicationStatus> {
        replication::status(node)
    }

    fn validate_databases(
        _version: String,
        databases: Vec<Database>,
    ) -> DriverResult<Vec<Database>> {
        accounts::validate_databases(databases)
    }

    fn validate_users(_version: String, users: Vec<User>) -> DriverResult<Vec<User>> {
        accounts::validate_users(users)
    }

    fn create_databases(node: &Node, databases: Vec<Database>) -> DriverResult<()> {
        accounts::create_databases(node, databases)
    }

    fn list_databases(node: &Node) -> DriverResult<Vec<Database>> {
        accounts::list_databases(node)
    }

    fn delete_database(node: &Node, name: String) -> DriverResult<()> {
        accounts::delete_database(node, &name)
    }

    fn create_users(node: &Node, users: Vec<User>) -> DriverResult<()> {
        accounts::create_users(node, users, accounts::Existing::Conflict)
    }

    fn list_users(node: &Node) -> DriverResult<Vec<User>> {
        accounts::list_users(node)
    }

    fn get_user(node: &Node, name: String, _host: Option<String>) -> DriverResult<User> {
        accounts::get_user(node, &name)
    }

    fn delete_user(node: &Node, name: String, _host: Option<String>) -> DriverResult<()> {
        accounts::delete_user(node, &name)
    }

    fn update_user(
        node: &Node,
        name: String,
        _host: Option<String>,
        update: UserUpdate,
    ) -> DriverResult<()> {
        accounts::update_user(node, &name, update)
    }

    fn grant_access(
        node: &Node,
        name: String,
        _host: Option<String>,
        databases: Vec<String>,
    ) -> DriverResult<()> {
        accounts::grant_access(node, &name, databases)
    }

    fn revoke_access(
        node: &Node,
        name: String,
        _host: Option<String>,
        database: String,
    ) -> DriverResult<()> {
        accounts::revoke_access(node, &name, &database)
    }

    fn list_access(node: &Node, name: String, _host: Option<String>) -> DriverResult<Vec<String>> {
        accounts::list_access(node, &name)
    }

    fn enable_root(node: &Node, password: Option<String>) -> DriverResult<Credentials> {
        accounts::enable_root(node, password)
    }

    fn disable_root(node: &Node) -> DriverResult<()> {
        accounts::disable_root(node)
    }

    fn root_enabled(node: &Node) -> DriverResult<bool> {
        accounts::root_enabled(node)
    }
}

drover_driver_sdk::export_driver!(Postgresql);
