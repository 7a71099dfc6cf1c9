//! Two hosts on one PostgreSQL store, end to end (issue 13): two `drover serve` processes
//! with state directories of their own and one block of node ports serve instances, replicate
//! across each other, fail over, and each outlives the other's death.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::api::Client;
use crate::common::hosts::{
    SharedStore, all_active, kill_nodes_of, node_dirs, show, shows_host_down, stays,
};
use crate::common::nodes::{
    app_user, create_instance, kill_server_behind_drovers_back, node_dir, node_servers, port,
    redis_cli, require_root, wait_gone, wait_status, wait_until,
};
use crate::common::server::{PortBlock, Server};
use crate::nodes::require_binary;
use crate::postgresql::psql;
use crate::replication::root;

const BUILD: Duration = Duration::from_secs(180);
/// Longer than three health intervals of [`crate::common::hosts::ORCHESTRATOR`] (1 s).
const HEALTH_PASSES: Duration = Duration::from_secs(5);

fn state() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("drover-e2e-")
        .tempdir()
        .unwrap()
}

fn redis(port: u16, password: &str, args: &[&str]) -> String {
    redis_cli(port, "default", password, args)
}

fn role(port: u16, password: &str) -> String {
    let info = redis(port, password, &["INFO", "replication"]);
    info.lines()
        .find_map(|l| l.trim().strip_prefix("role:"))
        .unwrap_or_default()
        .to_string()
}

/// A write on the source `(port, password)` reaches the replica, which is a replica to
/// Redis too and refuses writes of its own.
#[track_caller]
fn follows(source: (u16, &str), replica: (u16, &str), (key, value): (&str, &str), what: &str) {
    assert_eq!(redis(source.0, source.1, &["SET", key, value]), "OK");
    wait_until(
        BUILD,
        || redis(replica.0, replica.1, &["GET", key]) == value,
        what,
    );
    assert_eq!(role(replica.0, replica.1), "slave");
    let refused = redis(replica.0, replica.1, &["SET", "k", "no"]);
    assert!(refused.contains("READONLY"), "{refused}");
}

/// The one lasting server of the node listening on `port` of `host`.
#[track_caller]
fn one_server(host: &Server, port: u16) {
    let dir = node_dir(host, port);
    assert!(dir.starts_with(host.state_dir()), "{}", dir.display());
    let servers = node_servers(&dir);
    assert_eq!(servers.len(), 1, "{}: servers {servers:?}", dir.display());
}

/// How many volume resizes of instance `id` are done, as `client`'s host shows its tasks.
fn resizes_done(client: &Client, id: &str) -> i64 {
    client.get(&format!("instances/{id}/tasks")).expect(200)["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "resize_volume" && t["state"] == "done")
        .count() as i64
}

fn id(instance: &Value) -> String {
    instance["id"].as_str().unwrap().to_string()
}

#[test]
fn two_hosts_on_one_store_serve_replicate_fail_over_and_outlive_each_other() {
    require_root("two hosts' nodes, each with a user of its own");
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    require_binary("postgres", "postgresql-15");
    require_binary("psql", "postgresql-client-15");

    // 1. Two hosts on one store, with one block of node ports: Landlock lets a node reach
    // only node ports of the configured range, and the two hosts' nodes reach each other.
    let store = SharedStore::postgres();
    let ports = Arc::new(PortBlock::claim());
    // Host A ends (exit 86, as SIGKILL would end it) right after a volume resize's step.
    let a = Server::start_with_ports(
        state(),
        store.options("host-a", Some("resize_volume:grow_volume")),
        ports.clone(),
    );
    let b = Server::start_with_ports(state(), store.options("host-b", None), ports.clone());
    let on_a = Client::new(&a.base, "p1", None);
    let on_b = Client::new(&b.base, "p1", None);

    // 2. Instances through both hosts, each on the host it was created through, each shown
    // the same by both, each answering its own client.
    let cache_a = create_instance(
        &on_a,
        "cache-a",
        "redis",
        "7.0",
        app_user("redis", "a-secret"),
    );
    let db_a = create_instance(
        &on_a,
        "db-a",
        "postgresql",
        "15",
        app_user("postgresql", "d-secret"),
    );
    let source = create_instance(&on_a, "source-a", "redis", "7.0", json!({}));
    let cache_b = create_instance(
        &on_b,
        "cache-b",
        "redis",
        "7.0",
        app_user("redis", "b-secret"),
    );
    let cache_a_port = port(&wait_status(&a, &on_a, &cache_a, "ACTIVE", BUILD));
    let db_a_port = port(&wait_status(&a, &on_a, &db_a, "ACTIVE", BUILD));
    let source_port = port(&wait_status(&a, &on_a, &source, "ACTIVE", BUILD));
    let cache_b_port = port(&wait_status(&b, &on_b, &cache_b, "ACTIVE", BUILD));
    for (id, host) in [
        (&cache_a, "host-a"),
        (&db_a, "host-a"),
        (&source, "host-a"),
        (&cache_b, "host-b"),
    ] {
        for client in [&on_a, &on_b] {
            let shown = show(client, id);
            assert_eq!(shown["host"], host, "{} shows {shown}", client.root);
            assert_eq!(shown["status"], "ACTIVE", "{} shows {shown}", client.root);
        }
    }
    let mut all_ports = vec![cache_a_port, db_a_port, source_port, cache_b_port];
    all_ports.sort();
    all_ports.dedup();
    assert_eq!(all_ports.len(), 4, "the hosts gave one port twice");
    for port in &all_ports {
        assert!((ports.low..=ports.high).contains(port), "port {port}");
    }
    for (host, port) in [
        (&a, cache_a_port),
        (&a, db_a_port),
        (&a, source_port),
        (&b, cache_b_port),
    ] {
        one_server(host, port);
    }
    assert_eq!(
        redis_cli(cache_a_port, "app", "a-secret", &["SET", "k", "on-a"]),
        "OK"
    );
    assert_eq!(
        redis_cli(cache_b_port, "app", "b-secret", &["SET", "k", "on-b"]),
        "OK"
    );
    let (ok, out) = psql(
        db_a_port,
        "app",
        "d-secret",
        "appdb",
        "CREATE TABLE t (x int); INSERT INTO t VALUES (42); SELECT x FROM t;",
    );
    assert!(ok && out.ends_with("42"), "{out}");

    // 3. A replica, through host B, of a source on host A: it follows the source across the
    // hosts, is promoted, and its source on A follows it; then it dies and is ejected, and the
    // node on A takes over.
    let replica = id(&on_b
        .post(
            "instances",
            json!({"instance": {"name": "replica-b", "replica_of": source}}),
        )
        .expect(200)["instance"]);
    let shown = wait_status(&b, &on_b, &replica, "ACTIVE", BUILD);
    assert_eq!(shown["host"], "host-b", "{shown}");
    assert_eq!(shown["replica_of"]["id"], source.as_str(), "{shown}");
    let replica_port = port(&shown);
    one_server(&b, replica_port);
    let source_password = root(&on_a, &source);
    let replica_password = root(&on_b, &replica);
    follows(
        (source_port, &source_password),
        (replica_port, &replica_password),
        ("k1", "one"),
        "the replica on host B has the source's write",
    );

    on_b.post(
        &format!("instances/{replica}/action"),
        json!({"promote_to_replica_source": {}}),
    )
    .expect(202);
    let promoted = wait_status(&b, &on_b, &replica, "ACTIVE", BUILD);
    assert!(promoted["replica_of"].is_null(), "{promoted}");
    wait_until(
        BUILD,
        || {
            let old = show(&on_a, &source);
            old["status"] == "ACTIVE" && old["replica_of"]["id"] == replica.as_str()
        },
        "host A shows the old source following the promoted replica",
    );
    assert_eq!(role(replica_port, &replica_password), "master");
    assert_eq!(
        redis(replica_port, &replica_password, &["GET", "k1"]),
        "one"
    );
    follows(
        (replica_port, &replica_password),
        (source_port, &source_password),
        ("k2", "two"),
        "the old source on host A has the new source's write",
    );

    kill_server_behind_drovers_back(&b, &on_b, &replica);
    on_b.post(
        &format!("instances/{replica}/action"),
        json!({"eject_replica_source": {}}),
    )
    .expect(202);
    wait_until(
        BUILD,
        || {
            let new = show(&on_a, &source);
            new["status"] == "ACTIVE" && new["replica_of"].is_null()
        },
        "the node on host A has taken over",
    );
    wait_until(
        BUILD,
        || {
            show(&on_b, &replica)["fault"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("took over"))
        },
        "the ejected source says who took over",
    );
    wait_until(
        BUILD,
        || role(source_port, &source_password) == "master",
        "the node on host A takes writes",
    );
    assert_eq!(redis(source_port, &source_password, &["GET", "k1"]), "one");
    assert_eq!(redis(source_port, &source_password, &["GET", "k2"]), "two");
    assert_eq!(
        redis(source_port, &source_password, &["SET", "k3", "three"]),
        "OK"
    );
    // The ejected node is not needed any more.
    on_b.delete(&format!("instances/{replica}")).expect(202);
    wait_gone(&b, &on_b, &replica, BUILD);

    // 4. Through several health passes, both hosts show every instance ACTIVE.
    let ids = [
        cache_a.as_str(),
        db_a.as_str(),
        source.as_str(),
        cache_b.as_str(),
    ];
    stays(HEALTH_PASSES, "every instance ACTIVE in both views", || {
        all_active(&on_a, &ids)?;
        all_active(&on_b, &ids)
    });
    for (host, port) in [
        (&a, cache_a_port),
        (&a, db_a_port),
        (&a, source_port),
        (&b, cache_b_port),
    ] {
        one_server(host, port);
    }

    // 5. Host A dies, crashing in the middle of a volume resize it accepted, and its nodes
    // with it (the whole machine). Host B shows A's instances as they are, starts none of
    // them, and finishes the resize, which needs no node.
    // A runs a task it accepted at once, but host B's poll may claim it first (it runs
    // anywhere): then B finishes it, and A is asked for another.
    let mut a = a;
    let mut size = 1;
    let ended = loop {
        size += 1;
        assert!(size <= 4, "host A never ran a volume resize itself");
        let reply = on_a.try_send(
            "POST",
            &format!("instances/{cache_a}/action"),
            Some(&json!({"resize": {"volume": {"size": size}}})),
        );
        if let Some(reply) = reply {
            assert_eq!(reply.status, 202, "{}", reply.body);
        }
        let mut ended = None;
        wait_until(
            BUILD,
            || {
                ended = a.wait_exit(Duration::ZERO);
                ended.is_some() || resizes_done(&on_b, &cache_a) == size - 1
            },
            "host A crashes in the resize, or host B did it",
        );
        if let Some(ended) = ended {
            break ended;
        }
    };
    assert_eq!(
        ended.code(),
        Some(86),
        "host A did not crash after the resize's step; its log:\n{}",
        a.log_text()
    );
    let (a_state, a_ports) = a.kill();
    kill_nodes_of(a_state.path());
    let a_dirs = node_dirs(a_state.path());
    assert_eq!(a_dirs.len(), 3, "host A's nodes: {a_dirs:?}");
    let b_dirs = node_dirs(b.state_dir());
    let a_ids = [cache_a.as_str(), db_a.as_str(), source.as_str()];
    wait_until(
        Duration::from_secs(60),
        || {
            a_ids
                .iter()
                .all(|id| shows_host_down(&show(&on_b, id), "host-a"))
        },
        "host B shows host A's instances with host A down",
    );
    wait_until(
        Duration::from_secs(60),
        || resizes_done(&on_b, &cache_a) == size - 1,
        "host B finished host A's volume resize",
    );
    assert_eq!(show(&on_b, &cache_a)["volume"]["size"], size);
    stays(
        HEALTH_PASSES,
        "host B shows host A's instances truthfully and starts none",
        || {
            for id in a_ids {
                let shown = show(&on_b, id);
                if !shows_host_down(&shown, "host-a") {
                    return Err(format!("host B shows {shown}"));
                }
            }
            for dir in &a_dirs {
                let servers = node_servers(dir);
                if !servers.is_empty() {
                    return Err(format!("{} has servers {servers:?}", dir.display()));
                }
            }
            if node_dirs(b.state_dir()) != b_dirs {
                return Err(format!("host B's nodes: {:?}", node_dirs(b.state_dir())));
            }
            let shown = show(&on_b, &cache_b);
            if shown["status"] != "ACTIVE" {
                return Err(format!("host B shows its own instance {shown}"));
            }
            Ok(())
        },
    );
    assert_eq!(
        redis_cli(cache_b_port, "app", "b-secret", &["GET", "k"]),
        "on-b"
    );

    // 6. Host A comes back on its state directory and ports: it starts its nodes again, one
    // server each, with their data, and both hosts show every instance ACTIVE.
    let a = Server::start_with_ports(a_state, store.options("host-a", None), a_ports);
    let on_a = Client::new(&a.base, "p1", None);
    // (Its first heartbeat may come after its first answer: no ERROR is taken for final.)
    wait_until(
        BUILD,
        || a_ids.iter().all(|id| show(&on_a, id)["status"] == "ACTIVE"),
        "host A shows its instances ACTIVE again",
    );
    // A node may be shown ACTIVE while its server still starts: wait until each answers.
    wait_until(
        BUILD,
        || redis_cli(cache_a_port, "app", "a-secret", &["PING"]) == "PONG",
        "host A's cache answers again",
    );
    wait_until(
        BUILD,
        || psql(db_a_port, "app", "d-secret", "appdb", "SELECT 1;").0,
        "host A's database answers again",
    );
    wait_until(
        BUILD,
        || redis(source_port, &source_password, &["PING"]) == "PONG",
        "host A's former replica source answers again",
    );
    wait_until(
        Duration::from_secs(60),
        || all_active(&on_a, &ids).is_ok() && all_active(&on_b, &ids).is_ok(),
        "both hosts show every instance ACTIVE again",
    );
    for (host, port) in [
        (&a, cache_a_port),
        (&a, db_a_port),
        (&a, source_port),
        (&b, cache_b_port),
    ] {
        one_server(host, port);
    }
    assert_eq!(
        redis_cli(cache_a_port, "app", "a-secret", &["GET", "k"]),
        "on-a"
    );
    let (ok, out) = psql(db_a_port, "app", "d-secret", "appdb", "SELECT x FROM t;");
    assert!(ok && out.ends_with("42"), "{out}");
    assert_eq!(role(source_port, &source_password), "master");
    assert_eq!(
        redis(source_port, &source_password, &["GET", "k3"]),
        "three"
    );
    for client in [&on_a, &on_b] {
        let shown = show(client, &cache_a);
        assert_eq!(
            shown["volume"]["size"], size,
            "{} shows {shown}",
            client.root
        );
        assert!(shown["fault"].is_null(), "{} shows {shown}", client.root);
    }
    stays(HEALTH_PASSES, "every instance ACTIVE in both views", || {
        all_active(&on_a, &ids)?;
        all_active(&on_b, &ids)
    });

    for (client, host, id) in [
        (&on_a, &a, &cache_a),
        (&on_a, &a, &db_a),
        (&on_a, &a, &source),
        (&on_b, &b, &cache_b),
    ] {
        client.delete(&format!("instances/{id}")).expect(202);
        wait_gone(host, client, id, BUILD);
    }
}
