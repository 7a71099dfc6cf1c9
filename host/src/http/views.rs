//! Domain values as the API shows them.

use drover_api::common::{Link, ResourceRef};
use drover_api::configurations::ParameterView;
use drover_api::datastores::{DatastoreVersionView, DatastoreView, VersionSummary};
use drover_api::flavors::FlavorView;
use drover_api::instances::{
    AddressView, FaultView, FlavorLink, InstanceDatastore, InstanceView, VolumeView,
};

use crate::runtime::types::{ParamDef, ParamKind};
use crate::service::Ctx;
use crate::service::datastores::DatastoreDetails;
use crate::service::instances::InstanceDetails;
use crate::store::{DatastoreVersion, Flavor};

/// Trove's timestamp format: seconds, no zone (UTC).
pub fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `self` (versioned) and `bookmark` (unversioned) links to a resource.
pub fn links(base: &str, project: &str, path: &str) -> Vec<Link> {
    vec![
        Link {
            href: format!("{base}/v1.0/{project}/{path}"),
            rel: "self".into(),
        },
        Link {
            href: format!("{base}/{path}"),
            rel: "bookmark".into(),
        },
    ]
}

/// A `next` link for pagination.
pub fn next_link(base: &str, project: &str, path: &str, limit: Option<i64>, marker: &str) -> Link {
    let limit = limit.map(|l| format!("limit={l}&")).unwrap_or_default();
    Link {
        href: format!("{base}/v1.0/{project}/{path}?{limit}marker={marker}"),
        rel: "next".into(),
    }
}

/// A flavor.
pub fn flavor(base: &str, project: &str, flavor: &Flavor) -> FlavorView {
    FlavorView {
        id: flavor.id.parse().ok(),
        str_id: flavor.id.clone(),
        name: flavor.name.clone(),
        ram: flavor.ram_mb,
        vcpus: flavor.vcpus,
        links: links(base, project, &format!("flavors/{}", flavor.id)),
    }
}

/// A datastore with its versions.
pub fn datastore(base: &str, project: &str, details: &DatastoreDetails) -> DatastoreView {
    DatastoreView {
        id: details.datastore.id.clone(),
        name: details.datastore.name.clone(),
        default_version: details.datastore.default_version_id.clone(),
        versions: details
            .versions
            .iter()
            .map(|v| VersionSummary {
                id: v.id.clone(),
                name: v.name.clone(),
                active: v.active,
                links: links(base, project, &format!("datastores/versions/{}", v.id)),
            })
            .collect(),
        links: links(
            base,
            project,
            &format!("datastores/{}", details.datastore.id),
        ),
    }
}

/// A datastore version.
pub fn datastore_version(
    base: &str,
    project: &str,
    version: &DatastoreVersion,
) -> DatastoreVersionView {
    DatastoreVersionView {
        id: version.id.clone(),
        name: version.name.clone(),
        datastore: version.datastore_id.clone(),
        datastore_name: version.datastore_name.clone(),
        version: version.name.clone(),
        active: version.active,
        image: version.image.clone(),
        packages: version.packages.clone(),
        links: links(
            base,
            project,
            &format!("datastores/versions/{}", version.id),
        ),
    }
}

/// An instance. Fault details are shown to admins only.
pub fn instance(base: &str, ctx: &Ctx, details: &InstanceDetails) -> InstanceView {
    let i = &details.instance;
    let project = &i.project_id;
    InstanceView {
        id: i.id.clone(),
        name: i.name.clone(),
        status: i.status.clone(),
        links: links(base, project, &format!("instances/{}", i.id)),
        flavor: FlavorLink {
            id: i.flavor_id.clone(),
            links: links(base, project, &format!("flavors/{}", i.flavor_id)),
        },
        datastore: InstanceDatastore {
            datastore_type: details.version.datastore_name.clone(),
            version: details.version.name.clone(),
        },
        volume: VolumeView {
            size: i.volume_size,
            used: details.used_gb.map(|gb| (gb * 1000.0).round() / 1000.0),
        },
        ip: vec!["127.0.0.1".into()],
        addresses: vec![AddressView {
            address: "127.0.0.1".into(),
            address_type: "private".into(),
            port: i.port as u16,
        }],
        created: timestamp(i.created_at),
        updated: timestamp(i.updated_at),
        configuration: i.configuration_id.as_ref().map(|id| ResourceRef {
            id: id.clone(),
            name: None,
            links: links(base, project, &format!("configurations/{id}")),
        }),
        replica_of: i.replica_of_id.as_ref().map(|id| ResourceRef {
            id: id.clone(),
            name: None,
            links: links(base, project, &format!("instances/{id}")),
        }),
        replicas: (!details.replicas.is_empty()).then(|| {
            details
                .replicas
                .iter()
                .map(|(id, name)| ResourceRef {
                    id: id.clone(),
                    name: Some(name.clone()),
                    links: links(base, project, &format!("instances/{id}")),
                })
                .collect()
        }),
        replication_state: i.replica_of_id.as_ref().and(i.replication_state.clone()),
        replication_lag: i
            .replica_of_id
            .as_ref()
            .and(i.replication_lag_ms)
            .map(|ms| ms as f64 / 1000.0),
        fault: i.fault_message.as_ref().map(|message| FaultView {
            message: message.clone(),
            created: timestamp(i.fault_at.unwrap_or(i.updated_at)),
            details: if ctx.is_admin() {
                i.fault_details.clone()
            } else {
                None
            },
        }),
        cluster_id: i.cluster_id.clone(),
        tenant_id: i.project_id.clone(),
        isolation: details.isolation.as_ref().map(|isolation| {
            drover_api::instances::IsolationView {
                user: isolation.user.clone(),
                private_filesystem: isolation.namespace,
                landlock_abi: isolation.landlock_abi,
                limits: isolation.limits.to_string(),
                memory_mb: isolation.memory_mb,
                max_processes: isolation.max_processes,
            }
        }),
    }
}

/// A catalog parameter in Trove's shape (`type`, `min`, `max`, `restart_required`) with
/// Drover's finer description beside it.
pub fn parameter(version: &DatastoreVersion, param: &ParamDef) -> ParameterView {
    let number = |text: &Option<String>| {
        let text = text.as_deref()?;
        match text.parse::<i64>() {
            Ok(whole) => Some(serde_json::Value::from(whole)),
            Err(_) => text.parse::<f64>().ok().map(serde_json::Value::from),
        }
    };
    let (trove_type, kind) = match param.kind {
        ParamKind::Boolean => ("boolean", "boolean"),
        ParamKind::Integer => ("integer", "integer"),
        ParamKind::Float => ("float", "float"),
        ParamKind::Text => ("string", "text"),
        ParamKind::Enumeration => ("string", "enumeration"),
        ParamKind::Size => ("integer", "size"),
        ParamKind::Duration => ("integer", "duration"),
    };
    ParameterView {
        name: param.name.clone(),
        parameter_type: trove_type.into(),
        min: number(&param.min),
        max: number(&param.max),
        restart_required: !param.dynamic,
        datastore_version_id: version.id.clone(),
        kind: kind.into(),
        allowed: param.allowed.clone(),
        unit: param.unit.clone(),
        default: param.default.clone(),
        description: param.description.clone(),
    }
}

/// A configuration group.
pub fn configuration(
    base: &str,
    project: &str,
    details: &crate::service::configurations::GroupDetails,
) -> drover_api::configurations::ConfigurationView {
    let group = &details.group;
    drover_api::configurations::ConfigurationView {
        id: group.id.clone(),
        name: group.name.clone(),
        description: group.description.clone(),
        values: details.values.iter().cloned().collect(),
        datastore_name: details.version.datastore_name.clone(),
        datastore_version_id: details.version.id.clone(),
        datastore_version_name: details.version.name.clone(),
        datastore_version_number: details.version.name.clone(),
        instance_count: details.instance_count,
        created: timestamp(group.created_at),
        updated: timestamp(group.updated_at),
        links: links(base, project, &format!("configurations/{}", group.id)),
    }
}
