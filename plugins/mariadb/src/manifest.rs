//! What the MariaDB driver serves and needs.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{Binary, features};

/// The datastore versions this driver serves.
pub const VERSIONS: &[&str] = &["10.11"];

fn binary(name: &str, package: &str, purpose: &str) -> Binary {
    Binary {
        name: name.into(),
        package: package.into(),
        purpose: purpose.into(),
    }
}

pub fn manifest() -> DriverManifest {
    DriverManifest {
        name: "mariadb".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        contract_version: CONTRACT_VERSION.into(),
        datastore: "mariadb".into(),
        versions: VERSIONS.iter().map(|v| v.to_string()).collect(),
        description: "MariaDB 10.11 relational database".into(),
        maturity: Maturity::Experimental,
        features: [
            features::CONFIGURATION,
            features::DATABASES,
            features::USERS,
            features::ROOT,
            features::ROOT_DISABLE,
            features::REPLICATION,
            features::REPLICA_SNAPSHOT,
            features::DETACH,
            features::PROMOTE,
        ]
        .iter()
        .map(|f| f.to_string())
        .collect(),
        binaries: vec![
            binary("mariadbd", "mariadb-server", "the MariaDB server"),
            binary(
                "mariadb-install-db",
                "mariadb-server",
                "creating a node's data directory",
            ),
            binary("mariadb-admin", "mariadb-client", "readiness checks"),
            binary(
                "mariadb",
                "mariadb-client",
                "administration: databases, users, configuration",
            ),
            binary(
                "mariadb-dump",
                "mariadb-client",
                "seeding replicas with a consistent copy of their source",
            ),
            binary(
                "mv",
                "coreutils",
                "moving a complete data directory into place",
            ),
        ],
    }
}
