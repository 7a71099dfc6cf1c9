//! What the Redis driver serves and needs.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{Binary, features};

/// The datastore versions this driver serves.
pub const VERSIONS: &[&str] = &["7.0"];

pub fn manifest() -> DriverManifest {
    DriverManifest {
        name: "redis".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        contract_version: CONTRACT_VERSION.into(),
        datastore: "redis".into(),
        versions: VERSIONS.iter().map(|v| v.to_string()).collect(),
        description: "Redis 7 in-memory data store".into(),
        maturity: Maturity::Experimental,
        features: vec![
            features::CONFIGURATION.into(),
            features::REPLICATION.into(),
            features::DETACH.into(),
            features::PROMOTE.into(),
            features::USERS.into(),
            features::ROOT.into(),
            features::ROOT_DISABLE.into(),
        ],
        binaries: vec![
            Binary {
                name: "redis-server".into(),
                package: "redis-server".into(),
                purpose: "the Redis server".into(),
            },
            Binary {
                name: "redis-cli".into(),
                package: "redis-tools".into(),
                purpose: "administration: users, configuration, replication".into(),
            },
        ],
    }
}
