//! Snapshots of a source from which the replicas of one request are all seeded (the API's
//! `replica_count`): the source is copied once and every replica starts from the same point.
//!
//! A snapshot lives in a directory of its own beside the node directories, handed to the
//! driver as a node on which no server runs. It is taken by the first replica of the batch to
//! get there and removed by the health pass once no task of the batch is left.

use std::sync::Arc;

use crate::backend::{NodeInfo, ProcessNode};
use crate::runtime::Driver;
use crate::runtime::types::ReplicaSource;

use super::Inner;
use super::work::{StepError, StepResult};

const PREFIX: &str = "snapshot-";

/// The directory of a batch's snapshot, as a node.
pub fn node(inner: &Inner, batch: &str) -> Arc<ProcessNode> {
    let name = format!("{PREFIX}{batch}");
    inner.backend.node(&NodeInfo {
        id: name.clone(),
        directory: name,
        port: 0,
    })
}

/// Has the driver take the batch's snapshot of `source`, unless it already has.
pub async fn take(
    inner: &Inner,
    driver: &Driver,
    batch: &str,
    source_node: Arc<dyn crate::runtime::NodeOps>,
    source: &ReplicaSource,
) -> StepResult {
    let snapshot = node(inner, batch);
    snapshot.create().await.map_err(StepError::new)?;
    driver.take_snapshot(snapshot, source_node, source).await?;
    Ok(())
}

/// Removes the snapshots of batches that have no task left.
pub async fn sweep(inner: &Inner) {
    let Ok(entries) = std::fs::read_dir(inner.backend.nodes_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(batch) = name.strip_prefix(PREFIX) else {
            continue;
        };
        match inner.store.active_tasks_naming(batch).await {
            Ok(0) => match node(inner, batch).destroy().await {
                Ok(()) => tracing::info!(batch, "removed the snapshot of a finished batch"),
                Err(error) => tracing::warn!(batch, "could not remove a snapshot: {error}"),
            },
            Ok(_) => {}
            Err(error) => tracing::warn!(batch, "could not look up a batch's tasks: {error}"),
        }
    }
}
