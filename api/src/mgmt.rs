//! The management API for datastore versions (Trove's liberty registration spec), with the
//! driver each version is served by.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which driver serves a version: its name and a semver requirement on its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DriverRequirement {
    /// The driver's name.
    pub name: String,
    /// A semver requirement, for example `^0.1`.
    pub version_requirement: String,
}

/// A version to register. Trove's field names are accepted (`datastore_name` or `datastore`,
/// `datastore_manager` or `manager`); the manager is the driver's name unless `driver` says
/// otherwise.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewDatastoreVersion {
    /// The datastore; created if it does not exist.
    #[serde(alias = "datastore")]
    pub datastore_name: String,
    /// The version's name.
    pub name: String,
    /// Trove's manager: the driver's name.
    #[serde(alias = "manager", default)]
    pub datastore_manager: Option<String>,
    /// The driver and version requirement (Drover).
    #[serde(default)]
    pub driver: Option<DriverRequirement>,
    /// Trove's image field.
    #[serde(default)]
    pub image: Option<String>,
    /// Trove's packages, as a list or a comma-separated string.
    #[serde(default)]
    pub packages: Option<serde_json::Value>,
    /// Whether instances may be created with it (default true).
    #[serde(default)]
    pub active: Option<bool>,
    /// Whether it becomes the datastore's default.
    #[serde(default)]
    pub default: Option<bool>,
    /// `public` or `private`.
    #[serde(default)]
    pub visibility: Option<String>,
}

/// `POST /mgmt/datastore-versions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateDatastoreVersionRequest {
    /// The version.
    pub version: NewDatastoreVersion,
}

/// What `PATCH /mgmt/datastore-versions/{id}` may change; fields left out stay.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DatastoreVersionPatch {
    /// Trove's manager: the driver's name.
    #[serde(alias = "manager", default)]
    pub datastore_manager: Option<String>,
    /// The driver and version requirement.
    #[serde(default)]
    pub driver: Option<DriverRequirement>,
    /// Trove's image field.
    #[serde(default)]
    pub image: Option<String>,
    /// Trove's packages.
    #[serde(default)]
    pub packages: Option<serde_json::Value>,
    /// Whether instances may be created with it.
    #[serde(default)]
    pub active: Option<bool>,
    /// Whether it is the datastore's default.
    #[serde(default)]
    pub default: Option<bool>,
    /// `public` or `private`.
    #[serde(default)]
    pub visibility: Option<String>,
    /// Projects to share a private version with.
    #[serde(default)]
    pub add_members: Vec<String>,
    /// Projects to stop sharing it with.
    #[serde(default)]
    pub remove_members: Vec<String>,
    /// Flavors to limit it to (empty: all flavors).
    #[serde(default)]
    pub flavors: Option<Vec<String>>,
}

/// A registered datastore version, as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MgmtDatastoreVersionView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The datastore's id.
    pub datastore_id: String,
    /// The datastore's name.
    pub datastore_name: String,
    /// Trove's manager: the driver's name.
    pub datastore_manager: String,
    /// The driver and requirement.
    pub driver: DriverRequirement,
    /// The loaded driver that serves it now, if any.
    pub driver_loaded: Option<String>,
    /// Why no loaded driver serves it, if none does.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub driver_problem: Option<String>,
    /// Trove's image field.
    pub image: String,
    /// Trove's packages field.
    pub packages: String,
    /// Whether instances may be created with it.
    pub active: bool,
    /// Whether it is its datastore's default.
    pub default: bool,
    /// `public` or `private`.
    pub visibility: String,
    /// Projects a private version is shared with.
    pub members: Vec<String>,
    /// Flavors it is limited to (empty: all).
    pub flavors: Vec<String>,
}

/// `GET /mgmt/datastore-versions/{id}`, and the answer to create and patch.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MgmtDatastoreVersionResponse {
    /// The version.
    pub version: MgmtDatastoreVersionView,
}

/// `GET /mgmt/datastore-versions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MgmtDatastoreVersionsResponse {
    /// The versions.
    pub versions: Vec<MgmtDatastoreVersionView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// An instance as the management API shows it: the instance view, and what an operator needs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MgmtInstanceView {
    /// Everything the instance view shows.
    #[serde(flatten)]
    pub instance: crate::instances::InstanceView,
    /// Whether it has been deleted.
    pub deleted: bool,
    /// When it was deleted (ISO 8601).
    pub deleted_at: Option<String>,
    /// What is under way, in Trove's words.
    pub task_description: String,
    /// What the health pass last saw of the datastore service (Trove's `service_status`).
    pub service_status: String,
    /// The node that runs it (Trove: the Nova server).
    pub server: MgmtServerView,
}

/// The node behind an instance, in the place of Trove's Nova server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MgmtServerView {
    /// The node's directory name.
    pub id: String,
    /// The instance's name.
    pub name: String,
    /// The instance's status.
    pub status: String,
    /// The host it runs on.
    pub host: String,
}

/// `GET /mgmt/instances`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MgmtInstancesResponse {
    /// The instances.
    pub instances: Vec<MgmtInstanceView>,
    /// A `next` link when the list goes on.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// `GET /mgmt/instances/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MgmtInstanceResponse {
    /// The instance.
    pub instance: MgmtInstanceView,
}

/// When root was first enabled on an instance, and by whom (`Never`/`Nobody` if it never was).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RootHistoryView {
    /// The instance.
    pub id: String,
    /// When (ISO 8601), or `Never`.
    pub enabled: String,
    /// The user id, or `Nobody`.
    pub user: String,
}

/// `GET /mgmt/instances/{id}/root`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RootHistoryResponse {
    /// The history.
    pub root_history: RootHistoryView,
}
