//! Flavors, datastores and versions: what users can create instances with.

use axum::Json;
use axum::extract::{Path, State};
use drover_api::configurations::{
    ExcludedParameterView, MgmtParametersResponse, ParameterView, ParametersResponse,
};
use drover_api::datastores::*;
use drover_api::flavors::*;

use super::AppState;
use super::error::ApiResult;
use super::extract::{Base, Caller, Query};
use super::views;
use crate::service;
use drover_api::common::Page;

/// `GET /flavors`.
pub async fn list_flavors(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Query(page): Query<Page>,
) -> ApiResult<Json<FlavorsResponse>> {
    let flavors = service::flavors::list(&state.services, &ctx).await?;
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: "flavors",
    };
    let (flavors, links) = views::page(flavors, |f| f.id.clone(), &page, &listing);
    Ok(Json(FlavorsResponse {
        flavors: flavors
            .iter()
            .map(|f| views::flavor(&base, &ctx.project_id, f))
            .collect(),
        links,
    }))
}

/// `GET /flavors/{id}`.
pub async fn show_flavor(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<FlavorResponse>> {
    let flavor = service::flavors::show(&state.services, &ctx, &id).await?;
    Ok(Json(FlavorResponse {
        flavor: views::flavor(&base, &ctx.project_id, &flavor),
    }))
}

/// `GET /datastores`.
pub async fn list_datastores(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Query(page): Query<Page>,
) -> ApiResult<Json<DatastoresResponse>> {
    let datastores = service::datastores::list(&state.services, &ctx).await?;
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: "datastores",
    };
    let (datastores, links) = views::page(datastores, |d| d.datastore.id.clone(), &page, &listing);
    Ok(Json(DatastoresResponse {
        datastores: datastores
            .iter()
            .map(|d| views::datastore(&base, &ctx.project_id, d))
            .collect(),
        links,
    }))
}

/// `GET /datastores/{id}`.
pub async fn show_datastore(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<DatastoreResponse>> {
    let datastore = service::datastores::show(&state.services, &ctx, &id).await?;
    Ok(Json(DatastoreResponse {
        datastore: views::datastore(&base, &ctx.project_id, &datastore),
    }))
}

/// `GET /datastores/{ds}/versions`.
pub async fn list_versions(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, datastore)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<DatastoreVersionsResponse>> {
    let versions = service::datastores::versions(&state.services, &ctx, &datastore).await?;
    let path = format!("datastores/{datastore}/versions");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    let (versions, links) = views::page(versions, |v| v.id.clone(), &page, &listing);
    Ok(Json(DatastoreVersionsResponse {
        versions: versions
            .iter()
            .map(|v| views::datastore_version(&base, &ctx.project_id, v))
            .collect(),
        links,
    }))
}

/// `GET /datastores/{ds}/versions/{v}`.
pub async fn show_version(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, datastore, version)): Path<(String, String, String)>,
) -> ApiResult<Json<DatastoreVersionResponse>> {
    let version =
        service::datastores::version(&state.services, &ctx, Some(&datastore), &version).await?;
    Ok(Json(DatastoreVersionResponse {
        version: views::datastore_version(&base, &ctx.project_id, &version),
    }))
}

/// `GET /datastores/versions/{id}`.
pub async fn show_version_by_id(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<DatastoreVersionResponse>> {
    let version = service::datastores::version(&state.services, &ctx, None, &id).await?;
    Ok(Json(DatastoreVersionResponse {
        version: views::datastore_version(&base, &ctx.project_id, &version),
    }))
}

/// `GET /datastores/{ds}/versions/{v}/flavors`.
pub async fn version_flavors(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, datastore, version)): Path<(String, String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<FlavorsResponse>> {
    let flavors =
        service::datastores::version_flavors(&state.services, &ctx, Some(&datastore), &version)
            .await?;
    let path = format!("datastores/{datastore}/versions/{version}/flavors");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    let (flavors, links) = views::page(flavors, |f| f.id.clone(), &page, &listing);
    Ok(Json(FlavorsResponse {
        flavors: flavors
            .iter()
            .map(|f| views::flavor(&base, &ctx.project_id, f))
            .collect(),
        links,
    }))
}

/// `GET /datastores/{ds}/versions/{v}/parameters`.
pub async fn list_parameters(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, datastore, version)): Path<(String, String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<ParametersResponse>> {
    let path = format!("datastores/{datastore}/versions/{version}/parameters");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    parameters_of(&state, &ctx, Some(&datastore), &version, &page, &listing).await
}

/// `GET /datastores/versions/{id}/parameters`.
pub async fn list_parameters_by_version(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Path((_, version)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<ParametersResponse>> {
    let path = format!("datastores/versions/{version}/parameters");
    let listing = views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: &path,
    };
    parameters_of(&state, &ctx, None, &version, &page, &listing).await
}

async fn parameters_of(
    state: &AppState,
    ctx: &service::Ctx,
    datastore: Option<&str>,
    version: &str,
    page: &Page,
    listing: &views::Listing<'_>,
) -> ApiResult<Json<ParametersResponse>> {
    let (version, params) =
        service::configurations::parameters(&state.services, ctx, datastore, version).await?;
    let (params, links) = views::page(params, |p| p.name.clone(), page, listing);
    Ok(Json(ParametersResponse {
        parameters: params
            .iter()
            .map(|p| views::parameter(&version, p))
            .collect(),
        links,
    }))
}

/// `GET /datastores/{ds}/versions/{v}/parameters/{name}`.
pub async fn show_parameter(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, datastore, version, name)): Path<(String, String, String, String)>,
) -> ApiResult<Json<ParameterView>> {
    let (version, param) = service::configurations::parameter(
        &state.services,
        &ctx,
        Some(&datastore),
        &version,
        &name,
    )
    .await?;
    Ok(Json(views::parameter(&version, &param)))
}

/// `GET /datastores/versions/{id}/parameters/{name}`.
pub async fn show_parameter_by_version(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, version, name)): Path<(String, String, String)>,
) -> ApiResult<Json<ParameterView>> {
    let (version, param) =
        service::configurations::parameter(&state.services, &ctx, None, &version, &name).await?;
    Ok(Json(views::parameter(&version, &param)))
}

/// `GET /mgmt/datastores/versions/{id}/parameters`.
pub async fn list_parameters_for_operators(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, version)): Path<(String, String)>,
) -> ApiResult<Json<MgmtParametersResponse>> {
    let (version, params, excluded) =
        service::configurations::parameters_for_operators(&state.services, &ctx, &version).await?;
    Ok(Json(MgmtParametersResponse {
        parameters: params
            .iter()
            .map(|p| views::parameter(&version, p))
            .collect(),
        excluded: excluded
            .into_iter()
            .map(|e| ExcludedParameterView {
                name: e.name,
                reason: e.reason,
            })
            .collect(),
    }))
}
