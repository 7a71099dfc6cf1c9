//! Configuration groups: create, list, show, replace, merge, delete, and their instances.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use drover_api::common::{Page, ResourceRef};
use drover_api::configurations::*;

use super::AppState;
use super::error::ApiResult;
use super::extract::{Base, Body, Caller, Query};
use super::views;
use crate::service;
use crate::service::configurations::GroupRequest;

fn group_request(body: NewConfiguration) -> GroupRequest {
    let (datastore, datastore_version) = match body.datastore {
        Some(ds) => (ds.datastore_type, ds.version),
        None => (None, None),
    };
    GroupRequest {
        name: body.name,
        description: body.description,
        values: body.values.into_iter().collect(),
        datastore,
        datastore_version,
    }
}

/// `POST /configurations`.
pub async fn create(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Body(request): Body<ConfigurationRequest>,
) -> ApiResult<Json<ConfigurationResponse>> {
    let details = service::configurations::create(
        &state.services,
        &ctx,
        group_request(request.configuration),
    )
    .await?;
    Ok(Json(ConfigurationResponse {
        configuration: views::configuration(&base, &ctx.project_id, &details),
    }))
}

/// `GET /configurations`.
pub async fn list(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Query(page): Query<Page>,
) -> ApiResult<Json<ConfigurationsResponse>> {
    let groups = service::configurations::list(&state.services, &ctx).await?;
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: "configurations",
    };
    let (groups, links) = views::page(groups, |g| g.group.id.clone(), &page, &listing);
    Ok(Json(ConfigurationsResponse {
        configurations: groups
            .iter()
            .map(|g| views::configuration(&base, &ctx.project_id, g))
            .collect(),
        links,
    }))
}

/// `GET /configurations/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<ConfigurationResponse>> {
    let details = service::configurations::show(&state.services, &ctx, &id).await?;
    Ok(Json(ConfigurationResponse {
        configuration: views::configuration(&base, &ctx.project_id, &details),
    }))
}

/// `PUT /configurations/{id}`: replaces the values.
pub async fn update(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(request): Body<ConfigurationRequest>,
) -> ApiResult<StatusCode> {
    let request = group_request(request.configuration);
    service::configurations::change(&state.services, &ctx, &id, request, true).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `PATCH /configurations/{id}`: merges the values.
pub async fn edit(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
    Body(request): Body<ConfigurationRequest>,
) -> ApiResult<StatusCode> {
    let request = group_request(request.configuration);
    service::configurations::change(&state.services, &ctx, &id, request, false).await?;
    Ok(StatusCode::OK)
}

/// `DELETE /configurations/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    service::configurations::delete(&state.services, &ctx, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /configurations/{id}/instances`.
pub async fn instances(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<ConfigurationInstancesResponse>> {
    let instances = service::configurations::instances(&state.services, &ctx, &id).await?;
    let path = format!("configurations/{id}/instances");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    let (instances, links) = views::page(instances, |(id, _)| id.clone(), &page, &listing);
    Ok(Json(ConfigurationInstancesResponse {
        links,
        instances: instances
            .into_iter()
            .map(|(id, name)| ResourceRef {
                links: views::links(&base, &ctx.project_id, &format!("instances/{id}")),
                id,
                name: Some(name),
            })
            .collect(),
    }))
}
