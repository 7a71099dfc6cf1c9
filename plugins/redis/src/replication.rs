//! Redis replication: a replicator ACL user on the source (its password kept in the source's
//! node directory, so every replica gets the same one), and `REPLICAOF` on replicas, which
//! seeds them with a full sync once they are running.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::replication::{ReplicationRole, ReplicationStatus, SourceSetup};
use drover_driver_sdk::{NodeRole, secrets};

use crate::admin;

/// The ACL user replicas authenticate as: replication commands only.
pub const REPLICATOR: &str = "drover-replicator";
const SECRET_FILE: &str = "replication.secret";

/// `replication.enable-source`.
pub fn enable_source(node: &Node) -> DriverResult<SourceSetup> {
    let password = secrets::kept_password(node, SECRET_FILE)?;
    let secret = format!(">{password}");
    admin::command(
        node,
        &[
            "ACL",
            "SETUSER",
            REPLICATOR,
            "reset",
            "on",
            &secret,
            "+psync",
            "+replconf",
            "+ping",
        ],
    )?;
    admin::save_acl(node)?;
    Ok(SourceSetup {
        info: format!("{REPLICATOR}:{password}"),
        restart_required: false,
    })
}

/// The source a replica follows and the credentials it uses, from its context.
pub fn source_of(context: &NodeContext) -> Option<(String, u16, String, String)> {
    let NodeRole::Replica(source) = &context.role else {
        return None;
    };
    let (user, password) = source.info.split_once(':').unwrap_or((REPLICATOR, ""));
    Some((
        source.address.host.clone(),
        source.address.port,
        user.to_string(),
        password.to_string(),
    ))
}

/// `replication.attach-replica`: follow the source now; ready once the link is up (until then
/// the host is told to ask again).
pub fn attach_replica(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let (host, port, user, password) = source_of(context)
        .ok_or_else(|| DriverError::invalid("context.role", "the node is not a replica"))?;
    admin::command(node, &["CONFIG", "SET", "masteruser", &user])?;
    admin::command(node, &["CONFIG", "SET", "masterauth", &password])?;
    admin::command(node, &["REPLICAOF", &host, &port.to_string()])?;
    let info = admin::command(node, &["INFO", "replication"])?;
    if info
        .lines
        .iter()
        .any(|line| line.trim() == "master_link_status:up")
    {
        Ok(())
    } else {
        Err(DriverError::not_ready(format!(
            "the replica is still syncing from {host}:{port}"
        )))
    }
}

/// `replication.detach-replica`: stop following and accept writes, keeping the data.
pub fn detach_replica(node: &Node) -> DriverResult<()> {
    admin::command(node, &["REPLICAOF", "NO", "ONE"])?;
    admin::command(node, &["CONFIG", "SET", "masterauth", ""])?;
    admin::command(node, &["CONFIG", "SET", "masteruser", ""])?;
    Ok(())
}

/// A number from `INFO replication`.
fn info_field(node: &Node, field: &str) -> DriverResult<Option<u64>> {
    let info = admin::command(node, &["INFO", "replication"])?;
    Ok(info.lines.iter().find_map(|line| {
        line.trim()
            .strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|value| value.trim().parse().ok())
    }))
}

/// `replication.set-read-only`: a source stops taking writes by pausing them (clients wait
/// rather than fail, and meet a replica when the pause ends); a replica is always read-only.
pub fn set_read_only(node: &Node, read_only: bool) -> DriverResult<()> {
    if read_only {
        admin::command(node, &["CLIENT", "PAUSE", "60000", "WRITE"])?;
    } else {
        admin::command(node, &["CLIENT", "UNPAUSE"])?;
    }
    Ok(())
}

/// `replication.position`: the replication offset a node has produced (a source) or applied
/// (a replica).
pub fn position(node: &Node) -> DriverResult<String> {
    let offset = match info_field(node, "slave_repl_offset")? {
        Some(applied) => applied,
        None => info_field(node, "master_repl_offset")?.unwrap_or(0),
    };
    Ok(offset.to_string())
}

/// `replication.caught-up`.
pub fn caught_up(node: &Node, position: &str) -> DriverResult<bool> {
    let wanted: u64 = position.parse().map_err(|_| {
        DriverError::invalid("position", format!("{position:?} is not a Redis offset"))
    })?;
    Ok(info_field(node, "slave_repl_offset")?.is_some_and(|applied| applied >= wanted))
}

/// `replication.compare-positions`.
pub fn compare_positions(a: &str, b: &str) -> DriverResult<i8> {
    let parse = |p: &str| {
        p.parse::<u64>()
            .map_err(|_| DriverError::invalid("position", format!("{p:?} is not a Redis offset")))
    };
    Ok(match parse(a)?.cmp(&parse(b)?) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    })
}

/// `replication.demote`: the old source follows the new one, then its paused writers are let
/// go (they now meet a read-only replica).
pub fn demote(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let (host, port, user, password) = source_of(context)
        .ok_or_else(|| DriverError::invalid("context.role", "the node is not a replica"))?;
    admin::command(node, &["CONFIG", "SET", "masteruser", &user])?;
    admin::command(node, &["CONFIG", "SET", "masterauth", &password])?;
    admin::command(node, &["REPLICAOF", &host, &port.to_string()])?;
    admin::command(node, &["CLIENT", "UNPAUSE"])?;
    Ok(())
}

/// `replication.status`: a replica is in sync while its link to the source is up. Redis gives
/// a replica no measure of its lag (only the source knows its replicas' acknowledged offsets).
pub fn status(node: &Node) -> DriverResult<ReplicationStatus> {
    let info = admin::command(node, &["INFO", "replication"])?;
    let field = |name: &str| {
        info.lines.iter().find_map(|line| {
            line.trim()
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(|value| value.trim().to_string())
        })
    };
    let replica = field("role").as_deref() == Some("slave");
    let source = match (field("master_host"), field("master_port")) {
        (Some(host), Some(port)) if replica => {
            port.parse().ok().map(|port| Endpoint { host, port })
        }
        _ => None,
    };
    Ok(ReplicationStatus {
        role: if replica {
            ReplicationRole::Replica
        } else {
            ReplicationRole::Source
        },
        source,
        in_sync: replica && field("master_link_status").as_deref() == Some("up"),
        lag_ms: None,
        lag_bytes: None,
        position: Some(position(node)?),
        read_only: replica,
    })
}
