//! Extractors: the caller and its project (authenticated, rate-limited), JSON bodies whose
//! errors name the field, and query strings with Trove's error envelope.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use drover_api::error::ErrorKind;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::service::Ctx;

/// The base URL for links: the configured public URL, never the request's `Host` header
/// (which the client chooses, so links built from it would point where the client says).
#[derive(Debug, Clone)]
pub struct Base(pub String);

impl FromRequestParts<AppState> for Base {
    type Rejection = ApiError;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Base(state.public_url.to_string()))
    }
}

/// The authenticated caller and the project in the path.
pub struct Caller(pub Ctx);

fn path_project(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v1.0/")?;
    let project = rest.split('/').next()?;
    (!project.is_empty()).then_some(project)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        // Nested routers see their path without the prefix; the project is in the original.
        let original = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|uri| uri.0.path().to_string());
        let path = original.unwrap_or_else(|| parts.uri.path().to_string());
        let project =
            path_project(&path).ok_or_else(|| ApiError::not_found("No project in the path."))?;
        let caller = state
            .auth
            .authenticate(
                Some(project),
                header("x-auth-token"),
                header("x-roles"),
                header("x-user-id"),
            )
            .await?;
        if let Err(wait) = state.services.rate.check(project, parts.method.as_str()) {
            let seconds = wait.as_secs().max(1);
            return Err(ApiError {
                kind: ErrorKind::OverLimit,
                message: format!("This request was rate-limited: try again in {seconds} s."),
                retry_after: Some(seconds),
            });
        }
        Ok(Caller(Ctx {
            caller,
            project_id: project.to_string(),
        }))
    }
}

/// Reads the whole body; one over the route's limit is a 413 in Trove's envelope.
async fn read_body<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorKind::OverLimit,
                    "The request body is larger than this resource accepts.",
                )
            } else {
                ApiError::bad_request(format!(
                    "The request body could not be read: {}",
                    e.body_text()
                ))
            }
        })
}

/// A body taken as it is (a driver component).
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_body(request, state).await.map(RawBody)
    }
}

/// A JSON body. A malformed body or one that breaks the schema is a 400 naming the field.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        parse(&bytes).map(Body)
    }
}

/// Parses JSON, naming the path of a bad field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("The request needs a JSON body."));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("The request body is not valid JSON: {inner}"))
        } else if path == "." {
            ApiError::bad_request(format!("Invalid request body: {inner}"))
        } else {
            ApiError::bad_request(format!("Invalid request body: {path}: {inner}"))
        }
    })
}

/// An optional JSON body: an empty body is `None`.
pub struct OptionalBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(None));
        }
        parse(&bytes).map(|value| OptionalBody(Some(value)))
    }
}

/// A query string; a bad value is a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_from_str(query).map(Query)
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::bad_request("Invalid query string."))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::bad_request(format!("Invalid query string: {}", e.body_text())))
}
