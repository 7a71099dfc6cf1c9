//! PostgreSQL instances end to end: the `drover` binary over HTTP, real postgres processes,
//! checked with psql.

use std::time::Duration;

use serde_json::json;

use crate::api::Setup;
use crate::common::nodes::{
    names, node_dir, port, server_processes, usage, wait_gone, wait_status,
};
use crate::nodes::require_binary;

const BUILD: Duration = Duration::from_secs(120);

/// Runs SQL as a user over TCP; returns (success, output).
pub fn psql(port: u16, user: &str, password: &str, database: &str, sql: &str) -> (bool, String) {
    let output = std::process::Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user={user} dbname={database} connect_timeout=5"
        ))
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGPASSWORD", password)
        .output()
        .expect("psql runs");
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string()
        + String::from_utf8_lossy(&output.stderr).trim();
    (output.status.success(), text)
}

fn require_postgresql() {
    require_binary("postgres", "postgresql-15");
    require_binary("psql", "postgresql-client-15");
}

#[test]
fn a_postgresql_instance_lives_its_whole_life() {
    require_postgresql();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let body = json!({"instance": {"name": "pg1", "flavorRef": 2, "volume": {"size": 1}, "datastore": {"type": "postgresql", "version": "15"},
        "databases": [{"name": "appdb"}], "users": [{"name": "app", "password": "app-secret", "databases": [{"name": "appdb"}]}]}});
    let id = client.post("instances", body).expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let instance = wait_status(server, client, &id, "ACTIVE", BUILD);
    let port = port(&instance);

    // The user created with the instance writes and reads its database.
    let (ok, out) = psql(
        port,
        "app",
        "app-secret",
        "appdb",
        "CREATE TABLE t (x int); INSERT INTO t VALUES (42); SELECT x FROM t;",
    );
    assert!(ok && out.ends_with("42"), "{out}");
    // Databases: create, list, delete.
    client
        .post(
            &format!("instances/{id}/databases"),
            json!({"databases": [{"name": "reports", "character_set": "UTF8"}]}),
        )
        .expect(202);
    assert_eq!(
        names(
            &client.get(&format!("instances/{id}/databases")).expect(200),
            "databases"
        ),
        ["appdb", "reports"]
    );
    // Users: create with access, list, grant, revoke, delete.
    client
        .post(
            &format!("instances/{id}/users"),
            json!({"users": [{"name": "analyst", "password": "a-secret"}]}),
        )
        .expect(202);
    // A user that exists is a conflict, as on the other datastores, and keeps its password;
    // nothing of a request naming one is created.
    let refused = client
        .post(
            &format!("instances/{id}/users"),
            json!({"users": [{"name": "fresh", "password": "f-secret"},
                {"name": "analyst", "password": "other-secret"}]}),
        )
        .error("conflict", 409);
    assert!(refused.contains("analyst"), "{refused}");
    assert!(psql(port, "analyst", "a-secret", "postgres", "SELECT 1;").0);
    assert!(!psql(port, "analyst", "other-secret", "postgres", "SELECT 1;").0);
    assert_eq!(
        names(
            &client.get(&format!("instances/{id}/users")).expect(200),
            "users"
        ),
        ["analyst", "app"]
    );
    // Renaming onto a user that exists is a 400, as Trove answers it, and changes nothing.
    let refused = client
        .put(
            &format!("instances/{id}/users/analyst"),
            json!({"user": {"name": "app"}}),
        )
        .error("badRequest", 400);
    assert!(refused.contains("app"), "{refused}");
    assert!(psql(port, "analyst", "a-secret", "postgres", "SELECT 1;").0);
    // Pagination, as Trove's clients ask for it: a page, and a `next` link to the rest.
    let first = client
        .get(&format!("instances/{id}/users?limit=1"))
        .expect(200);
    assert_eq!(names(&first, "users"), ["analyst"]);
    let next = first["links"][0]["href"].as_str().unwrap().to_string();
    assert!(next.contains("marker=analyst"), "{next}");
    let rest = next.split_once(&format!("/instances/{id}/")).unwrap().1;
    let second = client.get(&format!("instances/{id}/{rest}")).expect(200);
    assert_eq!(names(&second, "users"), ["app"]);
    assert!(second.get("links").is_none(), "{second}");
    let (ok, _) = psql(port, "analyst", "a-secret", "reports", "SELECT 1;");
    assert!(!ok, "a user without access connected to reports");
    client
        .put(
            &format!("instances/{id}/users/analyst/databases"),
            json!({"databases": [{"name": "reports"}]}),
        )
        .expect(202);
    assert_eq!(
        names(
            &client
                .get(&format!("instances/{id}/users/analyst/databases"))
                .expect(200),
            "databases"
        ),
        ["reports"]
    );
    let (ok, out) = psql(
        port,
        "analyst",
        "a-secret",
        "reports",
        "CREATE TABLE r (y text); INSERT INTO r VALUES ('ok'); SELECT y FROM r;",
    );
    assert!(ok && out.ends_with("ok"), "{out}");
    client
        .delete(&format!("instances/{id}/users/analyst/databases/reports"))
        .expect(202);
    let (ok, _) = psql(port, "analyst", "a-secret", "reports", "SELECT 1;");
    assert!(!ok, "access was revoked but the user still connects");
    client
        .delete(&format!("instances/{id}/users/analyst"))
        .expect(202);
    client
        .get(&format!("instances/{id}/users/analyst"))
        .error("itemNotFound", 404);
    client
        .delete(&format!("instances/{id}/databases/reports"))
        .expect(202);
    assert_eq!(
        names(
            &client.get(&format!("instances/{id}/databases")).expect(200),
            "databases"
        ),
        ["appdb"]
    );
    // Bad names are 400s naming the field.
    let message = client
        .post(
            &format!("instances/{id}/databases"),
            json!({"databases": [{"name": "template1"}]}),
        )
        .error("badRequest", 400);
    assert!(message.contains("databases[0].name"), "{message}");

    // Root: postgres gets a password and logs in over TCP.
    let root = client
        .post(&format!("instances/{id}/root"), json!({}))
        .expect(200)["user"]
        .clone();
    assert_eq!(root["name"], "postgres");
    let root_password = root["password"].as_str().unwrap().to_string();
    let shared_buffers = || {
        psql(
            port,
            "postgres",
            &root_password,
            "postgres",
            "SHOW shared_buffers;",
        )
        .1
    };
    assert_eq!(shared_buffers(), "128MB");
    assert_eq!(
        client.get(&format!("instances/{id}/root")).expect(200)["rootEnabled"],
        true
    );

    // Restart keeps the data.
    client
        .post(&format!("instances/{id}/action"), json!({"restart": {}}))
        .expect(202);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert!(
        psql(port, "app", "app-secret", "appdb", "SELECT x FROM t;")
            .1
            .ends_with("42")
    );

    // A bigger flavor: shared_buffers follows in the running server.
    client
        .post(
            &format!("instances/{id}/action"),
            json!({"resize": {"flavorRef": 3}}),
        )
        .expect(202);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(shared_buffers(), "256MB");

    // Root disabled: the password no longer works.
    client.delete(&format!("instances/{id}/root")).expect(204);
    assert!(!psql(port, "postgres", &root_password, "postgres", "SELECT 1;").0);

    // Delete: processes, directory and quota go.
    let dir = node_dir(server, port);
    let pids = server_processes(&dir);
    assert_eq!(pids.len(), 1, "one postmaster: {pids:?}");
    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(server, client, &id, BUILD);
    assert!(!dir.exists());
    assert!(!std::path::Path::new(&format!("/proc/{}", pids[0])).exists());
    assert_eq!(usage(client, "instances"), (0, 0));
}

#[test]
fn a_create_left_by_a_dead_host_waits_for_that_host_while_another_shows_it_truthfully() {
    use crate::common::api::Client;
    use crate::common::hosts::{SharedStore, show, shows_host_down, stays};
    use crate::common::nodes::{node_uid, processes_of_uid};
    use crate::common::server::Server;
    require_postgresql();
    let store = SharedStore::postgres();
    let first = Server::start(store.options("host-a", None));
    let second = Server::start(store.options("host-b", None));
    let client = Client::new(&first.base, "p1", None);
    let body = json!({"instance": {"name": "left", "flavorRef": 2, "volume": {"size": 1},
        "datastore": {"type": "postgresql", "version": "15"},
        "users": [{"name": "app", "password": "app-secret"}]}});
    let id = client.post("instances", body).expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The first host is in the middle of initdb when the whole host dies: drover and every
    // process working in its nodes' directories. The kill comes as soon as a process runs as
    // the node's user.
    let nodes = first.state_dir().join("nodes");
    crate::common::nodes::wait_until(
        Duration::from_secs(60),
        || {
            std::fs::read_dir(&nodes)
                .into_iter()
                .flatten()
                .flatten()
                .any(|entry| {
                    let dir = entry.path();
                    dir.is_dir()
                        && node_uid(&dir) != 0
                        && !processes_of_uid(node_uid(&dir)).is_empty()
                })
        },
        "the create started a node process",
    );
    let (first_state, ports) = first.kill();
    // Its nodes die with it, as with the machine.
    crate::common::hosts::kill_nodes_of(first_state.path());

    // The second host, on the same store, shows the instance as it is: its host is not heard
    // from. The node is the first host's, so the second does not take the create over, even
    // once the dead host's lease has long run out: no node of it appears there.
    let other = Client::new(&second.base, "p1", None);
    crate::common::nodes::wait_until(
        Duration::from_secs(60),
        || shows_host_down(&show(&other, &id), "host-a"),
        "the second host shows the instance's host is down",
    );
    stays(
        Duration::from_secs(10),
        "the create waits for its host",
        || {
            let shown = show(&other, &id);
            if !shows_host_down(&shown, "host-a") {
                return Err(format!("the second host shows {shown}"));
            }
            let task = &other.get(&format!("instances/{id}/tasks")).expect(200)["tasks"][0];
            if task["kind"] != "create_instance" || task["state"] == "done" {
                return Err(format!("the create's task: {task}"));
            }
            let theirs = std::fs::read_dir(second.state_dir().join("nodes"))
                .unwrap()
                .count();
            if theirs != 0 {
                return Err(format!("the second host has {theirs} node directories"));
            }
            Ok(())
        },
    );

    // The first host comes back and finishes its create; both hosts show it ACTIVE.
    let first = Server::start_with_ports(first_state, store.options("host-a", None), ports);
    let client = Client::new(&first.base, "p1", None);
    let instance = wait_status(&first, &client, &id, "ACTIVE", Duration::from_secs(240));
    // The second host shows ERROR until it hears from the first again.
    crate::common::nodes::wait_until(
        Duration::from_secs(60),
        || show(&other, &id)["status"] == "ACTIVE",
        "the second host shows the finished create ACTIVE",
    );
    let shown = show(&other, &id);
    assert!(shown["fault"].is_null(), "{shown}");
    assert_eq!(shown["host"], "host-a", "{shown}");
    let port = port(&instance);
    let (ok, out) = psql(port, "app", "app-secret", "postgres", "SELECT 1;");
    assert!(ok, "{out}");
    let dir = node_dir(&first, port);
    assert!(dir.starts_with(first.state_dir()), "{}", dir.display());
    assert_eq!(server_processes(&dir).len(), 1);
    assert_eq!(usage(&client, "instances"), (1, 0));
    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(&first, &client, &id, BUILD);
}
