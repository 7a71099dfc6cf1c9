//! Redis replication: a replicator ACL user on the source (its password kept in the source's
//! node directory, so every replica gets the same one), and `REPLICAOF` on replicas, which
//! seeds them with a full sync once they are running.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::replication::SourceSetup;
use drover_driver_sdk::{NodeRole, secrets};

use crate::admin;

/// The ACL user replicas authenticate as: replication commands only.
pub const REPLICATOR: &str = "drover-replicator";
const SECRET_FILE: &str = "replication.secret";

/// `replication.enable-source`.
pub fn enable_source(node: &Node) -> DriverResult<SourceSetup> {
    let password = match node.read_text(SECRET_FILE)? {
        Some(password) => password.trim().to_string(),
        None => {
            let password = secrets::password(32)?;
            node.write_text(SECRET_FILE, &password, 0o600)?;
            password
        }
    };
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
