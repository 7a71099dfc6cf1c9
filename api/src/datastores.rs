//! Datastores and their versions, as users see them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::Link;

/// A datastore version in a datastore's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionSummary {
    /// The version's id.
    pub id: String,
    /// Its name (for example `7.0`).
    pub name: String,
    /// Whether instances may be created with it.
    pub active: bool,
    /// Links.
    pub links: Vec<Link>,
}

/// A datastore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DatastoreView {
    /// Its id.
    pub id: String,
    /// Its name (the datastore type in requests).
    pub name: String,
    /// The id of its default version.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub default_version: Option<String>,
    /// The versions the caller may see.
    pub versions: Vec<VersionSummary>,
    /// Links.
    pub links: Vec<Link>,
}

/// `GET /datastores`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatastoresResponse {
    /// The datastores.
    pub datastores: Vec<DatastoreView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// `GET /datastores/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatastoreResponse {
    /// The datastore.
    pub datastore: DatastoreView,
}

/// A datastore version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DatastoreVersionView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The datastore's id.
    pub datastore: String,
    /// The datastore's name.
    pub datastore_name: String,
    /// The version number, as Trove shows it (the name).
    pub version: String,
    /// Whether instances may be created with it.
    pub active: bool,
    /// Trove's image field.
    pub image: String,
    /// Trove's packages field.
    pub packages: String,
    /// Trove's image tags: none, nodes are not started from images.
    pub image_tags: Vec<String>,
    /// What serves it: in Trove the guest agent's manager class, here the driver's name.
    pub registry_ext: String,
    /// What replicates it: in Trove a strategy class, here the driver too (whether it offers
    /// replication is in its manifest, `GET /mgmt/drivers`).
    pub repl_strategy: String,
    /// Links.
    pub links: Vec<Link>,
}

/// `GET /datastores/{ds}/versions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatastoreVersionsResponse {
    /// The versions.
    pub versions: Vec<DatastoreVersionView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// `GET /datastores/{ds}/versions/{v}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatastoreVersionResponse {
    /// The version.
    pub version: DatastoreVersionView,
}
