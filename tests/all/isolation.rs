//! Tenants never reach each other, nor the host: a tenant with root on its own datastores
//! treats that as code execution on its node and tries everything against another project's
//! nodes and the host's state; a node lies to the host through its own files. Everything runs
//! against the `drover` binary as root, as production does, and is checked from outside with
//! the datastores' own clients and the kernel's view of processes and files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api::Setup;
use crate::common::api::{Client, token};
use crate::common::nodes::{
    app_user, create_instance, node_dir, node_servers, node_uid, port, processes_of_uid, redis_cli,
    require_root, still_running, those_processes, wait_gone, wait_status,
};
use crate::common::server::Server;
use crate::mariadb::mariadb;
use crate::nodes::require_binary;
use crate::postgresql::psql;

const BUILD: Duration = Duration::from_secs(180);

/// One instance of each datastore in a project, ACTIVE, with a user and some data.
struct Tenant {
    redis: Node,
    postgresql: Node,
    mariadb: Node,
}

struct Node {
    id: String,
    port: u16,
    dir: PathBuf,
}

fn create(client: &Client, name: &str, datastore: &str, version: &str) -> String {
    let password = format!("{name}-app-secret");
    create_instance(
        client,
        name,
        datastore,
        version,
        app_user(datastore, &password),
    )
}

fn tenant(server: &Server, client: &Client, prefix: &str) -> Tenant {
    let ids = [
        create(client, &format!("{prefix}-redis"), "redis", "7.0"),
        create(client, &format!("{prefix}-pg"), "postgresql", "15"),
        create(client, &format!("{prefix}-maria"), "mariadb", "10.11"),
    ];
    let mut nodes = ids.iter().map(|id| {
        let port = port(&wait_status(server, client, id, "ACTIVE", BUILD));
        Node {
            id: id.clone(),
            port,
            dir: node_dir(server, port),
        }
    });
    let tenant = Tenant {
        redis: nodes.next().unwrap(),
        postgresql: nodes.next().unwrap(),
        mariadb: nodes.next().unwrap(),
    };
    let app = |name: &str| format!("{prefix}-{name}-app-secret");
    assert_eq!(
        redis_cli(
            tenant.redis.port,
            "app",
            &app("redis"),
            &["SET", "owner", prefix]
        ),
        "OK"
    );
    let (ok, out) = psql(
        tenant.postgresql.port,
        "app",
        &app("pg"),
        "appdb",
        &format!("CREATE TABLE owner (name text); INSERT INTO owner VALUES ('{prefix}');"),
    );
    assert!(ok, "{out}");
    let (ok, out) = mariadb(
        tenant.mariadb.port,
        "app",
        &app("maria"),
        "appdb",
        &format!("CREATE TABLE owner (name text); INSERT INTO owner VALUES ('{prefix}');"),
    );
    assert!(ok, "{out}");
    tenant
}

/// Size and digest of every regular file below `dir` (links and the like by their kind).
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                found.insert(path, hex::encode(Sha256::digest(&bytes)));
            } else {
                found.insert(path, format!("{kind:?}"));
            }
        }
    }
    found
}

/// The files of a node that only the host and the node itself write: its configuration and
/// secrets. Data files change as the server runs and are checked through the datastore.
fn settled_files(node: &Node) -> BTreeMap<PathBuf, String> {
    fingerprint(&node.dir)
        .into_iter()
        .filter(|(path, _)| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.ends_with(".conf")
                || name.ends_with(".cnf")
                || name.ends_with(".secret")
                || name.ends_with(".acl")
                || name == "init.sql"
        })
        .collect()
}

fn root(client: &Client, id: &str) -> (String, String) {
    let user = client
        .post(&format!("instances/{id}/root"), json!({}))
        .expect(200)["user"]
        .clone();
    (
        user["name"].as_str().unwrap().to_string(),
        user["password"].as_str().unwrap().to_string(),
    )
}

/// Runs `script` with `sh` as B's PostgreSQL server (`COPY … FROM PROGRAM`, which its
/// superuser may) and returns what it printed and its exit status.
fn as_postgres_server(port: u16, password: &str, script: &str) -> (String, i32) {
    // Tabs and backslashes would be COPY's own syntax.
    let wrapped = format!(
        "( {script} ) > /tmp/loot 2>&1; rc=$?; tr '\\t\\\\' '  ' < /tmp/loot; echo \"rc=$rc\""
    );
    let sql = format!(
        "SET client_min_messages = warning; CREATE TEMP TABLE loot (line text); \
         COPY loot FROM PROGRAM {}; SELECT string_agg(line, E'\\n') FROM loot;",
        quote(&wrapped)
    );
    let (ok, out) = psql(port, "postgres", password, "postgres", &sql);
    assert!(ok, "COPY FROM PROGRAM itself failed: {out}");
    let rc = out
        .rfind("rc=")
        .map(|at| {
            out[at + 3..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|rc| rc.parse().ok())
        .unwrap_or_else(|| panic!("no exit status in {out:?}"));
    (out, rc)
}

/// A PostgreSQL string literal that means the same under any setting.
fn quote(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[test]
fn a_tenant_with_root_on_its_nodes_reaches_nothing_of_another_tenant_nor_the_host() {
    require_root("the escape matrix");
    require_binary("redis-server", "redis-server");
    require_binary("postgres", "postgresql-15");
    require_binary("mariadbd", "mariadb-server");
    let setup = Setup::start(None, &[]);
    let server = &setup.server;
    let state = server.state_dir().to_path_buf();
    let a_client = &setup.member;
    let b_client = Client::new(&server.base, "p2", Some(&token(&state, "p2", "member")));
    let a = tenant(server, a_client, "a");
    let b = tenant(server, &b_client, "b");
    let a_files: Vec<_> = [&a.redis, &a.postgresql, &a.mariadb]
        .iter()
        .map(|node| settled_files(node))
        .collect();
    let a_servers: Vec<u32> = [&a.redis, &a.postgresql, &a.mariadb]
        .iter()
        .flat_map(|node| node_servers(&node.dir))
        .collect();
    assert_eq!(a_servers.len(), 3, "one server per node: {a_servers:?}");
    // Every node runs as a user of its own, and its directory is its own alone.
    let uids: std::collections::BTreeSet<u32> = [
        &a.redis,
        &a.postgresql,
        &a.mariadb,
        &b.redis,
        &b.postgresql,
        &b.mariadb,
    ]
    .iter()
    .map(|node| {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&node.dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", node.dir.display());
        node_uid(&node.dir)
    })
    .collect();
    assert_eq!(uids.len(), 6, "six nodes, six users: {uids:?}");
    assert!(!uids.contains(&0));
    // Each server is in its node's memory and pids groups, limited to its flavor's 512 MiB.
    for node in [&a.redis, &a.postgresql, &a.mariadb] {
        let uid = node_uid(&node.dir);
        let pid = node_servers(&node.dir)[0];
        let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        for controller in ["memory", "pids"] {
            let line = groups
                .lines()
                .find(|l| l.split(':').nth(1) == Some(controller))
                .unwrap_or_else(|| panic!("no {controller} line in {groups}"));
            assert!(
                line.ends_with(&format!("/drover-{uid}")),
                "server {pid} is not in its node's {controller} group: {line}"
            );
        }
        let instance =
            a_client.get(&format!("instances/{}", node.id)).expect(200)["instance"].clone();
        assert_eq!(instance["isolation"]["limits"], "cgroup", "{instance}");
        assert_eq!(instance["isolation"]["memory_mb"], 512, "{instance}");
        assert_eq!(
            instance["isolation"]["user"],
            format!("drover-{uid}"),
            "{instance}"
        );
    }

    // B takes root on each of its own instances, as the default policy allows.
    let (_, b_pg_root) = root(&b_client, &b.postgresql.id);
    let (b_maria_user, b_maria_root) = root(&b_client, &b.mariadb.id);
    // A statement as B's MariaDB root.
    let b_maria = |sql: &str| mariadb(b.mariadb.port, &b_maria_user, &b_maria_root, "", sql);
    let (b_redis_user, b_redis_root) = root(&b_client, &b.redis.id);

    // Programs B's PostgreSQL server runs reach its own node (the control)...
    let own = format!("cat {}/postgresql.conf", b.postgresql.dir.display());
    let (out, rc) = as_postgres_server(b.postgresql.port, &b_pg_root, &own);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("port ="), "{out}");
    let own_socket = format!(
        "/usr/lib/postgresql/15/bin/psql -h {}/run -p {} -U postgres -Atc 'SELECT 42'",
        b.postgresql.dir.display(),
        b.postgresql.port
    );
    let (out, rc) = as_postgres_server(b.postgresql.port, &b_pg_root, &own_socket);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("42"), "{out}");

    // ...and nothing of A's nodes or of the host.
    let attempts = [
        format!("cat {}/admin.secret", a.redis.dir.display()),
        format!("cat {}/client.cnf", a.mariadb.dir.display()),
        format!("ls -la {}", a.postgresql.dir.display()),
        format!("cat {}/data/PG_VERSION", a.postgresql.dir.display()),
        format!("echo pwned > {}/pwned", a.redis.dir.display()),
        format!("mkdir {}/pwned", a.mariadb.dir.display()),
        format!(
            "/usr/lib/postgresql/15/bin/psql -h {}/run -p {} -U postgres -Atc 'SELECT 1'",
            a.postgresql.dir.display(),
            a.postgresql.port
        ),
        format!("redis-cli -s {}/run/redis.sock PING", a.redis.dir.display()),
        format!(
            "mariadb --no-defaults --socket={}/run/mysqld.sock -uroot -e 'SELECT 1'",
            a.mariadb.dir.display()
        ),
        format!(
            "kill -0 {}",
            a_servers
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        format!("head -c 64 {}/drover.sqlite3", state.display()),
        format!("head -c 64 {}/drover.sqlite3-wal", state.display()),
        format!("cat {}/tokens.json", state.display()),
        format!("cat {}/admin-token", state.display()),
        format!("od -An -tx1 -N16 {}/secret.key", state.display()),
        // The machine's own PostgreSQL (trust authentication on loopback): a port that is not
        // a node's.
        "/usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p 5432 -U postgres -Atc 'SELECT 1'".into(),
        "/usr/lib/postgresql/15/bin/psql -h /var/run/postgresql -U postgres -Atc 'SELECT 1'".into(),
        "cat /etc/shadow".into(),
    ];
    for attempt in &attempts {
        let (out, rc) = as_postgres_server(b.postgresql.port, &b_pg_root, attempt);
        assert_ne!(rc, 0, "B's PostgreSQL server ran `{attempt}`: {out}");
    }
    // What a node sees of the host's state directory is the path to its own directory.
    for (dir, only) in [
        (state.clone(), "nodes".to_string()),
        (
            state.join("nodes"),
            b.postgresql
                .dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        ),
    ] {
        let (out, rc) = as_postgres_server(
            b.postgresql.port,
            &b_pg_root,
            &format!("ls -A {}", dir.display()),
        );
        assert_eq!(rc, 0, "{out}");
        let listed: Vec<&str> = out
            .lines()
            .filter(|l| {
                !["SET", "CREATE TABLE"].contains(l)
                    && !l.starts_with("COPY ")
                    && !l.starts_with("rc=")
            })
            .collect();
        assert_eq!(
            listed,
            [only.as_str()],
            "B sees in {}: {out}",
            dir.display()
        );
    }
    // The server's own file functions, as superuser.
    for sql in [
        format!(
            "SELECT pg_read_file('{}/admin.secret')",
            a.redis.dir.display()
        ),
        format!(
            "SELECT pg_read_binary_file('{}/drover.sqlite3')",
            state.display()
        ),
        format!("SELECT pg_ls_dir('{}')", a.mariadb.dir.display()),
        format!(
            "COPY (SELECT 'pwned') TO '{}/pwned'",
            a.postgresql.dir.display()
        ),
    ] {
        let (ok, out) = psql(b.postgresql.port, "postgres", &b_pg_root, "postgres", &sql);
        assert!(!ok, "B's PostgreSQL ran `{sql}`: {out}");
    }

    // B's MariaDB root: its file functions reach its own node only. LOAD_FILE reads only
    // files anyone may read, so each place gets such a canary.
    let canary = |dir: &Path, owner: u32| {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("canary");
        std::fs::write(&path, "canary").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::chown(&path, Some(owner), Some(owner)).unwrap();
        path
    };
    let own_canary = canary(&b.mariadb.dir, node_uid(&b.mariadb.dir));
    let (ok, out) = b_maria(&format!("SELECT LOAD_FILE('{}')", own_canary.display()));
    assert!(
        ok && out == "canary",
        "B cannot read its own node's file: {out}"
    );
    let (ok, out) = b_maria(&format!(
        "SELECT 'own' INTO OUTFILE '{}/tmp/own-outfile'",
        b.mariadb.dir.display()
    ));
    assert!(ok, "B cannot write into its own node: {out}");
    assert!(b.mariadb.dir.join("tmp/own-outfile").exists());
    let foreign = [
        canary(&a.redis.dir, node_uid(&a.redis.dir)),
        canary(&a.mariadb.dir, node_uid(&a.mariadb.dir)),
        canary(&state, 0),
        canary(&state.join("nodes"), 0),
    ];
    for path in &foreign {
        let (ok, out) = b_maria(&format!("SELECT LOAD_FILE('{}') IS NULL", path.display()));
        assert!(
            ok && out == "1",
            "B's MariaDB read {}: {out}",
            path.display()
        );
    }
    for path in &foreign {
        std::fs::remove_file(path).unwrap();
    }
    for dir in [&a.postgresql.dir, &a.redis.dir, &state] {
        let (ok, out) = b_maria(&format!(
            "SELECT 'pwned' INTO OUTFILE '{}/pwned-outfile'",
            dir.display()
        ));
        assert!(!ok, "B's MariaDB wrote into {}: {out}", dir.display());
    }

    // B's Redis root may not move the server's files at all.
    let reply = redis_cli(
        b.redis.port,
        &b_redis_user,
        &b_redis_root,
        &["CONFIG", "SET", "dir", &a.redis.dir.display().to_string()],
    );
    assert!(
        !reply.starts_with("OK"),
        "B's Redis root moved its data directory: {reply}"
    );

    // A is as it was: its data, its files, its servers.
    let app = |name: &str| format!("a-{name}-app-secret");
    assert_eq!(
        redis_cli(a.redis.port, "app", &app("redis"), &["GET", "owner"]),
        "a"
    );
    assert_eq!(
        psql(
            a.postgresql.port,
            "app",
            &app("pg"),
            "appdb",
            "SELECT name FROM owner"
        ),
        (true, "a".to_string())
    );
    assert_eq!(
        mariadb(
            a.mariadb.port,
            "app",
            &app("maria"),
            "appdb",
            "SELECT name FROM owner"
        ),
        (true, "a".to_string())
    );
    for (node, before) in [&a.redis, &a.postgresql, &a.mariadb].iter().zip(&a_files) {
        assert_eq!(
            &settled_files(node),
            before,
            "{} changed",
            node.dir.display()
        );
        for (path, _) in fingerprint(&node.dir) {
            assert!(
                !path.to_string_lossy().contains("pwned"),
                "{} appeared",
                path.display()
            );
        }
    }
    for (path, _) in fingerprint(&state) {
        assert!(
            !path.to_string_lossy().contains("pwned"),
            "{} appeared",
            path.display()
        );
    }
    let still: Vec<u32> = [&a.redis, &a.postgresql, &a.mariadb]
        .iter()
        .flat_map(|node| node_servers(&node.dir))
        .collect();
    assert_eq!(still, a_servers, "A's servers changed");
}

/// Makes the node whose directory is `dir` do `script` as its own user, as a tenant's root
/// would (with COPY … FROM PROGRAM, say).
fn as_node(dir: &Path, script: &str) {
    let uid = node_uid(dir).to_string();
    // setpriv, so that the directory is entered as root: the node's user cannot walk the
    // host's path to its own directory (only its private mount namespace shows it).
    let status = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            &uid,
            "--regid",
            &uid,
            "--clear-groups",
            "sh",
            "-c",
            script,
        ])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "`{script}` failed as the node");
}

fn metadata(path: &Path) -> (Vec<u8>, u32, std::time::SystemTime) {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).unwrap();
    (
        std::fs::read(path).unwrap(),
        meta.permissions().mode(),
        meta.modified().unwrap(),
    )
}

#[test]
fn links_and_lies_from_a_node_reach_nothing_outside_it() {
    require_root("the links-and-lies test");
    require_binary("redis-server", "redis-server");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let liar = create(client, "liar", "redis", "7.0");
    let victim = create(client, "victim", "redis", "7.0");
    let liar_port = port(&wait_status(server, client, &liar, "ACTIVE", BUILD));
    let victim_port = port(&wait_status(server, client, &victim, "ACTIVE", BUILD));
    let liar_dir = node_dir(server, liar_port);
    let victim_dir = node_dir(server, victim_port);
    assert_eq!(
        redis_cli(
            victim_port,
            "app",
            "victim-app-secret",
            &["SET", "kept", "yes"]
        ),
        "OK"
    );
    let victim_files = fingerprint(&victim_dir);
    let victim_servers = node_servers(&victim_dir);

    // A file only root may read or write, and a process of root's.
    let outside = tempfile::tempdir().unwrap();
    let precious = outside.path().join("root-only");
    std::fs::write(&precious, "untouched\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&precious, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = metadata(&precious);
    let mut bystander = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let bystander_start = std::fs::read_to_string(format!("/proc/{}/stat", bystander.id()))
        .unwrap()
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();

    // The node replaces the files the host once trusted, and its own files, with links to the
    // root-only file and to the other node's files, and names the root process as its server.
    let precious_path = precious.display();
    let victim_path = victim_dir.display();
    as_node(
        &liar_dir,
        &format!(
            "mkdir -p .drover && \
             ln -sf {precious_path} .drover/server.log && \
             ln -sf {precious_path} .drover/service.json && \
             echo '{} {bystander_start}' > .drover/pid && \
             ln -sf {precious_path} redis.conf && \
             ln -sf {victim_path}/users.acl users.acl && \
             ln -sf {victim_path}/admin.secret admin.secret && \
             mv data data.mine && ln -s {victim_path}/data data",
            bystander.id()
        ),
    );

    // Everything the host does to a node: restart (stop, install, start), resize, health
    // passes, delete.
    client
        .post(&format!("instances/{liar}/action"), json!({"restart": {}}))
        .expect(202);
    let restarted = settle(server, client, &liar);
    assert_eq!(restarted["status"], "ERROR", "{restarted}");
    assert!(restarted["fault"]["message"].is_string(), "{restarted}");
    client
        .post(
            &format!("instances/{liar}/action"),
            json!({"resize": {"flavorRef": 3}}),
        )
        .expect(202);
    let resized = settle(server, client, &liar);
    assert!(resized["fault"]["message"].is_string(), "{resized}");
    std::thread::sleep(Duration::from_secs(11));
    let after_health = client.get(&format!("instances/{liar}")).expect(200)["instance"].clone();
    assert!(
        ["ERROR", "SHUTDOWN"].contains(&after_health["status"].as_str().unwrap()),
        "{after_health}"
    );
    let theirs = those_processes(processes_of_uid(node_uid(&liar_dir)));
    client.delete(&format!("instances/{liar}")).expect(202);
    wait_gone(server, client, &liar, BUILD);
    assert!(!liar_dir.exists());
    assert_eq!(still_running(&theirs), Vec::<u32>::new());

    // No byte was written outside the node, no signal sent: the root-only file, the other
    // node, the root process are as they were.
    assert_eq!(metadata(&precious), before);
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "the root process was signalled"
    );
    let _ = bystander.kill();
    assert_eq!(
        fingerprint(&victim_dir).keys().collect::<Vec<_>>(),
        victim_files.keys().collect::<Vec<_>>()
    );
    for name in ["users.acl", "admin.secret", "redis.conf"] {
        let path = victim_dir.join(name);
        assert_eq!(
            fingerprint(&victim_dir).get(&path),
            victim_files.get(&path),
            "{name} of the other node changed"
        );
    }
    assert_eq!(node_servers(&victim_dir), victim_servers);
    let victim_now = wait_status(server, client, &victim, "ACTIVE", BUILD);
    assert_eq!(port(&victim_now), victim_port);
    assert_eq!(
        redis_cli(victim_port, "app", "victim-app-secret", &["GET", "kept"]),
        "yes"
    );
}

/// Waits until an instance's task has ended (a status that is not a transition).
fn settle(server: &Server, client: &Client, id: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let instance = client.get(&format!("instances/{id}")).expect(200)["instance"].clone();
        if ["ACTIVE", "ERROR", "SHUTDOWN", "RESTART_REQUIRED"]
            .contains(&instance["status"].as_str().unwrap_or(""))
        {
            return instance;
        }
        assert!(
            started.elapsed() < BUILD,
            "{id} did not settle: {instance}\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn without_root_nodes_run_as_the_service_user_confined_by_landlock() {
    require_root("starting the service as an unprivileged user");
    require_binary("redis-server", "redis-server");
    // nobody: an unprivileged user every Debian machine has.
    let nobody = 65534;
    let server = Server::start(crate::common::server::Options {
        args: vec!["--auth".into(), "noauth".into()],
        run_as: Some(nobody),
        ..Default::default()
    });
    assert!(
        server.log_text().contains("per-node identities need root"),
        "the service does not say at start-up that nodes share its user:\n{}",
        server.log_text()
    );
    let client = Client::new(&server.base, "p1", None);
    let id = create(&client, "plain", "redis", "7.0");
    let instance = wait_status(&server, &client, &id, "ACTIVE", BUILD);
    let isolation = &instance["isolation"];
    assert_eq!(isolation["user"], Value::Null, "{instance}");
    assert_eq!(isolation["private_filesystem"], false, "{instance}");
    assert_eq!(isolation["limits"], "rlimit", "{instance}");
    assert!(
        isolation["landlock_abi"].as_u64().unwrap() >= 1,
        "{instance}"
    );
    let port = port(&instance);
    assert_eq!(
        redis_cli(port, "app", "plain-app-secret", &["SET", "k", "v"]),
        "OK"
    );
    // The server runs as the service's user, with no new privileges and its rlimits.
    let dir = node_dir(&server, port);
    let pids = crate::common::nodes::servers_working_in(&dir);
    assert_eq!(pids.len(), 1, "{pids:?}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", pids[0])).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("65534")),
        "{status}"
    );
    assert!(status.lines().any(|l| l == "NoNewPrivs:\t1"), "{status}");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", pids[0])).unwrap();
    let address_space = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))
        .unwrap();
    assert!(!address_space.contains("unlimited"), "{limits}");
    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(&server, &client, &id, BUILD);
    assert!(crate::common::nodes::servers_working_in(&dir).is_empty());
}
