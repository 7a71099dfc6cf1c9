//! Flavors.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::{Count, Link};

/// A flavor as clients need it: `id` is a number when the id is one (null otherwise) and
/// `str_id` always the string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FlavorView {
    /// The id as a number, or null for non-numeric ids.
    pub id: Option<i64>,
    /// The id as a string.
    pub str_id: String,
    /// The name.
    pub name: String,
    /// Memory, MiB.
    pub ram: i64,
    /// Virtual CPUs.
    pub vcpus: i64,
    /// Root disk, GiB: 0, a node's files live on its volume.
    pub disk: i64,
    /// Ephemeral disk, GiB: 0.
    pub ephemeral: i64,
    /// Links.
    pub links: Vec<Link>,
}

/// `GET /flavors`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlavorsResponse {
    /// The flavors.
    pub flavors: Vec<FlavorView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// `GET /flavors/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlavorResponse {
    /// The flavor.
    pub flavor: FlavorView,
}

/// `POST /mgmt/flavors` (Drover: flavors are defined by the operator).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateFlavorRequest {
    /// The flavor.
    pub flavor: NewFlavor,
}

/// A flavor to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewFlavor {
    /// Its id (letters, digits, `-`, `_`, `.`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Memory, MiB.
    pub ram: Count,
    /// Virtual CPUs.
    pub vcpus: Count,
}
