//! What a driver needs to know about an instance's node: the `node-context` record built from
//! the store, and the backend handle that acts on the node.

use std::sync::Arc;

use crate::backend::{Installation, Node, NodeInfo};
use crate::runtime::Driver;
use crate::runtime::types::{
    Endpoint, Flavor, NodeContext, NodeRole, ReplicaSource, ServiceSpec, Setting, Value,
};
use crate::store::{DatastoreVersion, Instance};

use super::Inner;

/// A JSON value as a setting's value: JSON's types map one to one.
pub fn value_from_json(value: &serde_json::Value) -> Option<Value> {
    Some(match value {
        serde_json::Value::Bool(flag) => Value::Boolean(*flag),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(whole) => Value::Integer(whole),
            None => Value::Float(n.as_f64()?),
        },
        serde_json::Value::String(text) => Value::Text(text.clone()),
        _ => return None,
    })
}

/// A setting's value as JSON.
pub fn value_to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Boolean(flag) => (*flag).into(),
        Value::Integer(whole) => (*whole).into(),
        Value::Float(number) => (*number).into(),
        Value::Text(text) => text.clone().into(),
    }
}

/// Settings as stored: a JSON list of `[name, value]` pairs, in order.
pub fn settings_to_json(settings: &[Setting]) -> String {
    let pairs: Vec<(&str, serde_json::Value)> = settings
        .iter()
        .map(|s| (s.name.as_str(), value_to_json(&s.value)))
        .collect();
    serde_json::to_string(&pairs).expect("settings serialise")
}

/// Settings from their stored form; anything unreadable is left out.
pub fn settings_from_json(text: &str) -> Vec<Setting> {
    let pairs: Vec<(String, serde_json::Value)> = serde_json::from_str(text).unwrap_or_default();
    pairs
        .into_iter()
        .filter_map(|(name, value)| {
            Some(Setting {
                name,
                value: value_from_json(&value)?,
            })
        })
        .collect()
}

/// The address an instance's node listens on, as its backend gave it (instances written
/// before placement was recorded are on this host's backend).
fn address_of(inner: &Inner, instance: &Instance) -> String {
    instance
        .address
        .clone()
        .unwrap_or_else(|| inner.backend.address())
}

/// What a backend is told of `instance`'s node, running with `flavor`.
pub(crate) fn node_info(instance: &Instance, flavor: &crate::store::Flavor) -> NodeInfo {
    NodeInfo {
        id: instance.id.clone(),
        directory: instance.node_dir.clone(),
        port: instance.port as u16,
        memory_mb: flavor.ram_mb as u32,
    }
}

/// The node of `instance`: this host's backend's handle for a node placed here (or on no host
/// yet), a handle over the host link for one another host holds.
pub(crate) async fn node_of(
    inner: &Inner,
    instance: &Instance,
    info: &NodeInfo,
    flavor_id: Option<&str>,
) -> Result<Arc<dyn Node>, String> {
    match instance.host_id.as_deref() {
        Some(host) if host != inner.host_id => {
            let host = inner
                .store
                .host(host)
                .await
                .map_err(|e| format!("instance {}: {e}", instance.id))?;
            Ok(Arc::new(super::remote::RemoteNode::new(
                &host,
                info,
                address_of(inner, instance),
                flavor_id,
            )?))
        }
        _ => Ok(inner.backend.node(info)),
    }
}

/// An instance with everything needed to act on its node.
pub struct InstanceNode {
    /// The instance.
    pub instance: Instance,
    /// Its datastore version.
    pub version: DatastoreVersion,
    /// The context drivers get.
    pub context: NodeContext,
    /// What the backend knows of the node.
    pub info: NodeInfo,
    /// The handle on the node, wherever it is placed.
    pub node: Arc<dyn Node>,
}

impl InstanceNode {
    /// Loads an instance and builds its node context.
    pub(crate) async fn load(inner: &Inner, instance_id: &str) -> Result<InstanceNode, String> {
        let instance = inner
            .store
            .instance_any(instance_id)
            .await
            .map_err(|e| e.to_string())?;
        Self::for_instance(inner, instance, None).await
    }

    /// Builds the context of `instance`, optionally with another flavor (a resize in progress).
    pub(crate) async fn for_instance(
        inner: &Inner,
        instance: Instance,
        flavor_id: Option<&str>,
    ) -> Result<InstanceNode, String> {
        let flavor = inner
            .store
            .flavor(flavor_id.unwrap_or(&instance.flavor_id))
            .await
            .map_err(|e| e.to_string())?;
        let version = inner
            .store
            .datastore_version(&instance.datastore_version_id)
            .await
            .map_err(|e| e.to_string())?;
        let info = node_info(&instance, &flavor);
        let node = node_of(inner, &instance, &info, flavor_id).await?;
        let role = match &instance.replica_of_id {
            Some(source_id) => {
                let source = inner
                    .store
                    .instance_any(source_id)
                    .await
                    .map_err(|e| e.to_string())?;
                NodeRole::Replica(ReplicaSource {
                    node_id: source.id.clone(),
                    address: Endpoint {
                        host: address_of(inner, &source),
                        port: source.port as u16,
                    },
                    info: instance
                        .replication_secret()
                        .map_err(|e| e.to_string())?
                        .unwrap_or_default(),
                    snapshot: None,
                })
            }
            None => NodeRole::Standalone,
        };
        let context = NodeContext {
            datastore_version: version.name.clone(),
            node_id: instance.id.clone(),
            serial: instance.serial as u32,
            directory: node.directory().display().to_string(),
            address: Endpoint {
                host: address_of(inner, &instance),
                port: instance.port as u16,
            },
            flavor: Flavor {
                id: flavor.id.clone(),
                name: flavor.name.clone(),
                ram_mb: flavor.ram_mb as u32,
                vcpus: flavor.vcpus as u32,
            },
            volume_gb: instance.volume_size as u32,
            settings: settings_from_json(&instance.applied_settings),
            role,
        };
        Ok(InstanceNode {
            instance,
            version,
            context,
            info,
            node,
        })
    }

    /// The node as the runtime sees it.
    pub fn ops(&self) -> Arc<dyn crate::runtime::NodeOps> {
        self.node.clone()
    }

    /// Installs what the driver rendered for the node.
    pub async fn install(&self, spec: &ServiceSpec) -> Result<(), String> {
        self.node.install(&Installation::from_spec(spec)).await
    }
}

/// The active driver for a datastore version, if it is loaded and satisfies the version's
/// requirement.
pub(crate) fn active_driver(inner: &Inner, version: &DatastoreVersion) -> Result<Driver, String> {
    resolve_active(&inner.runtime, version)
}

/// The active driver serving `version`, or a message saying what is missing.
pub fn resolve_active(
    runtime: &crate::runtime::Runtime,
    version: &DatastoreVersion,
) -> Result<Driver, String> {
    let requirement = semver::VersionReq::parse(&version.driver_requirement).map_err(|e| {
        format!(
            "datastore version {} has an invalid driver requirement: {e}",
            version.name
        )
    })?;
    let driver = runtime
        .registry()
        .active(&version.driver_name)
        .ok_or_else(|| {
            format!(
                "datastore {} version {} needs driver {} {}, which is not loaded",
                version.datastore_name,
                version.name,
                version.driver_name,
                version.driver_requirement
            )
        })?;
    if !requirement.matches(&driver.identity().version) {
        return Err(format!(
            "datastore {} version {} needs driver {} {}, but the active version is {}",
            version.datastore_name,
            version.name,
            version.driver_name,
            version.driver_requirement,
            driver.identity().version
        ));
    }
    if !driver.serves(&version.name) {
        return Err(format!(
            "driver {} does not serve {} version {} (it serves {})",
            driver.identity().label,
            version.datastore_name,
            version.name,
            driver.manifest().versions.join(", ")
        ));
    }
    Ok(driver)
}
