//! Snapshots of a source from which the replicas of one request are all seeded (the API's
//! `replica_count`): the source is copied once and every replica starts from the same point.
//!
//! A snapshot lives in a directory of its own beside the node directories, handed to the
//! driver as a node on which no server runs (with an identity of its own). The replica set's
//! parent task takes it before it lets its children go and removes it once they have all
//! ended, so it is never looked for by name. No node can read another node's files, so each
//! replica gets a private copy in its own directory, made by the host, for its `initialize`.

use std::sync::Arc;

use crate::backend::{NodeInfo, ProcessNode};
use crate::runtime::Driver;
use crate::runtime::types::ReplicaSource;

use super::Inner;
use super::task::StepError;

/// Where a replica's private copy of its batch's snapshot is, in its node directory.
pub const COPY: &str = ".drover-snapshot";

/// The memory commands on a snapshot may use, MiB: they copy, they do not serve.
const MEMORY_MB: u32 = 512;

/// The directory of a batch's snapshot, as a node.
pub fn node(inner: &Inner, batch: &str) -> Arc<ProcessNode> {
    let name = format!("snapshot-{batch}");
    inner.backend.node(&NodeInfo {
        id: name.clone(),
        directory: name,
        port: 0,
        memory_mb: MEMORY_MB,
    })
}

/// Gives `replica` its private copy of the batch's snapshot, unless it has it.
pub async fn lend(inner: &Inner, batch: &str, replica: &ProcessNode) -> Result<(), StepError> {
    use crate::runtime::NodeOps as _;
    if replica
        .exists(std::path::Path::new(COPY))
        .await
        .map_err(StepError::new)?
    {
        return Ok(());
    }
    replica
        .copy_from(&node(inner, batch), COPY)
        .await
        .map_err(StepError::new)
}

/// Removes a replica's copy once it is attached.
pub async fn give_back(replica: &ProcessNode) -> Result<(), StepError> {
    use crate::runtime::NodeOps as _;
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
