//! A handle on one loaded driver version, with a typed method per exported function. Optional
//! features the manifest does not declare answer `unsupported` without calling the driver.

use std::sync::Arc;

use super::call::CallKind;
use super::loader::{DriverIdentity, LoadedDriver};
use super::node::NodeOps;
use super::types::*;
use super::{CallError, Shared};

/// A loaded driver version. Cheap to clone; calls made through a clone run on this version
/// even after another version is activated.
#[derive(Clone)]
pub struct Driver {
    shared: Arc<Shared>,
    loaded: Arc<LoadedDriver>,
}

/// Runs one exported function: `$call` is the name bound to the live call; each `$node` names
/// an `Arc<dyn NodeOps>` in scope, which is replaced by the handle the driver receives; `$body`
/// is an async expression using `$call.instance` and `$call.store`.
macro_rules! invoke {
    ($self:ident, $kind:expr, |$call:ident $(, $node:ident)*| $body:expr) => {{
        #[allow(unused_mut)]
        let mut $call = $self.shared.enter(&$self.loaded.pre, $self.loaded.identity.clone(), $kind).await?;
        $( let $node = $call.node($node)?; )*
        let outcome = $body.await;
        $call.finish(outcome)
    }};
}

impl Driver {
    pub(crate) fn new(shared: Arc<Shared>, loaded: LoadedDriver) -> Driver {
        Driver {
            shared,
            loaded: Arc::new(loaded),
        }
    }

    /// Name, version, contract, digest.
    pub fn identity(&self) -> &DriverIdentity {
        &self.loaded.identity
    }

    /// The driver's name.
    pub fn name(&self) -> &str {
        &self.loaded.identity.name
    }

    /// `sha256:<hex>` of the component.
    pub fn digest(&self) -> &str {
        &self.loaded.identity.digest
    }

    /// The manifest, as read at load time.
    pub fn manifest(&self) -> &DriverManifest {
        &self.loaded.manifest
    }

    /// The component's size in bytes.
    pub fn size(&self) -> usize {
        self.loaded.size
    }

    /// The component's export names.
    pub fn exports(&self) -> &[String] {
        &self.loaded.exports
    }

    /// Whether the manifest declares an optional feature.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.loaded
            .manifest
            .features
            .iter()
            .any(|declared| declared == feature)
    }

    /// Whether the driver serves a datastore version.
    pub fn serves(&self, version: &str) -> bool {
        self.loaded
            .manifest
            .versions
            .iter()
            .any(|served| served == version)
    }

    fn require(&self, feature: &str) -> Result<(), CallError> {
        if self.has_feature(feature) {
            Ok(())
        } else {
            Err(CallError::Driver(DriverError::Unsupported(format!(
                "driver {} does not support {feature}",
                self.loaded.identity.label
            ))))
        }
    }

    /// `manifest.get`, called again (the load-time copy is [`Driver::manifest`]).
    pub async fn call_manifest(&self) -> Result<DriverManifest, CallError> {
        invoke!(self, CallKind::Pure, |call| async {
            call.instance
                .drover_driver_manifest()
                .call_get(&mut call.store)
                .await
                .map(Ok)
        })
    }

    // ---- configuration ----

    /// `configuration.parameters`.
    pub async fn parameters(&self, version: &str) -> Result<Vec<ParamDef>, CallError> {
        self.require("configuration")?;
        invoke!(self, CallKind::Pure, |call| call
            .instance
            .drover_driver_configuration()
            .call_parameters(&mut call.store, version))
    }

    /// `configuration.excluded`.
    pub async fn excluded(&self, version: &str) -> Result<Vec<ExcludedParam>, CallError> {
        self.require("configuration")?;
        invoke!(self, CallKind::Pure, |call| call
            .instance
            .drover_driver_configuration()
            .call_excluded(&mut call.store, version))
    }

    /// `configuration.validate`.
    pub async fn validate(&self, request: &ValidationRequest) -> Result<Validated, CallError> {
        self.require("configuration")?;
        invoke!(self, CallKind::Pure, |call| call
            .instance
            .drover_driver_configuration()
            .call_validate(&mut call.store, request))
    }

    /// `configuration.apply`.
    pub async fn apply(
        &self,
        node: Arc<dyn NodeOps>,
        request: &ApplyRequest,
    ) -> Result<ApplyOutcome, CallError> {
        self.require("configuration")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_configuration()
            .call_apply(&mut call.store, node, request))
    }

    // ---- replication ----

    /// `replication.enable-source`.
    pub async fn enable_source(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
    ) -> Result<SourceSetup, CallError> {
        self.require("replication")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_replication()
            .call_enable_source(&mut call.store, node, context))
    }

    /// `replication.attach-replica`.
    pub async fn attach_replica(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
        source: Option<Arc<dyn NodeOps>>,
    ) -> Result<(), CallError> {
        self.require("replication")?;
        let mut call = self
            .shared
            .enter(
                &self.loaded.pre,
                self.loaded.identity.clone(),
                CallKind::Node,
            )
            .await?;
        let node = call.node(node)?;
        let source = match source {
            Some(source) => Some(call.node(source)?),
            None => None,
        };
        let outcome = call
            .instance
            .drover_driver_replication()
            .call_attach_replica(&mut call.store, node, context, source)
            .await;
        call.finish(outcome)
    }

    /// `replication.take-snapshot`.
    pub async fn take_snapshot(
        &self,
        snapshot: Arc<dyn NodeOps>,
        source_node: Arc<dyn NodeOps>,
        source: &ReplicaSource,
    ) -> Result<(), CallError> {
        self.require("replica-snapshot")?;
        invoke!(self, CallKind::Node, |call, snapshot, source_node| call
            .instance
            .drover_driver_replication()
            .call_take_snapshot(
                &mut call.store,
                snapshot,
                source_node,
                source
            ))
    }

    /// `replication.detach-replica`.
    pub async fn detach_replica(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
    ) -> Result<(), CallError> {
        self.require("replication")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_replication()
            .call_detach_replica(&mut call.store, node, context))
    }

    /// `replication.set-read-only`.
    pub async fn set_read_only(
        &self,
        node: Arc<dyn NodeOps>,
        read_only: bool,
    ) -> Result<(), CallError> {
        self.require("promote")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_replication()
            .call_set_read_only(&mut call.store, node, read_only))
    }

    /// `replication.position`.
    pub async fn position(&self, node: Arc<dyn NodeOps>) -> Result<String, CallError> {
        self.require("promote")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_replication()
            .call_position(&mut call.store, node))
    }

    /// `replication.caught-up`.
    pub async fn caught_up(
        &self,
        node: Arc<dyn NodeOps>,
        position: &str,
    ) -> Result<bool, CallError> {
        self.require("promote")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_replication()
            .call_caught_up(&mut call.store, node, position))
    }

    /// `replication.compare-positions`: negative, zero or positive as `a` is behind, level
    /// with or ahead of `b`.
    pub async fn compare_positions(&self, a: &str, b: &str) -> Result<i8, CallError> {
        self.require("promote")?;
        invoke!(self, CallKind::Pure, |call| call
            .instance
            .drover_driver_replication()
            .call_compare_positions(&mut call.store, a, b))
    }

    /// `replication.promote`.
    pub async fn promote(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
    ) -> Result<(), CallError> {
        self.require("promote")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_replication()
            .call_promote(&mut call.store, node, context))
    }

    /// `replication.demote`.
    pub async fn demote(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
        source: Arc<dyn NodeOps>,
    ) -> Result<(), CallError> {
        self.require("promote")?;
        invoke!(self, CallKind::Node, |call, node, source| call
            .instance
            .drover_driver_replication()
            .call_demote(&mut call.store, node, context, source))
    }

    /// `replication.status`.
    pub async fn replication_status(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
    ) -> Result<ReplicationStatus, CallError> {
        self.require("replication")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_replication()
            .call_status(&mut call.store, node, context))
    }

    // ---- lifecycle ----

    /// `lifecycle.render-service`.
    pub async fn render_service(&self, context: &NodeContext) -> Result<ServiceSpec, CallError> {
        invoke!(self, CallKind::Pure, |call| call
            .instance
            .drover_driver_lifecycle()
            .call_render_service(&mut call.store, context))
    }

    /// `lifecycle.initialize`.
    pub async fn initialize(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
    ) -> Result<(), CallError> {
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_lifecycle()
            .call_initialize(&mut call.store, node, context))
    }

    /// `lifecycle.prepare`.
    pub async fn prepare(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
        request: &PrepareRequest,
    ) -> Result<(), CallError> {
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_lifecycle()
            .call_prepare(&mut call.store, node, context, request))
    }

    /// `lifecycle.check-health`.
    pub async fn check_health(
        &self,
        node: Arc<dyn NodeOps>,
        context: &NodeContext,
    ) -> Result<Health, CallError> {
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_lifecycle()
            .call_check_health(&mut call.store, node, context))
    }

    /// `lifecycle.effective-configuration`.
    pub async fn effective_configuration(
        &self,
        context: &NodeContext,
    ) -> Result<Vec<(String, String)>, CallError> {
        invoke!(self, CallKind::Pure, |call| call
            .instance
            .drover_driver_lifecycle()
            .call_effective_configuration(&mut call.store, context))
    }

    // ---- accounts ----

    /// `accounts.validate-databases`.
    pub async fn validate_databases(
        &self,
        version: &str,
        databases: &[Database],
    ) -> Result<Vec<Database>, CallError> {
        self.require("databases")?;
        invoke!(self, CallKind::Pure, |call| call
            .instance
            .drover_driver_accounts()
            .call_validate_databases(&mut call.store, version, databases))
    }

    /// `accounts.validate-users`.
    pub async fn validate_users(
        &self,
        version: &str,
        users: &[User],
    ) -> Result<Vec<User>, CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Pure, |call| call
            .instance
            .drover_driver_accounts()
            .call_validate_users(&mut call.store, version, users))
    }

    /// `accounts.create-databases`.
    pub async fn create_databases(
        &self,
        node: Arc<dyn NodeOps>,
        databases: &[Database],
    ) -> Result<(), CallError> {
        self.require("databases")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_create_databases(&mut call.store, node, databases))
    }

    /// `accounts.list-databases`.
    pub async fn list_databases(&self, node: Arc<dyn NodeOps>) -> Result<Vec<Database>, CallError> {
        self.require("databases")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_list_databases(&mut call.store, node))
    }

    /// `accounts.delete-database`.
    pub async fn delete_database(
        &self,
        node: Arc<dyn NodeOps>,
        name: &str,
    ) -> Result<(), CallError> {
        self.require("databases")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_delete_database(&mut call.store, node, name))
    }

    /// `accounts.create-users`.
    pub async fn create_users(
        &self,
        node: Arc<dyn NodeOps>,
        users: &[User],
    ) -> Result<(), CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_create_users(&mut call.store, node, users))
    }

    /// `accounts.list-users`.
    pub async fn list_users(&self, node: Arc<dyn NodeOps>) -> Result<Vec<User>, CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_list_users(&mut call.store, node))
    }

    /// `accounts.get-user`.
    pub async fn get_user(
        &self,
        node: Arc<dyn NodeOps>,
        name: &str,
        host: Option<&str>,
    ) -> Result<User, CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_get_user(&mut call.store, node, name, host))
    }

    /// `accounts.delete-user`.
    pub async fn delete_user(
        &self,
        node: Arc<dyn NodeOps>,
        name: &str,
        host: Option<&str>,
    ) -> Result<(), CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_delete_user(&mut call.store, node, name, host))
    }

    /// `accounts.update-user`.
    pub async fn update_user(
        &self,
        node: Arc<dyn NodeOps>,
        name: &str,
        host: Option<&str>,
        update: &UserUpdate,
    ) -> Result<(), CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_update_user(&mut call.store, node, name, host, update))
    }

    /// `accounts.grant-access`.
    pub async fn grant_access(
        &self,
        node: Arc<dyn NodeOps>,
        name: &str,
        host: Option<&str>,
        databases: &[String],
    ) -> Result<(), CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_grant_access(&mut call.store, node, name, host, databases))
    }

    /// `accounts.revoke-access`.
    pub async fn revoke_access(
        &self,
        node: Arc<dyn NodeOps>,
        name: &str,
        host: Option<&str>,
        database: &str,
    ) -> Result<(), CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_revoke_access(&mut call.store, node, name, host, database))
    }

    /// `accounts.list-access`.
    pub async fn list_access(
        &self,
        node: Arc<dyn NodeOps>,
        name: &str,
        host: Option<&str>,
    ) -> Result<Vec<String>, CallError> {
        self.require("users")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_list_access(&mut call.store, node, name, host))
    }

    /// `accounts.enable-root`.
    pub async fn enable_root(
        &self,
        node: Arc<dyn NodeOps>,
        password: Option<&str>,
    ) -> Result<Credentials, CallError> {
        self.require("root")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_enable_root(&mut call.store, node, password))
    }

    /// `accounts.disable-root`.
    pub async fn disable_root(&self, node: Arc<dyn NodeOps>) -> Result<(), CallError> {
        self.require("root-disable")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_disable_root(&mut call.store, node))
    }

    /// `accounts.root-enabled`.
    pub async fn root_enabled(&self, node: Arc<dyn NodeOps>) -> Result<bool, CallError> {
        self.require("root")?;
        invoke!(self, CallKind::Node, |call, node| call
            .instance
            .drover_driver_accounts()
            .call_root_enabled(&mut call.store, node))
    }
}
