//! The host link's door: node operations the other hosts sharing the store send for nodes this
//! host holds. Not part of the Trove API: a host proves it shares this host's secrets key with
//! a token derived from it, never with a user's token.

use crate::orchestrator::LinkError;
pub use crate::orchestrator::{NODES_PATH, NodeReply, NodeRequest, TOKEN_HEADER};

use super::{ServiceError, ServiceResult, Services};

/// What a caller without the hosts' token is told.
pub const UNAUTHORIZED: &str =
    "Node operations are for the hosts that share this service's secrets key.";

/// Whether `token` is the hosts' token.
pub fn is_host_token(token: &str) -> bool {
    crate::secrets::is_host_token(token)
}

/// Runs a node operation another host sent, if it showed the hosts' token.
pub async fn node_operation(
    services: &Services,
    token: Option<&str>,
    instance_id: &str,
    request: NodeRequest,
) -> ServiceResult<NodeReply> {
    if !token.is_some_and(crate::secrets::is_host_token) {
        return Err(ServiceError::Unauthorized(UNAUTHORIZED.into()));
    }
    tracing::debug!(instance = %instance_id, "a node operation from another host");
    services
        .orchestrator
        .serve_node(instance_id, request)
        .await
        .map_err(|error| match error {
            LinkError::NotFound(message) => ServiceError::NotFound(message),
            LinkError::NotHere(message) => ServiceError::Conflict(message),
            LinkError::Invalid(message) => ServiceError::BadRequest(message),
        })
}
