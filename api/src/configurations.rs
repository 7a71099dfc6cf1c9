//! Configuration groups and parameters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::{Link, ResourceRef};
use crate::instances::DatastoreRef;

/// A configuration group to create, or the whole new content of one (`PUT`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct NewConfiguration {
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Parameter → value, with JSON's types (boolean, number, string).
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Object>)]
    pub values: BTreeMap<String, serde_json::Value>,
    /// The datastore version the values are for.
    #[serde(default)]
    pub datastore: Option<DatastoreRef>,
}

/// `POST /configurations`, `PUT /configurations/{id}` (replace) and `PATCH` (merge).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConfigurationRequest {
    /// The group.
    pub configuration: NewConfiguration,
}

/// A configuration group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConfigurationView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its values.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub values: BTreeMap<String, serde_json::Value>,
    /// The datastore's name.
    pub datastore_name: String,
    /// The datastore version's id.
    pub datastore_version_id: String,
    /// The datastore version's name.
    pub datastore_version_name: String,
    /// The datastore version's number.
    pub datastore_version_number: String,
    /// How many instances it is attached to.
    pub instance_count: i64,
    /// When it was created (ISO 8601).
    pub created: String,
    /// When it last changed (ISO 8601).
    pub updated: String,
    /// Links.
    pub links: Vec<Link>,
}

/// `GET /configurations/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConfigurationResponse {
    /// The group.
    pub configuration: ConfigurationView,
}

/// `GET /configurations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConfigurationsResponse {
    /// The groups.
    pub configurations: Vec<ConfigurationView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// `GET /configurations/{id}/instances`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConfigurationInstancesResponse {
    /// The instances it is attached to.
    pub instances: Vec<ResourceRef>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// A parameter of a datastore version's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParameterView {
    /// Its name.
    pub name: String,
    /// Trove's type: `boolean`, `integer`, `float` or `string`.
    #[serde(rename = "type")]
    pub parameter_type: String,
    /// The smallest value.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub min: Option<serde_json::Value>,
    /// The largest value.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max: Option<serde_json::Value>,
    /// Whether changing it needs a restart.
    pub restart_required: bool,
    /// The datastore version it belongs to.
    pub datastore_version_id: String,
    /// Drover's finer kind: boolean, integer, float, text, enumeration, size, duration.
    pub kind: String,
    /// Allowed values of an enumeration.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub allowed: Vec<String>,
    /// The unit of numbers.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit: Option<String>,
    /// The datastore's default.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub default: Option<String>,
    /// What it does.
    pub description: String,
}

/// `GET …/parameters` (the key is hyphenated, as Trove's).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParametersResponse {
    /// The parameters.
    #[serde(rename = "configuration-parameters")]
    pub parameters: Vec<ParameterView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// A parameter the service controls itself, and why users may not set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExcludedParameterView {
    /// Its name.
    pub name: String,
    /// Why it cannot be set in a configuration group.
    pub reason: String,
}

/// `GET /mgmt/datastores/versions/{id}/parameters`: the catalog and what it leaves out.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MgmtParametersResponse {
    /// The parameters users may set.
    #[serde(rename = "configuration-parameters")]
    pub parameters: Vec<ParameterView>,
    /// The parameters the service controls.
    #[serde(rename = "excluded-parameters")]
    pub excluded: Vec<ExcludedParameterView>,
}
