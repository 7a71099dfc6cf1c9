//! The one mapping from errors to Trove's envelope and status codes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use drover_api::error::{ErrorEnvelope, ErrorKind};

use crate::auth::AuthError;
use crate::service::ServiceError;

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Which Trove error.
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
    /// Seconds to wait, for rate limits.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 400 naming what is wrong with the request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::BadRequest, message)
    }

    /// A 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::ItemNotFound, message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        let kind = match &error {
            ServiceError::BadRequest(_) => ErrorKind::BadRequest,
            ServiceError::Unauthorized(_) => ErrorKind::Unauthorized,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::NotFound(_) => ErrorKind::ItemNotFound,
            ServiceError::Conflict(_) => ErrorKind::Conflict,
            ServiceError::OverLimit(_) => ErrorKind::OverLimit,
            ServiceError::Unprocessable(_) => ErrorKind::UnprocessableEntity,
            ServiceError::NotImplemented(_) => ErrorKind::NotImplemented,
            ServiceError::Internal(_) => ErrorKind::InstanceFault,
        };
        ApiError::new(kind, error.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        match error {
            AuthError::Unauthenticated(message) => ApiError::new(ErrorKind::Unauthorized, message),
            AuthError::Unavailable(message) => {
                ApiError::new(ErrorKind::ServiceUnavailable, message)
            }
            wrong @ AuthError::WrongProject { .. } => {
                ApiError::new(ErrorKind::Forbidden, wrong.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), "{}", self.message);
        } else {
            tracing::info!(status = status.as_u16(), "{}", self.message);
        }
        let body = serde_json::to_vec(&ErrorEnvelope {
            kind: self.kind,
            message: self.message,
        })
        .unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
