//! What the PostgreSQL driver serves and needs.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{Binary, features};

/// The datastore versions this driver serves.
pub const VERSIONS: &[&str] = &["15"];

fn binary(name: &str, package: &str, purpose: &str) -> Binary {
    Binary {
        name: name.into(),
        package: package.into(),
        purpose: purpose.into(),
    }
}

pub fn manifest() -> DriverManifest {
    DriverManifest {
        name: "postgresql".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        contract_version: CONTRACT_VERSION.into(),
        datastore: "postgresql".into(),
        versions: VERSIONS.iter().map(|v| v.to_string()).collect(),
        description: "PostgreSQL 15 relational database".into(),
        maturity: Maturity::Experimental,
        features: [
            features::CONFIGURATION,
            features::REPLICATION,
            features::REPLICA_SNAPSHOT,
            features::DETACH,
            features::PROMOTE,
            features::DATABASES,
            features::USERS,
            features::ROOT,
            features::ROOT_DISABLE,
        ]
        .iter()
        .map(|f| f.to_string())
        .collect(),
        binaries: vec![
            binary("postgres", "postgresql-15", "the PostgreSQL server"),
            binary(
                "initdb",
                "postgresql-15",
                "creating a node's data directory",
            ),
            binary("pg_isready", "postgresql-client-15", "readiness checks"),
            binary(
                "pg_basebackup",
                "postgresql-client-15",
                "seeding replicas from their source",
            ),
            binary(
                "mv",
                "coreutils",
                "seeding replicas from a snapshot of their source",
            ),
            binary(
                "pg_rewind",
                "postgresql-15",
                "turning a former source into a standby of the new one",
            ),
            binary(
                "psql",
                "postgresql-client-15",
                "administration: databases, users, configuration",
            ),
        ],
    }
}
