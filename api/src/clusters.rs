//! Clusters.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::{FlavorRef, Link};
use crate::instances::{DatastoreRef, InstanceDatastore, VolumeRequest};

/// A member to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClusterMemberRequest {
    /// Its flavor.
    #[serde(rename = "flavorRef")]
    pub flavor_ref: FlavorRef,
    /// Its volume.
    #[serde(default)]
    pub volume: Option<VolumeRequest>,
    /// A name.
    #[serde(default)]
    pub name: Option<String>,
    /// A role the datastore lets users choose.
    #[serde(default, alias = "instance_type")]
    pub role: Option<String>,
}

/// A cluster to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewCluster {
    /// Its name.
    pub name: String,
    /// Its datastore and version.
    pub datastore: DatastoreRef,
    /// Its members.
    pub instances: Vec<ClusterMemberRequest>,
}

/// `POST /clusters`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateClusterRequest {
    /// The cluster.
    pub cluster: NewCluster,
}

/// A cluster's current task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterTask {
    /// Its code.
    pub id: i64,
    /// `NONE`, `BUILDING`, `GROWING_CLUSTER`, …
    pub name: String,
    /// What it means.
    pub description: String,
}

/// A member of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterMemberView {
    /// The instance id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its role.
    #[serde(rename = "type")]
    pub role: String,
    /// Its status.
    pub status: String,
}

/// A cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it is doing.
    pub task: ClusterTask,
    /// Its datastore.
    pub datastore: InstanceDatastore,
    /// Its members.
    pub instances: Vec<ClusterMemberView>,
    /// When it was created.
    pub created: String,
    /// When it last changed.
    pub updated: String,
    /// Links.
    pub links: Vec<Link>,
}

/// `GET /clusters/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClusterResponse {
    /// The cluster.
    pub cluster: ClusterView,
}

/// `GET /clusters`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClustersResponse {
    /// The clusters.
    pub clusters: Vec<ClusterView>,
}

/// `POST /clusters/{id}`: grow, shrink, reset-status or upgrade.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterAction {
    /// Members to add.
    #[serde(default)]
    pub grow: Option<Vec<ClusterMemberRequest>>,
    /// Members to remove (`[{"id": …}]`).
    #[serde(default)]
    pub shrink: Option<Vec<crate::common::ResourceRef>>,
    /// Reset a stuck task (admins).
    #[serde(rename = "reset-status", default)]
    #[schema(value_type = Option<Object>)]
    pub reset_status: Option<serde_json::Value>,
    /// Upgrade to a datastore version.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub upgrade: Option<serde_json::Value>,
}
