//! Several hosts on one PostgreSQL store: the options that start each, and what their views
//! say of each other.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::api::Client;
use crate::common::db::TestDb;
use crate::common::server::Options;

/// Short intervals, so a host is down after 4 s without a heartbeat and a dead worker's task
/// is free after 5 s.
pub const ORCHESTRATOR: &str = "[orchestrator]\nhealth_interval_s = 1\nheartbeat_s = 1\n\
    host_down_after_s = 4\nlease_s = 5\n";

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

/// The status of every instance `client`'s host lists, by id.
pub fn statuses(client: &Client) -> std::collections::BTreeMap<String, String> {
    client.get("instances").expect(200)["instances"]
        .as_array()
        .expect("a list of instances")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap_or_default().to_string(),
                i["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Whether `client`'s host lists exactly the instances `ids`, every one ACTIVE: why not, if not.
pub fn all_active(client: &Client, ids: &[&str]) -> Result<(), String> {
    let shown = statuses(client);
    let listed: Vec<&str> = shown.keys().map(String::as_str).collect();
    let mut want = ids.to_vec();
    want.sort();
    if listed != want || shown.values().any(|s| s != "ACTIVE") {
        return Err(format!("{} lists {shown:?}", client.root));
    }
    Ok(())
}

/// The node directories of a host's state directory.
pub fn node_dirs(state: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(state.join("nodes"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

/// Kills (SIGKILL) every process of the nodes of a dead host's state directory, as if the
/// whole machine had died: its nodes' users' processes, or for a directory not yet handed to
/// its node (still root's), the processes working in it.
pub fn kill_nodes_of(state: &std::path::Path) {
    use crate::common::nodes::{node_uid, processes_of_uid, processes_under};
    for dir in node_dirs(state) {
        let uid = node_uid(&dir);
        let pids = if uid == 0 {
            processes_under(&dir)
        } else {
            processes_of_uid(uid)
        };
        for pid in pids {
            std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .unwrap();
        }
    }
}
