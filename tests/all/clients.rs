//! Real, unmodified OpenStack clients against the running server: `openstack database …` and
//! `openstack datastore …` from python-openstackclient with python-troveclient, in the
//! virtualenv the test command builds (scripts/clients-venv).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::server::{Options, Server};

/// The `openstack` executable of the clients' virtualenv.
pub fn openstack() -> PathBuf {
    let venv = std::env::var("DROVER_CLIENTS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            let root = std::env::var("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|_| PathBuf::from("target"));
            root.join("clients-venv")
        });
    let bin = venv.join("bin/openstack");
    assert!(
        bin.is_file(),
        "the OpenStack clients are needed: run `bash scripts/clients-venv` (scripts/test does) or set DROVER_CLIENTS_VENV; looked for {}",
        bin.display()
    );
    bin
}

/// A server in noauth mode, as the clients' `--os-auth-type none` needs.
pub fn noauth_server() -> Server {
    Server::start(Options {
        args: vec!["--auth".into(), "noauth".into()],
        ..Default::default()
    })
}

/// Runs `openstack --os-auth-type none --os-endpoint <server>/v1.0/<project> <args>`, asserts
/// it succeeded and returns what it printed.
#[track_caller]
pub fn run_text(server: &Server, project: &str, args: &[&str]) -> String {
    let output = Command::new(openstack())
        .args(["--os-auth-type", "none", "--os-endpoint"])
        .arg(format!("{}/v1.0/{project}", server.base))
        .args(args)
        .output()
        .expect("openstack runs");
    String::from_utf8_lossy(&succeeded(args, output)).to_string()
}

/// What an `openstack <args>` run printed; it must have succeeded.
#[track_caller]
pub fn succeeded(args: &[&str], output: std::process::Output) -> Vec<u8> {
    assert!(
        output.status.success(),
        "openstack {} failed ({}):\n{}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs `openstack … <args> -f json` and returns its JSON output.
#[track_caller]
pub fn run(server: &Server, project: &str, args: &[&str]) -> Value {
    let args: Vec<&str> = args.iter().copied().chain(["-f", "json"]).collect();
    let stdout = run_text(server, project, &args);
    // `database limit list` prints the absolute limits as a table before its JSON list.
    let start = stdout
        .lines()
        .position(|line| line.starts_with('[') || line.starts_with('{'))
        .unwrap_or(0);
    let json = stdout.lines().skip(start).collect::<Vec<_>>().join("\n");
    let mut value: Value = serde_json::from_str(&json).unwrap_or_else(|e| {
        panic!(
            "openstack {} printed no JSON ({e}): {stdout}",
            args.join(" ")
        )
    });
    if start > 0 {
        value = serde_json::json!({"text": stdout.lines().take(start).collect::<Vec<_>>().join("\n"), "json": value});
    }
    value
}

/// A project id as Keystone would make one: the openstack client resolves anything else
/// through Keystone first (real-clients.md §9), which this deployment does not run.
pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn the_openstack_client_lists_the_catalogue_quotas_and_limits() {
    let server = noauth_server();
    let datastores = run(&server, "p1", &["datastore", "list"]);
    let names: Vec<&str> = datastores
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"redis") && names.contains(&"postgresql") && names.contains(&"mariadb"),
        "{names:?}"
    );

    let versions = run(&server, "p1", &["datastore", "version", "list", "redis"]);
    assert_eq!(versions[0]["Name"], "7.0");

    let flavors = run(&server, "p1", &["database", "flavor", "list"]);
    assert!(
        flavors
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["Name"] == "small" && f["RAM"] == 512),
        "{flavors}"
    );

    // Trove's flavor fields, and a version's (its number, as the client shows it).
    let flavor = run(&server, "p1", &["database", "flavor", "show", "2"]);
    assert_eq!(flavor["disk"], 0, "{flavor}");
    assert_eq!(flavor["ephemeral"], 0, "{flavor}");
    let version = run(
        &server,
        "p1",
        &[
            "datastore",
            "version",
            "show",
            "7.0",
            "--datastore",
            "redis",
        ],
    );
    assert_eq!(version["version"], "7.0", "{version}");

    let quotas = run(&server, PROJECT, &["database", "quota", "show", PROJECT]);
    let instances = quotas
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["Resource"] == "instances")
        .expect("an instances quota");
    assert_eq!(instances["Limit"], 10);

    let limits = run(&server, PROJECT, &["database", "limit", "list"]);
    // The absolute limits with usage, then the rate limits.
    let table = limits["text"].as_str().unwrap();
    assert!(
        table.contains("max_instances")
            && table.contains("total_instances_used")
            && table.contains("max_ram"),
        "{table}"
    );
    assert!(
        limits["json"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["Verb"] == "POST" && l["Value"] == 200),
        "{limits}"
    );
}

/// Polls `openstack database instance show` until the instance has `want`.
#[track_caller]
fn wait_for_status(server: &Server, id: &str, want: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let shown = run(server, PROJECT, &["database", "instance", "show", id]);
        if shown["status"] == want {
            return shown;
        }
        assert!(
            shown["status"] != "ERROR" && started.elapsed() < std::time::Duration::from_secs(120),
            "instance {id} did not reach {want}: {shown}\n--- server log ---\n{}",
            server.log_text()
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

#[test]
fn the_openstack_client_runs_an_instance_its_databases_users_and_root() {
    crate::nodes::require_binary("postgres", "postgresql-15");
    crate::nodes::require_binary("psql", "postgresql-client-15");
    let server = noauth_server();
    let created = run(
        &server,
        PROJECT,
        &[
            "database",
            "instance",
            "create",
            "cli-pg",
            "--flavor",
            "2",
            "--size",
            "1",
            "--datastore",
            "postgresql",
            "--datastore-version",
            "15",
            "--databases",
            "appdb",
            "--users",
            "app:app-secret",
        ],
    );
    assert_eq!(created["name"], "cli-pg", "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let shown = wait_for_status(&server, &id, "ACTIVE");
    assert_eq!(shown["datastore"], "postgresql", "{shown}");
    // Trove's fields the client shows: the version's number, the region, and the service's
    // health once the health pass has seen it.
    assert_eq!(shown["datastore_version_number"], "15", "{shown}");
    assert_eq!(shown["region"], "RegionOne", "{shown}");
    let started = std::time::Instant::now();
    while run(&server, PROJECT, &["database", "instance", "show", &id])["operating_status"]
        != "HEALTHY"
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "never HEALTHY"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    // The values the server runs with, numbers as numbers.
    let running = run(
        &server,
        PROJECT,
        &["database", "configuration", "default", &id],
    );
    assert!(running["port"].is_number(), "{running}");

    let listed = run(&server, PROJECT, &["database", "instance", "list"]);
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ID"] == id.as_str())
        .unwrap_or_else(|| panic!("the new instance is listed: {listed}"));
    assert_eq!(row["Status"], "ACTIVE", "{row}");
    assert_eq!(row["Name"], "cli-pg", "{row}");
    assert_eq!(row["Operating Status"], "HEALTHY", "{row}");

    run_text(
        &server,
        PROJECT,
        &["database", "db", "create", &id, "reports"],
    );
    let databases = run(&server, PROJECT, &["database", "db", "list", &id]);
    let names: Vec<&str> = databases
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["appdb", "reports"], "{databases}");

    run_text(
        &server,
        PROJECT,
        &[
            "database",
            "user",
            "create",
            &id,
            "analyst",
            "a-secret",
            "--databases",
            "reports",
        ],
    );
    let users = run(&server, PROJECT, &["database", "user", "list", &id]);
    let analyst = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["Name"] == "analyst")
        .unwrap_or_else(|| panic!("analyst is listed: {users}"));
    assert!(
        analyst["Databases"].to_string().contains("reports"),
        "{analyst}"
    );
    // The user the client made works in the server.
    let port = crate::common::nodes::port(
        &crate::common::api::Client::new(&server.base, PROJECT, None)
            .get(&format!("instances/{id}"))
            .expect(200)["instance"],
    );
    let (ok, out) = crate::postgresql::psql(port, "analyst", "a-secret", "reports", "SELECT 7;");
    assert!(ok && out.ends_with('7'), "{out}");

    let root = run(&server, PROJECT, &["database", "root", "enable", &id]);
    assert_eq!(root["name"], "postgres", "{root}");
    let password = root["password"].as_str().unwrap();
    assert!(crate::postgresql::psql(port, "postgres", password, "postgres", "SELECT 1;").0);
    let enabled = run(&server, PROJECT, &["database", "root", "show", &id]);
    assert_eq!(enabled["is_root_enabled"], true, "{enabled}");

    run_text(&server, PROJECT, &["database", "instance", "delete", &id]);
    let started = std::time::Instant::now();
    while run(&server, PROJECT, &["database", "instance", "list"])
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["ID"] == id.as_str())
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the instance was not deleted"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

#[test]
fn the_openstack_client_manages_configuration_groups() {
    crate::nodes::require_binary("redis-server", "redis-server");
    crate::nodes::require_binary("redis-cli", "redis-tools");
    let server = noauth_server();
    let parameters = run(
        &server,
        PROJECT,
        &[
            "database",
            "configuration",
            "parameter",
            "list",
            "7.0",
            "--datastore",
            "redis",
        ],
    );
    assert!(
        parameters
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["Name"] == "maxmemory-policy"),
        "{parameters}"
    );

    let created = run(
        &server,
        PROJECT,
        &[
            "database",
            "instance",
            "create",
            "cli-redis",
            "--flavor",
            "1",
            "--size",
            "1",
            "--datastore",
            "redis",
            "--datastore-version",
            "7.0",
        ],
    );
    let id = created["id"].as_str().unwrap().to_string();
    wait_for_status(&server, &id, "ACTIVE");

    let group = run(
        &server,
        PROJECT,
        &[
            "database",
            "configuration",
            "create",
            "cli-group",
            r#"{"maxmemory-policy": "allkeys-lru"}"#,
            "--datastore",
            "redis",
            "--datastore-version",
            "7.0",
            "--description",
            "from the client",
        ],
    );
    let group_id = group["id"].as_str().unwrap().to_string();
    let listed = run(&server, PROJECT, &["database", "configuration", "list"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["ID"] == group_id.as_str()),
        "{listed}"
    );
    let shown = run(
        &server,
        PROJECT,
        &["database", "configuration", "show", &group_id],
    );
    assert!(shown.to_string().contains("allkeys-lru"), "{shown}");

    run_text(
        &server,
        PROJECT,
        &["database", "configuration", "attach", &id, &group_id],
    );
    let started = std::time::Instant::now();
    while run(
        &server,
        PROJECT,
        &["database", "configuration", "instances", &group_id],
    )
    .as_array()
    .unwrap()
    .is_empty()
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "not attached"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    wait_for_status(&server, &id, "ACTIVE");
    let root = run(&server, PROJECT, &["database", "root", "enable", &id]);
    let password = root["password"].as_str().unwrap();
    let port = crate::common::nodes::port(
        &crate::common::api::Client::new(&server.base, PROJECT, None)
            .get(&format!("instances/{id}"))
            .expect(200)["instance"],
    );
    let policy = || {
        crate::common::nodes::redis_cli(
            port,
            "default",
            password,
            &["CONFIG", "GET", "maxmemory-policy"],
        )
    };
    assert!(policy().ends_with("allkeys-lru"), "{}", policy());

    run_text(
        &server,
        PROJECT,
        &["database", "configuration", "detach", &id],
    );
    let started = std::time::Instant::now();
    while !policy().ends_with("noeviction") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "not detached"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    wait_for_status(&server, &id, "ACTIVE");
    run_text(
        &server,
        PROJECT,
        &["database", "configuration", "delete", &group_id],
    );
    assert!(
        run(&server, PROJECT, &["database", "configuration", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    run_text(&server, PROJECT, &["database", "instance", "delete", &id]);
}

#[test]
fn the_openstack_client_creates_promotes_ejects_and_detaches_redis_replicas() {
    crate::nodes::require_binary("redis-server", "redis-server");
    replicas_through_the_openstack_client("redis", "7.0");
}

#[test]
fn the_openstack_client_creates_promotes_ejects_and_detaches_postgresql_replicas() {
    crate::nodes::require_binary("postgres", "postgresql-15");
    crate::nodes::require_binary("pg_basebackup", "postgresql-client-15");
    crate::nodes::require_binary("pg_rewind", "postgresql-15");
    replicas_through_the_openstack_client("postgresql", "15");
}

#[test]
fn the_openstack_client_creates_promotes_ejects_and_detaches_mariadb_replicas() {
    crate::nodes::require_binary("mariadbd", "mariadb-server");
    crate::nodes::require_binary("mariadb-dump", "mariadb-client");
    replicas_through_the_openstack_client("mariadb", "10.11");
}

/// `database instance create --replica-of`, `promote`, `eject` and `detach`, as a user types
/// them, against one datastore.
fn replicas_through_the_openstack_client(datastore: &str, version: &str) {
    let server = noauth_server();
    let api = crate::common::api::Client::new(&server.base, PROJECT, None);
    let create = |name: &str, extra: &[&str]| {
        let mut args = vec!["database", "instance", "create", name];
        args.extend_from_slice(extra);
        let id = run(&server, PROJECT, &args)["id"]
            .as_str()
            .unwrap()
            .to_string();
        wait_for_status(&server, &id, "ACTIVE");
        id
    };
    let source_of = |id: &str| {
        api.get(&format!("instances/{id}")).expect(200)["instance"]["replica_of"]["id"]
            .as_str()
            .map(str::to_string)
    };
    let settle = |what: &str, done: &dyn Fn() -> bool| {
        let started = std::time::Instant::now();
        while !done() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(90),
                "timed out: {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    };
    let source = create(
        "cli-source",
        &[
            "--flavor",
            "1",
            "--size",
            "1",
            "--datastore",
            datastore,
            "--datastore-version",
            version,
        ],
    );
    let replica = create("cli-replica", &["--replica-of", &source]);
    assert_eq!(source_of(&replica).as_deref(), Some(source.as_str()));

    // Promote: the replica becomes the source and the old source follows it.
    run_text(
        &server,
        PROJECT,
        &["database", "instance", "promote", &replica],
    );
    settle("promoted", &|| {
        source_of(&source).as_deref() == Some(replica.as_str()) && source_of(&replica).is_none()
    });
    wait_for_status(&server, &replica, "ACTIVE");

    // Eject: the new source dies, and the old one takes over again.
    let port = crate::common::nodes::port(
        &api.get(&format!("instances/{replica}")).expect(200)["instance"],
    );
    let dir = crate::common::nodes::node_dir(&server, port);
    for pid in crate::common::nodes::server_processes(&dir) {
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
    }
    wait_for_status(&server, &replica, "SHUTDOWN");
    run_text(
        &server,
        PROJECT,
        &["database", "instance", "eject", &replica],
    );
    settle("ejected", &|| source_of(&source).is_none());
    // The ejected source keeps a fault saying so (its status is the health pass's: down).
    settle("the ejected source says why", &|| {
        api.get(&format!("instances/{replica}")).expect(200)["instance"]["fault"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Ejected"))
    });

    // Detach: a fresh replica of the surviving source becomes standalone.
    let second = create("cli-second", &["--replica-of", &source]);
    run_text(
        &server,
        PROJECT,
        &["database", "instance", "detach", &second],
    );
    settle("detached", &|| source_of(&second).is_none());
    wait_for_status(&server, &second, "ACTIVE");
    for id in [&second, &replica, &source] {
        run_text(&server, PROJECT, &["database", "instance", "delete", id]);
    }
}
