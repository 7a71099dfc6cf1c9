//! MariaDB GTID replication. Every node writes GTID binary logs with `log_slave_updates` from
//! its first start (see `lifecycle`), so any node can become a source without a restart.
//!
//! A new replica is seeded with a consistent `mariadb-dump --gtid --master-data` of its source,
//! taken over TCP as the replicator account and imported without binary logging; its binary log
//! state is then set to the seed's position, so it can serve other replicas if promoted. The
//! dump carries the source's accounts, Drover's own among them: the replica adopts the source's
//! admin password first (read from the source's node), so the driver never locks itself out.
//! The replicas of one batch all import one dump, taken into the batch's snapshot directory.

use std::collections::BTreeMap;

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::replication::{ReplicationRole, ReplicationStatus, SourceSetup};
use drover_driver_sdk::{Endpoint, ExecRequest, NodeRole, secrets};

use crate::lifecycle::{self, ADMIN};
use crate::sql;

/// The account replicas connect as; it also takes the seed dump.
pub const REPLICATOR: &str = "drover_replicator";
const SECRET_FILE: &str = "replication.secret";
const SEED_FILE: &str = "seed.sql";
/// Marks a snapshot whose dump is complete.
const SNAPSHOT_DONE: &str = "snapshot.done";

/// `replication.enable-source`: the replicator account, with what replication and a
/// consistent dump need. CONNECTION ADMIN keeps the limits a configuration group sets for
/// users' connections (`max_user_connections`, `max_password_errors`, `init_connect`) from
/// cutting replicas off; the password never expires, whatever `default_password_lifetime`.
pub fn enable_source(node: &Node) -> DriverResult<SourceSetup> {
    let password = secrets::kept_password(node, SECRET_FILE)?;
    let account = sql::account(REPLICATOR, "%");
    sql::run(
        node,
        &format!(
            "{}{}GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT, RELOAD, LOCK TABLES, SHOW VIEW, \
             EVENT, TRIGGER, CONNECTION ADMIN ON *.* TO {account};",
            sql::with_password(
                &format!("CREATE USER IF NOT EXISTS {account}"),
                &password,
                ""
            ),
            sql::with_password(
                &format!("ALTER USER {account}"),
                &password,
                " PASSWORD EXPIRE NEVER"
            ),
        ),
    )?;
    Ok(SourceSetup {
        info: format!("{REPLICATOR}:{password}"),
        restart_required: false,
    })
}

/// Where a replica's source is and how it logs in.
struct Upstream {
    host: String,
    port: u16,
    user: String,
    password: String,
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

fn upstream(source: &ReplicaSource) -> Upstream {
    let (user, password) = source.info.split_once(':').unwrap_or((REPLICATOR, ""));
    Upstream {
        host: source.address.host.clone(),
        port: source.address.port,
        user: user.to_string(),
        password: password.to_string(),
    }
}

/// `SHOW SLAVE STATUS`, by column; `None` when the node follows no source.
fn slave_status(node: &Node) -> DriverResult<Option<BTreeMap<String, String>>> {
    Ok(sql::row(node, "SHOW SLAVE STATUS;")?.map(|row| row.into_iter().collect()))
}

/// `replication.attach-replica`: seeds a new replica, then follows the source in the context;
/// ready once both replication threads run.
pub fn attach_replica(
    node: &Node,
    context: &NodeContext,
    source: Option<&Node>,
) -> DriverResult<()> {
    let replica_source = source_of(context)?;
    let upstream = upstream(replica_source);
    if slave_status(node)?.is_none() {
        let source = source.ok_or_else(|| {
            DriverError::failed("a new replica is seeded from its source, which is not reachable")
        })?;
        seed(
            node,
            &context.directory,
            source,
            &upstream,
            replica_source.snapshot.as_deref(),
        )?;
    }
    follow(node, &upstream)
}

/// `replication.take-snapshot`: one dump of the source, in the snapshot's `seed.sql`.
pub fn take_snapshot(snapshot: &Node, source: &ReplicaSource) -> DriverResult<()> {
    if snapshot
        .exists(SNAPSHOT_DONE)
        .map_err(DriverError::Failed)?
    {
        return Ok(());
    }
    let path = format!("{}/{SEED_FILE}", snapshot.directory());
    dump(snapshot, &path, &upstream(source))?;
    snapshot.write_text(SNAPSHOT_DONE, "", 0o600)
}

/// Copies the source's data and accounts into a replica that has just been installed: from
/// the batch's snapshot when there is one, else from a dump taken now.
fn seed(
    node: &Node,
    dir: &str,
    source: &Node,
    upstream: &Upstream,
    snapshot: Option<&str>,
) -> DriverResult<()> {
    let source_client = source
        .read_text("client.cnf")?
        .ok_or_else(|| DriverError::failed("the source has no client.cnf"))?;
    let admin_password = lifecycle::admin_password(&source_client)
        .ok_or_else(|| DriverError::failed("the source's client.cnf has no password"))?
        .to_string();
    // The replica's files and server first take the password the dump will bring.
    sql::run(
        node,
        &format!(
            "SET SESSION sql_log_bin = 0; ALTER USER {} IDENTIFIED BY {};",
            sql::account(ADMIN, "localhost"),
            sql::literal(&admin_password)
        ),
    )?;
    lifecycle::write_account_files(node, dir, &admin_password)?;

    let seed_path = match snapshot {
        Some(snapshot) => format!("{snapshot}/{SEED_FILE}"),
        None => {
            let path = format!("{dir}/{SEED_FILE}");
            dump(node, &path, upstream)?;
            path
        }
    };
    // Imported without binary logging (the replica's own binary log must hold only what it
    // replicates); afterwards its binary log starts at the seed's position. (The position goes
    // through a user variable: reading one system variable while setting this one deadlocks
    // the server.)
    let import = sql::run(
        node,
        &format!(
            "SET SESSION sql_log_bin = 0;\nSOURCE {seed_path};\n\
             RESET MASTER;\nSET @seed = @@global.gtid_slave_pos;\n\
             SET GLOBAL gtid_binlog_state = @seed;"
        ),
    );
    node.remove(SEED_FILE).map_err(DriverError::Failed)?;
    import.map(|_| ())
}

/// A consistent `mariadb-dump` of `upstream` with its GTID position, run on `node` into `path`.
fn dump(node: &Node, path: &str, upstream: &Upstream) -> DriverResult<()> {
    let dump = node
        .exec(&ExecRequest {
            argv: [
                "mariadb-dump",
                "--no-defaults",
                "--protocol=TCP",
                &format!("--host={}", upstream.host),
                &format!("--port={}", upstream.port),
                &format!("--user={}", upstream.user),
                "--all-databases",
                "--single-transaction",
                "--gtid",
                "--master-data=1",
                "--routines",
                "--events",
                "--triggers",
                "--flush-privileges",
                // The source's own limits, which a configuration group sets, do not apply to
                // the dump: a year is the longest statement time the server takes.
                "--max-statement-time=31536000",
                "--default-character-set=utf8mb4",
                &format!("--result-file={path}"),
            ]
            .iter()
            .map(|a| a.to_string())
            .collect(),
            stdin: None,
            env: vec![("MYSQL_PWD".into(), upstream.password.clone())],
            timeout_ms: 600_000,
        })
        .map_err(DriverError::Failed)?;
    if dump.status != 0 {
        return Err(DriverError::failed(format!(
            "mariadb-dump from {}:{} failed: {}",
            upstream.host,
            upstream.port,
            String::from_utf8_lossy(&dump.stderr).trim()
        )));
    }
    Ok(())
}

/// Points the node at `upstream` (unless it already follows it) and reports whether it is
/// replicating.
fn follow(node: &Node, upstream: &Upstream) -> DriverResult<()> {
    let status = slave_status(node)?;
    let field = |name: &str| {
        status
            .as_ref()
            .and_then(|s| s.get(name))
            .map(String::as_str)
            .unwrap_or("")
    };
    let pointed = field("Master_Host") == upstream.host
        && field("Master_Port") == upstream.port.to_string()
        && field("Master_User") == upstream.user;
    if !pointed {
        sql::run(
            node,
            &format!(
                "SET GLOBAL read_only = ON;\nSTOP SLAVE;\n\
                 CHANGE MASTER TO MASTER_HOST = {}, MASTER_PORT = {}, MASTER_USER = {}, \
                 MASTER_PASSWORD = {}, MASTER_CONNECT_RETRY = 1, MASTER_USE_GTID = slave_pos;\n\
                 START SLAVE;",
                sql::literal(&upstream.host),
                upstream.port,
                sql::literal(&upstream.user),
                sql::literal(&upstream.password)
            ),
        )?;
    } else if field("Slave_IO_Running") == "No" || field("Slave_SQL_Running") == "No" {
        sql::run(node, "START SLAVE;")?;
    }
    let status = slave_status(node)?.unwrap_or_default();
    let running = |name: &str| status.get(name).map(String::as_str) == Some("Yes");
    if running("Slave_IO_Running") && running("Slave_SQL_Running") {
        return Ok(());
    }
    let errors: Vec<&str> = ["Last_IO_Error", "Last_SQL_Error"]
        .iter()
        .filter_map(|name| status.get(*name).map(String::as_str))
        .filter(|e| !e.is_empty())
        .collect();
    Err(DriverError::not_ready(format!(
        "the replica is not replicating from {}:{} yet{}",
        upstream.host,
        upstream.port,
        if errors.is_empty() {
            String::new()
        } else {
            format!(": {}", errors.join("; "))
        }
    )))
}

/// `replication.detach-replica` and `replication.promote`: forget the source, keep the data,
/// take writes.
pub fn detach_replica(node: &Node) -> DriverResult<()> {
    sql::run(
        node,
        "STOP SLAVE;\nRESET SLAVE ALL;\nSET GLOBAL read_only = OFF;",
    )?;
    Ok(())
}

/// `replication.demote`: the former source follows the new one from the position it stopped
/// at (everything it wrote is in its binary log, `log_slave_updates` being on).
pub fn demote(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let upstream = upstream(source_of(context)?);
    if slave_status(node)?.is_none() {
        sql::run(
            node,
            "SET GLOBAL read_only = ON;\nSET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos;",
        )?;
    }
    follow(node, &upstream)
}

/// `replication.set-read-only`: clients without the READ_ONLY ADMIN privilege are refused
/// writes.
pub fn set_read_only(node: &Node, read_only: bool) -> DriverResult<()> {
    let value = if read_only { "ON" } else { "OFF" };
    sql::run(node, &format!("SET GLOBAL read_only = {value};"))?;
    Ok(())
}

/// `replication.position`: the GTID position the node has reached (written on a source,
/// applied on a replica).
pub fn position(node: &Node) -> DriverResult<String> {
    let rows = sql::run(node, "SELECT @@global.gtid_current_pos;")?;
    Ok(rows
        .first()
        .and_then(|row| row.first())
        .cloned()
        .unwrap_or_default())
}

/// `replication.caught-up`: waits up to half a second for the replica to apply `position`.
pub fn caught_up(node: &Node, position: &str) -> DriverResult<bool> {
    parse(position)?;
    let rows = sql::run(
        node,
        &format!("SELECT MASTER_GTID_WAIT({}, 0.5);", sql::literal(position)),
    )?;
    Ok(rows.first().and_then(|row| row.first()).map(String::as_str) == Some("0"))
}

/// A GTID position: per replication domain, the server that wrote the last transaction and
/// its sequence number.
fn parse(position: &str) -> DriverResult<BTreeMap<u32, (u32, u64)>> {
    let invalid = || {
        DriverError::invalid(
            "position",
            format!("{position:?} is not a MariaDB GTID position"),
        )
    };
    position
        .split(',')
        .map(str::trim)
        .filter(|gtid| !gtid.is_empty())
        .map(|gtid| {
            let mut parts = gtid.split('-');
            let (Some(domain), Some(server), Some(seq), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(invalid());
            };
            Ok((
                domain.parse().map_err(|_| invalid())?,
                (
                    server.parse().map_err(|_| invalid())?,
                    seq.parse().map_err(|_| invalid())?,
                ),
            ))
        })
        .collect()
}

/// `replication.compare-positions`: ahead when no domain is behind and one is ahead. The same
/// sequence number written by different servers means the histories diverged.
pub fn compare_positions(a: &str, b: &str) -> DriverResult<i8> {
    let (a, b) = (parse(a)?, parse(b)?);
    let mut ahead = false;
    let mut behind = false;
    for domain in a.keys().chain(b.keys()) {
        let (mine, theirs) = (a.get(domain), b.get(domain));
        let mine_seq = mine.map_or(0, |(_, seq)| *seq);
        let theirs_seq = theirs.map_or(0, |(_, seq)| *seq);
        if let (Some((s1, q1)), Some((s2, q2))) = (mine, theirs)
            && q1 == q2
            && s1 != s2
        {
            return Err(DriverError::invalid(
                "position",
                format!(
                    "domain {domain} has diverged: the same sequence number {q1} was written by servers {s1} and {s2}"
                ),
            ));
        }
        ahead |= mine_seq > theirs_seq;
        behind |= mine_seq < theirs_seq;
    }
    match (ahead, behind) {
        (true, true) => Err(DriverError::invalid(
            "position",
            "the positions are ahead in different replication domains",
        )),
        (true, false) => Ok(1),
        (false, true) => Ok(-1),
        (false, false) => Ok(0),
    }
}

/// `replication.status`: a replica is in sync while both replication threads run; its lag is
/// the server's `Seconds_Behind_Master`.
pub fn status(node: &Node) -> DriverResult<ReplicationStatus> {
    let slave = slave_status(node)?;
    let read_only = sql::run(node, "SELECT @@global.read_only;")?
        .first()
        .and_then(|row| row.first())
        .is_some_and(|value| value == "1");
    let Some(slave) = slave else {
        return Ok(ReplicationStatus {
            role: ReplicationRole::Source,
            source: None,
            in_sync: false,
            lag_ms: None,
            lag_bytes: None,
            position: Some(position(node)?),
            read_only,
        });
    };
    let field = |name: &str| slave.get(name).map(String::as_str).unwrap_or("");
    Ok(ReplicationStatus {
        role: ReplicationRole::Replica,
        source: field("Master_Port").parse().ok().map(|port| Endpoint {
            host: field("Master_Host").to_string(),
            port,
        }),
        in_sync: field("Slave_IO_Running") == "Yes" && field("Slave_SQL_Running") == "Yes",
        lag_ms: field("Seconds_Behind_Master")
            .parse::<u64>()
            .ok()
            .map(|seconds| seconds * 1000),
        lag_bytes: None,
        position: Some(position(node)?),
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_compare_by_sequence_number_per_domain() {
        assert_eq!(compare_positions("0-1-5", "0-1-7").unwrap(), -1);
        assert_eq!(compare_positions("0-2-9", "0-1-7").unwrap(), 1);
        assert_eq!(compare_positions("0-1-7", "0-1-7").unwrap(), 0);
        // Nothing written yet is behind everything.
        assert_eq!(compare_positions("", "0-1-1").unwrap(), -1);
        assert_eq!(compare_positions("0-1-3,1-4-2", "0-1-3").unwrap(), 1);
        // Diverged histories and mixed orders cannot be ranked.
        assert!(compare_positions("0-1-7", "0-2-7").is_err());
        assert!(compare_positions("0-1-8,1-4-1", "0-1-7,1-4-2").is_err());
        assert!(compare_positions("0-1", "0-1-1").is_err());
    }
}
