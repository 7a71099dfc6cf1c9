//! Quotas (`/mgmt/quotas/{project}`) and limits (`/limits`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::Count;

/// One resource of a project's quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuotaView {
    /// `instances`, `volumes`, `backups` or `clusters`.
    pub resource: String,
    /// Held by existing resources.
    pub in_use: i64,
    /// Held by resources being built.
    pub reserved: i64,
    /// The limit; -1 is unlimited.
    pub limit: i64,
}

/// `GET /mgmt/quotas/{project}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotasResponse {
    /// The project's quotas.
    pub quotas: Vec<QuotaView>,
}

/// `PUT /mgmt/quotas/{project}` request: resource → new limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateQuotasRequest {
    /// The new limits.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub quotas: BTreeMap<String, Count>,
}

/// `PUT /mgmt/quotas/{project}` response: resource → limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateQuotasResponse {
    /// The limits now.
    pub quotas: BTreeMap<String, i64>,
}

/// An entry of `GET /limits`: the absolute limits with usage, or a rate limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LimitView {
    /// The project's quotas (`verb` is `ABSOLUTE`).
    Absolute(AbsoluteLimits),
    /// A rate limit.
    Rate(RateLimitView),
}

/// The project's quotas and what it uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AbsoluteLimits {
    /// `ABSOLUTE`.
    pub verb: String,
    /// Instances allowed.
    pub max_instances: i64,
    /// Volume gigabytes allowed.
    pub max_volumes: i64,
    /// Memory (MiB) allowed: -1, Drover keeps no quota on flavors' memory.
    pub max_ram: i64,
    /// Backups allowed.
    pub max_backups: i64,
    /// Clusters allowed.
    pub max_clusters: i64,
    /// Instances in use or being built.
    pub total_instances_used: i64,
    /// Volume gigabytes in use or being built.
    pub total_volumes_used: i64,
    /// Backups in use.
    pub total_backups_used: i64,
    /// Clusters in use.
    pub total_clusters_used: i64,
}

/// A rate limit and what remains of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RateLimitView {
    /// The HTTP verb.
    pub verb: String,
    /// The URI pattern.
    pub uri: String,
    /// The regular expression.
    pub regex: String,
    /// Requests per unit.
    pub value: u32,
    /// Requests left now.
    pub remaining: u32,
    /// SECOND, MINUTE, HOUR or DAY.
    pub unit: String,
    /// When the next request is allowed (ISO 8601).
    #[serde(rename = "nextAvailable")]
    pub next_available: String,
}

/// `GET /limits`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LimitsResponse {
    /// The absolute limits first, then each rate limit.
    pub limits: Vec<LimitView>,
}
