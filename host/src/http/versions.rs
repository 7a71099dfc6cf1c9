//! Version discovery (`GET /`, `GET /v1.0`), the health check and the OpenAPI document.

use axum::Json;
use drover_api::versions::{VersionResponse, VersionView, VersionsResponse};

use super::extract::Base;

/// `GET /`: the versions the API offers.
pub async fn index(Base(base): Base) -> Json<VersionsResponse> {
    Json(VersionsResponse {
        versions: vec![VersionView::v1(&base)],
    })
}

/// `GET /v1.0`: this version, as openstacksdk's discovery needs it.
pub async fn show(Base(base): Base) -> Json<VersionResponse> {
    Json(VersionResponse {
        version: VersionView::v1(&base),
    })
}

/// `GET /healthcheck`: the service is up.
pub async fn healthcheck() -> &'static str {
    "OK"
}

/// `GET /openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(drover_api::openapi())
}
