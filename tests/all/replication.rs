//! Replication end to end: the `drover` binary over HTTP, real servers following each other,
//! checked with the datastore's own client.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::api::Setup;
use crate::common::api::Client;
use crate::common::nodes::{port, redis_cli, usage, wait_status};
use crate::nodes::require_binary;

const BUILD: Duration = Duration::from_secs(180);

fn redis(port: u16, password: &str, args: &[&str]) -> String {
    redis_cli(port, "default", password, args)
}

/// Enables root on an instance; its password.
pub fn root(client: &Client, id: &str) -> String {
    client
        .post(&format!("instances/{id}/root"), json!({}))
        .expect(200)["user"]["password"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A Redis 7.0 source of the given flavor and volume size, ACTIVE: its id and port.
fn redis_source(
    server: &crate::common::server::Server,
    client: &Client,
    flavor: u32,
    volume: u32,
) -> (String, u16) {
    let source = client
        .post(
            "instances",
            json!({"instance": {"name": "src", "flavorRef": flavor, "volume": {"size": volume},
                "datastore": {"type": "redis", "version": "7.0"}}}),
        )
        .expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let port = port(&wait_status(server, client, &source, "ACTIVE", BUILD));
    (source, port)
}

#[track_caller]
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < BUILD, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A client that keeps writing numbered entries (1, 2, …) to a source and remembers which
/// writes were acknowledged.
struct Writer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<usize>>,
}

impl Writer {
    /// Starts writing with `write(n)`, which tells whether write `n` was acknowledged, and
    /// returns once `under_way` writes were, however slow the machine.
    fn start(under_way: usize, write: impl Fn(usize) -> bool + Send + 'static) -> Writer {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let written = std::sync::Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, written) = (stop.clone(), written.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    if write(n) {
                        acknowledged.push(n);
                        written.fetch_add(1, Ordering::Relaxed);
                    }
                }
                acknowledged
            })
        };
        eventually("the writer has written", || {
            written.load(Ordering::Relaxed) >= under_way
        });
        Writer { stop, thread }
    }

    /// Stops writing: the numbers of the acknowledged writes.
    fn stop(self) -> Vec<usize> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// The accounts a driver makes for itself on `id` (`names`) are not the tenant's: never
/// listed, shown, changed, granted, revoked, deleted or created through the API. The caller
/// then shows that replication, which one of them carries, is unharmed.
fn internal_accounts_are_untouchable(client: &Client, id: &str, names: &[&str]) {
    let listed = crate::common::nodes::names(
        &client.get(&format!("instances/{id}/users")).expect(200),
        "users",
    );
    for name in names {
        assert!(
            !listed.iter().any(|user| user == name),
            "{name} is listed: {listed:?}"
        );
        let user = format!("instances/{id}/users/{name}");
        client.get(&user).error("itemNotFound", 404);
        client
            .put(&user, json!({"user": {"password": "taken-over"}}))
            .error("itemNotFound", 404);
        client
            .put(&user, json!({"user": {"name": "renamed"}}))
            .error("itemNotFound", 404);
        client.delete(&user).error("itemNotFound", 404);
        for reply in [
            client.get(&format!("{user}/databases")),
            client.put(
                &format!("{user}/databases"),
                json!({"databases": [{"name": "appdb"}]}),
            ),
            client.delete(&format!("{user}/databases/appdb")),
        ] {
            // Refused: the account is not found, or the datastore has no access to grant
            // (Redis: 501 for everyone).
            assert!(
                (400..500).contains(&reply.status) || reply.status == 501,
                "{name}'s access: {} {}",
                reply.status,
                reply.body
            );
        }
        let refused = client
            .post(
                &format!("instances/{id}/users"),
                json!({"users": [{"name": name, "password": "taken-over"}]}),
            )
            .error("badRequest", 400);
        assert!(refused.contains("reserved"), "{refused}");
    }
}

#[test]
fn redis_replicas_follow_their_source_refuse_writes_and_detach() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let (source, source_port) = redis_source(server, client, 2, 2);
    let source_password = root(client, &source);
    assert_eq!(
        redis(source_port, &source_password, &["SET", "k1", "before"]),
        "OK"
    );
    let forks = || {
        let stats = redis(source_port, &source_password, &["INFO", "stats"]);
        stats
            .lines()
            .find_map(|line| line.trim().strip_prefix("total_forks:"))
            .map(|n| n.parse::<u64>().unwrap())
            .unwrap_or_else(|| panic!("no total_forks in {stats}"))
    };
    let forks_before = forks();

    // Two replicas from one request, without flavor or volume (as the openstack client sends).
    let first = client
        .post(
            "instances",
            json!({"instance": {"name": "rep", "replica_of": source, "replica_count": 2}}),
        )
        .expect(200)["instance"]
        .clone();
    assert_eq!(first["replica_of"]["id"], source.as_str(), "{first}");
    let replicas = client
        .get(&format!("instances/{source}/replicas"))
        .expect(200)["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(replicas.len(), 2);
    let mut ports = Vec::new();
    let mut passwords = Vec::new();
    for replica in &replicas {
        let shown = wait_status(server, client, replica, "ACTIVE", BUILD);
        // Inherited from the source.
        assert_eq!(shown["flavor"]["id"], "2", "{shown}");
        assert_eq!(shown["volume"]["size"], 2, "{shown}");
        ports.push(port(&shown));
        passwords.push(root(client, replica));
    }
    // Both were seeded by one snapshot of the source: a single full sync (one fork) served
    // them.
    assert_eq!(forks() - forks_before, 1, "one snapshot of the source");
    let shown = client.get(&format!("instances/{source}")).expect(200)["instance"].clone();
    assert_eq!(shown["replicas"].as_array().unwrap().len(), 2, "{shown}");
    // Quotas count every replica.
    assert_eq!(usage(client, "instances"), (3, 0));
    assert_eq!(usage(client, "volumes"), (6, 0));

    internal_accounts_are_untouchable(
        client,
        &source,
        &["drover-replicator", "drover-admin", "default"],
    );
    // A write on the source is read on both replicas; a write on a replica is refused.
    assert_eq!(
        redis(source_port, &source_password, &["SET", "k2", "after"]),
        "OK"
    );
    for (port, password) in ports.iter().zip(&passwords) {
        assert_eq!(redis(*port, password, &["GET", "k1"]), "before");
        eventually("the replica has the new write", || {
            redis(*port, password, &["GET", "k2"]) == "after"
        });
        let refused = redis(*port, password, &["SET", "k3", "no"]);
        assert!(refused.contains("READONLY"), "{refused}");
    }

    // A source with replicas cannot be deleted; a replica of a replica is refused.
    client
        .delete(&format!("instances/{source}"))
        .error("forbidden", 403);
    client
        .post(
            "instances",
            json!({"instance": {"name": "deep", "replica_of": replicas[0]}}),
        )
        .error("badRequest", 400);

    // Detach: the replica becomes writable and no longer receives the source's writes.
    client
        .put(
            &format!("instances/{}", replicas[0]),
            json!({"instance": {"replica_of": null}}),
        )
        .expect(202);
    let detached = wait_status(server, client, &replicas[0], "ACTIVE", BUILD);
    assert!(detached["replica_of"].is_null(), "{detached}");
    eventually("the detached replica accepts writes", || {
        redis(ports[0], &passwords[0], &["SET", "k3", "mine"]) == "OK"
    });
    assert_eq!(
        redis(source_port, &source_password, &["SET", "k4", "later"]),
        "OK"
    );
    eventually("the other replica has the later write", || {
        redis(ports[1], &passwords[1], &["GET", "k4"]) == "later"
    });
    assert_eq!(redis(ports[0], &passwords[0], &["GET", "k4"]), "");
    assert_eq!(redis(ports[0], &passwords[0], &["GET", "k1"]), "before");
    let replicas_now = client
        .get(&format!("instances/{source}/replicas"))
        .expect(200)["instances"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(replicas_now, 1, "the source forgot the detached replica");
}

#[test]
fn redis_promote_loses_no_acknowledged_write_and_the_set_follows_the_new_source() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let (source, source_port) = redis_source(server, client, 1, 1);
    let source_password = root(client, &source);
    client
        .post(
            "instances",
            json!({"instance": {"name": "rep", "replica_of": source, "replica_count": 2}}),
        )
        .expect(200);
    let replicas: Vec<String> = client
        .get(&format!("instances/{source}/replicas"))
        .expect(200)["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let mut nodes = Vec::new();
    for replica in &replicas {
        let shown = wait_status(server, client, replica, "ACTIVE", BUILD);
        nodes.push((port(&shown), root(client, replica)));
    }

    // A writer keeps writing numbered keys (`w1`, `w2`, …) to the source; the promote starts
    // once it is under way.
    let password = source_password.clone();
    let writer = Writer::start(10, move |n| {
        redis(source_port, &password, &["SET", &format!("w{n}"), "v"]) == "OK"
    });
    let (new_port, new_password) = nodes[0].clone();
    client
        .post(
            &format!("instances/{}/action", replicas[0]),
            json!({"promote_to_replica_source": {}}),
        )
        .expect(202);
    let promoted = wait_status(server, client, &replicas[0], "ACTIVE", BUILD);
    std::thread::sleep(Duration::from_millis(500));
    let acknowledged: Vec<String> = writer.stop().iter().map(|n| format!("w{n}")).collect();
    assert!(
        acknowledged.len() > 10,
        "the writer wrote: {}",
        acknowledged.len()
    );
    assert!(promoted["replica_of"].is_null(), "{promoted}");

    // Every acknowledged write is on the new source, which takes writes.
    for key in &acknowledged {
        assert_eq!(
            redis(new_port, &new_password, &["GET", key]),
            "v",
            "{key} was lost"
        );
    }
    assert_eq!(
        redis(new_port, &new_password, &["SET", "after", "yes"]),
        "OK"
    );
    // The old source and the other replica follow the new source, read-only.
    for (port, password) in [(source_port, &source_password), (nodes[1].0, &nodes[1].1)] {
        eventually("a follower has the new source's write", || {
            redis(port, password, &["GET", "after"]) == "yes"
        });
        assert!(redis(port, password, &["SET", "x", "y"]).contains("READONLY"));
    }
    let old = client.get(&format!("instances/{source}")).expect(200)["instance"].clone();
    assert_eq!(old["replica_of"]["id"], replicas[0].as_str(), "{old}");
    let set = client
        .get(&format!("instances/{}/replicas", replicas[0]))
        .expect(200)["instances"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(set, 2, "the new source has both followers");
}

#[test]
fn redis_eject_replaces_a_dead_source_and_is_refused_while_it_lives() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let (source, source_port) = redis_source(server, client, 1, 1);
    let source_password = root(client, &source);
    client
        .post(
            "instances",
            json!({"instance": {"name": "rep", "replica_of": source, "replica_count": 2}}),
        )
        .expect(200);
    let replicas: Vec<String> = client
        .get(&format!("instances/{source}/replicas"))
        .expect(200)["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let mut nodes = std::collections::HashMap::new();
    for replica in &replicas {
        let shown = wait_status(server, client, replica, "ACTIVE", BUILD);
        nodes.insert(replica.clone(), (port(&shown), root(client, replica)));
    }
    assert_eq!(
        redis(source_port, &source_password, &["SET", "k", "v"]),
        "OK"
    );
    for (port, password) in nodes.values() {
        eventually("the replicas have the write", || {
            redis(*port, password, &["GET", "k"]) == "v"
        });
    }

    // Refused while the source is up.
    client
        .post(
            &format!("instances/{source}/action"),
            json!({"eject_replica_source": {}}),
        )
        .error("badRequest", 400);

    // Its server dies; the health pass notices; eject.
    crate::common::nodes::kill_server_behind_drovers_back(server, client, &source);
    client
        .post(
            &format!("instances/{source}/action"),
            json!({"eject_replica_source": {}}),
        )
        .expect(202);
    // The ejected source keeps a fault saying who took over (its status is the health
    // pass's: its server is down).
    eventually("the ejected source says who took over", || {
        client.get(&format!("instances/{source}")).expect(200)["instance"]["fault"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("took over"))
    });
    let (new_source, follower): (Vec<&String>, Vec<&String>) = replicas.iter().partition(|r| {
        client.get(&format!("instances/{r}")).expect(200)["instance"]["replica_of"].is_null()
    });
    assert_eq!(
        (new_source.len(), follower.len()),
        (1, 1),
        "one source, one follower"
    );
    let (new_port, new_password) = &nodes[new_source[0]];
    let (follower_port, follower_password) = &nodes[follower[0]];
    assert_eq!(redis(*new_port, new_password, &["GET", "k"]), "v");
    assert_eq!(
        redis(*new_port, new_password, &["SET", "k2", "after"]),
        "OK"
    );
    eventually("the other replica follows the new source", || {
        redis(*follower_port, follower_password, &["GET", "k2"]) == "after"
    });
    let shown = client
        .get(&format!("instances/{}", follower[0]))
        .expect(200)["instance"]
        .clone();
    assert_eq!(shown["replica_of"]["id"], new_source[0].as_str(), "{shown}");
    assert_eq!(
        client
            .get(&format!("instances/{source}/replicas"))
            .expect(200)["instances"],
        json!([]),
        "the ejected source left the set"
    );
}

fn require_mariadb() {
    require_binary("mariadbd", "mariadb-server");
    require_binary("mariadb", "mariadb-client");
    require_binary("mariadb-dump", "mariadb-client");
}

fn require_postgresql() {
    require_binary("postgres", "postgresql-15");
    require_binary("pg_basebackup", "postgresql-client-15");
    require_binary("pg_rewind", "postgresql-15");
    require_binary("psql", "postgresql-client-15");
}

/// SQL as the application user of a MariaDB set, in its database.
fn maria(port: u16, sql: &str) -> (bool, String) {
    crate::mariadb::mariadb(port, "app", "app-secret", "appdb", sql)
}

/// SQL as the application user of a PostgreSQL set, in its database.
fn pg(port: u16, sql: &str) -> (bool, String) {
    crate::postgresql::psql(port, "app", "app-secret", "appdb", sql)
}

/// Where a MariaDB replica's data was seeded from, as root sees it: its binary log starts with
/// the GTID position of the dump it imported.
fn maria_seed_point(port: u16, root_password: &str) -> String {
    let (ok, out) = crate::mariadb::mariadb(
        port,
        "root",
        root_password,
        "",
        "SHOW BINLOG EVENTS LIMIT 2;",
    );
    assert!(ok, "{out}");
    out.lines()
        .find(|line| line.contains("Gtid_list"))
        .unwrap_or_else(|| panic!("no Gtid_list event in {out}"))
        .split('\t')
        .next_back()
        .unwrap()
        .to_string()
}

/// Where a PostgreSQL standby's data was seeded from, as the superuser sees it: the label of
/// the base backup it started from (WAL location and time).
fn pg_seed_point(port: u16, root_password: &str) -> String {
    let (ok, out) = crate::postgresql::psql(
        port,
        "postgres",
        root_password,
        "postgres",
        "SELECT pg_read_file('backup_label.old');",
    );
    assert!(ok && out.contains("START WAL LOCATION"), "{out}");
    out
}

/// A SQL datastore as these tests reach it: as the application user `app` of `appdb`.
struct SqlDatastore {
    datastore: &'static str,
    version: &'static str,
    /// Runs SQL on a node; returns whether it succeeded and what it printed.
    sql: fn(u16, &str) -> (bool, String),
    /// Where a replica's data was seeded from, read with the source's root password.
    seed_point: fn(u16, &str) -> String,
    /// Fails, naming the package to install, when a binary is missing.
    require: fn(),
    /// The accounts the driver makes for itself (and the superuser's), not the tenant's.
    internal_accounts: &'static [&'static str],
}

const MARIADB: SqlDatastore = SqlDatastore {
    datastore: "mariadb",
    version: "10.11",
    sql: maria,
    seed_point: maria_seed_point,
    require: require_mariadb,
    internal_accounts: &["drover_replicator", "drover", "root", "mariadb.sys"],
};

const POSTGRESQL: SqlDatastore = SqlDatastore {
    datastore: "postgresql",
    version: "15",
    sql: pg,
    seed_point: pg_seed_point,
    require: require_postgresql,
    internal_accounts: &["drover_replicator", "postgres"],
};

impl SqlDatastore {
    fn run(&self, port: u16, sql: &str) -> (bool, String) {
        (self.sql)(port, sql)
    }

    /// How many rows of `t` match `filter`.
    fn count(&self, port: u16, filter: &str) -> String {
        self.run(port, &format!("SELECT count(*) FROM t WHERE {filter};"))
            .1
    }

    /// A source with a database, an application user and a table `t`, and `count` replicas of
    /// it, all ACTIVE. Returns the source's id and port and each replica's.
    fn set(
        &self,
        server: &crate::common::server::Server,
        client: &Client,
        count: usize,
    ) -> ((String, u16), Vec<(String, u16)>) {
        let (source, source_port) = self.source(server, client);
        let replicas = self.replicas(server, client, &source, count);
        ((source, source_port), replicas)
    }

    /// An ACTIVE source with a database, an application user and a table `t` holding 1.
    fn source(&self, server: &crate::common::server::Server, client: &Client) -> (String, u16) {
        (self.require)();
        let source = client
            .post(
                "instances",
                json!({"instance": {"name": format!("{}-src", self.datastore), "flavorRef": 2,
                    "volume": {"size": 1},
                    "datastore": {"type": self.datastore, "version": self.version},
                    "databases": [{"name": "appdb"}],
                    "users": [{"name": "app", "password": "app-secret", "databases": [{"name": "appdb"}]}]}}),
            )
            .expect(200)["instance"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let source_port = port(&wait_status(server, client, &source, "ACTIVE", BUILD));
        let (ok, out) = self.run(
            source_port,
            "CREATE TABLE t (x int); INSERT INTO t VALUES (1);",
        );
        assert!(ok, "{out}");
        (source, source_port)
    }

    /// `count` replicas of `source` from one request, all ACTIVE: each one's id and port.
    fn replicas(
        &self,
        server: &crate::common::server::Server,
        client: &Client,
        source: &str,
        count: usize,
    ) -> Vec<(String, u16)> {
        client
            .post(
                "instances",
                json!({"instance": {"name": format!("{}-rep", self.datastore),
                    "replica_of": source, "replica_count": count}}),
            )
            .expect(200);
        let replicas = client
            .get(&format!("instances/{source}/replicas"))
            .expect(200)["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let id = r["id"].as_str().unwrap().to_string();
                let shown = wait_status(server, client, &id, "ACTIVE", BUILD);
                (id, port(&shown))
            })
            .collect::<Vec<_>>();
        assert_eq!(replicas.len(), count);
        replicas
    }
}

/// `replica_count` 2 while a writer keeps inserting into the source: both replicas are seeded
/// from one snapshot of it (the datastore shows the same seed point on both), each then has
/// every acknowledged row, and the snapshot does not outlive the batch.
fn replica_count_seeds_every_replica_from_one_snapshot(store: &'static SqlDatastore) {
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let (source, source_port) = store.source(server, client);
    // Root's account is copied to the replicas with everything else.
    let root_password = root(client, &source);

    // Rows 101, 102, … while the replicas are created.
    let writer = Writer::start(5, move |n| {
        store
            .run(source_port, &format!("INSERT INTO t VALUES ({});", 100 + n))
            .0
    });
    let replicas = store.replicas(server, client, &source, 2);
    let acknowledged = writer.stop().len();
    assert!(acknowledged >= 5, "the writer kept writing");

    let points: Vec<String> = replicas
        .iter()
        .map(|(_, port)| (store.seed_point)(*port, &root_password))
        .collect();
    assert_eq!(
        points[0], points[1],
        "the replicas were seeded from different copies"
    );
    for (_, port) in &replicas {
        eventually("the replica has every acknowledged row", || {
            store.count(*port, "x >= 100") == acknowledged.to_string()
        });
    }
    let nodes = server.state_dir().join("nodes");
    eventually("the batch's snapshot is removed", || {
        std::fs::read_dir(&nodes)
            .unwrap()
            .flatten()
            .all(|entry| !entry.file_name().to_string_lossy().starts_with("snapshot-"))
    });
}

/// A source with two replicas (`replica_count`): a write on the source is read on both, a write
/// on a replica is refused, each replica shows it is in sync, a source with replicas cannot be
/// deleted; detach makes a replica writable and deaf to the source's later writes.
fn replicas_follow_refuse_writes_and_detach(store: &SqlDatastore) {
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let ((source, source_port), replicas) = store.set(server, client, 2);
    assert_eq!(usage(client, "instances"), (3, 0));
    // Users and databases come from the source: changing them on a replica is refused (and
    // its replication is not harmed, as the writes below show).
    let replica = &replicas[0].0;
    let refused = client
        .post(
            &format!("instances/{replica}/users"),
            json!({"users": [{"name": "local", "password": "local-secret"}]}),
        )
        .error("conflict", 409);
    assert!(refused.contains("replica"), "{refused}");
    client
        .post(
            &format!("instances/{replica}/databases"),
            json!({"databases": [{"name": "localdb"}]}),
        )
        .error("conflict", 409);
    client
        .post(&format!("instances/{replica}/root"), json!({}))
        .error("conflict", 409);
    // Beyond Trove: each replica shows how it follows its source, in show and in list.
    for (id, _) in &replicas {
        eventually("the replica shows it is in sync", || {
            let shown = client.get(&format!("instances/{id}")).expect(200)["instance"].clone();
            shown["replication_state"] == "in_sync" && shown["replication_lag"].is_number()
        });
    }
    let listed = client.get("instances").expect(200)["instances"].clone();
    let states: Vec<&serde_json::Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["replication_state"])
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == "in_sync").count(),
        2,
        "{listed}"
    );
    assert_eq!(
        crate::common::nodes::names(
            &client.get("instances?include_replicas=false").expect(200),
            "instances"
        ),
        [format!("{}-src", store.datastore)]
    );

    internal_accounts_are_untouchable(client, &source, store.internal_accounts);
    // The seed has the data and the user; a new write arrives on both; writes are refused.
    assert!(store.run(source_port, "INSERT INTO t VALUES (2);").0);
    for (_, port) in &replicas {
        assert_eq!(store.count(*port, "x = 1"), "1");
        eventually("the replica has the new row", || {
            store.count(*port, "x = 2") == "1"
        });
        let (ok, out) = store.run(*port, "INSERT INTO t VALUES (3);");
        assert!(!ok && out.contains("read-only"), "{out}");
    }
    client
        .delete(&format!("instances/{source}"))
        .error("forbidden", 403);

    // Detach: writable, and the source's later writes no longer arrive.
    let (detached, detached_port) = &replicas[0];
    client
        .patch(
            &format!("instances/{detached}"),
            json!({"instance": {"replica_of": ""}}),
        )
        .expect(202);
    let shown = wait_status(server, client, detached, "ACTIVE", BUILD);
    assert!(shown["replica_of"].is_null(), "{shown}");
    eventually("the detached replica takes writes", || {
        store.run(*detached_port, "INSERT INTO t VALUES (30);").0
    });
    assert!(store.run(source_port, "INSERT INTO t VALUES (4);").0);
    eventually("the other replica has the later write", || {
        store.count(replicas[1].1, "x = 4") == "1"
    });
    assert_eq!(
        store.count(*detached_port, "x = 4"),
        "0",
        "the detached replica still receives the source's writes"
    );
    assert_eq!(store.count(source_port, "x = 30"), "0");
}

/// Promote while a writer keeps inserting numbered rows into the source and remembers what was
/// acknowledged: every acknowledged row is on the new source, and the old source (rewound where
/// the datastore needs it) and the other replica follow the new source, read-only.
fn promote_loses_no_acknowledged_write(store: &'static SqlDatastore) {
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let ((source, source_port), replicas) = store.set(server, client, 2);

    // Rows 101, 102, …; the promote starts once the writer is under way.
    let writer = Writer::start(5, move |n| {
        store
            .run(source_port, &format!("INSERT INTO t VALUES ({});", 100 + n))
            .0
    });
    let (candidate, new_port) = replicas[0].clone();
    client
        .post(
            &format!("instances/{candidate}/action"),
            json!({"promote_to_replica_source": {}}),
        )
        .expect(202);
    let promoted = wait_status(server, client, &candidate, "ACTIVE", BUILD);
    std::thread::sleep(Duration::from_millis(500));
    let acknowledged: Vec<i64> = writer.stop().iter().map(|n| 100 + *n as i64).collect();
    assert!(
        acknowledged.len() >= 5,
        "the writer wrote: {acknowledged:?}"
    );
    assert!(promoted["replica_of"].is_null(), "{promoted}");

    let (ok, rows) = store.run(new_port, "SELECT x FROM t WHERE x > 100 ORDER BY x;");
    assert!(ok, "{rows}");
    let present: std::collections::BTreeSet<i64> =
        rows.lines().map(|l| l.trim().parse().unwrap()).collect();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|n| !present.contains(n))
        .collect();
    assert!(lost.is_empty(), "acknowledged rows lost: {lost:?}");
    assert!(store.run(new_port, "INSERT INTO t VALUES (-1);").0);
    for port in [source_port, replicas[1].1] {
        eventually("a follower has the new source's write", || {
            store.count(port, "x = -1") == "1"
        });
        let (ok, out) = store.run(port, "INSERT INTO t VALUES (-2);");
        assert!(!ok && out.contains("read-only"), "{out}");
    }
    let old = wait_status(server, client, &source, "ACTIVE", BUILD);
    assert_eq!(old["replica_of"]["id"], candidate.as_str(), "{old}");
    assert_eq!(
        client
            .get(&format!("instances/{candidate}/replicas"))
            .expect(200)["instances"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "the new source has both followers"
    );
}

/// Eject after the source's server is killed: refused while it lives; afterwards the replicas
/// show they are out of sync, one takes over with the data and the other follows it.
fn eject_replaces_a_stopped_source(store: &SqlDatastore) {
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let ((source, source_port), replicas) = store.set(server, client, 2);
    assert!(store.run(source_port, "INSERT INTO t VALUES (2);").0);
    for (_, port) in &replicas {
        eventually("the replicas have the write", || {
            store.count(*port, "x = 2") == "1"
        });
    }
    client
        .post(
            &format!("instances/{source}/action"),
            json!({"eject_replica_source": {}}),
        )
        .error("badRequest", 400);

    crate::common::nodes::kill_server_behind_drovers_back(server, client, &source);
    for (id, _) in &replicas {
        eventually(
            "a replica of the stopped source shows it is out of sync",
            || {
                client.get(&format!("instances/{id}")).expect(200)["instance"]["replication_state"]
                    == "out_of_sync"
            },
        );
    }
    client
        .post(
            &format!("instances/{source}/action"),
            json!({"eject_replica_source": {}}),
        )
        .expect(202);
    eventually("the ejected source says who took over", || {
        client.get(&format!("instances/{source}")).expect(200)["instance"]["fault"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("took over"))
    });
    let (new_source, follower): (Vec<_>, Vec<_>) = replicas.iter().partition(|(id, _)| {
        client.get(&format!("instances/{id}")).expect(200)["instance"]["replica_of"].is_null()
    });
    assert_eq!((new_source.len(), follower.len()), (1, 1));
    let ((new_id, new_port), (follower_id, follower_port)) = (new_source[0], follower[0]);
    wait_status(server, client, new_id, "ACTIVE", BUILD);
    assert_eq!(store.count(*new_port, "x = 2"), "1");
    assert!(store.run(*new_port, "INSERT INTO t VALUES (5);").0);
    eventually("the other replica follows the new source", || {
        store.count(*follower_port, "x = 5") == "1"
    });
    let shown = client.get(&format!("instances/{follower_id}")).expect(200)["instance"].clone();
    assert_eq!(shown["replica_of"]["id"], new_id.as_str(), "{shown}");
}

#[test]
fn mariadb_replicas_follow_their_source_refuse_writes_and_detach() {
    replicas_follow_refuse_writes_and_detach(&MARIADB);
}

#[test]
fn postgresql_replicas_stream_refuse_writes_and_detach() {
    replicas_follow_refuse_writes_and_detach(&POSTGRESQL);
}

#[test]
fn mariadb_replica_count_seeds_every_replica_from_one_snapshot() {
    replica_count_seeds_every_replica_from_one_snapshot(&MARIADB);
}

#[test]
fn postgresql_replica_count_seeds_every_replica_from_one_snapshot() {
    replica_count_seeds_every_replica_from_one_snapshot(&POSTGRESQL);
}

#[test]
fn mariadb_promote_loses_no_acknowledged_write_and_the_set_follows_the_new_source() {
    promote_loses_no_acknowledged_write(&MARIADB);
}

#[test]
fn mariadb_eject_replaces_a_stopped_source_and_is_refused_while_it_lives() {
    eject_replaces_a_stopped_source(&MARIADB);
}

#[test]
fn postgresql_promote_loses_no_acknowledged_write_and_rewinds_the_old_source() {
    promote_loses_no_acknowledged_write(&POSTGRESQL);
}

#[test]
fn postgresql_eject_replaces_a_stopped_source_and_is_refused_while_it_lives() {
    eject_replaces_a_stopped_source(&POSTGRESQL);
}

#[test]
fn a_host_killed_mid_promote_finishes_it_after_a_restart_with_one_writable_source() {
    use crate::common::server::{Options, Server};
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let options = || Options {
        args: vec!["--auth".into(), "noauth".into()],
        ..Default::default()
    };
    let server = Server::start(options());
    let client = Client::new(&server.base, "p1", None);
    let (source, source_port) = redis_source(&server, &client, 1, 1);
    client
        .post(
            "instances",
            json!({"instance": {"name": "rep", "replica_of": source, "replica_count": 2}}),
        )
        .expect(200);
    let replicas: Vec<(String, u16)> = client
        .get(&format!("instances/{source}/replicas"))
        .expect(200)["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap().to_string();
            let shown = wait_status(&server, &client, &id, "ACTIVE", BUILD);
            (id, port(&shown))
        })
        .collect();
    assert_eq!(
        redis(
            source_port,
            &root(&client, &source),
            &["SET", "before", "1"]
        ),
        "OK"
    );
    let candidate = replicas[0].0.clone();

    // SIGKILL the host while the promote task runs (it has only just been accepted).
    client
        .post(
            &format!("instances/{candidate}/action"),
            json!({"promote_to_replica_source": {}}),
        )
        .expect(202);
    let (state, ports) = server.kill();
    let server = Server::start_with_ports(state, options(), ports);
    let client = Client::new(&server.base, "p1", None);

    // The restarted host finishes the promote: the candidate is the source, the others follow.
    let promoted = wait_status(&server, &client, &candidate, "ACTIVE", BUILD);
    assert!(promoted["replica_of"].is_null(), "{promoted}");
    let old = wait_status(&server, &client, &source, "ACTIVE", BUILD);
    assert_eq!(old["replica_of"]["id"], candidate.as_str(), "{old}");
    // Exactly one node takes writes, and it is the one the API calls the source.
    let nodes: Vec<(String, u16, String)> = [
        (source.clone(), source_port),
        replicas[0].clone(),
        replicas[1].clone(),
    ]
    .into_iter()
    .map(|(id, port)| {
        let password = root(&client, &id);
        (id, port, password)
    })
    .collect();
    let writable: Vec<&String> = nodes
        .iter()
        .filter(|(_, port, password)| {
            redis(*port, password, &["INFO", "replication"]).contains("role:master")
        })
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(writable, [&candidate], "writable nodes");
    let (_, new_port, new_password) = &nodes[1];
    assert_eq!(redis(*new_port, new_password, &["GET", "before"]), "1");
    assert_eq!(redis(*new_port, new_password, &["SET", "after", "2"]), "OK");
    for (_, port, password) in [&nodes[0], &nodes[2]] {
        eventually("a follower has the new source's write", || {
            redis(*port, password, &["GET", "after"]) == "2"
        });
    }
}

#[test]
fn an_ejected_source_stays_stopped_even_when_the_host_restarts() {
    use crate::common::nodes::{node_dir, server_processes};
    use crate::common::server::{Options, Server};
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let options = || Options {
        args: vec!["--auth".into(), "noauth".into()],
        ..Default::default()
    };
    let server = Server::start(options());
    let client = Client::new(&server.base, "p1", None);
    let (source, source_port) = redis_source(&server, &client, 1, 1);
    let replica = client
        .post(
            "instances",
            json!({"instance": {"name": "rep", "replica_of": source}}),
        )
        .expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let replica_port = port(&wait_status(&server, &client, &replica, "ACTIVE", BUILD));
    let source_dir = node_dir(&server, source_port);
    crate::common::nodes::kill_server_behind_drovers_back(&server, &client, &source);
    client
        .post(
            &format!("instances/{source}/action"),
            json!({"eject_replica_source": {}}),
        )
        .expect(202);
    eventually("the replica has taken over", || {
        let shown = client.get(&format!("instances/{replica}")).expect(200)["instance"].clone();
        shown["status"] == "ACTIVE" && shown["replica_of"].is_null()
    });
    eventually("the ejection is recorded", || {
        client.get(&format!("instances/{source}")).expect(200)["instance"]["fault"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("took over"))
    });
    // Starting it again would make a second writable source with stale data.
    let refused = client
        .post(
            &format!("instances/{source}/action"),
            json!({"restart": {}}),
        )
        .error("unprocessableEntity", 422);
    assert!(refused.contains("ejected"), "{refused}");

    // A restarted host brings dead nodes back, but not this one. Its first task runs after
    // that pass, so once the new source has restarted, the pass is over.
    let (state, ports) = server.kill();
    let server = Server::start_with_ports(state, options(), ports);
    let client = Client::new(&server.base, "p1", None);
    client
        .post(
            &format!("instances/{replica}/action"),
            json!({"restart": {}}),
        )
        .expect(202);
    wait_status(&server, &client, &replica, "ACTIVE", BUILD);
    assert_eq!(
        server_processes(&source_dir),
        Vec::<u32>::new(),
        "the ejected source was started again"
    );
    let password = root(&client, &replica);
    assert!(redis(replica_port, &password, &["INFO", "replication"]).contains("role:master"));
}
