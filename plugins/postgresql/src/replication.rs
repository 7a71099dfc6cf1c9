//! PostgreSQL streaming replication: a replication role on the source (its password kept in
//! the source's node directory), replicas seeded by `pg_basebackup -R` before they first start
//! (which writes `standby.signal` and `primary_conninfo`), `pg_promote()` to detach or
//! promote, and `pg_rewind` to turn a former source into a standby of the new one. The
//! replicas of one batch are copied from one such base backup taken into the batch's snapshot
//! directory; they stream from the source from where it ends (the source keeps
//! `wal_keep_size` of WAL for them meanwhile).
//!
//! Positions are WAL locations (`X/Y`): on a source how far it has flushed, on a standby the
//! furthest it has received or replayed.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::replication::{ReplicationRole, ReplicationStatus, SourceSetup};
use drover_driver_sdk::{Endpoint, ExecRequest, NodeRole, secrets};

use crate::sql;

/// The role replicas connect as.
pub const REPLICATOR: &str = "drover_replicator";
const SECRET_FILE: &str = "replication.secret";

/// `replication.enable-source`: wal_level, WAL senders and the hba line for replication are in
/// every node's configuration already, so no restart is needed.
pub fn enable_source(node: &Node) -> DriverResult<SourceSetup> {
    let password = secrets::kept_password(node, SECRET_FILE)?;
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
    // The functions pg_rewind reads a source's files with, for a non-superuser.
    let role = sql::ident(REPLICATOR);
    sql::run(
        node,
        "postgres",
        &format!(
            "{verb} ROLE {role} WITH REPLICATION LOGIN PASSWORD {};\n\
             GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO {role};\n\
             GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO {role};\n\
             GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO {role};\n\
             GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO {role};",
            sql::literal(&password)
        ),
    )?;
    Ok(SourceSetup {
        info: format!("{REPLICATOR}:{password}"),
        restart_required: false,
    })
}

/// Seeds an empty replica before its first start (called by `initialize` instead of `initdb`):
/// a copy of its batch's snapshot, or a base backup of its source.
pub fn seed(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let NodeRole::Replica(source) = &context.role else {
        return Err(DriverError::invalid(
            "context.role",
            "the node is not a replica",
        ));
    };
    let data = format!("{}/data", context.directory);
    match &source.snapshot {
        // The host's private copy of the snapshot, inside this node: moved, not copied again.
        Some(snapshot) => {
            node.run_ok(&["mv", &format!("{snapshot}/data"), &data], None)?;
            Ok(())
        }
        // Into `data.new` first: a base backup killed halfway leaves no `data` behind.
        None => {
            let new = format!("{}/{}", context.directory, crate::lifecycle::NEW_DATA);
            base_backup(node, &new, source)?;
            crate::lifecycle::install_data(node, context)
        }
    }
}

/// Marks a snapshot whose base backup is complete.
const SNAPSHOT_DONE: &str = "snapshot.done";

/// `replication.take-snapshot`: one base backup of the source in the snapshot's `data`.
pub fn take_snapshot(snapshot: &Node, source: &ReplicaSource) -> DriverResult<()> {
    if snapshot
        .exists(SNAPSHOT_DONE)
        .map_err(DriverError::Failed)?
    {
        return Ok(());
    }
    snapshot.remove("data").map_err(DriverError::Failed)?;
    base_backup(snapshot, &format!("{}/data", snapshot.directory()), source)?;
    snapshot.write_text(SNAPSHOT_DONE, "", 0o600)
}

/// `pg_basebackup` of `source` into `data`, with the WAL it needs and the standby settings
/// (`-R`), run on `node`.
fn base_backup(node: &Node, data: &str, source: &ReplicaSource) -> DriverResult<()> {
    let (user, password) = source.info.split_once(':').unwrap_or((REPLICATOR, ""));
    let output = node
        .exec(&ExecRequest {
            argv: [
                "pg_basebackup",
                "-D",
                data,
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
            env: vec![
                ("PGPASSWORD".into(), password.to_string()),
                ("PGOPTIONS".into(), sql::pgoptions(sql::CLIENT_SESSION)),
            ],
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

/// A value in a libpq connection string: single quotes, with backslashes and quotes escaped.
fn conninfo_value(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The connection a replica's WAL receiver uses to reach the source in its context, with the
/// replication password (it is kept in the node's 0600 `postgresql.auto.conf`).
fn conninfo(context: &NodeContext) -> DriverResult<(String, Endpoint)> {
    let (info, password) = conninfo_without_password(context, None)?;
    let source = source_of(context)?;
    Ok((
        format!("{info} password={}", conninfo_value(&password)),
        source.address.clone(),
    ))
}

/// The connection to the source for a command (pg_rewind), without the password, which the
/// command gets in its environment: a command line is visible to every process on the machine.
/// Also returns the password.
fn conninfo_without_password(
    context: &NodeContext,
    database: Option<&str>,
) -> DriverResult<(String, String)> {
    let source = source_of(context)?;
    let (user, password) = source.info.split_once(':').unwrap_or((REPLICATOR, ""));
    let mut info = format!(
        "host={} port={} user={} application_name={}",
        conninfo_value(&source.address.host),
        source.address.port,
        conninfo_value(user),
        conninfo_value(&context.node_id)
    );
    if let Some(database) = database {
        info.push_str(&format!(" dbname={}", conninfo_value(database)));
    }
    Ok((info, password.to_string()))
}

fn source_of(context: &NodeContext) -> DriverResult<&ReplicaSource> {
    match &context.role {
        NodeRole::Replica(source) => Ok(source),
        _ => Err(DriverError::invalid(
            "context.role",
            "the node is not a replica",
        )),
    }
}

/// Whether the node is a standby.
pub fn in_recovery(node: &Node) -> DriverResult<bool> {
    Ok(scalar(node, "SELECT pg_is_in_recovery();")? == "t")
}

fn scalar(node: &Node, query: &str) -> DriverResult<String> {
    Ok(sql::run(node, "postgres", query)?
        .first()
        .and_then(|row| row.first())
        .cloned()
        .unwrap_or_default())
}

/// `replication.attach-replica`: a standby follows the source in its context (its WAL receiver
/// restarts when `primary_conninfo` changes); ready once it streams from that source.
pub fn attach_replica(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let (info, source) = conninfo(context)?;
    let port = source.port;
    let following = scalar(
        node,
        "SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming';",
    )?;
    if following == port.to_string() {
        return Ok(());
    }
    let current = scalar(node, "SHOW primary_conninfo;")?;
    if !(current.contains(&format!("port={port}")) && current.contains(&source.host)) {
        sql::run(
            node,
            "postgres",
            &format!(
                "ALTER SYSTEM SET primary_conninfo = {};\nSELECT pg_reload_conf();",
                sql::literal(&info)
            ),
        )?;
    }
    Err(DriverError::not_ready(format!(
        "the replica is not streaming from port {port} yet"
    )))
}

/// `replication.detach-replica`: promote, and forget the source.
pub fn detach_replica(node: &Node) -> DriverResult<()> {
    if in_recovery(node)? {
        sql::run(node, "postgres", "SELECT pg_promote(true, 60);")?;
    }
    sql::run(
        node,
        "postgres",
        "ALTER SYSTEM RESET primary_conninfo;\nALTER SYSTEM RESET default_transaction_read_only;\n\
         SELECT pg_reload_conf();",
    )?;
    Ok(())
}

/// `replication.set-read-only`: new transactions default to read-only, and client sessions that
/// began under the old default are ended, so no write can commit after the position the host
/// reads next.
pub fn set_read_only(node: &Node, read_only: bool) -> DriverResult<()> {
    if !read_only {
        sql::run(
            node,
            "postgres",
            "ALTER SYSTEM RESET default_transaction_read_only;\nSELECT pg_reload_conf();",
        )?;
        return Ok(());
    }
    sql::run(
        node,
        "postgres",
        "ALTER SYSTEM SET default_transaction_read_only = on;\nSELECT pg_reload_conf();",
    )?;
    // The reload is signalled, not awaited: a new session sees the new default once it is done.
    let mut reloaded = false;
    for _ in 0..100 {
        if scalar(node, "SHOW default_transaction_read_only;")? == "on" {
            reloaded = true;
            break;
        }
    }
    if !reloaded {
        return Err(DriverError::not_ready(
            "the server has not taken the read-only default yet",
        ));
    }
    // Each ended session's abort record must be in the WAL before the host reads the
    // position, or a replica could receive it from the old source after the candidate was
    // promoted without it, and then be unable to follow the candidate's new timeline. So the
    // terminations are waited for, and a checkpoint flushes what they wrote.
    sql::run(
        node,
        "postgres",
        "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity \
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid();\nCHECKPOINT;",
    )?;
    Ok(())
}

/// `replication.position`.
pub fn position(node: &Node) -> DriverResult<String> {
    scalar(
        node,
        "SELECT CASE WHEN pg_is_in_recovery() \
         THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) \
         ELSE pg_current_wal_flush_lsn() END;",
    )
}

/// `replication.caught-up`: the standby has replayed everything up to `position`.
pub fn caught_up(node: &Node, position: &str) -> DriverResult<bool> {
    lsn(position)?;
    Ok(scalar(
        node,
        &format!(
            "SELECT pg_last_wal_replay_lsn() >= {}::pg_lsn;",
            sql::literal(position)
        ),
    )? == "t")
}

/// A WAL location `X/Y` (two hexadecimal halves) as one number.
fn lsn(position: &str) -> DriverResult<u64> {
    let invalid = || {
        DriverError::invalid(
            "position",
            format!("{position:?} is not a PostgreSQL WAL location"),
        )
    };
    let (high, low) = position.split_once('/').ok_or_else(invalid)?;
    let high = u64::from_str_radix(high, 16).map_err(|_| invalid())?;
    let low = u64::from_str_radix(low, 16).map_err(|_| invalid())?;
    if high > u64::from(u32::MAX) || low > u64::from(u32::MAX) {
        return Err(invalid());
    }
    Ok(high << 32 | low)
}

/// `replication.compare-positions`.
pub fn compare_positions(a: &str, b: &str) -> DriverResult<i8> {
    Ok(match lsn(a)?.cmp(&lsn(b)?) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    })
}

/// `replication.demote`: the former source is stopped, rewound to where its history and the
/// new source's part (any write the new source never received is discarded), and started as
/// a standby of the new source.
pub fn demote(node: &Node, context: &NodeContext, source: &Node) -> DriverResult<()> {
    let (info, _) = conninfo(context)?;
    let standby = node
        .exists("data/standby.signal")
        .map_err(DriverError::Failed)?;
    if !standby {
        if node.is_running() {
            node.stop().map_err(DriverError::Failed)?;
        }
        // A just-promoted source records its new timeline in its control file only at its
        // next checkpoint; pg_rewind reads the timeline there, and before that checkpoint it
        // finds the histories the same and rewinds nothing, leaving this node past the fork.
        sql::run(source, "postgres", "CHECKPOINT;")?;
        let (source_server, password) = conninfo_without_password(context, Some("postgres"))?;
        let data = format!("{}/data", context.directory);
        let output = node
            .exec(&ExecRequest {
                argv: [
                    "pg_rewind",
                    "--target-pgdata",
                    &data,
                    "--source-server",
                    &source_server,
                ]
                .iter()
                .map(|a| a.to_string())
                .collect(),
                stdin: None,
                env: vec![
                    ("PGPASSWORD".into(), password),
                    ("PGOPTIONS".into(), sql::pgoptions(sql::CLIENT_SESSION)),
                ],
                timeout_ms: 600_000,
            })
            .map_err(DriverError::Failed)?;
        if output.status != 0 {
            return Err(DriverError::failed(format!(
                "pg_rewind failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        // pg_rewind copies the new source's postgresql.auto.conf; this node's own lines follow.
        let auto = node
            .read_text("data/postgresql.auto.conf")?
            .unwrap_or_default();
        let mut kept: String = auto
            .lines()
            .filter(|line| {
                let name = line.split('=').next().unwrap_or("").trim();
                name != "primary_conninfo" && name != "default_transaction_read_only"
            })
            .map(|line| format!("{line}\n"))
            .collect();
        kept.push_str(&format!(
            "primary_conninfo = {}\n",
            crate::lifecycle::conf_string(&info)
        ));
        node.write_text("data/postgresql.auto.conf", &kept, 0o600)?;
        node.write_text("data/standby.signal", "", 0o600)?;
    }
    if !node.is_running() {
        node.start().map_err(DriverError::Failed)?;
    }
    attach_replica(node, context)
}

/// `replication.status`: a standby is in sync while its WAL receiver streams; its lag is how
/// long ago the last replayed transaction committed on the source (zero when it has replayed
/// all it received), and the bytes received but not yet replayed.
pub fn status(node: &Node) -> DriverResult<ReplicationStatus> {
    let rows = sql::run(
        node,
        "postgres",
        "SELECT pg_is_in_recovery(), \
         coalesce((SELECT status FROM pg_stat_wal_receiver), ''), \
         coalesce((SELECT sender_host FROM pg_stat_wal_receiver), ''), \
         coalesce((SELECT sender_port FROM pg_stat_wal_receiver)::text, ''), \
         CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
              ELSE (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint END, \
         pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint, \
         current_setting('default_transaction_read_only');",
    )?;
    let row = rows.first().cloned().unwrap_or_default();
    let field = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
    let standby = field(0) == "t";
    let source = (!field(2).is_empty())
        .then(|| {
            field(3).parse().ok().map(|port| Endpoint {
                host: field(2).to_string(),
                port,
            })
        })
        .flatten();
    Ok(ReplicationStatus {
        role: if standby {
            ReplicationRole::Replica
        } else {
            ReplicationRole::Source
        },
        source,
        in_sync: standby && field(1) == "streaming",
        lag_ms: field(4).parse::<i64>().ok().map(|ms| ms.max(0) as u64),
        lag_bytes: field(5).parse::<i64>().ok().map(|b| b.max(0) as u64),
        position: Some(position(node)?),
        read_only: standby || field(6) == "on",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_locations_compare_as_numbers() {
        assert_eq!(compare_positions("0/3000148", "0/3000150").unwrap(), -1);
        // The high half counts more than any low half.
        assert_eq!(compare_positions("1/0", "0/FFFFFFFF").unwrap(), 1);
        assert_eq!(compare_positions("A/1", "a/1").unwrap(), 0);
        assert!(compare_positions("3000148", "0/1").is_err());
        assert!(compare_positions("0/xyz", "0/1").is_err());
    }

    fn replica(info: &str) -> NodeContext {
        NodeContext {
            datastore_version: "15".into(),
            node_id: "replica-1".into(),
            serial: 2,
            directory: "/s/nodes/n2".into(),
            address: Endpoint {
                host: "127.0.0.1".into(),
                port: 21002,
            },
            flavor: drover_driver_sdk::Flavor {
                id: "2".into(),
                name: "small".into(),
                ram_mb: 512,
                vcpus: 1,
            },
            volume_gb: 1,
            settings: vec![],
            role: NodeRole::Replica(ReplicaSource {
                node_id: "source".into(),
                address: Endpoint {
                    host: "127.0.0.1".into(),
                    port: 21001,
                },
                info: info.into(),
                snapshot: None,
            }),
        }
    }

    #[test]
    fn the_rewind_connection_string_has_no_password() {
        let context = replica("drover_replicator:s3cret'\\x");
        let (info, password) = conninfo_without_password(&context, Some("postgres")).unwrap();
        assert!(!info.contains("s3cret"), "{info}");
        assert_eq!(password, "s3cret'\\x");
        assert!(info.contains("port=21001") && info.contains("dbname='postgres'"));
        // The WAL receiver's connection (kept in a 0600 file) has it, quoted for libpq.
        let (full, _) = conninfo(&context).unwrap();
        assert!(full.ends_with(" password='s3cret\\'\\\\x'"), "{full}");
    }
}
