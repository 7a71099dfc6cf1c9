//! `POST /drover/v1/nodes/{id}`: the host link, on which the hosts sharing a store act on each
//! other's nodes (see `service::links`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;

use crate::service::links::{self, NodeReply, NodeRequest, TOKEN_HEADER};

use super::AppState;
use super::error::ApiResult;
use super::extract::{RawBody, parse};

/// Runs one node operation for another host.
pub async fn node_operation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<NodeReply>> {
    // The token before the body: a caller without it learns nothing from a parse error.
    links::authorize(headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()))?;
    let request: NodeRequest = parse(&body)?;
    let reply = links::node_operation(&state.services, &id, request).await?;
    Ok(Json(reply))
}
