//! Looking at instances from outside: waiting for statuses, finding node directories and
//! server processes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::api::Client;
use super::server::Server;

/// Polls an instance until its status is `want`; fails early on ERROR (unless wanted) with the
/// fault and the server's log.
#[track_caller]
pub fn wait_status(
    server: &Server,
    client: &Client,
    id: &str,
    want: &str,
    timeout: Duration,
) -> Value {
    let started = Instant::now();
    let mut last = Value::Null;
    while started.elapsed() < timeout {
        let reply = client.get(&format!("instances/{id}"));
        if reply.status == 200 {
            last = reply.body["instance"].clone();
            let status = last["status"].as_str().unwrap_or("");
            if status == want {
                return last;
            }
            if status == "ERROR" && want != "ERROR" {
                panic!(
                    "instance {id} went to ERROR waiting for {want}: {last}\n--- server log ---\n{}",
                    tail(&server.log_text(), 200)
                );
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "instance {id} did not reach {want} within {timeout:?}; last: {last}\n--- server log ---\n{}",
        tail(&server.log_text(), 200)
    );
}

/// Polls until the instance is gone (404).
#[track_caller]
pub fn wait_gone(server: &Server, client: &Client, id: &str, timeout: Duration) {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if client.get(&format!("instances/{id}")).status == 404 {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "instance {id} was not deleted within {timeout:?}\n--- server log ---\n{}",
        tail(&server.log_text(), 200)
    );
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The port an instance listens on.
pub fn port(instance: &Value) -> u16 {
    instance["addresses"][0]["port"]
        .as_u64()
        .expect("the instance view has a port") as u16
}

/// The node directory of the instance listening on `port`: the one whose service mentions it.
pub fn node_dir(server: &Server, port: u16) -> PathBuf {
    let nodes = server.state_dir().join("nodes");
    for entry in std::fs::read_dir(&nodes).unwrap().flatten() {
        let dir = entry.path();
        for file in std::fs::read_dir(&dir).unwrap().flatten() {
            if file.path().is_file()
                && std::fs::read_to_string(file.path()).is_ok_and(|text| {
                    text.contains(&format!("port {port}\n"))
                        || text.contains(&format!("port = {port}\n"))
                        || text.contains(&format!("port={port}\n"))
                })
            {
                return dir;
            }
        }
        if std::fs::read_to_string(dir.join(".drover/service.json"))
            .is_ok_and(|text| text.contains(&format!("\"{port}\"")))
        {
            return dir;
        }
    }
    panic!("no node directory mentions port {port}");
}

fn cwd_under(pid: u32, dir: &Path) -> bool {
    std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The server processes of a node. A node with a user of its own: its user's processes whose
/// parent is not (see [`node_servers`]). Otherwise (a service not run as root): processes
/// working in its directory whose parent does not (so PostgreSQL's backends are not counted
/// again). Only lasting ones (see [`lasting`]).
pub fn server_processes(dir: &Path) -> Vec<u32> {
    if node_uid(dir) != uid_of(std::process::id()).unwrap_or(0) {
        return node_servers(dir);
    }
    servers_working_in(dir)
}

/// The lasting processes working in `dir` whose parent does not (see [`lasting`]).
pub fn servers_working_in(dir: &Path) -> Vec<u32> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    lasting(|| {
        processes_under(&dir)
            .into_iter()
            .filter(|pid| parent(*pid).is_none_or(|ppid| !cwd_under(ppid, &dir)))
            .collect()
    })
}

/// Of the processes `find` names, those that last: named again a second later, as the very
/// same processes (same start time). The health pass runs short commands as a node's user and
/// in its directory (redis-cli, pg_isready), started by the host: they are no servers, but a
/// single look may catch one.
pub fn lasting(find: impl Fn() -> Vec<u32>) -> Vec<u32> {
    let first = those_processes(find());
    if first.is_empty() {
        return Vec::new();
    }
    std::thread::sleep(Duration::from_secs(1));
    let again = find();
    still_running(&first)
        .into_iter()
        .filter(|pid| again.contains(pid))
        .collect()
}

/// Every process working in `dir` or below it.
pub fn processes_under(dir: &Path) -> Vec<u32> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| cwd_under(*pid, &dir))
        .collect()
}

/// Runs a datastore client and returns its standard output, trimmed.
#[track_caller]
pub fn run(program: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
        + String::from_utf8_lossy(&output.stderr).trim()
}

/// A project's quota line for `resource`, as (in use, reserved), read through the management API.
#[track_caller]
pub fn usage(client: &Client, resource: &str) -> (i64, i64) {
    let quotas = client
        .get(&format!("mgmt/quotas/{}", client.project))
        .expect(200);
    let line = quotas["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["resource"] == resource)
        .unwrap_or_else(|| panic!("no quota line for {resource}: {quotas}"))
        .clone();
    (
        line["in_use"].as_i64().unwrap(),
        line["reserved"].as_i64().unwrap(),
    )
}

/// The `name` of every item of the list under `key` (databases, users).
pub fn names(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

/// Runs redis-cli against a node as `user` and returns what it printed, trimmed.
pub fn redis_cli(port: u16, user: &str, password: &str, args: &[&str]) -> String {
    let output = std::process::Command::new("redis-cli")
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

/// Fails (never skips) unless the tests run as root: per-node identities, private mount
/// namespaces and cgroups are what they check.
#[track_caller]
pub fn require_root(what: &str) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or("?")
        .to_string();
    assert_eq!(
        uid, "0",
        "{what} needs root (per-node users, mount namespaces and cgroups are what it checks): run the tests as root"
    );
}

/// The real uid of a process.
pub fn uid_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The uid a node's processes run as: the owner of its directory.
pub fn node_uid(dir: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).unwrap().uid()
}

/// Every live (not zombie) process running as `uid`.
pub fn processes_of_uid(uid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| uid_of(*pid) == Some(uid))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rfind(')')
                    .is_some_and(|i| !stat[i + 1..].trim_start().starts_with('Z'))
            })
        })
        .collect()
}

/// The server processes of the node whose directory is `dir`: its uid's lasting processes
/// (see [`lasting`]) whose parent runs as another user (a PostgreSQL backend is not a second
/// server).
pub fn node_servers(dir: &Path) -> Vec<u32> {
    let uid = node_uid(dir);
    lasting(|| {
        processes_of_uid(uid)
            .into_iter()
            .filter(|pid| parent(*pid).and_then(uid_of) != Some(uid))
            .collect()
    })
}

/// Creates an instance (flavor 2, a 1 GiB volume) with `extra` merged into the request, and
/// returns its id.
#[track_caller]
pub fn create_instance(
    client: &Client,
    name: &str,
    datastore: &str,
    version: &str,
    extra: Value,
) -> String {
    let mut instance = serde_json::json!({"name": name, "flavorRef": 2, "volume": {"size": 1},
        "datastore": {"type": datastore, "version": version}});
    for (key, value) in extra.as_object().expect("extra is an object") {
        instance[key] = value.clone();
    }
    client
        .post("instances", serde_json::json!({ "instance": instance }))
        .expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The request fields for a user `app` with `password`, and a database `appdb` it may use
/// where the datastore has databases.
pub fn app_user(datastore: &str, password: &str) -> Value {
    if datastore == "redis" {
        serde_json::json!({"users": [{"name": "app", "password": password}]})
    } else {
        serde_json::json!({"databases": [{"name": "appdb"}],
            "users": [{"name": "app", "password": password, "databases": [{"name": "appdb"}]}]})
    }
}

/// Kills an instance's server behind Drover's back and waits until the health pass shows it
/// SHUTDOWN.
pub fn kill_server_behind_drovers_back(server: &Server, client: &Client, id: &str) {
    let instance = client.get(&format!("instances/{id}")).expect(200)["instance"].clone();
    let dir = node_dir(server, port(&instance));
    for pid in server_processes(&dir) {
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
    }
    wait_status(server, client, id, "SHUTDOWN", Duration::from_secs(60));
}

/// A live process's start time (clock ticks since boot), which tells it from a later process
/// with the same pid; `None` for a zombie or a process that is gone.
pub fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    (fields.first() != Some(&"Z")).then(|| fields.get(19).map(|s| s.to_string()))?
}

/// These very processes (pid and start time), to ask later whether they still run.
pub fn those_processes(pids: Vec<u32>) -> Vec<(u32, String)> {
    pids.into_iter()
        .filter_map(|pid| Some((pid, start_time(pid)?)))
        .collect()
}

/// Those of `processes` that still run.
pub fn still_running(processes: &[(u32, String)]) -> Vec<u32> {
    processes
        .iter()
        .filter(|(pid, started)| start_time(*pid).as_ref() == Some(started))
        .map(|(pid, _)| *pid)
        .collect()
}

/// Waits until `done`, at most `timeout`, polling every 200 ms; `what` names it when it fails.
#[track_caller]
pub fn wait_until(timeout: std::time::Duration, mut done: impl FnMut() -> bool, what: &str) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed() < timeout,
            "timed out waiting until {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
