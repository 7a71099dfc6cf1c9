//! Domain values as the API shows them.

use drover_api::common::{Link, ResourceRef};
use drover_api::configurations::ParameterView;
use drover_api::datastores::{DatastoreVersionView, DatastoreView, VersionSummary};
use drover_api::flavors::FlavorView;
use drover_api::instances::{
    AccessView, AddressView, FaultView, FlavorLink, InstanceDatastore, InstanceView, VolumeView,
};

use crate::service::Ctx;
use crate::service::datastores::DatastoreDetails;
use crate::service::instances::InstanceDetails;
use crate::service::views::{
    FlavorInfo, InstanceInfo, InstanceStatus, ParamKind, Parameter, TaskInfo, TaskProgress,
    VersionInfo,
};

/// Trove's timestamp format: seconds, no zone (UTC).
pub fn timestamp(ms: i64) -> String {
    use chrono::{Datelike as _, Timelike as _};
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return String::new();
    };
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y-%m-%dT%H:%M:%S").to_string();
    }
    // What the format above writes, without parsing it on every call (a page of instances
    // shows hundreds).
    let mut text = String::with_capacity(19);
    let mut push = |value: u32, digits: u32, after: Option<char>| {
        for at in (0..digits).rev() {
            text.push(char::from(b'0' + (value / 10u32.pow(at) % 10) as u8));
        }
        if let Some(c) = after {
            text.push(c);
        }
    };
    push(year as u32, 4, Some('-'));
    push(t.month(), 2, Some('-'));
    push(t.day(), 2, Some('T'));
    push(t.hour(), 2, Some(':'));
    push(t.minute(), 2, Some(':'));
    push(t.second(), 2, None);
    text
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

/// The most items a page holds when `limit` asks for more.
const MAX_PAGE: i64 = 1000;

/// Where a list lives, for its `next` link.
pub struct Listing<'a> {
    /// The configured public URL.
    pub base: &'a str,
    /// The project in the path.
    pub project: &'a str,
    /// The list's path under the project.
    pub path: &'a str,
}

/// One page of a list held whole, as Trove pages every list: the items after the one whose
/// key is `marker` (after where it would be, if it has gone since), at most `limit` of them
/// (all without a limit), and a `next` link when more remain.
pub fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    query: &drover_api::common::Page,
    listing: &Listing<'_>,
) -> (Vec<T>, Vec<Link>) {
    let mut items: Vec<T> = match &query.marker {
        None => items,
        Some(marker) => match items.iter().position(|item| key(item) == *marker) {
            Some(at) => items.into_iter().skip(at + 1).collect(),
            None => items
                .into_iter()
                .filter(|item| key(item) > *marker)
                .collect(),
        },
    };
    let Some(limit) = query.limit.map(|l| l.0.clamp(1, MAX_PAGE)) else {
        return (items, Vec::new());
    };
    if items.len() as i64 <= limit {
        return (items, Vec::new());
    }
    items.truncate(limit as usize);
    let last = items.last().map(&key).unwrap_or_default();
    let marker: String =
        percent_encoding::utf8_percent_encode(&last, percent_encoding::NON_ALPHANUMERIC).collect();
    let link = next_link(
        listing.base,
        listing.project,
        listing.path,
        Some(limit),
        &marker,
    );
    (items, vec![link])
}

/// A flavor.
pub fn flavor(base: &str, project: &str, flavor: &FlavorInfo) -> FlavorView {
    FlavorView {
        id: flavor.id.parse().ok(),
        str_id: flavor.id.clone(),
        name: flavor.name.clone(),
        ram: flavor.ram_mb,
        vcpus: flavor.vcpus,
        disk: 0,
        ephemeral: 0,
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
pub fn datastore_version(base: &str, project: &str, version: &VersionInfo) -> DatastoreVersionView {
    DatastoreVersionView {
        id: version.id.clone(),
        name: version.name.clone(),
        datastore: version.datastore_id.clone(),
        datastore_name: version.datastore_name.clone(),
        version: version.name.clone(),
        active: version.active,
        image: version.image.clone(),
        packages: version.packages.clone(),
        image_tags: Vec::new(),
        registry_ext: version.driver_name.clone(),
        repl_strategy: version.driver_name.clone(),
        links: links(
            base,
            project,
            &format!("datastores/versions/{}", version.id),
        ),
    }
}

/// How long the health pass may go without seeing a service before the API says `ERROR`
/// (Trove's `agent_heartbeat_expiry`).
const SERVICE_STATUS_EXPIRY_MS: i64 = 90_000;

/// Trove's `operating_status`: what was last seen of the datastore service, while the instance
/// is ACTIVE (no task, node running); `""` otherwise, as Trove answers during a task.
fn operating_status(i: &InstanceInfo, now_ms: i64) -> String {
    if i.status != InstanceStatus::Active {
        return String::new();
    }
    let stale = i
        .service_status_at
        .is_none_or(|at| now_ms - at > SERVICE_STATUS_EXPIRY_MS);
    match i.service_status.as_deref() {
        None => String::new(),
        Some(_) if stale => "ERROR".into(),
        // Trove's "RUNNING" (up, not yet answering its health check) shows as ACTIVE.
        Some("STARTING") => "ACTIVE".into(),
        Some(seen) => seen.into(),
    }
}

/// A task's progress as the views show it.
fn progress(progress: &TaskProgress) -> drover_api::instances::ProgressView {
    drover_api::instances::ProgressView {
        done: progress.done,
        total: progress.total,
        unit: progress.unit.clone(),
    }
}

/// One of an instance's tasks (a Drover extension). The error is for admins: the owner sees
/// the instance's fault.
pub fn task(ctx: &Ctx, task: &TaskInfo, host: Option<String>) -> drover_api::instances::TaskView {
    drover_api::instances::TaskView {
        id: task.id.clone(),
        kind: task.kind.clone(),
        state: task.state.into(),
        step: (!task.ended).then(|| task.step.clone()).flatten(),
        step_number: task.step_number,
        steps: task.steps as i64,
        progress: task.progress.as_ref().map(progress),
        parent_id: task.parent_id.clone(),
        host,
        created: timestamp(task.created_at),
        updated: timestamp(task.updated_at),
        error: if ctx.is_admin() {
            task.error.clone()
        } else {
            task.error
                .as_ref()
                .map(|_| "failed; see the instance's fault".into())
        },
    }
}

/// An instance. Fault details are shown to admins only. While the host its node is placed on
/// is silent, nobody knows how the node is: the instance shows ERROR with a fault naming the
/// host, and its stored status is left alone for when the host returns.
pub fn instance(base: &str, ctx: &Ctx, details: &InstanceDetails) -> InstanceView {
    let i = &details.instance;
    let project = &i.project_id;
    let lost = details.host.as_ref().filter(|h| !h.up);
    let fault = match lost {
        Some(host) => Some(FaultView {
            message: format!(
                "The host {} running this instance has not been heard from since {}; its state is unknown.",
                host.name,
                timestamp(host.heartbeat_at)
            ),
            created: timestamp(host.heartbeat_at),
            details: None,
        }),
        None => i.fault_message.as_ref().map(|message| FaultView {
            message: message.clone(),
            created: timestamp(i.fault_at.unwrap_or(i.updated_at)),
            details: if ctx.is_admin() {
                i.fault_details.clone()
            } else {
                None
            },
        }),
    };
    InstanceView {
        id: i.id.clone(),
        name: i.name.clone(),
        status: match lost {
            Some(_) => InstanceStatus::Error,
            None => i.status,
        }
        .as_str()
        .into(),
        operating_status: match lost {
            Some(_) => "UNKNOWN".into(),
            None => operating_status(i, chrono::Utc::now().timestamp_millis()),
        },
        host: details.host.as_ref().map(|h| h.name.clone()),
        task: details
            .task
            .as_ref()
            .map(|t| drover_api::instances::TaskProgressView {
                id: t.id.clone(),
                kind: t.kind.clone(),
                step: t.step.clone(),
                step_number: t.step_number,
                steps: t.steps as i64,
                progress: t.progress.as_ref().map(progress),
            }),
        region: details.region.clone(),
        // Nodes listen on their host's loopback only, and a create asking for more is refused.
        access: AccessView::default(),
        service_status_updated: timestamp(i.service_status_at.unwrap_or(i.created_at)),
        links: links(base, project, &format!("instances/{}", i.id)),
        flavor: FlavorLink {
            id: i.flavor_id.clone(),
            links: links(base, project, &format!("flavors/{}", i.flavor_id)),
        },
        datastore: InstanceDatastore {
            datastore_type: details.version.datastore_name.clone(),
            version: details.version.name.clone(),
            version_number: details.version.name.clone(),
        },
        volume: VolumeView {
            size: i.volume_size,
            used: details.used_gb.map(|gb| (gb * 1000.0).round() / 1000.0),
            used_percent: details
                .used_gb
                .filter(|_| i.volume_size > 0)
                .map(|gb| (gb / i.volume_size as f64 * 10000.0).round() / 100.0),
        },
        ip: vec!["127.0.0.1".into()],
        addresses: vec![AddressView {
            address: "127.0.0.1".into(),
            address_type: "private".into(),
            network: "loopback".into(),
            port: i.port as u16,
        }],
        created: timestamp(i.created_at),
        updated: timestamp(i.updated_at),
        configuration: i.configuration_id.as_ref().map(|id| ResourceRef {
            id: id.clone(),
            name: details.configuration_name.clone(),
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
        fault,
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
pub fn parameter(version: &VersionInfo, param: &Parameter) -> ParameterView {
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

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_written_as_the_format_writes_them() {
        for ms in [
            0,
            1,
            999,
            1_764_740_000_123,
            -1,
            -62_167_219_200_000,
            253_402_300_799_999,
            253_402_300_800_000,
            -62_167_219_200_001,
            i64::MAX,
            i64::MIN,
        ] {
            let expected = chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
                .unwrap_or_default();
            assert_eq!(super::timestamp(ms), expected, "{ms}");
        }
    }
}
