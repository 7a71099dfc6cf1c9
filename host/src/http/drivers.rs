//! Driver management (admins).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use drover_api::common::{Page, PyBool};
use drover_api::drivers::*;
use serde::Deserialize;

use super::AppState;
use super::error::ApiResult;
use super::extract::{Base, Caller, Query, RawBody};
use super::views::timestamp;
use crate::service;
use crate::service::drivers::DriverDetails;

fn view(details: DriverDetails) -> DriverView {
    let d = details.record.driver;
    DriverView {
        digest: d.digest,
        name: d.name,
        version: d.version,
        contract_version: d.contract,
        size: d.size,
        active: details.record.active,
        previous: details.record.previous,
        uploaded: timestamp(d.uploaded_at),
        manifest: details.manifest,
        used_by: details.used_by,
    }
}

/// Upload options.
#[derive(Deserialize)]
pub struct UploadQuery {
    /// Activate the uploaded version at once.
    #[serde(default)]
    activate: PyBool,
}

/// `POST /mgmt/drivers`: the component is the body.
pub async fn upload(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Query(query): Query<UploadQuery>,
    RawBody(bytes): RawBody,
) -> ApiResult<(StatusCode, Json<DriverResponse>)> {
    let details =
        service::drivers::upload(&state.services, &ctx, bytes.to_vec(), query.activate.0).await?;
    Ok((
        StatusCode::CREATED,
        Json(DriverResponse {
            driver: view(details),
        }),
    ))
}

/// `GET /mgmt/drivers`.
pub async fn list(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Base(base): Base,
    Query(page): Query<Page>,
) -> ApiResult<Json<DriversResponse>> {
    let drivers = service::drivers::list(&state.services, &ctx).await?;
    let listing = super::views::Listing {
        base: &base,
        project: &ctx.project_id,
        path: "mgmt/drivers",
    };
    let (drivers, links) =
        super::views::page(drivers, |d| d.record.driver.digest.clone(), &page, &listing);
    Ok(Json(DriversResponse {
        drivers: drivers.into_iter().map(view).collect(),
        links,
    }))
}

/// `GET /mgmt/drivers/{digest}`.
pub async fn show(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<DriverResponse>> {
    Ok(Json(DriverResponse {
        driver: view(service::drivers::show(&state.services, &ctx, &id).await?),
    }))
}

/// `POST /mgmt/drivers/{digest}/activate`.
pub async fn activate(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<DriverResponse>> {
    Ok(Json(DriverResponse {
        driver: view(service::drivers::activate(&state.services, &ctx, &id).await?),
    }))
}

/// `POST /mgmt/drivers/{name}/rollback`.
pub async fn rollback(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, name)): Path<(String, String)>,
) -> ApiResult<Json<DriverResponse>> {
    Ok(Json(DriverResponse {
        driver: view(service::drivers::rollback(&state.services, &ctx, &name).await?),
    }))
}

/// `DELETE /mgmt/drivers/{digest}`.
pub async fn delete(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    service::drivers::delete(&state.services, &ctx, &id).await?;
    Ok(StatusCode::ACCEPTED)
}
