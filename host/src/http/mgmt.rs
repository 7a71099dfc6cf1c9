//! The management API: datastore-version registration, flavors, quotas; and limits.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use drover_api::flavors::{CreateFlavorRequest, FlavorResponse};
use drover_api::mgmt::*;
use drover_api::quotas::*;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Base, Body, Caller, Query};
use super::views;
use crate::service;
use crate::service::datastores::{NewVersion, VersionDetails, VersionPatch};
use crate::service::views::{InstanceStatus, Visibility};
use drover_api::common::Page;

fn version_view(details: &VersionDetails) -> MgmtDatastoreVersionView {
    let v = &details.version;
    MgmtDatastoreVersionView {
        id: v.id.clone(),
        name: v.name.clone(),
        datastore_id: v.datastore_id.clone(),
        datastore_name: v.datastore_name.clone(),
        datastore_manager: v.driver_name.clone(),
        driver: DriverRequirement {
            name: v.driver_name.clone(),
            version_requirement: v.driver_requirement.clone(),
        },
        driver_loaded: details.driver_status.as_ref().ok().cloned(),
        driver_problem: details.driver_status.as_ref().err().cloned(),
        image: v.image.clone(),
        packages: v.packages.clone(),
        active: v.active,
        default: details.default,
        visibility: v.visibility.clone(),
        members: details.members.clone(),
        flavors: details.flavors.clone(),
    }
}

fn packages(value: Option<serde_json::Value>) -> Result<Option<String>, ApiError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text)),
        Some(serde_json::Value::Array(items)) => Ok(Some(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ApiError::bad_request("packages: a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
        )),
        Some(_) => Err(ApiError::bad_request(
            "packages: a list of strings or a comma-separated string",
        )),
    }
}

fn visibility(value: Option<&str>) -> Result<Option<Visibility>, ApiError> {
    value
        .map(|v| {
            Visibility::parse(v).ok_or_else(|| {
                ApiError::bad_request(format!("visibility: {v:?} is neither public nor private"))
            })
        })
        .transpose()
}

/// `POST /mgmt/datastore-versions`.
pub async fn create_version(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Body(request): Body<CreateDatastoreVersionRequest>,
) -> ApiResult<StatusCode> {
    let version = request.version;
    let driver = match (version.driver, version.datastore_manager) {
        (Some(driver), _) => driver,
        (None, Some(manager)) => DriverRequirement {
            name: manager,
            version_requirement: "*".into(),
        },
        (None, None) => {
            return Err(ApiError::bad_request(
                "version.driver: name the driver (or datastore_manager) that serves it",
            ));
        }
    };
    let new = NewVersion {
        datastore_name: version.datastore_name,
        name: version.name,
        driver_name: driver.name,
        driver_requirement: driver.version_requirement,
        image: version.image.unwrap_or_default(),
        packages: packages(version.packages)?.unwrap_or_default(),
        active: version.active.unwrap_or(true),
        default: version.default,
        visibility: visibility(version.visibility.as_deref())?.unwrap_or(Visibility::Public),
    };
    service::datastores::register(&state.services, &ctx, new).await?;
    // Trove answers an empty 202 (troveclient reads no body; given one, it fails).
    Ok(StatusCode::ACCEPTED)
}

/// `GET /mgmt/datastore-versions`.
pub async fn list_versions(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Query(page): Query<Page>,
) -> ApiResult<Json<MgmtDatastoreVersionsResponse>> {
    let versions = service::datastores::list_registered(&state.services, &ctx).await?;
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: "mgmt/datastore-versions",
    };
    let (versions, links) = views::page(versions, |v| v.version.id.clone(), &page, &listing);
    Ok(Json(MgmtDatastoreVersionsResponse {
        versions: versions.iter().map(version_view).collect(),
        links,
    }))
}

/// `GET /mgmt/datastore-versions/{id}`.
pub async fn show_version(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<MgmtDatastoreVersionResponse>> {
    let details = service::datastores::show_registered(&state.services, &ctx, &id).await?;
    Ok(Json(MgmtDatastoreVersionResponse {
        version: version_view(&details),
    }))
}

/// `PATCH /mgmt/datastore-versions/{id}`: the changes, wrapped in `version` or not.
pub async fn patch_version(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<MgmtDatastoreVersionResponse>)> {
    let inner = body.get("version").cloned().unwrap_or(body);
    let patch: DatastoreVersionPatch =
        super::extract::parse(&serde_json::to_vec(&inner).unwrap_or_default())?;
    let (driver_name, driver_requirement) = match (patch.driver, patch.datastore_manager) {
        (Some(driver), _) => (Some(driver.name), Some(driver.version_requirement)),
        (None, manager) => (manager, None),
    };
    let details = service::datastores::update(
        &state.services,
        &ctx,
        &id,
        VersionPatch {
            driver_name,
            driver_requirement,
            image: patch.image,
            packages: packages(patch.packages)?,
            active: patch.active,
            visibility: visibility(patch.visibility.as_deref())?,
            default: patch.default,
            add_members: patch.add_members,
            remove_members: patch.remove_members,
            flavors: patch.flavors,
        },
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(MgmtDatastoreVersionResponse {
            version: version_view(&details),
        }),
    ))
}

/// `DELETE /mgmt/datastore-versions/{id}`.
pub async fn delete_version(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    service::datastores::delete(&state.services, &ctx, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /mgmt/flavors`.
pub async fn create_flavor(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Body(request): Body<CreateFlavorRequest>,
) -> ApiResult<Json<FlavorResponse>> {
    let f = request.flavor;
    let flavor =
        service::flavors::create(&state.services, &ctx, &f.id, &f.name, f.ram.0, f.vcpus.0).await?;
    Ok(Json(FlavorResponse {
        flavor: views::flavor(&base, &ctx.project_id, &flavor),
    }))
}

/// `DELETE /mgmt/flavors/{id}`.
pub async fn delete_flavor(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    service::flavors::delete(&state.services, &ctx, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

fn quota_views(lines: Vec<crate::quota::QuotaLine>) -> Vec<QuotaView> {
    lines
        .into_iter()
        .map(|l| QuotaView {
            resource: l.resource,
            in_use: l.in_use,
            reserved: l.reserved,
            limit: l.limit,
        })
        .collect()
}

/// `GET /mgmt/quotas/{project}`.
pub async fn show_quotas(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, project)): Path<(String, String)>,
) -> ApiResult<Json<QuotasResponse>> {
    let lines = service::quotas::show(&state.services, &ctx, &project).await?;
    Ok(Json(QuotasResponse {
        quotas: quota_views(lines),
    }))
}

/// `PUT /mgmt/quotas/{project}`.
pub async fn update_quotas(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, project)): Path<(String, String)>,
    Body(request): Body<UpdateQuotasRequest>,
) -> ApiResult<Json<UpdateQuotasResponse>> {
    let limits: Vec<(String, i64)> = request
        .quotas
        .into_iter()
        .map(|(resource, count)| (resource, count.0))
        .collect();
    let lines = service::quotas::update(&state.services, &ctx, &project, &limits).await?;
    Ok(Json(UpdateQuotasResponse {
        quotas: lines.into_iter().map(|l| (l.resource, l.limit)).collect(),
    }))
}

/// `GET /limits`.
pub async fn limits(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<LimitsResponse>> {
    let (quotas, rates, _) = service::quotas::limits(&state.services, &ctx).await?;
    let find = |resource: &str| {
        quotas
            .iter()
            .find(|q| q.resource == resource)
            .map(|q| (q.limit, q.in_use + q.reserved))
            .unwrap_or((0, 0))
    };
    let mut entries = vec![LimitView::Absolute(AbsoluteLimits {
        verb: "ABSOLUTE".into(),
        max_instances: find("instances").0,
        max_volumes: find("volumes").0,
        // Unlimited, and truly so: there is no quota on memory to enforce (a `ram` quota
        // update is an unknown resource).
        max_ram: -1,
        max_backups: find("backups").0,
        max_clusters: find("clusters").0,
        total_instances_used: find("instances").1,
        total_volumes_used: find("volumes").1,
        total_backups_used: find("backups").1,
        total_clusters_used: find("clusters").1,
    })];
    for rate in rates {
        entries.push(LimitView::Rate(RateLimitView {
            verb: rate.limit.verb.clone(),
            uri: rate.limit.uri.clone(),
            regex: rate.limit.regex.clone(),
            value: rate.limit.value,
            remaining: rate.remaining,
            unit: rate.limit.unit.clone(),
            next_available: chrono::DateTime::<chrono::Utc>::from(rate.next_available)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        }));
    }
    Ok(Json(LimitsResponse { limits: entries }))
}

/// `GET /mgmt/instances` options.
#[derive(serde::Deserialize)]
pub struct MgmtInstancesQuery {
    #[serde(default)]
    deleted: Option<drover_api::common::PyBool>,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    limit: Option<drover_api::common::Count>,
    #[serde(default)]
    marker: Option<String>,
}

/// What is under way on an instance, in Trove's words (`trove/instance/tasks.py`).
fn task_description(view: &service::admin::OperatorView) -> String {
    let text = match view.task.as_deref() {
        Some("create_instance" | "create_replica") => "The instance is building.",
        Some("delete_instance") => "Deleting the instance.",
        Some("restart_instance") => "Rebooting the instance.",
        Some("stop_instance") => "Stopping the instance.",
        Some("resize_flavor" | "resize_volume") => "Resizing the instance.",
        Some("apply_configuration") => "Updating the instance.",
        Some("detach_replica") => "Detaching the instance from its source.",
        Some("promote_replica") => "Promoting the instance to replica source.",
        Some("eject_source") => "Ejecting the replica source.",
        Some(_) => "A task is under way.",
        None if view.details.instance.status == InstanceStatus::RestartRequired => {
            "Instance requires a restart."
        }
        None => "No tasks for the instance.",
    };
    text.into()
}

fn mgmt_instance(
    base: &str,
    ctx: &service::Ctx,
    view: &service::admin::OperatorView,
) -> MgmtInstanceView {
    let i = &view.details.instance;
    let mut shown = views::instance(base, ctx, &view.details);
    if i.deleted_at.is_some() {
        shown.status = InstanceStatus::Shutdown.as_str().into();
    }
    MgmtInstanceView {
        deleted: i.deleted_at.is_some(),
        deleted_at: i.deleted_at.map(views::timestamp),
        task_description: task_description(view),
        service_status: i.service_status.clone().unwrap_or_default(),
        server: MgmtServerView {
            id: i.node_dir.clone(),
            name: i.name.clone(),
            status: shown.status.clone(),
            host: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default(),
        },
        instance: shown,
    }
}

/// `GET /mgmt/instances`: every project's instances, live and deleted (`?deleted=` picks).
pub async fn list_instances(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Query(query): Query<MgmtInstancesQuery>,
) -> ApiResult<Json<MgmtInstancesResponse>> {
    let all = service::admin::list(
        &state.services,
        &ctx,
        query.project_id.as_deref(),
        query.deleted.map(|d| d.0),
    )
    .await?;
    let page = Page {
        limit: query.limit,
        marker: query.marker,
    };
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: "mgmt/instances",
    };
    let (page, links) = views::page(all, |v| v.details.instance.id.clone(), &page, &listing);
    Ok(Json(MgmtInstancesResponse {
        instances: page.iter().map(|v| mgmt_instance(&base, &ctx, v)).collect(),
        links,
    }))
}

/// `GET /mgmt/instances/{id}` (`?deleted=true` for a deleted one).
pub async fn show_instance(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<MgmtInstancesQuery>,
) -> ApiResult<Json<MgmtInstanceResponse>> {
    let deleted = query.deleted.is_some_and(|d| d.0);
    let view = service::admin::show(&state.services, &ctx, &id, deleted).await?;
    Ok(Json(MgmtInstanceResponse {
        instance: mgmt_instance(&base, &ctx, &view),
    }))
}

/// `GET /mgmt/instances/{id}/root`: Trove's root history.
pub async fn root_history(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<RootHistoryResponse>> {
    let (at, by) = service::admin::root_history(&state.services, &ctx, &id).await?;
    Ok(Json(RootHistoryResponse {
        root_history: RootHistoryView {
            id,
            enabled: at.map(views::timestamp).unwrap_or_else(|| "Never".into()),
            user: match (at, by) {
                (Some(_), Some(user)) => user,
                (Some(_), None) => "unknown".into(),
                (None, _) => "Nobody".into(),
            },
        },
    }))
}

/// `POST /mgmt/instances/{id}/action`: exactly one of `stop` and `reboot`; 202, no body.
pub async fn instance_action(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<StatusCode> {
    let mut keys = body.keys();
    let (Some(action), None) = (keys.next(), keys.next()) else {
        return Err(ApiError::bad_request(
            "Give exactly one action: stop or reboot.",
        ));
    };
    let action = match action.as_str() {
        "stop" => service::admin::Action::Stop,
        "reboot" => service::admin::Action::Reboot,
        "reset-task-status" => {
            return Err(ApiError::new(
                drover_api::error::ErrorKind::NotImplemented,
                "reset-task-status is not available: a task whose worker died is taken up again by another once its lease runs out.",
            ));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid instance action: {other}"
            )));
        }
    };
    service::admin::act(&state.services, &ctx, &id, action).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /mgmt/hosts` (a Drover extension): the hosts sharing the store.
pub async fn list_hosts(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<serde_json::Value>> {
    let hosts = service::admin::hosts(&state.services, &ctx).await?;
    Ok(Json(serde_json::json!({
        "hosts": hosts
            .iter()
            .map(|h| serde_json::json!({
                "id": h.host.id,
                "name": h.host.name,
                "backend": h.host.backend,
                "state": if h.up { "up" } else { "down" },
                "heartbeat": views::timestamp(h.host.heartbeat_at),
                "started": views::timestamp(h.host.started_at),
                "instances": h.instances,
            }))
            .collect::<Vec<_>>(),
    })))
}
