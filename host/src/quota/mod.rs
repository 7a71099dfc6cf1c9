//! Quotas (how much of each resource a project may hold) and rate limits (how many requests of
//! each verb a project may make). Limits come from configuration, overridden per project in
//! the store; usage is counted by the store inside the transactions that create and delete
//! resources.

mod rate;

pub use rate::{RateLimit, RateLimiter, RateStatus};

use crate::config::QuotaDefaults;
use crate::store::{Store, StoreResult};

/// The resources quotas apply to, by their API names.
pub const RESOURCES: [&str; 4] = ["instances", "volumes", "backups", "clusters"];

/// One resource of a project's quota, as `GET /mgmt/quotas/{project}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaLine {
    /// The resource.
    pub resource: String,
    /// Held by existing resources.
    pub in_use: i64,
    /// Held by resources being built.
    pub reserved: i64,
    /// The limit; negative means unlimited.
    pub limit: i64,
}

/// The quota rules of an installation.
#[derive(Debug, Clone)]
pub struct Quotas {
    defaults: QuotaDefaults,
}

impl Quotas {
    /// Quotas with these defaults.
    pub fn new(defaults: QuotaDefaults) -> Quotas {
        Quotas { defaults }
    }

    fn default_limit(&self, resource: &str) -> i64 {
        match resource {
            "instances" => self.defaults.instances,
            "volumes" => self.defaults.volumes,
            "backups" => self.defaults.backups,
            "clusters" => self.defaults.clusters,
            _ => 0,
        }
    }

    /// A project's limit for one resource.
    pub async fn limit(&self, store: &Store, project_id: &str, resource: &str) -> StoreResult<i64> {
        let overrides = store.quota_overrides(project_id).await?;
        Ok(overrides
            .iter()
            .find(|(r, _)| r == resource)
            .map(|(_, limit)| *limit)
            .unwrap_or_else(|| self.default_limit(resource)))
    }

    /// A project's limits and usage for every resource.
    pub async fn show(&self, store: &Store, project_id: &str) -> StoreResult<Vec<QuotaLine>> {
        let overrides = store.quota_overrides(project_id).await?;
        let usages = store.usages(project_id).await?;
        Ok(RESOURCES
            .iter()
            .map(|resource| {
                let usage = usages.iter().find(|u| u.resource == *resource);
                QuotaLine {
                    resource: resource.to_string(),
                    in_use: usage.map_or(0, |u| u.in_use),
                    reserved: usage.map_or(0, |u| u.reserved),
                    limit: overrides
                        .iter()
                        .find(|(r, _)| r == resource)
                        .map(|(_, limit)| *limit)
                        .unwrap_or_else(|| self.default_limit(resource)),
                }
            })
            .collect())
    }
}
