//! Domain values as the API shows them.

use drover_api::common::{Link, ResourceRef};
use drover_api::datastores::{DatastoreVersionView, DatastoreView, VersionSummary};
use drover_api::flavors::FlavorView;
use drover_api::instances::{
    AddressView, FaultView, FlavorLink, InstanceDatastore, InstanceView, VolumeView,
};

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
        replication_state: None,
        replication_lag: None,
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
    }
}
