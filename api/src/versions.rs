//! Version discovery: `GET /` and `GET /v1.0`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::Link;

/// One API version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionView {
    /// `v1.0`.
    pub id: String,
    /// `CURRENT`.
    pub status: String,
    /// When the version last changed.
    pub updated: String,
    /// Its `self` link.
    pub links: Vec<Link>,
}

/// `GET /`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionsResponse {
    /// The versions offered.
    pub versions: Vec<VersionView>,
}

/// `GET /v1.0`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionResponse {
    /// This version.
    pub version: VersionView,
}

impl VersionView {
    /// The v1.0 version whose base URL is `base` (scheme and host).
    pub fn v1(base: &str) -> VersionView {
        VersionView {
            id: "v1.0".into(),
            status: "CURRENT".into(),
            updated: "2012-08-01T00:00:00Z".into(),
            links: vec![Link {
                href: format!("{base}/v1.0/"),
                rel: "self".into(),
            }],
        }
    }
}
