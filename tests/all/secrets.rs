//! No secret is kept where another user of the machine could read it: not in the store or its
//! journal, not in the host's log, not in a node file others may read, not on any command
//! line, and not in an API answer other than the one that creates it. A scenario that uses
//! every kind of password on all three datastores, then a search for each of them.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::api::Setup;
use crate::common::nodes::{
    app_user, create_instance, node_dir, port, redis_cli, require_root, wait_status,
};
use crate::mariadb::mariadb;
use crate::nodes::require_binary;
use crate::postgresql::psql;

const BUILD: Duration = Duration::from_secs(180);

/// Every distinct command line seen while it runs.
struct CommandLines {
    seen: Arc<Mutex<HashSet<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CommandLines {
    fn sample() -> CommandLines {
        let seen = Arc::new(Mutex::new(HashSet::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
                        if let Ok(line) = std::fs::read(entry.path().join("cmdline"))
                            && !line.is_empty()
                        {
                            seen.lock().unwrap().insert(line);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        CommandLines {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        self.seen.lock().unwrap().iter().cloned().collect()
    }
}

/// The value of `key` in a line like `… key='value' …` or `key value`.
fn value_after(text: &str, key: &str) -> Option<String> {
    let at = text.find(key)? + key.len();
    let rest = text[at..].trim_start_matches([' ', '=']);
    let value: String = match rest.chars().next()? {
        quote @ ('\'' | '"') => rest[1..].chars().take_while(|c| *c != quote).collect(),
        _ => rest.chars().take_while(|c| !c.is_whitespace()).collect(),
    };
    (!value.is_empty()).then_some(value)
}

/// The password a replica follows its source with, read from the replica's files as root.
fn replication_password(datastore: &str, dir: &Path) -> String {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let found = match datastore {
        "postgresql" => value_after(&read("data/postgresql.auto.conf"), "password"),
        "mariadb" => read("data/master.info").lines().nth(5).map(str::to_string),
        _ => value_after(&read("redis.conf"), "masterauth"),
    };
    found
        .filter(|p| p.len() >= 8)
        .unwrap_or_else(|| panic!("no replication password found in {}", dir.display()))
}

/// Every file below `dir` that users other than its owner may read.
fn readable_by_others(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            readable_by_others(&path, found);
        } else if meta.is_file() && meta.permissions().mode() & 0o044 != 0 {
            found.push(path);
        }
    }
}

#[test]
fn no_password_is_left_where_another_user_could_read_it() {
    require_root("the secret scan");
    require_binary("redis-server", "redis-server");
    require_binary("postgres", "postgresql-15");
    require_binary("mariadbd", "mariadb-server");
    let command_lines = CommandLines::sample();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let mut passwords: Vec<String> = Vec::new();
    let mut answers: Vec<Value> = Vec::new();
    let mut replicas = Vec::new();
    for (datastore, version) in [("redis", "7.0"), ("postgresql", "15"), ("mariadb", "10.11")] {
        let first = format!("{datastore}-Created-7f3a9c");
        let second = format!("{datastore}-Added-2b8e41");
        let changed = format!("{datastore}-Changed-9d0c55");
        passwords.extend([first.clone(), second.clone(), changed.clone()]);
        let id = create_instance(
            client,
            datastore,
            datastore,
            version,
            app_user(datastore, &first),
        );
        let port = port(&wait_status(server, client, &id, "ACTIVE", BUILD));
        // A user added later, a password changed, root enabled.
        client
            .post(
                &format!("instances/{id}/users"),
                json!({"users": [{"name": "second", "password": second}]}),
            )
            .expect(202);
        client
            .put(
                &format!("instances/{id}/users"),
                json!({"users": [{"name": "app", "password": changed}]}),
            )
            .expect(202);
        let root = client
            .post(&format!("instances/{id}/root"), json!({}))
            .expect(200);
        passwords.push(root["user"]["password"].as_str().unwrap().to_string());
        // The passwords are the real ones: the datastore takes them.
        let logged_in = match datastore {
            "redis" => redis_cli(port, "app", &changed, &["PING"]) == "PONG",
            "postgresql" => psql(port, "app", &changed, "appdb", "SELECT 1").0,
            _ => mariadb(port, "app", &changed, "appdb", "SELECT 1").0,
        };
        assert!(
            logged_in,
            "{datastore}: app cannot log in with its new password"
        );
        // A replica: the source's replication credentials.
        let replica = client
            .post(
                "instances",
                json!({"instance": {"name": format!("{datastore}-replica"), "replica_of": id}}),
            )
            .expect(200)["instance"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        replicas.push((datastore, replica.clone()));
        for path in [
            format!("instances/{id}"),
            format!("instances/{id}/users"),
            format!("instances/{id}/root"),
            "instances".to_string(),
        ] {
            answers.push(client.get(&path).body);
        }
    }
    for (datastore, replica) in &replicas {
        let port = port(&wait_status(server, client, replica, "ACTIVE", BUILD));
        passwords.push(replication_password(datastore, &node_dir(server, port)));
        answers.push(client.get(&format!("instances/{replica}")).body);
    }
    let command_lines = command_lines.finish();

    // Where another user could look.
    let state = server.state_dir();
    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    for name in [
        "drover.sqlite3",
        "drover.sqlite3-wal",
        "drover.sqlite3-shm",
        "drover.log",
    ] {
        let path = state.join(name);
        places.push((
            path.display().to_string(),
            std::fs::read(&path).unwrap_or_default(),
        ));
    }
    let mut open_files = Vec::new();
    readable_by_others(&state.join("nodes"), &mut open_files);
    for path in open_files {
        places.push((
            path.display().to_string(),
            std::fs::read(&path).unwrap_or_default(),
        ));
    }
    for line in &command_lines {
        places.push(("a command line".into(), line.clone()));
    }
    for answer in &answers {
        places.push(("an API answer".into(), answer.to_string().into_bytes()));
    }
    assert!(
        command_lines.len() > 20,
        "the command-line sampler saw only {} command lines",
        command_lines.len()
    );
    let mut hits = Vec::new();
    for password in &passwords {
        for (place, bytes) in &places {
            if bytes
                .windows(password.len())
                .any(|window| window == password.as_bytes())
            {
                hits.push(format!("{password:?} in {place}"));
            }
        }
    }
    assert!(hits.is_empty(), "secrets found:\n{}", hits.join("\n"));
}
