//! Two hosts, one PostgreSQL store: two `drover serve` processes with their own state
//! directories and node ports, sharing the store and the key its secrets are sealed with. Each
//! runs, checks and adopts only its own nodes; while one is down the other tells the truth
//! about its instances, starts none of them, and runs the tasks that act on no node; when it
//! returns its instances are ACTIVE again, served by the same processes.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::api::Client;
use crate::common::db::TestDb;
use crate::common::nodes::{
    app_user, create_instance, kill_server_behind_drovers_back, node_dir, node_servers, port,
    redis_cli, still_running, tail, those_processes, usage, wait_gone, wait_status, wait_until,
};
use crate::common::server::{Options, Server};
use crate::nodes::require_binary;
use crate::postgresql::psql;

const BUILD: Duration = Duration::from_secs(240);

/// Short intervals, so a host is down after 4 s without a heartbeat and a dead worker's task
/// is free after 5 s.
pub const ORCHESTRATOR: &str = "[orchestrator]\nhealth_interval_s = 1\nheartbeat_s = 1\n\
    host_down_after_s = 4\nlease_s = 5\n";

/// How long "stays" checks watch: several health intervals, more than a lease.
const WATCH: Duration = Duration::from_secs(6);

/// A store and a secret key for several hosts.
pub struct SharedStore {
    db: TestDb,
    key: tempfile::TempDir,
}

impl SharedStore {
    /// A fresh PostgreSQL database and a directory for the key.
    pub fn postgres() -> SharedStore {
        SharedStore {
            db: TestDb::postgres(),
            key: tempfile::tempdir().unwrap(),
        }
    }

    /// How to start the host called `name` on this store, armed to crash after `crash` or
    /// not.
    pub fn options(&self, name: &str, crash: Option<&str>) -> Options {
        Options {
            args: vec![
                "--auth".into(),
                "noauth".into(),
                "--database-url".into(),
                self.db.url.clone(),
                "--secret-key-file".into(),
                self.key.path().join("secret.key").display().to_string(),
                "--host-name".into(),
                name.into(),
            ],
            env: crash
                .map(|c| vec![("DROVER_CRASH_AFTER".to_string(), c.to_string())])
                .unwrap_or_default(),
            config: ORCHESTRATOR.into(),
            ..Default::default()
        }
    }
}

/// The instance as `client`'s host shows it.
pub fn show(client: &Client, id: &str) -> Value {
    client.get(&format!("instances/{id}")).expect(200)["instance"].clone()
}

/// Whether a view tells that the host `name` is not heard from, as the contract words it.
pub fn shows_host_down(instance: &Value, name: &str) -> bool {
    instance["status"] == "ERROR"
        && instance["operating_status"] == "UNKNOWN"
        && instance["fault"]["message"].as_str().is_some_and(|m| {
            m.contains(&format!("The host {name} running this instance"))
                && m.contains("has not been heard from since")
                && m.contains("its state is unknown")
        })
}

/// Checks `holds` again and again for `window`; it must hold every time.
#[track_caller]
pub fn stays(window: Duration, what: &str, mut holds: impl FnMut() -> Result<(), String>) {
    let started = Instant::now();
    while started.elapsed() < window {
        if let Err(why) = holds() {
            panic!(
                "{what} stopped holding after {:?}: {why}",
                started.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The hosts `mgmt/hosts` lists, by name.
fn hosts(admin: &Client) -> std::collections::BTreeMap<String, Value> {
    admin.get("mgmt/hosts").expect(200)["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap().to_string(), h.clone()))
        .collect()
}

/// The newest task of an instance, as `client`'s host lists it.
fn newest_task(client: &Client, id: &str) -> Value {
    client.get(&format!("instances/{id}/tasks")).expect(200)["tasks"][0].clone()
}

fn pg(port: u16, sql: &str) -> (bool, String) {
    psql(port, "app", "app-secret", "appdb", sql)
}

#[test]
fn two_hosts_on_one_store_keep_to_their_own_nodes_and_tell_the_truth_while_one_is_down() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    require_binary("postgres", "postgresql-15");
    require_binary("pg_basebackup", "postgresql-client-15");
    require_binary("pg_rewind", "postgresql-15");
    require_binary("psql", "postgresql-client-15");
    let store = SharedStore::postgres();
    // Host A will die right after it has grown a volume, before it ends that task: a task
    // that acts on no node, left to host B.
    let mut a = Server::start(store.options("host-a", Some("resize_volume:grow_volume")));
    let b = Server::start(store.options("host-b", None));
    let (ca, cb) = (
        Client::new(&a.base, "p1", None),
        Client::new(&b.base, "p1", None),
    );
    let admin_b = cb.clone().with_roles("admin");

    // Instances created through both hosts are placed on the host that took the request,
    // and both hosts say so.
    let ra = create_instance(&ca, "ra", "redis", "7.0", app_user("redis", "app-secret"));
    let rb = create_instance(&cb, "rb", "redis", "7.0", app_user("redis", "app-secret"));
    let pa = create_instance(
        &ca,
        "pa",
        "postgresql",
        "15",
        app_user("postgresql", "app-secret"),
    );
    for (id, server, client, name) in [
        (&ra, &a, &ca, "host-a"),
        (&rb, &b, &cb, "host-b"),
        (&pa, &a, &ca, "host-a"),
    ] {
        wait_status(server, client, id, "ACTIVE", BUILD);
        for viewer in [&ca, &cb] {
            let shown = wait_status(server, viewer, id, "ACTIVE", BUILD);
            assert_eq!(shown["host"], name, "{shown}");
        }
    }
    let ports: std::collections::HashMap<&str, u16> = [("ra", &ra), ("rb", &rb), ("pa", &pa)]
        .into_iter()
        .map(|(name, id)| (name, port(&show(&ca, id))))
        .collect();
    for name in ["ra", "rb"] {
        assert_eq!(
            redis_cli(ports[name], "app", "app-secret", &["PING"]),
            "PONG"
        );
    }
    let (ok, out) = pg(
        ports["pa"],
        "CREATE TABLE t (x int); INSERT INTO t VALUES (1);",
    );
    assert!(ok, "{out}");

    // A replica on host B of a source on host A.
    let pb = client_create_replica(&cb, &pa);
    let shown = wait_status(&b, &cb, &pb, "ACTIVE", BUILD);
    assert_eq!(shown["host"], "host-b", "{shown}");
    assert_eq!(show(&ca, &pb)["host"], "host-b");
    let pb_port = port(&shown);
    assert!(node_dir(&b, pb_port).starts_with(b.state_dir()));
    wait_until(
        BUILD,
        || pg(pb_port, "SELECT count(*) FROM t;") == (true, "1".into()),
        "the replica on host B has the source's row",
    );
    // Promoted: the replica on B is the source, the one on A follows it.
    cb.post(
        &format!("instances/{pb}/action"),
        json!({"promote_to_replica_source": {}}),
    )
    .expect(202);
    wait_until(
        BUILD,
        || {
            let (new, old) = (show(&cb, &pb), show(&cb, &pa));
            new["status"] == "ACTIVE"
                && new["replica_of"].is_null()
                && old["status"] == "ACTIVE"
                && old["replica_of"]["id"] == pb.as_str()
        },
        "the replica on host B is the source and the one on host A follows it",
    );
    assert!(pg(pb_port, "INSERT INTO t VALUES (2);").0);
    wait_until(
        BUILD,
        || pg(ports["pa"], "SELECT count(*) FROM t WHERE x = 2;") == (true, "1".into()),
        "the old source on host A has the new source's row",
    );
    assert!(
        !pg(ports["pa"], "INSERT INTO t VALUES (3);").0,
        "the follower takes writes"
    );
    // Ejected once its server is dead: the one on A takes over with the data.
    kill_server_behind_drovers_back(&b, &cb, &pb);
    ca.post(
        &format!("instances/{pb}/action"),
        json!({"eject_replica_source": {}}),
    )
    .expect(202);
    wait_until(
        BUILD,
        || {
            let shown = show(&ca, &pa);
            shown["status"] == "ACTIVE" && shown["replica_of"].is_null()
        },
        "the instance on host A has taken over from the dead source on host B",
    );
    assert_eq!(
        pg(ports["pa"], "SELECT count(*) FROM t;"),
        (true, "2".into())
    );
    wait_until(
        BUILD,
        || pg(ports["pa"], "INSERT INTO t VALUES (4);").0,
        "the new source on host A takes writes",
    );
    wait_until(
        BUILD,
        || show(&cb, &pb).get("task").is_none(),
        "the eject has ended",
    );
    cb.delete(&format!("instances/{pb}")).expect(202);
    wait_gone(&b, &cb, &pb, BUILD);

    // Over several health intervals every instance stays ACTIVE in both hosts' views, with one
    // server process each: neither host marks or starts the other's nodes.
    let ids = [("ra", &ra, &a), ("rb", &rb, &b), ("pa", &pa, &a)];
    let dirs: std::collections::HashMap<&str, PathBuf> = ids
        .iter()
        .map(|(name, _, server)| (*name, node_dir(server, ports[name])))
        .collect();
    stays(WATCH, "every instance ACTIVE on both hosts", || {
        for (name, id, _) in &ids {
            for (host, client) in [("host-a", &ca), ("host-b", &cb)] {
                let shown = show(client, id);
                if shown["status"] != "ACTIVE" {
                    return Err(format!("{host} shows {name} as {shown}"));
                }
            }
            let servers = node_servers(&dirs[name]);
            if servers.len() != 1 {
                return Err(format!("{name} has server processes {servers:?}"));
            }
        }
        Ok(())
    });
    let listed = hosts(&admin_b);
    assert_eq!(listed["host-a"]["state"], "up", "{listed:?}");
    assert_eq!(listed["host-b"]["state"], "up", "{listed:?}");
    assert_eq!(listed["host-a"]["instances"], 2, "{listed:?}");
    assert_eq!(listed["host-b"]["instances"], 1, "{listed:?}");

    // Host A dies right after growing ra's volume (it acts on no node), before it ends the
    // task. Its nodes keep running: nodes outlive their host.
    let a_servers: std::collections::HashMap<&str, Vec<(u32, String)>> = ["ra", "pa"]
        .into_iter()
        .map(|name| (name, those_processes(node_servers(&dirs[name]))))
        .collect();
    let _ = ca.try_send(
        "POST",
        &format!("instances/{ra}/action"),
        Some(&json!({"resize": {"volume": {"size": 2}}})),
    );
    let died = a.wait_exit(BUILD);
    assert_eq!(
        died.and_then(|s| s.code()),
        Some(86),
        "host A, armed to crash after growing a volume, did not\n--- host A's log ---\n{}",
        tail(&a.log_text(), 200)
    );
    let (a_state, a_ports) = a.kill();

    // B shows A's instances truthfully, in show and in list, and its own as they are.
    wait_until(
        Duration::from_secs(60),
        || shows_host_down(&show(&cb, &ra), "host-a") && shows_host_down(&show(&cb, &pa), "host-a"),
        "host B shows host A's instances in ERROR with a fault naming host A",
    );
    let listed = cb.get("instances").expect(200)["instances"].clone();
    for instance in listed.as_array().unwrap() {
        if instance["id"] == rb.as_str() {
            assert_eq!(instance["status"], "ACTIVE", "{instance}");
        } else {
            assert!(shows_host_down(instance, "host-a"), "{instance}");
        }
    }
    let listed = hosts(&admin_b);
    assert_eq!(listed["host-a"]["state"], "down", "{listed:?}");
    assert_eq!(listed["host-b"]["state"], "up", "{listed:?}");

    // B finishes the resize A left once A's lease has run out, and runs one asked of it for an
    // instance on A: neither acts on a node.
    wait_until(
        Duration::from_secs(60),
        || {
            let task = newest_task(&cb, &ra);
            show(&cb, &ra)["volume"]["size"] == 2
                && task["kind"] == "resize_volume"
                && task["state"] == "done"
        },
        "host B has finished the volume resize host A left",
    );
    cb.post(
        &format!("instances/{pa}/action"),
        json!({"resize": {"volume": {"size": 2}}}),
    )
    .expect(202);
    wait_until(
        Duration::from_secs(60),
        || {
            let task = newest_task(&cb, &pa);
            show(&cb, &pa)["volume"]["size"] == 2
                && task["kind"] == "resize_volume"
                && task["state"] == "done"
        },
        "host B has resized the volume of an instance on the dead host A",
    );
    assert_eq!(usage(&admin_b, "instances"), (3, 0));
    assert_eq!(usage(&admin_b, "volumes"), (5, 0));

    // B starts none of A's nodes, nor does it call them stopped: A's servers are the very
    // processes that ran before, and none runs from B's state directory but its own.
    let b_nodes = || -> BTreeSet<String> {
        std::fs::read_dir(b.state_dir().join("nodes"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect()
    };
    let b_own = b_nodes();
    assert_eq!(b_own.len(), 1, "host B's node directories: {b_own:?}");
    stays(WATCH, "host B leaves host A's nodes alone", || {
        for name in ["ra", "pa"] {
            let before: Vec<u32> = a_servers[name].iter().map(|(pid, _)| *pid).collect();
            if still_running(&a_servers[name]) != before {
                return Err(format!("{name}'s server processes {before:?} were stopped"));
            }
            let now = node_servers(&dirs[name]);
            if now != before {
                return Err(format!(
                    "{name} has server processes {now:?}, not {before:?}"
                ));
            }
        }
        if b_nodes() != b_own {
            return Err(format!("host B's node directories are now {:?}", b_nodes()));
        }
        for id in [&ra, &pa] {
            let shown = show(&cb, id);
            if !shows_host_down(&shown, "host-a") {
                return Err(format!("host B shows {shown}"));
            }
        }
        Ok(())
    });

    // A returns: its instances are ACTIVE again in both views, served by the processes that
    // never stopped.
    let a = Server::start_with_ports(a_state, store.options("host-a", None), a_ports);
    let ca = Client::new(&a.base, "p1", None);
    for id in [&ra, &pa] {
        for client in [&ca, &cb] {
            // B shows ERROR until it hears from A again.
            wait_until(
                Duration::from_secs(60),
                || show(client, id)["status"] == "ACTIVE",
                "host A's instances are ACTIVE again in both views",
            );
            let shown = show(client, id);
            assert!(shown["fault"].is_null(), "{shown}");
            assert_eq!(shown["host"], "host-a", "{shown}");
        }
    }
    wait_until(
        Duration::from_secs(60),
        || hosts(&admin_b)["host-a"]["state"] == "up",
        "host B lists host A up again",
    );
    for name in ["ra", "pa"] {
        let before: Vec<u32> = a_servers[name].iter().map(|(pid, _)| *pid).collect();
        assert_eq!(
            node_servers(&dirs[name]),
            before,
            "{name} is not served by the one process that ran before host A died"
        );
    }
    assert_eq!(
        redis_cli(ports["ra"], "app", "app-secret", &["PING"]),
        "PONG"
    );
    assert_eq!(
        pg(ports["pa"], "SELECT count(*) FROM t;"),
        (true, "3".into())
    );
}

/// A replica of `source` through `client`'s host; its id.
fn client_create_replica(client: &Client, source: &str) -> String {
    client
        .post(
            "instances",
            json!({"instance": {"name": "pb", "replica_of": source}}),
        )
        .expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}
