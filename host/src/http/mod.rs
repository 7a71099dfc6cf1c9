//! The REST API: Trove's v1.0 routes under `/v1.0/{project_id}/…`, its error envelope and
//! codes, request ids. Handlers are thin: they extract, call one service function, and map the
//! result.
//!
//! Must not import: the store, the runtime, backends (only `service`, `auth` and `api` types).

mod catalog;
mod configurations;
mod drivers;
mod error;
mod extract;
mod instances;
mod links;
mod mgmt;
mod pages;
pub mod serve;
mod versions;
mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::{any, get, post};
use drover_api::error::ErrorKind;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::auth::Authenticator;
use crate::service::Services;

/// The header carrying the request id, as OpenStack services name it.
const REQUEST_ID: &str = "x-openstack-request-id";

/// The largest request body: driver components are the large ones.
const MAX_BODY: usize = 64 << 20;

/// State every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub services: Arc<Services>,
    /// Authentication.
    pub auth: Arc<Authenticator>,
    /// The URL links in responses start with (no trailing `/`).
    pub public_url: Arc<str>,
    /// Instance pages kept until the store changes.
    pub pages: Arc<pages::Pages>,
}

async fn not_found() -> ApiError {
    ApiError::not_found("The resource could not be found.")
}

async fn bad_method() -> ApiError {
    ApiError::new(
        ErrorKind::BadMethod,
        "The method is not allowed for this resource.",
    )
}

/// Authenticated (and rate-limited) first, like every route: what is not there yet is not
/// shown to a caller without a token either.
async fn not_implemented(_caller: extract::Caller) -> ApiError {
    ApiError::new(
        ErrorKind::NotImplemented,
        "This part of the API is not implemented yet.",
    )
}

/// In noauth mode any caller is trusted with what it claims, so a web page the operator
/// visits could post to the API with a form or a `text/plain` body (no preflight): only JSON
/// bodies are taken, which a page can send only after a preflight the API never answers. A
/// driver component (its own upload route, for administrators, whose `X-Roles` needs a
/// preflight too) is the one body that is not JSON.
async fn noauth_json_only(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let has_body = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .is_none_or(|length| length != "0")
        && !matches!(
            *request.method(),
            axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::DELETE
        );
    let json = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
    let component = request.uri().path().ends_with("/mgmt/drivers");
    if state.auth.mode() == crate::config::AuthMode::Noauth && has_body && !json && !component {
        return ApiError::new(
            ErrorKind::BadMediaType,
            "In noauth mode the API takes only JSON bodies (Content-Type: application/json).",
        )
        .into_response();
    }
    next.run(request).await
}

/// The most of a request body read ahead, before routing, so that a request refused without
/// its body (a 404, a 501, a 401) still leaves the connection ready for the next one.
const READ_AHEAD: u64 = 64 << 10;

/// A rejected request must not break the kept-alive connection it came on: a body the handler
/// never read would be left in the stream, and hyper then closes the connection without saying
/// so, failing the client's next request on it. Small bodies (every JSON request) are read
/// ahead; a larger one that was not read to its end gets `Connection: close`, so the client
/// knows to open a new connection.
async fn settle_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use futures::StreamExt as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    let length = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (parts, body) = request.into_parts();
    if axum::body::HttpBody::is_end_stream(&body) {
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    }
    if length.is_some_and(|length| length <= READ_AHEAD) {
        return match axum::body::to_bytes(body, READ_AHEAD as usize).await {
            Ok(bytes) => {
                next.run(axum::extract::Request::from_parts(parts, bytes.into()))
                    .await
            }
            Err(_) => axum::response::IntoResponse::into_response(ApiError::bad_request(
                "The request body could not be read.",
            )),
        };
    }
    let ended = Arc::new(AtomicBool::new(false));
    let seen = ended.clone();
    let stream = body
        .into_data_stream()
        .chain(futures::stream::poll_fn(move |_| {
            seen.store(true, Ordering::Release);
            std::task::Poll::Ready(None)
        }));
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from_stream(stream));
    let mut response = next.run(request).await;
    if !ended.load(Ordering::Acquire) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let project = Router::new()
        .route("/flavors", get(catalog::list_flavors))
        .route("/flavors/{id}", get(catalog::show_flavor))
        .route("/datastores", get(catalog::list_datastores))
        .route("/datastores/{id}", get(catalog::show_datastore))
        .route("/datastores/{id}/versions", get(catalog::list_versions))
        .route(
            "/datastores/{id}/versions/{version}",
            get(catalog::show_version),
        )
        .route(
            "/datastores/{id}/versions/{version}/flavors",
            get(catalog::version_flavors),
        )
        .route(
            "/datastores/versions/{id}",
            get(catalog::show_version_by_id),
        )
        .route(
            "/datastores/{id}/versions/{version}/parameters",
            get(catalog::list_parameters),
        )
        .route(
            "/datastores/{id}/versions/{version}/parameters/{name}",
            get(catalog::show_parameter),
        )
        .route(
            "/datastores/versions/{id}/parameters",
            get(catalog::list_parameters_by_version),
        )
        .route(
            "/datastores/versions/{id}/parameters/{name}",
            get(catalog::show_parameter_by_version),
        )
        .route(
            "/mgmt/datastores/versions/{id}/parameters",
            get(catalog::list_parameters_for_operators),
        )
        .route("/limits", get(mgmt::limits))
        .route(
            "/mgmt/quotas/{id}",
            get(mgmt::show_quotas).put(mgmt::update_quotas),
        )
        .route("/mgmt/hosts", get(mgmt::list_hosts))
        .route("/mgmt/instances", get(mgmt::list_instances))
        .route("/mgmt/instances/{id}", get(mgmt::show_instance))
        .route("/mgmt/instances/{id}/root", get(mgmt::root_history))
        .route("/mgmt/instances/{id}/action", post(mgmt::instance_action))
        .route("/mgmt/flavors", post(mgmt::create_flavor))
        .route(
            "/mgmt/flavors/{id}",
            axum::routing::delete(mgmt::delete_flavor),
        )
        .route(
            "/mgmt/datastore-versions",
            get(mgmt::list_versions).post(mgmt::create_version),
        )
        .route(
            "/mgmt/datastore-versions/{id}",
            get(mgmt::show_version)
                .patch(mgmt::patch_version)
                .delete(mgmt::delete_version),
        )
        .route(
            "/mgmt/drivers",
            get(drivers::list)
                .post(drivers::upload)
                .layer(DefaultBodyLimit::max(MAX_BODY)),
        )
        .route(
            "/mgmt/drivers/{id}",
            get(drivers::show).delete(drivers::delete),
        )
        .route("/mgmt/drivers/{id}/activate", post(drivers::activate))
        .route("/mgmt/drivers/{id}/rollback", post(drivers::rollback))
        .route("/instances", get(instances::list).post(instances::create))
        // Trove's detail list: the same view as the list here, which already holds every field.
        .route("/instances/detail", get(instances::list))
        .route(
            "/instances/{id}",
            get(instances::show)
                .put(instances::update)
                .patch(instances::update)
                .delete(instances::delete),
        )
        .route("/instances/{id}/action", post(instances::action))
        .route(
            "/instances/{id}/configuration",
            get(instances::configuration),
        )
        .route(
            "/instances/{id}/databases",
            get(instances::list_databases).post(instances::create_databases),
        )
        .route(
            "/instances/{id}/databases/{name}",
            axum::routing::delete(instances::delete_database),
        )
        .route(
            "/instances/{id}/users",
            get(instances::list_users)
                .post(instances::create_users)
                .put(instances::change_passwords),
        )
        .route(
            "/instances/{id}/users/{user}",
            get(instances::show_user)
                .put(instances::update_user)
                .delete(instances::delete_user),
        )
        .route(
            "/instances/{id}/users/{user}/databases",
            get(instances::list_access).put(instances::grant_access),
        )
        .route(
            "/instances/{id}/users/{user}/databases/{database}",
            axum::routing::delete(instances::revoke_access),
        )
        .route(
            "/instances/{id}/root",
            get(instances::root_enabled)
                .post(instances::enable_root)
                .delete(instances::disable_root),
        )
        // Parts of the API later work fills in answer 501, never 404.
        .route("/instances/{id}/replicas", get(instances::replicas))
        .route("/instances/{id}/tasks", get(instances::tasks))
        .route("/instances/{id}/backups", any(not_implemented))
        .route(
            "/configurations",
            get(configurations::list).post(configurations::create),
        )
        .route(
            "/configurations/{id}",
            get(configurations::show)
                .put(configurations::update)
                .patch(configurations::edit)
                .delete(configurations::delete),
        )
        .route(
            "/configurations/{id}/instances",
            get(configurations::instances),
        )
        .route("/clusters", any(not_implemented))
        .route("/clusters/{*rest}", any(not_implemented))
        .route("/backups", any(not_implemented))
        .route("/backups/{*rest}", any(not_implemented))
        .method_not_allowed_fallback(bad_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            noauth_json_only,
        ));

    let request_id = HeaderName::from_static(REQUEST_ID);
    Router::new()
        .route("/", get(versions::index))
        .route("/v1.0", get(versions::show))
        .route("/v1.0/", get(versions::show))
        .route("/healthcheck", get(versions::healthcheck))
        .route("/openapi.json", get(versions::openapi))
        // The host link (not Trove's): the hosts sharing a store act on each other's nodes.
        .route(
            &format!("{}/{{id}}", crate::service::links::NODES_PATH),
            post(links::node_operation).layer(DefaultBodyLimit::max(MAX_BODY)),
        )
        .nest("/v1.0/{project_id}", project)
        .fallback(not_found)
        .method_not_allowed_fallback(bad_method)
        .with_state(state)
        // Layers run outside in: the request id is set first, so the trace span and every log
        // line inside carry it, and it is copied onto the response last.
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path())
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::from_fn(settle_body))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::GATEWAY_TIMEOUT, Duration::from_secs(300)))
}
