//! Use cases: one function per API operation. The only door from `http` into the rest: it
//! checks policy, validates with the driver, writes the store and hands work to the
//! orchestrator. It speaks in domain terms; `http` converts to and from wire types.
//!
//! Must not import: http.

pub mod admin;
pub mod configurations;
pub mod datastores;
pub mod drivers;
pub mod flavors;
pub mod instances;
mod listing;
pub mod quotas;

use std::sync::Arc;

use crate::auth::Caller;
use crate::orchestrator::Orchestrator;
use crate::policy::{Credentials, Policy, Target};
use crate::quota::{Quotas, RateLimiter};
use crate::runtime::types::DriverError;
use crate::runtime::{CallError, Runtime};
use crate::store::{Store, StoreError};

/// Everything the use cases need.
pub struct Services {
    /// The store.
    pub store: Store,
    /// The driver runtime.
    pub runtime: Runtime,
    /// The orchestrator.
    pub orchestrator: Orchestrator,
    /// The policy.
    pub policy: Policy,
    /// Quotas.
    pub quotas: Quotas,
    /// Rate limits.
    pub rate: RateLimiter,
    /// The largest volume a request may ask for, GiB.
    pub max_volume_gb: i64,
    /// The region the service runs in, as instances show it.
    pub region: String,
    /// The datastore a create that names none gets (Trove's `default_datastore`).
    pub default_datastore: Option<String>,
}

/// Who is asking, about which project.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The authenticated caller.
    pub caller: Caller,
    /// The project in the request's path.
    pub project_id: String,
}

impl Ctx {
    /// Checks a policy rule for this caller against its project (or `target_project`).
    pub fn authorize(&self, services: &Services, action: &str) -> Result<(), ServiceError> {
        self.authorize_for(services, action, &self.project_id)
    }

    /// Checks a policy rule against a resource of `target_project`.
    pub fn authorize_for(
        &self,
        services: &Services,
        action: &str,
        target_project: &str,
    ) -> Result<(), ServiceError> {
        let credentials = Credentials {
            project_id: self.caller.project_id.clone(),
            user_id: self.caller.user_id.clone(),
            roles: self.caller.roles.clone(),
            is_admin: self.caller.is_admin(),
        };
        services
            .policy
            .authorize(action, &credentials, &Target::project(target_project))
            .map_err(|denied| ServiceError::Forbidden(denied.to_string()))
    }

    /// Whether the caller is an administrator.
    pub fn is_admin(&self) -> bool {
        self.caller.is_admin()
    }
}

/// Why a use case did not succeed, grouped by who is to blame. `http` maps each to Trove's
/// error name and status.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    // ---- the caller's mistakes ----
    /// The request is malformed or invalid (400).
    #[error("{0}")]
    BadRequest(String),
    /// Not authenticated (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Something named does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// A quota or rate limit would be exceeded (413).
    #[error("{0}")]
    OverLimit(String),
    /// Valid, but cannot be processed in the resource's current state (422).
    #[error("{0}")]
    Unprocessable(String),
    // ---- not offered ----
    /// The datastore's driver does not offer it (501).
    #[error("{0}")]
    NotImplemented(String),
    // ---- ours ----
    /// Something failed on our side (500); the message is safe to show.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => {
                ServiceError::NotFound(format!("{what} could not be found."))
            }
            StoreError::Conflict(message) => ServiceError::Conflict(message),
            StoreError::OverQuota {
                resource,
                requested,
                in_use,
                reserved,
                limit,
            } => ServiceError::OverLimit(format!(
                "Quota exceeded for resources: ['{resource}']: {requested} requested, {} in use or reserved, limit {limit}.",
                in_use + reserved
            )),
            other => {
                tracing::error!("store failure: {other}");
                ServiceError::Internal("An internal database error occurred.".into())
            }
        }
    }
}

impl From<CallError> for ServiceError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Driver(DriverError::Invalid(errors)) => ServiceError::BadRequest(
                errors
                    .into_iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            CallError::Driver(DriverError::Unsupported(message)) => {
                ServiceError::NotImplemented(message)
            }
            CallError::Driver(DriverError::Conflict(message)) => ServiceError::Conflict(message),
            CallError::Driver(DriverError::NotFound(message)) => ServiceError::NotFound(message),
            CallError::Driver(DriverError::NotReady(message)) => {
                ServiceError::Unprocessable(message)
            }
            CallError::Driver(DriverError::Failed(message)) => ServiceError::Internal(message),
            fault @ CallError::Fault { .. } => {
                tracing::error!("driver fault: {fault}");
                ServiceError::Internal(format!("The datastore driver failed: {fault}"))
            }
        }
    }
}

/// A shorthand for use-case results.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// The services, shared.
pub type SharedServices = Arc<Services>;

/// Whether `name` is a resource's display name: 1 to 255 characters (characters, not bytes:
/// the limit the messages and Trove state).
pub(crate) fn is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= 255
}
