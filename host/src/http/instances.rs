//! Instances, their actions, and their databases, users, access and root.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use drover_api::accounts::*;
use drover_api::common::{Count, Page, PyBool};
use drover_api::instances::*;
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Base, Body, Caller, OptionalBody, Query};
use super::views;
use crate::service;
use crate::service::instances::CreateInstance;
use crate::service::views::{Database, User, UserUpdate};

/// Listing options.
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    include_clustered: PyBool,
    #[serde(default)]
    include_replicas: Option<PyBool>,
    #[serde(default)]
    limit: Option<Count>,
    #[serde(default)]
    marker: Option<String>,
}

/// `GET /instances`: the page as it was last sent while the store has not changed since.
pub async fn list(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse as _;
    let limit = query.limit.map(|c| c.0);
    let include_replicas = query.include_replicas.is_none_or(|b| b.0);
    // Only a store that tells when it changed has pages kept.
    let kept = service::instances::page_version(&state.services, &ctx)
        .await?
        .map(|version| {
            let key = format!(
                "{}\n{}\n{base}\n{}\n{include_replicas}\n{limit:?}\n{:?}",
                ctx.project_id,
                ctx.is_admin(),
                query.include_clustered.0,
                query.marker
            );
            (version, key)
        });
    let json = [(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    )];
    if let Some(body) = kept
        .as_ref()
        .and_then(|(version, key)| state.pages.get(key, *version))
    {
        return Ok((json, body).into_response());
    }
    let page = service::instances::list(
        &state.services,
        &ctx,
        query.include_clustered.0,
        include_replicas,
        limit,
        query.marker,
    )
    .await?;
    let links = page
        .next_marker
        .iter()
        .map(|m| views::next_link(&base, &ctx.project_id, "instances", limit, m))
        .collect();
    let response = InstancesResponse {
        instances: page
            .items
            .iter()
            .map(|d| views::instance(&base, &ctx, d))
            .collect(),
        links,
    };
    let body = axum::body::Bytes::from(
        serde_json::to_vec(&response)
            .map_err(|e| ApiError::from(service::ServiceError::Internal(e.to_string())))?,
    );
    if let Some((version, key)) = kept {
        state.pages.put(key, version, body.clone());
    }
    Ok((json, body).into_response())
}

fn databases(requests: Vec<DatabaseRequest>) -> Vec<Database> {
    requests
        .into_iter()
        .map(|d| Database {
            name: d.name,
            character_set: d.character_set,
            collation: d.collate,
        })
        .collect()
}

fn users(requests: Vec<UserRequest>) -> Vec<User> {
    requests
        .into_iter()
        .map(|u| User {
            name: u.name,
            host: u.host,
            password: u.password,
            databases: u.databases.into_iter().map(|d| d.name).collect(),
        })
        .collect()
}

/// `POST /instances`: answers 200 with the instance in BUILD.
pub async fn create(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Body(request): Body<CreateInstanceRequest>,
) -> ApiResult<Json<InstanceResponse>> {
    let new = request.instance;
    if new.restore_point.is_some() {
        return Err(ApiError::new(
            drover_api::error::ErrorKind::NotImplemented,
            "Restoring from a backup is not available yet.",
        ));
    }
    let request = CreateInstance {
        name: new.name,
        flavor_id: new.flavor_ref.map(|f| f.id().to_string()),
        volume_size: new.volume.and_then(|v| v.size).map(|s| s.0),
        datastore: new
            .datastore
            .as_ref()
            .and_then(|d| d.datastore_type.clone()),
        datastore_version: new.datastore.as_ref().and_then(|d| d.version.clone()),
        databases: databases(new.databases),
        users: users(new.users),
        configuration_id: new.configuration,
        replica_of: new.replica_of.filter(|s| !s.is_empty()),
        replica_count: new.replica_count.map(|c| c.0),
        public: new.access.as_ref().is_some_and(|a| a.is_public),
        allowed_cidrs: new.access.map(|a| a.allowed_cidrs).unwrap_or_default(),
        region: new.region.filter(|r| !r.is_empty()),
    };
    let details = service::instances::create(&state.services, &ctx, request).await?;
    Ok(Json(InstanceResponse {
        instance: views::instance(&base, &ctx, &details),
    }))
}

/// `GET /instances/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<InstanceResponse>> {
    let details = service::instances::show(&state.services, &ctx, &id).await?;
    Ok(Json(InstanceResponse {
        instance: views::instance(&base, &ctx, &details),
    }))
}

/// `DELETE /instances/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    service::instances::delete(&state.services, &ctx, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `PUT` and `PATCH /instances/{id}`.
pub async fn update(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(request): Body<UpdateInstanceRequest>,
) -> ApiResult<StatusCode> {
    let update = request.instance;
    match &update.replica_of {
        Some(serde_json::Value::Null) => {
            return Ok(
                service::instances::detach_replica(&state.services, &ctx, &id)
                    .await
                    .map(|()| StatusCode::ACCEPTED)?,
            );
        }
        Some(serde_json::Value::String(source)) if source.is_empty() => {
            return Ok(
                service::instances::detach_replica(&state.services, &ctx, &id)
                    .await
                    .map(|()| StatusCode::ACCEPTED)?,
            );
        }
        Some(other) => {
            return Err(ApiError::new(
                drover_api::error::ErrorKind::BadRequest,
                format!("replica_of: only \"\" or null (detach) can be set, not {other}"),
            ));
        }
        None => {}
    }
    if update.datastore_version.is_some() {
        return Err(ApiError::new(
            drover_api::error::ErrorKind::NotImplemented,
            "Datastore version upgrades are not available yet.",
        ));
    }
    if let Some(name) = &update.name {
        service::instances::rename(&state.services, &ctx, &id, name).await?;
    }
    match &update.configuration {
        Some(serde_json::Value::String(group)) if !group.is_empty() => {
            service::configurations::attach(&state.services, &ctx, &id, Some(group)).await?;
        }
        Some(serde_json::Value::Null) => {
            service::configurations::attach(&state.services, &ctx, &id, None).await?;
        }
        Some(other) => {
            return Err(ApiError::new(
                drover_api::error::ErrorKind::BadRequest,
                format!("configuration: expected a configuration group id or null, not {other}"),
            ));
        }
        // The legacy client's `{"instance": {}}` means detach.
        None if update.name.is_none() => {
            service::configurations::attach(&state.services, &ctx, &id, None).await?;
        }
        None => {}
    }
    Ok(StatusCode::ACCEPTED)
}

/// `POST /instances/{id}/action`: exactly one action.
pub async fn action(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(action): Body<InstanceAction>,
) -> ApiResult<StatusCode> {
    let given = [
        action.restart.is_some(),
        action.resize.is_some(),
        action.promote_to_replica_source.is_some(),
        action.eject_replica_source.is_some(),
        action.reset_status.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::bad_request(
            "The action body must have exactly one of restart, resize, promote_to_replica_source, eject_replica_source, reset_status.",
        ));
    }
    if action.restart.is_some() {
        service::instances::restart(&state.services, &ctx, &id).await?;
    } else if let Some(resize) = action.resize {
        match (resize.flavor_ref, resize.volume) {
            (Some(flavor), None) => {
                service::instances::resize_flavor(&state.services, &ctx, &id, flavor.id()).await?
            }
            (None, Some(volume)) => {
                service::instances::resize_volume(&state.services, &ctx, &id, volume.size()).await?
            }
            _ => {
                return Err(ApiError::bad_request(
                    "resize: give either flavorRef or volume.",
                ));
            }
        }
    } else if action.promote_to_replica_source.is_some() {
        service::instances::promote(&state.services, &ctx, &id).await?;
    } else if action.eject_replica_source.is_some() {
        service::instances::eject(&state.services, &ctx, &id).await?;
    } else {
        return Err(ApiError::new(
            drover_api::error::ErrorKind::NotImplemented,
            "This action is not available yet.",
        ));
    }
    Ok(StatusCode::ACCEPTED)
}

/// `GET /instances/{id}/configuration`.
pub async fn configuration(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<InstanceConfigurationResponse>> {
    let values = service::instances::effective_configuration(&state.services, &ctx, &id).await?;
    Ok(Json(InstanceConfigurationResponse {
        instance: InstanceConfiguration {
            configuration: values.into_iter().collect::<BTreeMap<_, _>>(),
        },
    }))
}

// ---- databases ----

/// `GET /instances/{id}/databases`.
pub async fn list_databases(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<DatabasesResponse>> {
    let databases = service::instances::list_databases(&state.services, &ctx, &id).await?;
    let path = format!("instances/{id}/databases");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    // By name, as Trove's guest lists them, so that a marker means the same on every page.
    let mut databases = databases;
    databases.sort_by(|a, b| a.name.cmp(&b.name));
    let (databases, links) = views::page(databases, |d| d.name.clone(), &page, &listing);
    Ok(Json(DatabasesResponse {
        links,
        databases: databases
            .into_iter()
            .map(|d| DatabaseView {
                name: d.name,
                character_set: d.character_set,
                collate: d.collation,
            })
            .collect(),
    }))
}

/// `POST /instances/{id}/databases`.
pub async fn create_databases(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(request): Body<CreateDatabasesRequest>,
) -> ApiResult<StatusCode> {
    service::instances::create_databases(&state.services, &ctx, &id, databases(request.databases))
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// `DELETE /instances/{id}/databases/{name}`.
pub async fn delete_database(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id, name)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    service::instances::delete_database(&state.services, &ctx, &id, &name).await?;
    Ok(StatusCode::ACCEPTED)
}

// ---- users ----

/// A user path segment: `name` or `name@host`. The router has percent-decoded it once; like
/// Trove (`unquote_user_host`) it is decoded once more, because troveclient writes the dots of
/// a host as `%2e` after quoting (`quote_user_host`), which some proxies and clients then quote
/// again.
fn user_and_host(segment: &str) -> (String, Option<String>) {
    let segment = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    match segment.rsplit_once('@') {
        Some((name, host)) => (name.to_string(), Some(host.to_string())),
        None => (segment.to_string(), None),
    }
}

fn user_view(user: User) -> UserView {
    UserView {
        name: user.name,
        host: user.host,
        databases: user
            .databases
            .into_iter()
            .map(|name| NameRef { name })
            .collect(),
    }
}

/// `GET /instances/{id}/users`.
pub async fn list_users(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<UsersResponse>> {
    let users = service::instances::list_users(&state.services, &ctx, &id).await?;
    let path = format!("instances/{id}/users");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    // Trove's marker for a user is `name@host`.
    let key = |u: &User| match &u.host {
        Some(host) => format!("{}@{host}", u.name),
        None => u.name.clone(),
    };
    let mut users = users;
    users.sort_by_key(key);
    let (users, links) = views::page(users, key, &page, &listing);
    Ok(Json(UsersResponse {
        users: users.into_iter().map(user_view).collect(),
        links,
    }))
}

/// `POST /instances/{id}/users`.
pub async fn create_users(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(request): Body<UsersRequest>,
) -> ApiResult<StatusCode> {
    service::instances::create_users(&state.services, &ctx, &id, users(request.users)).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `PUT /instances/{id}/users`: new passwords.
pub async fn change_passwords(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(request): Body<UsersRequest>,
) -> ApiResult<StatusCode> {
    service::instances::change_passwords(&state.services, &ctx, &id, users(request.users)).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /instances/{id}/users/{user}`.
pub async fn show_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id, user)): Path<(String, String, String)>,
) -> ApiResult<Json<UserResponse>> {
    let (name, host) = user_and_host(&user);
    let user =
        service::instances::show_user(&state.services, &ctx, &id, &name, host.as_deref()).await?;
    Ok(Json(UserResponse {
        user: user_view(user),
    }))
}

/// `PUT /instances/{id}/users/{user}`.
pub async fn update_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id, user)): Path<(String, String, String)>,
    Body(request): Body<UpdateUserRequest>,
) -> ApiResult<StatusCode> {
    let (name, host) = user_and_host(&user);
    let update = UserUpdate {
        name: request.user.name,
        host: request.user.host,
        password: request.user.password,
    };
    service::instances::update_user(&state.services, &ctx, &id, &name, host.as_deref(), update)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// `DELETE /instances/{id}/users/{user}`.
pub async fn delete_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id, user)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (name, host) = user_and_host(&user);
    service::instances::delete_user(&state.services, &ctx, &id, &name, host.as_deref()).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /instances/{id}/users/{user}/databases`.
pub async fn list_access(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id, user)): Path<(String, String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<DatabasesResponse>> {
    let (name, host) = user_and_host(&user);
    let databases =
        service::instances::list_access(&state.services, &ctx, &id, &name, host.as_deref()).await?;
    let path = format!("instances/{id}/users/{user}/databases");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    let mut databases = databases;
    databases.sort();
    let (databases, links) = views::page(databases, String::clone, &page, &listing);
    Ok(Json(DatabasesResponse {
        links,
        databases: databases
            .into_iter()
            .map(|name| DatabaseView {
                name,
                character_set: None,
                collate: None,
            })
            .collect(),
    }))
}

/// `PUT /instances/{id}/users/{user}/databases`.
pub async fn grant_access(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id, user)): Path<(String, String, String)>,
    Body(request): Body<GrantAccessRequest>,
) -> ApiResult<StatusCode> {
    let (name, host) = user_and_host(&user);
    let databases = request.databases.into_iter().map(|d| d.name).collect();
    service::instances::grant_access(
        &state.services,
        &ctx,
        &id,
        &name,
        host.as_deref(),
        databases,
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// `DELETE /instances/{id}/users/{user}/databases/{database}`.
pub async fn revoke_access(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id, user, database)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let (name, host) = user_and_host(&user);
    service::instances::revoke_access(
        &state.services,
        &ctx,
        &id,
        &name,
        host.as_deref(),
        &database,
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}

// ---- root ----

/// `POST /instances/{id}/root`.
pub async fn enable_root(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    OptionalBody(request): OptionalBody<EnableRootRequest>,
) -> ApiResult<Json<RootResponse>> {
    let password = request.and_then(|r| r.password);
    let credentials = service::instances::enable_root(&state.services, &ctx, &id, password).await?;
    Ok(Json(RootResponse {
        user: RootUser {
            name: credentials.name,
            password: credentials.password,
        },
    }))
}

/// `GET /instances/{id}/root`.
pub async fn root_enabled(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<RootEnabledResponse>> {
    let root_enabled = service::instances::root_enabled(&state.services, &ctx, &id).await?;
    Ok(Json(RootEnabledResponse { root_enabled }))
}

/// `DELETE /instances/{id}/root`.
pub async fn disable_root(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    service::instances::disable_root(&state.services, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /instances/{id}/replicas`.
pub async fn replicas(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<InstancesResponse>> {
    let replicas = service::instances::replicas(&state.services, &ctx, &id).await?;
    let path = format!("instances/{id}/replicas");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    let (replicas, links) = views::page(replicas, |r| r.id.clone(), &page, &listing);
    let mut instances = Vec::with_capacity(replicas.len());
    for replica in replicas {
        let details = service::instances::show(&state.services, &ctx, &replica.id).await?;
        instances.push(views::instance(&base, &ctx, &details));
    }
    Ok(Json(InstancesResponse { instances, links }))
}

/// `GET /instances/{id}/tasks` (a Drover extension).
pub async fn tasks(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<drover_api::instances::TasksResponse>> {
    let tasks = service::instances::tasks(&state.services, &ctx, &id).await?;
    Ok(Json(drover_api::instances::TasksResponse {
        tasks: tasks
            .iter()
            .map(|(task, host)| views::task(&ctx, task, host.clone()))
            .collect(),
    }))
}
