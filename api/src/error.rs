//! Trove's error envelope: `{"<name>": {"code": <status>, "message": "…"}}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The error names Trove uses, with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    ItemNotFound,
    /// 405.
    BadMethod,
    /// 409.
    Conflict,
    /// 413.
    OverLimit,
    /// 415.
    BadMediaType,
    /// 422.
    UnprocessableEntity,
    /// 500.
    InstanceFault,
    /// 501.
    NotImplemented,
    /// 503.
    ServiceUnavailable,
}

impl ErrorKind {
    /// The envelope's key.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "badRequest",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::ItemNotFound => "itemNotFound",
            ErrorKind::BadMethod => "badMethod",
            ErrorKind::Conflict => "conflict",
            ErrorKind::OverLimit => "overLimit",
            ErrorKind::BadMediaType => "badMediaType",
            ErrorKind::UnprocessableEntity => "unprocessableEntity",
            ErrorKind::InstanceFault => "instanceFault",
            ErrorKind::NotImplemented => "notImplemented",
            ErrorKind::ServiceUnavailable => "serviceUnavailable",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::ItemNotFound => 404,
            ErrorKind::BadMethod => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::OverLimit => 413,
            ErrorKind::BadMediaType => 415,
            ErrorKind::UnprocessableEntity => 422,
            ErrorKind::InstanceFault => 500,
            ErrorKind::NotImplemented => 501,
            ErrorKind::ServiceUnavailable => 503,
        }
    }
}

/// The body inside the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The HTTP status.
    pub code: u16,
    /// What went wrong.
    pub message: String,
}

/// An error response: one key, the error's name, holding code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEnvelope {
    /// Which error.
    pub kind: ErrorKind,
    /// What went wrong.
    pub message: String,
}

impl Serialize for ErrorEnvelope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(
            self.kind.name(),
            &ErrorBody {
                code: self.kind.status(),
                message: self.message.clone(),
            },
        )?;
        map.end()
    }
}

impl utoipa::PartialSchema for ErrorEnvelope {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder};
        ObjectBuilder::new()
            .description(Some(
                "One key, the error's name (badRequest, unauthorized, forbidden, itemNotFound, badMethod, conflict, \
                 overLimit, unprocessableEntity, instanceFault, notImplemented, serviceUnavailable), holding code and message.",
            ))
            .additional_properties(Some(AdditionalProperties::RefOr(utoipa::openapi::Ref::from_schema_name("ErrorBody").into())))
            .examples([serde_json::json!({"badRequest": {"code": 400, "message": "volume: a volume size is required."}})])
            .into()
    }
}

impl ToSchema for ErrorEnvelope {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            "ErrorBody".into(),
            <ErrorBody as utoipa::PartialSchema>::schema(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_keyed_by_the_error_name() {
        let body = serde_json::to_value(ErrorEnvelope {
            kind: ErrorKind::OverLimit,
            message: "Quota exceeded".into(),
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"overLimit": {"code": 413, "message": "Quota exceeded"}})
        );
    }
}
