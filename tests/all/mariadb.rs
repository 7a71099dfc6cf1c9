//! MariaDB instances end to end: the `drover` binary over HTTP, real mariadbd processes,
//! checked with the mariadb client.

use std::time::Duration;

use serde_json::json;

use crate::api::Setup;
use crate::common::nodes::{
    names, node_dir, port, server_processes, usage, wait_gone, wait_status,
};
use crate::nodes::require_binary;

const BUILD: Duration = Duration::from_secs(180);

/// Runs SQL as a user over TCP; returns (success, output).
pub fn mariadb(port: u16, user: &str, password: &str, database: &str, sql: &str) -> (bool, String) {
    let output = std::process::Command::new("mariadb")
        .args([
            "--no-defaults",
            "--protocol=TCP",
            "-h127.0.0.1",
            &format!("-P{port}"),
            &format!("-u{user}"),
            "--connect-timeout=5",
            "-N",
            "-B",
            "-e",
            sql,
        ])
        .args((!database.is_empty()).then_some(database))
        .env("MYSQL_PWD", password)
        .output()
        .expect("mariadb runs");
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string()
        + String::from_utf8_lossy(&output.stderr).trim();
    (output.status.success(), text)
}

fn require_mariadb() {
    require_binary("mariadbd", "mariadb-server");
    require_binary("mariadb", "mariadb-client");
}

#[test]
fn a_mariadb_instance_lives_its_whole_life() {
    require_mariadb();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let body = json!({"instance": {"name": "maria1", "flavorRef": 2, "volume": {"size": 1}, "datastore": {"type": "mariadb", "version": "10.11"},
        "databases": [{"name": "appdb"}], "users": [{"name": "app", "password": "app-secret", "databases": [{"name": "appdb"}]}]}});
    let id = client.post("instances", body).expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let instance = wait_status(server, client, &id, "ACTIVE", BUILD);
    let port = port(&instance);

    // The user created with the instance writes and reads its database.
    let (ok, out) = mariadb(
        port,
        "app",
        "app-secret",
        "appdb",
        "CREATE TABLE t (x int); INSERT INTO t VALUES (42); SELECT x FROM t;",
    );
    assert!(ok && out == "42", "{out}");

    // Databases: create, list, delete.
    client
        .post(
            &format!("instances/{id}/databases"),
            json!({"databases": [{"name": "reports", "character_set": "utf8mb4"}]}),
        )
        .expect(202);
    assert_eq!(
        names(
            &client.get(&format!("instances/{id}/databases")).expect(200),
            "databases"
        ),
        ["appdb", "reports"]
    );
    // Users: create, list (with their host), grant, revoke, delete.
    client
        .post(
            &format!("instances/{id}/users"),
            json!({"users": [{"name": "analyst", "password": "a-secret"}]}),
        )
        .expect(202);
    let users = client.get(&format!("instances/{id}/users")).expect(200);
    assert_eq!(names(&users, "users"), ["analyst", "app"]);
    assert_eq!(users["users"][0]["host"], "%", "{users}");
    let (ok, _) = mariadb(port, "analyst", "a-secret", "reports", "SELECT 1;");
    assert!(!ok, "a user without access used reports");
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
    let (ok, out) = mariadb(
        port,
        "analyst",
        "a-secret",
        "reports",
        "CREATE TABLE r (y text); INSERT INTO r VALUES ('ok'); SELECT y FROM r;",
    );
    assert!(ok && out == "ok", "{out}");
    client
        .delete(&format!("instances/{id}/users/analyst/databases/reports"))
        .expect(202);
    let (ok, _) = mariadb(port, "analyst", "a-secret", "reports", "SELECT 1;");
    assert!(!ok, "access was revoked but the user still uses reports");
    // A password change takes effect at once.
    client
        .put(
            &format!("instances/{id}/users/analyst"),
            json!({"user": {"password": "new-secret"}}),
        )
        .expect(202);
    assert!(mariadb(port, "analyst", "new-secret", "", "SELECT 1;").0);
    assert!(!mariadb(port, "analyst", "a-secret", "", "SELECT 1;").0);
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
    // Bad and reserved names are 400s naming the field.
    let message = client
        .post(
            &format!("instances/{id}/databases"),
            json!({"databases": [{"name": "mysql"}]}),
        )
        .error("badRequest", 400);
    assert!(message.contains("databases[0].name"), "{message}");
    let message = client
        .post(
            &format!("instances/{id}/users"),
            json!({"users": [{"name": "no spaces", "password": "x"}]}),
        )
        .error("badRequest", 400);
    assert!(message.contains("users[0].name"), "{message}");

    // Root: 'root'@'%' gets a password and logs in over TCP.
    let root = client
        .post(&format!("instances/{id}/root"), json!({}))
        .expect(200)["user"]
        .clone();
    assert_eq!(root["name"], "root");
    let root_password = root["password"].as_str().unwrap().to_string();
    let buffer_pool = || {
        mariadb(
            port,
            "root",
            &root_password,
            "",
            "SELECT @@innodb_buffer_pool_size;",
        )
        .1
    };
    // Half of flavor 2's 512 MiB.
    assert_eq!(buffer_pool(), (256u64 << 20).to_string());
    assert_eq!(
        client.get(&format!("instances/{id}/root")).expect(200)["rootEnabled"],
        true
    );

    // Restart keeps the data.
    client
        .post(&format!("instances/{id}/action"), json!({"restart": {}}))
        .expect(202);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(
        mariadb(port, "app", "app-secret", "appdb", "SELECT x FROM t;").1,
        "42"
    );

    // A bigger flavor: the buffer pool follows in the running server.
    client
        .post(
            &format!("instances/{id}/action"),
            json!({"resize": {"flavorRef": 3}}),
        )
        .expect(202);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(buffer_pool(), (512u64 << 20).to_string());

    // Root disabled: the password no longer works.
    client.delete(&format!("instances/{id}/root")).expect(204);
    assert!(!mariadb(port, "root", &root_password, "", "SELECT 1;").0);

    // Delete: process, directory and quota go.
    let dir = node_dir(server, port);
    let pids = server_processes(&dir);
    assert_eq!(pids.len(), 1, "one mariadbd: {pids:?}");
    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(server, client, &id, BUILD);
    assert!(!dir.exists());
    assert!(!std::path::Path::new(&format!("/proc/{}", pids[0])).exists());
    assert_eq!(usage(client, "instances"), (0, 0));
    assert_eq!(usage(client, "volumes"), (0, 0));
}
