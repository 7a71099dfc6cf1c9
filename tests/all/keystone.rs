//! Drover in an OpenStack cloud: a real Keystone 30 on loopback (tests/fixtures/keystone,
//! SQLite, gunicorn), Drover registered in its catalog as the `database` service, and the real
//! `openstack` client logging in with an ordinary password. Members work in their project; an
//! admin updates another project's quota; a token Keystone does not know is refused.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clients::{openstack, succeeded};
use crate::common::nodes::{port, redis_cli};
use crate::common::server::{Options, Server, free_port};
use crate::nodes::require_binary;

const ADMIN_PASSWORD: &str = "keystone-admin-secret";
const SERVICE_PASSWORD: &str = "drover-service-secret";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/keystone")
        .join(name)
}

/// The virtualenv with Keystone (scripts/keystone-venv, which scripts/test runs).
fn keystone_venv() -> PathBuf {
    let venv = std::env::var("DROVER_KEYSTONE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            std::env::var("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|_| PathBuf::from("target"))
                .join("keystone-venv")
        });
    assert!(
        venv.join("bin/gunicorn").is_file(),
        "Keystone is needed: run `bash scripts/keystone-venv` (scripts/test does) or set DROVER_KEYSTONE_VENV; looked in {}",
        venv.display()
    );
    venv
}

/// A Keystone on loopback; stopped (SIGTERM, then waited for) on drop.
struct Keystone {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Keystone {
    fn start() -> Keystone {
        let venv = keystone_venv();
        let dir = tempfile::Builder::new()
            .prefix("keystone-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("start.log")).unwrap();
        let child = Command::new(fixture("start"))
            .arg(&venv)
            .arg(dir.path())
            .arg(port.to_string())
            .arg(ADMIN_PASSWORD)
            .env("DROVER_SERVICE_PASSWORD", SERVICE_PASSWORD)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start Keystone");
        let keystone = Keystone {
            child,
            port,
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if reqwest::blocking::get(keystone.url()).is_ok_and(|r| r.status().is_success()) {
                return keystone;
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "Keystone did not answer within 180 s: {}",
                std::fs::read_to_string(keystone._dir.path().join("start.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v3", self.port)
    }
}

impl Drop for Keystone {
    fn drop(&mut self) {
        // gunicorn's master (start execs it): TERM ends its worker too.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The `openstack` client logged in to `keystone` with a password, as a cloud's users log in
/// (to the project named as the user).
fn openstack_command(keystone: &Keystone, user: &str, password: &str) -> Command {
    let mut command = Command::new(openstack());
    command
        .env_remove("OS_CLOUD")
        .env_remove("OS_TOKEN")
        .env_remove("OS_ENDPOINT")
        .env("OS_AUTH_TYPE", "password")
        .env("OS_AUTH_URL", keystone.url())
        .env("OS_IDENTITY_API_VERSION", "3")
        .env("OS_USERNAME", user)
        .env("OS_PASSWORD", password)
        .env("OS_PROJECT_NAME", user)
        .env("OS_USER_DOMAIN_NAME", "Default")
        .env("OS_PROJECT_DOMAIN_NAME", "Default")
        .env("OS_INTERFACE", "public");
    command
}

/// `openstack <args> -f json` as `user`: what it printed.
#[track_caller]
fn openstack_as(keystone: &Keystone, user: &str, password: &str, args: &[&str]) -> Value {
    let output = openstack_command(keystone, user, password)
        .args(args)
        .args(["-f", "json"])
        .output()
        .expect("openstack runs");
    serde_json::from_slice(&succeeded(args, output)).expect("openstack printed JSON")
}

#[test]
fn the_openstack_client_logs_in_with_keystone_and_uses_the_catalog() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    require_binary("curl", "curl");
    let keystone = Keystone::start();
    let secrets = tempfile::tempdir().unwrap();
    let password_file = secrets.path().join("keystone-password");
    std::fs::write(&password_file, format!("{SERVICE_PASSWORD}\n")).unwrap();
    let server = Server::start(Options {
        args: vec!["--auth".into(), "keystone".into()],
        config: format!(
            "[keystone]\nauth_url = \"{}\"\nusername = \"drover\"\npassword_file = \"{}\"\n",
            keystone.url(),
            password_file.display()
        ),
        ..Default::default()
    });
    let registered = Command::new(fixture("register-database"))
        .arg(keystone.port.to_string())
        .arg(ADMIN_PASSWORD)
        .arg(&server.base)
        .output()
        .unwrap();
    assert!(
        registered.status.success(),
        "register-database: {}",
        String::from_utf8_lossy(&registered.stderr)
    );

    // A member finds Drover through the catalog and works in its own project.
    let demo_project = openstack_as(&keystone, "demo", "demo", &["token", "issue"])["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let flavors = openstack_as(&keystone, "demo", "demo", &["database", "flavor", "list"]);
    assert!(
        flavors.as_array().is_some_and(|f| !f.is_empty()),
        "{flavors}"
    );
    let created = openstack_as(
        &keystone,
        "demo",
        "demo",
        &[
            "database",
            "instance",
            "create",
            "ks-redis",
            "--flavor",
            "2",
            "--size",
            "1",
            "--datastore",
            "redis",
            "--datastore-version",
            "7.0",
            "--users",
            "app:app-secret",
        ],
    );
    let id = created["id"].as_str().unwrap().to_string();
    let started = Instant::now();
    let shown = loop {
        let shown = openstack_as(
            &keystone,
            "demo",
            "demo",
            &["database", "instance", "show", &id],
        );
        if shown["status"] == "ACTIVE" {
            break shown;
        }
        assert!(
            shown["status"] != "ERROR" && started.elapsed() < Duration::from_secs(120),
            "{shown}\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    // The instance belongs to the project Keystone put the token in, and it runs.
    let instance = reqwest::blocking::Client::new()
        .get(format!(
            "{}/v1.0/{demo_project}/instances/{id}",
            server.base
        ))
        .header("X-Auth-Token", keystone_token(&keystone, "demo", "demo"))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(
        instance["instance"]["name"], "ks-redis",
        "{instance} {shown}"
    );
    let node_port = port(&instance["instance"]);
    assert_eq!(redis_cli(node_port, "app", "app-secret", &["PING"]), "PONG");

    // A member may not change quotas; an admin (Keystone's admin role) may, for any project.
    let output = openstack_command(&keystone, "demo", "demo")
        .args([
            "database",
            "quota",
            "update",
            &demo_project,
            "instances",
            "5",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success(), "a member updated a quota");
    openstack_as(
        &keystone,
        "admin",
        ADMIN_PASSWORD,
        &[
            "database",
            "quota",
            "update",
            &demo_project,
            "instances",
            "5",
        ],
    );
    let quotas = openstack_as(
        &keystone,
        "admin",
        ADMIN_PASSWORD,
        &["database", "quota", "show", &demo_project],
    );
    let instances = quotas
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["Resource"] == "instances")
        .cloned()
        .unwrap_or_else(|| panic!("{quotas}"));
    assert_eq!(instances["Limit"], 5, "{quotas}");

    // A token Keystone does not know is a 401, and so is none.
    for token in [Some("gAAAAA-not-a-token"), None] {
        let mut request = reqwest::blocking::Client::new()
            .get(format!("{}/v1.0/{demo_project}/instances", server.base));
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        assert_eq!(request.send().unwrap().status(), 401);
    }
    // The service's password is not in its log.
    assert!(!server.log_text().contains(SERVICE_PASSWORD));

    let output = openstack_command(&keystone, "demo", "demo")
        .args(["database", "instance", "delete", &id])
        .output()
        .unwrap();
    succeeded(&["database", "instance", "delete"], output);
}

/// A project-scoped token from Keystone for `user` (its project has the user's name).
fn keystone_token(keystone: &Keystone, user: &str, password: &str) -> String {
    let login = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": user, "domain": {"id": "default"}}}}});
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/auth/tokens", keystone.url()))
        .json(&login)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 201);
    answer.headers()["X-Subject-Token"]
        .to_str()
        .unwrap()
        .to_string()
}
