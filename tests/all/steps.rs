//! Crash at every step. For every step of every workflow the engine persists, a host started
//! with `DROVER_CRASH_AFTER=<kind>:<step>` exits at once (status 86, no clean-up, as SIGKILL
//! would) right after it has recorded that step as finished. Restarted on the same state
//! directory and node ports, it must finish what it was asked: the user then finds the
//! resource as the request promised, with exactly one server process per running node, quota
//! that counts exactly the instances there are, and no node directory or snapshot that no
//! instance owns.
//!
//! One host per datastore and workflow family runs through the family's steps in order,
//! reusing its instances where the end state allows; the families run as separate tests, in
//! parallel.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::api::Client;
use crate::common::nodes::{
    app_user, kill_server_behind_drovers_back, node_dir, node_servers, port, redis_cli, tail,
    usage, wait_gone, wait_status, wait_until,
};
use crate::common::server::{Options, PortBlock, Server};
use crate::nodes::require_binary;

/// Every workflow kind and its steps, in order, as the engine persists them (issue 13's
/// contract).
const WORKFLOWS: &[(&str, &[&str])] = &[
    (
        "create_instance",
        &["create_node", "initialize", "start", "prepare"],
    ),
    ("delete_instance", &["destroy"]),
    ("stop_instance", &["stop"]),
    ("restart_instance", &["stop", "install", "start"]),
    ("resize_flavor", &["install", "stop", "start"]),
    ("resize_volume", &["grow_volume"]),
    ("apply_configuration", &["apply"]),
    (
        "create_replicas",
        &[
            "enable_source",
            "take_snapshot",
            "spawn_replicas",
            "join_replicas",
            "remove_snapshot",
        ],
    ),
    (
        "create_replica",
        &["create_node", "initialize", "start", "attach"],
    ),
    ("detach_replica", &["detach"]),
    (
        "promote_replica",
        &[
            "freeze_source",
            "wait_caught_up",
            "promote_candidate",
            "repoint_replicas",
            "demote_old_source",
        ],
    ),
    (
        "eject_source",
        &[
            "fence_source",
            "choose_successor",
            "promote_successor",
            "repoint_to_successor",
        ],
    ),
];

/// The kinds each test runs through, in this order, on one host.
const LIFECYCLE: &[&str] = &[
    "create_instance",
    "delete_instance",
    "stop_instance",
    "restart_instance",
    "resize_flavor",
    "resize_volume",
    "apply_configuration",
];
const REPLICAS: &[&str] = &["create_replicas", "create_replica"];
const SWITCHOVER: &[&str] = &["detach_replica", "promote_replica", "eject_source"];

/// How long a create, a replica or a switchover may take.
const BUILD: Duration = Duration::from_secs(240);
/// How long an armed host may take to reach its step.
const CRASH: Duration = Duration::from_secs(300);
/// How long a restarted host may take to settle what the crash left.
const SETTLE: Duration = Duration::from_secs(120);

fn steps(kind: &str) -> &'static [&'static str] {
    WORKFLOWS
        .iter()
        .find(|(k, _)| *k == kind)
        .unwrap_or_else(|| panic!("{kind} is not a workflow of the contract"))
        .1
}

/// The (kind, step) pairs of a family, in order.
fn cases(family: &[&'static str]) -> Vec<(&'static str, &'static str)> {
    family
        .iter()
        .flat_map(|kind| steps(kind).iter().map(move |step| (*kind, *step)))
        .collect()
}

#[test]
fn every_step_of_every_workflow_is_crashed_by_one_of_the_tests() {
    let covered: Vec<&str> = [LIFECYCLE, REPLICAS, SWITCHOVER].concat();
    let kinds: Vec<&str> = WORKFLOWS.iter().map(|(kind, _)| *kind).collect();
    let mut sorted_covered = covered.clone();
    sorted_covered.sort();
    let mut sorted_kinds = kinds.clone();
    sorted_kinds.sort();
    assert_eq!(
        sorted_covered, sorted_kinds,
        "families and workflows differ"
    );
    let total: usize = [LIFECYCLE, REPLICAS, SWITCHOVER]
        .iter()
        .map(|family| cases(family).len())
        .sum();
    assert_eq!(
        total,
        WORKFLOWS
            .iter()
            .map(|(_, steps)| steps.len())
            .sum::<usize>(),
        "a kind is in two families"
    );
}

/// Who a test logs in to a node as.
struct Login {
    port: u16,
    user: &'static str,
    password: String,
}

/// One datastore as these tests reach it with its own client.
struct Datastore {
    name: &'static str,
    version: &'static str,
    /// Fails, naming the package to install, when a binary is missing.
    require: fn(),
    /// The fields a create request adds (the account `login` uses).
    account: fn() -> Value,
    /// An account on an ACTIVE instance that reads and writes.
    login: fn(&Client, &str, u16) -> Login,
    /// Writes `key`: whether the datastore acknowledged it (a read-only node refuses it).
    write: fn(&Login, &str) -> bool,
    /// Whether `key` was written there (or replicated there).
    read: fn(&Login, &str) -> bool,
    /// Whether the server answers a trivial request.
    answers: fn(&Login) -> bool,
    /// A setting that applies live: its name, its value in a configuration group and as the
    /// server shows it.
    setting: (&'static str, &'static str),
    /// The value of a setting as the server shows it.
    show: fn(&Login, &str) -> String,
}

fn require_redis() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
}

fn require_postgresql() {
    require_binary("postgres", "postgresql-15");
    require_binary("pg_basebackup", "postgresql-client-15");
    require_binary("pg_rewind", "postgresql-15");
    require_binary("psql", "postgresql-client-15");
}

/// Redis, as root (every node has its own `default` password, replicas too).
const REDIS: Datastore = Datastore {
    name: "redis",
    version: "7.0",
    require: require_redis,
    account: || json!({}),
    login: |client, id, port| Login {
        port,
        user: "default",
        password: crate::replication::root(client, id),
    },
    write: |login, key| redis(login, &["SET", key, "1"]) == "OK",
    read: |login, key| redis(login, &["GET", key]) == "1",
    answers: |login| redis(login, &["PING"]) == "PONG",
    setting: ("maxmemory-policy", "allkeys-lru"),
    show: |login, name| {
        redis(login, &["CONFIG", "GET", name])
            .lines()
            .nth(1)
            .unwrap_or("")
            .to_string()
    },
};

fn redis(login: &Login, args: &[&str]) -> String {
    redis_cli(login.port, login.user, &login.password, args)
}

/// PostgreSQL, as the application user of `appdb` (replicated with everything else).
const POSTGRESQL: Datastore = Datastore {
    name: "postgresql",
    version: "15",
    require: require_postgresql,
    account: || app_user("postgresql", "app-secret"),
    login: |_, _, port| Login {
        port,
        user: "app",
        password: "app-secret".into(),
    },
    write: |login, key| {
        sql(
            login,
            &format!(
                "CREATE TABLE IF NOT EXISTS marks (k text); INSERT INTO marks VALUES ('{key}');"
            ),
        )
        .0
    },
    read: |login, key| {
        sql(
            login,
            &format!("SELECT count(*) FROM marks WHERE k = '{key}';"),
        ) == (true, "1".to_string())
    },
    answers: |login| sql(login, "SELECT 1;") == (true, "1".to_string()),
    setting: ("work_mem", "16MB"),
    show: |login, name| sql(login, &format!("SHOW {name};")).1,
};

fn sql(login: &Login, statement: &str) -> (bool, String) {
    crate::postgresql::psql(login.port, login.user, &login.password, "appdb", statement)
}

fn options(crash: Option<&str>) -> Options {
    Options {
        args: vec!["--auth".into(), "noauth".into()],
        env: crash
            .map(|c| vec![("DROVER_CRASH_AFTER".to_string(), c.to_string())])
            .unwrap_or_default(),
        ..Default::default()
    }
}

/// Sends a request to a host armed to crash: the reply's body when one came (its status must
/// be `status`). The crash may cut the reply off, but only once the task was recorded, so a
/// missing reply is no failure.
fn submit(
    client: &Client,
    method: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Option<Value> {
    client
        .try_send(method, path, body.as_ref())
        .map(|reply| reply.expect(status))
}

/// One host and the datastore it runs, restarted on the same state directory and node ports.
struct Host {
    server: Option<Server>,
    store: &'static Datastore,
    /// Sources ejected from their set: stopped for good, in ERROR or SHUTDOWN.
    ejected: BTreeSet<String>,
}

impl Host {
    fn start(store: &'static Datastore) -> Host {
        (store.require)();
        let state = tempfile::Builder::new()
            .prefix("drover-e2e-")
            .tempdir()
            .unwrap();
        let server = Server::start_with_ports(
            state,
            options(None),
            std::sync::Arc::new(PortBlock::claim()),
        );
        Host {
            server: Some(server),
            store,
            ejected: BTreeSet::new(),
        }
    }

    fn server(&self) -> &Server {
        self.server.as_ref().unwrap()
    }

    fn client(&self) -> Client {
        Client::new(&self.server().base, "p1", None)
    }

    fn admin(&self) -> Client {
        self.client().with_roles("admin")
    }

    fn log(&self) -> String {
        tail(&self.server().log_text(), 200)
    }

    /// Stops the host and starts it again, armed to crash after `crash` or not.
    fn restart(&mut self, crash: Option<&str>) {
        let (state, ports) = self.server.take().unwrap().stop();
        self.server = Some(Server::start_with_ports(state, options(crash), ports));
        self.wait_nodes_back();
    }

    /// Waits until the host has brought back the nodes that should run: while it starts one,
    /// its instance shows REBOOT and takes no action.
    fn wait_nodes_back(&self) {
        wait_until(
            BUILD,
            || {
                self.instances()
                    .iter()
                    .all(|i| i["status"] != "REBOOT" || i.get("task").is_some())
            },
            "the restarted host has started its nodes again",
        );
    }

    /// Restarts the host armed to crash after `kind:step`, runs `act` against it, waits for the
    /// crash, and starts it again unarmed. What `act` returned.
    fn crash_after<T>(
        &mut self,
        kind: &str,
        step: &str,
        act: impl FnOnce(&Server, &Client) -> T,
    ) -> T {
        let armed = format!("{kind}:{step}");
        self.restart(Some(&armed));
        let done = act(self.server(), &self.client());
        let status = self.server.as_mut().unwrap().wait_exit(CRASH);
        match status {
            None => panic!(
                "a host armed with DROVER_CRASH_AFTER={armed} still ran {CRASH:?} after the request: \
                 its {kind} task never recorded {step} as finished (or the setting is not read)\n\
                 --- server log ---\n{}",
                self.log()
            ),
            Some(status) if status.code() != Some(86) => panic!(
                "a host armed with DROVER_CRASH_AFTER={armed} ended with {status}, not the crash's 86\n\
                 --- server log ---\n{}",
                self.log()
            ),
            Some(_) => {}
        }
        let (state, ports) = self.server.take().unwrap().kill();
        self.server = Some(Server::start_with_ports(state, options(None), ports));
        self.wait_nodes_back();
        done
    }

    /// Every instance of the project, as the host shows them.
    fn instances(&self) -> Vec<Value> {
        self.client().get("instances").expect(200)["instances"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn show(&self, id: &str) -> Value {
        self.client().get(&format!("instances/{id}")).expect(200)["instance"].clone()
    }

    /// Waits until the instance's view satisfies `done`, with no task running on it.
    #[track_caller]
    fn wait_view(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let shown = self.show(id);
            if shown.get("task").is_none() && done(&shown) {
                return shown;
            }
            assert!(
                shown["status"] != "ERROR",
                "instance {id} went to ERROR waiting until {what}: {shown}\n--- server log ---\n{}",
                self.log()
            );
            assert!(
                started.elapsed() < BUILD,
                "timed out waiting until {what}; last: {shown}\n--- server log ---\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Logs in to an instance with the datastore's own client.
    fn login(&self, id: &str) -> Login {
        let shown = self.show(id);
        (self.store.login)(&self.client(), id, port(&shown))
    }

    /// A new instance, ACTIVE (not crashed); its id.
    fn create(&self, name: &str) -> String {
        let client = self.client();
        let id = client.post("instances", self.create_body(name)).expect(200)["instance"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        wait_status(self.server(), &client, &id, "ACTIVE", BUILD);
        id
    }

    fn create_body(&self, name: &str) -> Value {
        let mut instance = json!({"name": name, "flavorRef": 2, "volume": {"size": 1},
            "datastore": {"type": self.store.name, "version": self.store.version}});
        for (key, value) in (self.store.account)().as_object().unwrap() {
            instance[key] = value.clone();
        }
        json!({ "instance": instance })
    }

    /// `count` replicas of `source` from one request, all ACTIVE (not crashed): their ids.
    fn add_replicas(&self, source: &str, count: usize) -> Vec<String> {
        let before = self.replicas_of(source);
        self.client()
            .post(
                "instances",
                json!({"instance": {"name": "rep", "replica_of": source, "replica_count": count}}),
            )
            .expect(200);
        let added: Vec<String> = self
            .replicas_of(source)
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        assert_eq!(added.len(), count, "the replicas of {source}");
        for id in &added {
            wait_status(self.server(), &self.client(), id, "ACTIVE", BUILD);
        }
        added
    }

    /// The ids of a source's replicas, as the API lists them.
    fn replicas_of(&self, source: &str) -> Vec<String> {
        self.client()
            .get(&format!("instances/{source}/replicas"))
            .expect(200)["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Deletes an instance (not crashed) and waits until it is gone.
    fn delete(&self, id: &str) {
        let client = self.client();
        client.delete(&format!("instances/{id}")).expect(202);
        wait_gone(self.server(), &client, id, BUILD);
    }

    /// Waits until `key` written on `source` is read on every one of `followers`.
    #[track_caller]
    fn replicated(&self, source: &str, followers: &[&str], key: &str) {
        let store = self.store;
        assert!(
            (store.write)(&self.login(source), key),
            "the source {source} refused the write {key}"
        );
        for follower in followers {
            let login = self.login(follower);
            wait_until(
                BUILD,
                || (store.read)(&login, key),
                &format!("{key}, written on the source {source}, is read on {follower}"),
            );
        }
    }

    /// What must hold after any case, once the host has settled what the crash left: every
    /// instance ACTIVE or SHUTDOWN (an ejected source ERROR too) with no task running, one
    /// server process per ACTIVE node and none for any other, quota counting exactly the instances and volumes there
    /// are, and the nodes directory holding their directories and nothing else (no snapshot,
    /// no half-made or half-removed node).
    #[track_caller]
    fn assert_nothing_leaked(&self, case: &str) {
        let server = self.server();
        let mut instances = Vec::new();
        wait_until(
            SETTLE,
            || {
                instances = self.instances();
                for instance in &instances {
                    let ejected = instance["id"]
                        .as_str()
                        .is_some_and(|id| self.ejected.contains(id));
                    assert!(
                        instance["status"] != "ERROR" || ejected,
                        "after {case}, instance {} is in ERROR: {instance}\n--- server log ---\n{}",
                        instance["id"],
                        self.log()
                    );
                }
                instances.iter().all(|i| {
                    ["ACTIVE", "SHUTDOWN", "ERROR"].contains(&i["status"].as_str().unwrap_or(""))
                        && i.get("task").is_none()
                })
            },
            &format!("after {case}, every instance is ACTIVE or SHUTDOWN with no task running"),
        );

        let admin = self.admin();
        let volumes: i64 = instances
            .iter()
            .map(|i| i["volume"]["size"].as_i64().unwrap())
            .sum();
        assert_eq!(
            usage(&admin, "instances"),
            (instances.len() as i64, 0),
            "after {case}, the instances quota does not count the {} instances there are",
            instances.len()
        );
        assert_eq!(
            usage(&admin, "volumes"),
            (volumes, 0),
            "after {case}, the volumes quota does not count the {volumes} GB there are"
        );

        let mut dirs = BTreeMap::new();
        for instance in &instances {
            let dir = node_dir(server, port(instance));
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            if let Some(other) = dirs.insert(name.clone(), instance.clone()) {
                panic!(
                    "after {case}, {} and {} share the node directory {name}",
                    other["id"], instance["id"]
                );
            }
        }
        let expected: BTreeSet<String> = dirs.keys().cloned().collect();
        let nodes = server.state_dir().join("nodes");
        let listed = || -> BTreeSet<String> {
            std::fs::read_dir(&nodes)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        };
        eventually_eq(
            SETTLE,
            listed,
            &expected,
            &format!(
                "after {case}, the nodes directory holds the instances' directories and nothing else"
            ),
        );

        for (name, instance) in &dirs {
            let dir = nodes.join(name);
            let want = usize::from(instance["status"] == "ACTIVE");
            eventually_eq(
                SETTLE,
                || node_servers(&dir).len(),
                &want,
                &format!(
                    "after {case}, the {} instance {} has {want} server process(es)",
                    instance["status"], instance["id"]
                ),
            );
        }
    }
}

/// Polls `actual` until it equals `expected`, at most `timeout`; then asserts it, so a failure
/// shows both.
#[track_caller]
fn eventually_eq<T: PartialEq + std::fmt::Debug>(
    timeout: Duration,
    mut actual: impl FnMut() -> T,
    expected: &T,
    what: &str,
) {
    let started = Instant::now();
    let mut last = actual();
    while last != *expected && started.elapsed() < timeout {
        std::thread::sleep(Duration::from_millis(200));
        last = actual();
    }
    assert_eq!(&last, expected, "{what}");
}

/// Create, delete, stop, restart, resize flavor and volume, configuration apply: a crash after
/// each of their steps.
fn lifecycle(store: &'static Datastore) {
    let mut host = Host::start(store);
    let mut created: Vec<String> = Vec::new();
    for (kind, step) in cases(LIFECYCLE) {
        let case = format!("{} {kind}:{step}", store.name);
        match kind {
            // A new instance per step: ACTIVE, and the datastore answers.
            "create_instance" => {
                let name = format!("c-{step}");
                let body = host.create_body(&name);
                let replied = host.crash_after(kind, step, |_, client| {
                    submit(client, "POST", "instances", Some(body), 200)
                        .map(|b| b["instance"]["id"].as_str().unwrap().to_string())
                });
                let id = replied.unwrap_or_else(|| {
                    host.instances()
                        .iter()
                        .find(|i| i["name"] == name.as_str())
                        .unwrap_or_else(|| panic!("{case}: the instance {name} was not recorded"))
                        ["id"]
                        .as_str()
                        .unwrap()
                        .to_string()
                });
                wait_status(host.server(), &host.client(), &id, "ACTIVE", BUILD);
                let login = host.login(&id);
                assert!(
                    (store.answers)(&login),
                    "{case}: the instance is ACTIVE but {} does not answer",
                    store.name
                );
                assert!(
                    (store.write)(&login, "kept"),
                    "{case}: the new instance refuses writes"
                );
                created.push(id);
            }
            // Gone from the API, and its node directory with it.
            "delete_instance" => {
                let id = created.remove(0);
                let dir = node_dir(host.server(), port(&host.show(&id)));
                host.crash_after(kind, step, |_, client| {
                    submit(client, "DELETE", &format!("instances/{id}"), None, 202)
                });
                wait_gone(host.server(), &host.client(), &id, BUILD);
                assert!(!dir.exists(), "{case}: {} is left", dir.display());
            }
            // SHUTDOWN, and its server stopped (checked with the leaks).
            "stop_instance" => {
                let id = &created[0];
                host.crash_after(kind, step, |_, client| {
                    let admin = client.clone().with_roles("admin");
                    submit(
                        &admin,
                        "POST",
                        &format!("mgmt/instances/{id}/action"),
                        Some(json!({"stop": {}})),
                        202,
                    )
                });
                host.wait_view(id, "the stopped instance is SHUTDOWN", |i| {
                    i["status"] == "SHUTDOWN"
                });
            }
            // ACTIVE again with its data.
            "restart_instance" => {
                let id = &created[0];
                host.crash_after(kind, step, |_, client| {
                    submit(
                        client,
                        "POST",
                        &format!("instances/{id}/action"),
                        Some(json!({"restart": {}})),
                        202,
                    )
                });
                host.wait_view(id, "the restarted instance is ACTIVE", |i| {
                    i["status"] == "ACTIVE"
                });
                let login = host.login(id);
                assert!(
                    (store.answers)(&login),
                    "{case}: the restarted instance does not answer"
                );
                assert!(
                    (store.read)(&login, "kept"),
                    "{case}: the restarted instance lost its data"
                );
            }
            // ACTIVE with the other flavor, with its data.
            "resize_flavor" => {
                let id = &created[0];
                let flavor = if host.show(id)["flavor"]["id"] == "2" {
                    "3"
                } else {
                    "2"
                };
                host.crash_after(kind, step, |_, client| {
                    submit(
                        client,
                        "POST",
                        &format!("instances/{id}/action"),
                        Some(json!({"resize": {"flavorRef": flavor}})),
                        202,
                    )
                });
                host.wait_view(
                    id,
                    &format!("the instance is ACTIVE with flavor {flavor}"),
                    |i| i["status"] == "ACTIVE" && i["flavor"]["id"] == flavor,
                );
                let login = host.login(id);
                assert!(
                    (store.answers)(&login),
                    "{case}: the resized instance does not answer"
                );
                assert!(
                    (store.read)(&login, "kept"),
                    "{case}: the resized instance lost its data"
                );
            }
            // ACTIVE with the bigger volume (the quota follows, checked with the leaks).
            "resize_volume" => {
                let id = &created[0];
                let size = host.show(id)["volume"]["size"].as_i64().unwrap() + 1;
                host.crash_after(kind, step, |_, client| {
                    submit(
                        client,
                        "POST",
                        &format!("instances/{id}/action"),
                        Some(json!({"resize": {"volume": {"size": size}}})),
                        202,
                    )
                });
                host.wait_view(id, &format!("the instance is ACTIVE with {size} GB"), |i| {
                    i["status"] == "ACTIVE" && i["volume"]["size"] == size
                });
            }
            // The server runs with the group's value.
            "apply_configuration" => {
                let id = &created[0];
                let (name, value) = store.setting;
                let group = crate::configurations::create_group(
                    &host.client(),
                    "live",
                    store.name,
                    store.version,
                    json!({ name: value }),
                );
                host.crash_after(kind, step, |_, client| {
                    submit(
                        client,
                        "PUT",
                        &format!("instances/{id}"),
                        Some(json!({"instance": {"configuration": group}})),
                        202,
                    )
                });
                host.wait_view(id, "the group is attached and applied", |i| {
                    i["status"] == "ACTIVE" && i["configuration"]["id"] == group.as_str()
                });
                assert_eq!(
                    (store.show)(&host.login(id), name),
                    value,
                    "{case}: the server does not run with the group's {name}"
                );
            }
            other => unreachable!("{other} is not a lifecycle workflow"),
        }
        host.assert_nothing_leaked(&case);
    }
}

/// A replica batch (`replica_count` 2): a crash after each step of the parent task on the
/// source and of a child task creating a replica. Both replicas end ACTIVE and follow the
/// source; the batch's snapshot is gone.
fn replicas(store: &'static Datastore) {
    let mut host = Host::start(store);
    let source = host.create("src");
    assert!((store.write)(&host.login(&source), "seed"));
    for (kind, step) in cases(REPLICAS) {
        let case = format!("{} {kind}:{step}", store.name);
        host.crash_after(kind, step, |_, client| {
            submit(
                client,
                "POST",
                "instances",
                Some(
                    json!({"instance": {"name": format!("r-{step}"), "replica_of": source,
                    "replica_count": 2}}),
                ),
                200,
            )
        });
        let mut replicas = Vec::new();
        wait_until(
            BUILD,
            || {
                replicas = host.replicas_of(&source);
                replicas.len() == 2
            },
            &format!("{case}: the source lists its two replicas"),
        );
        for replica in &replicas {
            let shown = wait_status(host.server(), &host.client(), replica, "ACTIVE", BUILD);
            assert_eq!(
                shown["replica_of"]["id"],
                source.as_str(),
                "{case}: {shown}"
            );
            let login = host.login(replica);
            assert!(
                (store.read)(&login, "seed"),
                "{case}: replica {replica} was not seeded"
            );
            assert!(
                !(store.write)(&login, "refused"),
                "{case}: replica {replica} takes writes"
            );
        }
        let followers: Vec<&str> = replicas.iter().map(String::as_str).collect();
        host.replicated(&source, &followers, &format!("after-{kind}-{step}"));
        // Each replica's task is a child of the batch's task on the source, which ends (its
        // snapshot removed) once both have.
        let mut parent = Value::Null;
        wait_until(
            BUILD,
            || {
                parent = host
                    .client()
                    .get(&format!("instances/{source}/tasks"))
                    .expect(200)["tasks"][0]
                    .clone();
                ["done", "failed", "cancelled"].contains(&parent["state"].as_str().unwrap_or(""))
            },
            &format!("{case}: the batch's task ends"),
        );
        assert_eq!(parent["kind"], "create_replicas", "{case}: {parent}");
        assert_eq!(parent["state"], "done", "{case}: {parent}");
        for replica in &replicas {
            let child = host
                .client()
                .get(&format!("instances/{replica}/tasks"))
                .expect(200)["tasks"][0]
                .clone();
            assert_eq!(child["kind"], "create_replica", "{case}: {child}");
            assert_eq!(child["parent_id"], parent["id"], "{case}: {child}");
        }
        host.assert_nothing_leaked(&case);
        for replica in &replicas {
            host.delete(replica);
        }
    }
    host.assert_nothing_leaked(&format!("{} deleting the last replicas", store.name));
}

/// Detach, promote and eject: a crash after each of their steps, on a source with replicas
/// kept at two between cases.
fn switchover(store: &'static Datastore) {
    let mut host = Host::start(store);
    let mut source = host.create("src");
    assert!((store.write)(&host.login(&source), "seed"));
    let mut replicas = host.add_replicas(&source, 3);
    for (kind, step) in cases(SWITCHOVER) {
        let case = format!("{} {kind}:{step}", store.name);
        match kind {
            // The detached replica is a writable standalone that hears no more from the source.
            "detach_replica" => {
                let detached = replicas.pop().unwrap();
                host.crash_after(kind, step, |_, client| {
                    submit(
                        client,
                        "PATCH",
                        &format!("instances/{detached}"),
                        Some(json!({"instance": {"replica_of": ""}})),
                        202,
                    )
                });
                host.wait_view(&detached, "the detached replica stands alone", |i| {
                    i["status"] == "ACTIVE" && i["replica_of"].is_null()
                });
                let login = host.login(&detached);
                wait_until(
                    BUILD,
                    || (store.write)(&login, "mine"),
                    &format!("{case}: the detached replica takes writes"),
                );
                let others: Vec<&str> = replicas.iter().map(String::as_str).collect();
                host.replicated(&source, &others, "after-detach");
                assert!(
                    !(store.read)(&host.login(&detached), "after-detach"),
                    "{case}: the detached replica still receives the source's writes"
                );
                host.assert_nothing_leaked(&case);
                host.delete(&detached);
            }
            // The candidate is the writable source; the old source and the other replica
            // follow it.
            "promote_replica" => {
                let candidate = replicas.remove(0);
                host.crash_after(kind, step, |_, client| {
                    submit(
                        client,
                        "POST",
                        &format!("instances/{candidate}/action"),
                        Some(json!({"promote_to_replica_source": {}})),
                        202,
                    )
                });
                host.wait_view(&candidate, "the candidate is the source", |i| {
                    i["status"] == "ACTIVE" && i["replica_of"].is_null()
                });
                replicas.push(std::mem::replace(&mut source, candidate));
                for follower in &replicas {
                    host.wait_view(follower, "a follower follows the new source", |i| {
                        i["status"] == "ACTIVE" && i["replica_of"]["id"] == source.as_str()
                    });
                    assert!(
                        !(store.write)(&host.login(follower), "refused"),
                        "{case}: {follower}, a follower, takes writes"
                    );
                }
                let followers: Vec<&str> = replicas.iter().map(String::as_str).collect();
                host.replicated(&source, &followers, &format!("promoted-{step}"));
                assert!((store.read)(&host.login(&source), "seed"));
                host.assert_nothing_leaked(&case);
            }
            // One replica takes over the dead source with its data; the other follows it. The
            // ejected source stays stopped.
            "eject_source" => {
                let dead = source.clone();
                host.crash_after(kind, step, |server, client| {
                    kill_server_behind_drovers_back(server, client, &dead);
                    submit(
                        client,
                        "POST",
                        &format!("instances/{dead}/action"),
                        Some(json!({"eject_replica_source": {}})),
                        202,
                    )
                });
                let mut successor = None;
                wait_until(
                    BUILD,
                    || {
                        successor = replicas
                            .iter()
                            .find(|id| {
                                let shown = host.show(id);
                                shown["status"] == "ACTIVE"
                                    && shown["replica_of"].is_null()
                                    && shown.get("task").is_none()
                            })
                            .cloned();
                        successor.is_some()
                    },
                    &format!("{case}: a replica of the dead source has taken over"),
                );
                let successor = successor.unwrap();
                replicas.retain(|id| *id != successor);
                for follower in &replicas {
                    host.wait_view(follower, "the other replica follows the successor", |i| {
                        i["status"] == "ACTIVE" && i["replica_of"]["id"] == successor.as_str()
                    });
                }
                host.ejected.insert(dead.clone());
                let ejected = host.wait_view(&dead, "the ejected source is stopped", |i| {
                    i["status"] == "SHUTDOWN" || i["status"] == "ERROR"
                });
                assert!(
                    ejected["fault"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("took over")),
                    "{case}: the ejected source does not say who took over: {ejected}"
                );
                let login = host.login(&successor);
                assert!(
                    (store.read)(&login, "seed"),
                    "{case}: the successor lost the data"
                );
                let followers: Vec<&str> = replicas.iter().map(String::as_str).collect();
                host.replicated(&successor, &followers, &format!("ejected-{step}"));
                host.assert_nothing_leaked(&case);
                host.delete(&dead);
                source = successor;
                replicas.extend(host.add_replicas(&source, 1));
            }
            other => unreachable!("{other} is not a switchover workflow"),
        }
    }
    host.assert_nothing_leaked(&format!("{} after the switchovers", store.name));
}

#[test]
fn redis_instances_reach_their_end_state_after_a_crash_at_every_lifecycle_step() {
    lifecycle(&REDIS);
}

#[test]
fn postgresql_instances_reach_their_end_state_after_a_crash_at_every_lifecycle_step() {
    lifecycle(&POSTGRESQL);
}

#[test]
fn redis_replica_batches_finish_after_a_crash_at_every_step_of_parent_and_child() {
    replicas(&REDIS);
}

#[test]
fn postgresql_replica_batches_finish_after_a_crash_at_every_step_of_parent_and_child() {
    replicas(&POSTGRESQL);
}

#[test]
fn redis_detach_promote_and_eject_finish_after_a_crash_at_every_step() {
    switchover(&REDIS);
}

#[test]
fn postgresql_detach_promote_and_eject_finish_after_a_crash_at_every_step() {
    switchover(&POSTGRESQL);
}
