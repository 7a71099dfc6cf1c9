//! Driver management (Drover): upload (`POST /mgmt/drivers`, the component as the body),
//! list, show, activate, roll back, delete.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A driver version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DriverView {
    /// `sha256:<hex>` of the component: the driver version's identity.
    pub digest: String,
    /// The driver's name.
    pub name: String,
    /// The driver's version.
    pub version: String,
    /// The contract version it implements.
    pub contract_version: String,
    /// The component's size in bytes.
    pub size: i64,
    /// Whether it is the active version of its name.
    pub active: bool,
    /// Whether it is the version a rollback returns to.
    pub previous: bool,
    /// When it was uploaded (ISO 8601).
    pub uploaded: String,
    /// Its manifest: datastore, versions, features, maturity, binaries.
    #[schema(value_type = Object)]
    pub manifest: serde_json::Value,
    /// Ids of the datastore versions whose requirement it satisfies.
    pub used_by: Vec<String>,
}

/// `GET /mgmt/drivers/{digest}` and the answers to upload, activate and rollback.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DriverResponse {
    /// The driver.
    pub driver: DriverView,
}

/// `GET /mgmt/drivers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DriversResponse {
    /// Every stored driver version.
    pub drivers: Vec<DriverView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}
