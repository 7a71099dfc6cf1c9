//! Snapshots of a source from which the replicas of one request are all seeded (the API's
//! `replica_count`): the source is copied once and every replica starts from the same point.
//!
//! A snapshot lives in a directory of its own beside the node directories, handed to the
//! driver as a node on which no server runs (with an identity of its own). The replica set's
//! parent task takes it before it lets its children go and removes it once they have all
//! ended, so it is never looked for by name. No node can read another node's files, so each
//! replica gets a private copy in its own directory, made by the host, for its `initialize`.

use std::sync::Arc;

use crate::backend::{Node, NodeInfo};
use crate::runtime::Driver;
use crate::runtime::types::ReplicaSource;

use super::Inner;
use super::context::InstanceNode;
use super::task::StepError;

/// Where a replica's private copy of its batch's snapshot is, in its node directory.
pub const COPY: &str = ".drover-snapshot";

/// The memory commands on a snapshot may use, MiB: they copy, they do not serve.
const MEMORY_MB: u32 = 512;

/// A batch's snapshot, as a node of this host's backend (no server runs on it).
fn info(batch: &str) -> NodeInfo {
    let name = format!("snapshot-{batch}");
    NodeInfo {
        id: name.clone(),
        directory: name,
        port: 0,
        memory_mb: MEMORY_MB,
    }
}

/// The directory of a batch's snapshot, as a node.
pub fn node(inner: &Inner, batch: &str) -> Arc<dyn Node> {
    inner.backend.node(&info(batch))
}

/// Gives `replica` its private copy of the batch's snapshot, unless it has it. The replica is
/// on the snapshot's host (replicas seed from a snapshot only beside their source).
pub async fn lend(inner: &Inner, batch: &str, replica: &InstanceNode) -> Result<(), StepError> {
    if replica
        .node
        .exists(std::path::Path::new(COPY))
        .await
        .map_err(StepError::new)?
    {
        return Ok(());
    }
    inner
        .backend
        .copy_between(&info(batch), &replica.info, COPY)
        .await
        .map_err(StepError::new)
}

/// Removes a replica's copy once it is attached.
pub async fn give_back(replica: &dyn Node) -> Result<(), StepError> {
    replica
        .remove(std::path::Path::new(COPY))
        .await
        .map_err(StepError::new)
}

/// Has the driver take the batch's snapshot of `source` (again, if a crash left half of one).
pub async fn take(
    inner: &Inner,
    driver: &Driver,
    batch: &str,
    source_node: Arc<dyn crate::runtime::NodeOps>,
    source: &ReplicaSource,
) -> Result<(), StepError> {
    let snapshot = node(inner, batch);
    snapshot.destroy().await.map_err(StepError::new)?;
    snapshot.create().await.map_err(StepError::new)?;
    driver.take_snapshot(snapshot, source_node, source).await?;
    Ok(())
}

/// Removes a batch's snapshot.
pub async fn remove(inner: &Inner, batch: &str) -> Result<(), StepError> {
    node(inner, batch).destroy().await.map_err(StepError::new)
}
