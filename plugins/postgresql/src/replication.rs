//! PostgreSQL streaming replication: a replication role on the source (its password kept in
//! the source's node directory), replicas seeded by `pg_basebackup -R` before they first start
//! (which writes `standby.signal` and `primary_conninfo`), and `pg_promote()` to detach.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::replication::SourceSetup;
use drover_driver_sdk::{ExecRequest, NodeRole, secrets};

use crate::sql;

/// The role replicas connect as.
pub const REPLICATOR: &str = "drover_replicator";
const SECRET_FILE: &str = "replication.secret";

/// `replication.enable-source`: wal_level, WAL senders and the hba line for replication are in
/// every node's configuration already, so no restart is needed.
pub fn enable_source(node: &Node) -> DriverResult<SourceSetup> {
    let password = match node.read_text(SECRET_FILE)? {
        Some(password) => password.trim().to_string(),
        None => {
            let password = secrets::password(32)?;
            node.write_text(SECRET_FILE, &password, 0o600)?;
            password
        }
    };
    let exists = !sql::run(
        node,
        "postgres",
        &format!(
            "SELECT 1 FROM pg_roles WHERE rolname = {};",
            sql::literal(REPLICATOR)
        ),
    )?
    .is_empty();
    let verb = if exists { "ALTER" } else { "CREATE" };
    sql::run(
        node,
        "postgres",
        &format!(
            "{verb} ROLE {} WITH REPLICATION LOGIN PASSWORD {};",
            sql::ident(REPLICATOR),
            sql::literal(&password)
        ),
    )?;
    Ok(SourceSetup {
        info: format!("{REPLICATOR}:{password}"),
        restart_required: false,
    })
}

/// Seeds an empty replica from its source with `pg_basebackup`; called by `initialize` for a
/// replica instead of `initdb`.
pub fn seed(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let NodeRole::Replica(source) = &context.role else {
        return Err(DriverError::invalid(
            "context.role",
            "the node is not a replica",
        ));
    };
    let (user, password) = source.info.split_once(':').unwrap_or((REPLICATOR, ""));
    let data = format!("{}/data", context.directory);
    let output = node
        .exec(&ExecRequest {
            argv: [
                "pg_basebackup",
                "-D",
                &data,
                "-h",
                &source.address.host,
                "-p",
                &source.address.port.to_string(),
                "-U",
                user,
                "-X",
                "stream",
                "-R",
                "--checkpoint=fast",
            ]
            .iter()
            .map(|a| a.to_string())
            .collect(),
            stdin: None,
            env: vec![("PGPASSWORD".into(), password.to_string())],
            timeout_ms: 600_000,
        })
        .map_err(DriverError::Failed)?;
    if output.status != 0 {
        return Err(DriverError::failed(format!(
            "pg_basebackup from {}:{} failed: {}",
            source.address.host,
            source.address.port,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// `replication.attach-replica`: ready once the WAL receiver streams.
pub fn attach_replica(node: &Node) -> DriverResult<()> {
    let rows = sql::run(node, "postgres", "SELECT status FROM pg_stat_wal_receiver;")?;
    if rows.first().and_then(|r| r.first()).map(String::as_str) == Some("streaming") {
        Ok(())
    } else {
        Err(DriverError::not_ready(
            "the replica is not streaming from its source yet",
        ))
    }
}

/// `replication.detach-replica`: promote, and forget the source.
pub fn detach_replica(node: &Node) -> DriverResult<()> {
    let in_recovery = sql::run(node, "postgres", "SELECT pg_is_in_recovery();")?;
    if in_recovery
        .first()
        .and_then(|r| r.first())
        .map(String::as_str)
        == Some("t")
    {
        sql::run(node, "postgres", "SELECT pg_promote(true, 60);")?;
    }
    sql::run(
        node,
        "postgres",
        "ALTER SYSTEM RESET primary_conninfo; SELECT pg_reload_conf();",
    )?;
    Ok(())
}
