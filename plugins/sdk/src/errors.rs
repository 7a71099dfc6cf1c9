//! Typed errors: constructors for [`DriverError`] and a collector for field problems.

use crate::{DriverError, FieldError};

/// The result type of every driver function.
pub type DriverResult<T> = Result<T, DriverError>;

impl DriverError {
    /// One bad field: the caller's input is wrong.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DriverError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// The operation was attempted on the datastore and failed.
    pub fn failed(message: impl Into<String>) -> Self {
        DriverError::Failed(message.into())
    }

    /// Something the request names does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        DriverError::NotFound(message.into())
    }

    /// The request conflicts with the datastore's state.
    pub fn conflict(message: impl Into<String>) -> Self {
        DriverError::Conflict(message.into())
    }

    /// The node is not ready for this yet; the host may retry.
    pub fn not_ready(message: impl Into<String>) -> Self {
        DriverError::NotReady(message.into())
    }

    /// Not supported by this driver or datastore version.
    pub fn unsupported(message: impl Into<String>) -> Self {
        DriverError::Unsupported(message.into())
    }

    /// The (field, message) pairs of an `invalid` error; empty for any other error.
    pub fn field_messages(&self) -> Vec<(String, String)> {
        match self {
            DriverError::Invalid(errors) => errors
                .iter()
                .map(|e| (e.field.clone(), e.message.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The error's text, for messages that wrap it.
    pub fn message(&self) -> String {
        match self {
            DriverError::Invalid(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            DriverError::Unsupported(m)
            | DriverError::Conflict(m)
            | DriverError::NotFound(m)
            | DriverError::Failed(m)
            | DriverError::NotReady(m) => m.clone(),
        }
    }
}

/// Collects every problem with a request so that the caller learns about all of them at once,
/// not only the first.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with `field`.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records every problem of a `DriverError::Invalid`; any other error is recorded under
    /// `field`.
    pub fn absorb(&mut self, field: &str, error: DriverError) {
        match error {
            DriverError::Invalid(errors) => self.0.extend(errors),
            other => self.push(field, other.to_string()),
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, otherwise `DriverError::Invalid` with every problem.
    pub fn into_result<T>(self, value: T) -> DriverResult<T> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(DriverError::Invalid(self.0))
        }
    }
}
