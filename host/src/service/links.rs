//! The host link's door: node operations the other hosts sharing the store send for nodes this
//! host holds. Not part of the Trove API: a host proves it shares this host's secrets key with
//! a token derived from it, never with a user's token.

use crate::orchestrator::LinkError;
pub use crate::orchestrator::{NODES_PATH, NodeReply, NodeRequest, TOKEN_HEADER};

use super::{ServiceError, ServiceResult, Services};

/// Lets in a caller that showed the hosts' token; checked before its request is read.
pub fn authorize(token: Option<&str>) -> ServiceResult<()> {
    if token.is_some_and(crate::secrets::is_host_token) {
        Ok(())
    } else {
        Err(ServiceError::Unauthorized(
            "Node operations are for the hosts that share this service's secrets key.".into(),
        ))
    }
}

/// Runs a node operation another host sent (its token is checked by [`authorize`]).
pub async fn node_operation(
    services: &Services,
    instance_id: &str,
    request: NodeRequest,
) -> ServiceResult<NodeReply> {
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
