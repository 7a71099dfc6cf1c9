//! Redis instances end to end: the `drover` binary over HTTP, real redis-server processes,
//! checked with redis-cli.

use std::time::Duration;

use serde_json::{Value, json};

use crate::api::Setup;
use crate::common::api::Client;
use crate::common::nodes::{
    node_dir, port, redis_cli, server_processes, usage, wait_gone, wait_status,
};
use crate::common::server::{Options, Server};
use crate::nodes::require_binary;

const BUILD: Duration = Duration::from_secs(90);

fn create(client: &Client, name: &str, extra: Value) -> Value {
    let mut instance = json!({"name": name, "flavorRef": 2, "volume": {"size": 1}, "datastore": {"type": "redis", "version": "7.0"}});
    for (key, value) in extra.as_object().unwrap() {
        instance[key] = value.clone();
    }
    client
        .post("instances", json!({"instance": instance}))
        .expect(200)["instance"]
        .clone()
}

fn require_redis() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
}

#[test]
fn a_redis_instance_lives_its_whole_life() {
    require_redis();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);

    // Redis has no named databases: asking for one is refused up front, leaving nothing.
    let refused = client.post(
        "instances",
        json!({"instance": {"name": "r0", "flavorRef": 2, "volume": {"size": 1}, "datastore": {"type": "redis"}, "databases": [{"name": "app"}]}}),
    );
    let message = refused.error("notImplemented", 501);
    assert!(message.contains("does not support databases"), "{message}");
    assert_eq!(usage(client, "instances"), (0, 0));

    // Created with a user, it starts in BUILD and becomes ACTIVE.
    let created = create(
        client,
        "r1",
        json!({"users": [{"name": "app", "password": "app-secret"}]}),
    );
    assert_eq!(created["status"], "BUILD");
    let id = created["id"].as_str().unwrap().to_string();
    let instance = wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(
        instance["datastore"],
        json!({"type": "redis", "version": "7.0", "version_number": "7.0"})
    );
    assert!(
        instance["volume"]["used"].is_number(),
        "an ACTIVE instance shows volume.used: {instance}"
    );
    let port = port(&instance);
    // The user writes and reads with Redis's own client.
    assert_eq!(
        redis_cli(port, "app", "app-secret", &["SET", "greeting", "hello"]),
        "OK"
    );
    assert_eq!(
        redis_cli(port, "app", "app-secret", &["GET", "greeting"]),
        "hello"
    );
    assert_eq!(usage(client, "instances"), (1, 0));
    assert_eq!(usage(client, "volumes"), (1, 0));

    // Users: create, list, show, delete.
    client
        .post(
            &format!("instances/{id}/users"),
            json!({"users": [{"name": "bob", "password": "bob-secret"}]}),
        )
        .expect(202);
    let users = client.get(&format!("instances/{id}/users")).expect(200);
    let names: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app", "bob"]);
    assert_eq!(
        redis_cli(port, "bob", "bob-secret", &["GET", "greeting"]),
        "hello"
    );
    assert_eq!(
        client.get(&format!("instances/{id}/users/bob")).expect(200)["user"]["name"],
        "bob"
    );
    client
        .delete(&format!("instances/{id}/users/bob"))
        .expect(202);
    client
        .get(&format!("instances/{id}/users/bob"))
        .error("itemNotFound", 404);
    // A bad user name is a 400 naming the field; access to databases does not exist in Redis.
    let message = client
        .post(
            &format!("instances/{id}/users"),
            json!({"users": [{"name": "no spaces", "password": "x"}]}),
        )
        .error("badRequest", 400);
    assert!(message.contains("users[0].name"), "{message}");
    client
        .put(
            &format!("instances/{id}/users/app/databases"),
            json!({"databases": [{"name": "x"}]}),
        )
        .error("notImplemented", 501);
    client
        .get(&format!("instances/{id}/databases"))
        .error("notImplemented", 501);

    // Root: enabled, then used with redis-cli.
    assert_eq!(
        client.get(&format!("instances/{id}/root")).expect(200)["rootEnabled"],
        false
    );
    let root = client
        .post(&format!("instances/{id}/root"), json!({}))
        .expect(200)["user"]
        .clone();
    let (root_name, root_password) = (
        root["name"].as_str().unwrap().to_string(),
        root["password"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        redis_cli(port, &root_name, &root_password, &["GET", "greeting"]),
        "hello"
    );
    assert_eq!(
        client.get(&format!("instances/{id}/root")).expect(200)["rootEnabled"],
        true
    );
    let maxmemory = || {
        redis_cli(
            port,
            &root_name,
            &root_password,
            &["CONFIG", "GET", "maxmemory"],
        )
    };
    assert_eq!(
        maxmemory(),
        format!("maxmemory\n{}", 512u64 * 1024 * 1024 * 3 / 4)
    );

    // Restart: data and users survive.
    client
        .post(&format!("instances/{id}/action"), json!({"restart": {}}))
        .expect(202);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(
        redis_cli(port, "app", "app-secret", &["GET", "greeting"]),
        "hello"
    );

    // Resize the flavor: maxmemory follows in the running server.
    client
        .post(
            &format!("instances/{id}/action"),
            json!({"resize": {"flavorRef": 3}}),
        )
        .expect(202);
    let resized = wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(resized["flavor"]["id"], "3");
    assert_eq!(
        maxmemory(),
        format!("maxmemory\n{}", 1024u64 * 1024 * 1024 * 3 / 4)
    );
    let configuration = client
        .get(&format!("instances/{id}/configuration"))
        .expect(200);
    assert_eq!(
        // A number, typed as the catalog types it.
        configuration["instance"]["configuration"]["maxmemory"],
        1024u64 * 1024 * 1024 * 3 / 4
    );

    // Resize the volume: counted against the quota; shrinking is refused.
    client
        .post(
            &format!("instances/{id}/action"),
            json!({"resize": {"volume": {"size": 3}}}),
        )
        .expect(202);
    let grown = wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(grown["volume"]["size"], 3);
    assert_eq!(usage(client, "volumes"), (3, 0));
    client
        .post(
            &format!("instances/{id}/action"),
            json!({"resize": {"volume": {"size": 2}}}),
        )
        .error("badRequest", 400);

    // Delete: the process and directory go, and the quota comes back.
    let dir = node_dir(server, port);
    let pids = server_processes(&dir);
    assert_eq!(pids.len(), 1, "one redis-server process: {pids:?}");
    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(server, client, &id, BUILD);
    assert!(!dir.exists(), "the node directory is still there");
    assert!(
        !std::path::Path::new(&format!("/proc/{}", pids[0])).exists(),
        "the server process is still running"
    );
    assert_eq!(usage(client, "instances"), (0, 0));
    assert_eq!(usage(client, "volumes"), (0, 0));
}

#[test]
fn killing_drover_in_the_middle_of_a_create_loses_nothing() {
    require_redis();
    let server = Server::start(Options {
        args: vec!["--auth".into(), "noauth".into()],
        ..Default::default()
    });
    let client = Client::new(&server.base, "p1", None);
    let created = create(
        &client,
        "survivor",
        json!({"users": [{"name": "app", "password": "app-secret"}]}),
    );
    let id = created["id"].as_str().unwrap().to_string();
    // SIGKILL while the create task runs (it has only just been accepted).
    assert_eq!(
        client.get(&format!("instances/{id}")).expect(200)["instance"]["status"],
        "BUILD"
    );
    let (state, ports) = server.kill();
    let server = Server::start_with_ports(
        state,
        Options {
            args: vec!["--auth".into(), "noauth".into()],
            ..Default::default()
        },
        ports,
    );
    let client = Client::new(&server.base, "p1", None);
    // The restarted host resumes the task: the instance becomes ACTIVE, usable, with exactly
    // one server process and the quota counted once.
    let instance = wait_status(&server, &client, &id, "ACTIVE", BUILD);
    let port = port(&instance);
    assert_eq!(redis_cli(port, "app", "app-secret", &["PING"]), "PONG");
    let processes = server_processes(&node_dir(&server, port));
    assert_eq!(
        processes.len(),
        1,
        "exactly one redis-server: {processes:?}"
    );
    assert_eq!(usage(&client, "instances"), (1, 0));
    assert_eq!(usage(&client, "volumes"), (1, 0));
    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(&server, &client, &id, BUILD);
}

#[test]
fn a_dead_server_is_reported_and_a_restart_brings_it_back() {
    require_redis();
    let server = Server::start(Options {
        args: vec!["--auth".into(), "noauth".into()],
        ..Default::default()
    });
    let client = Client::new(&server.base, "p1", None);
    let created = create(
        &client,
        "fragile",
        json!({"users": [{"name": "app", "password": "app-secret"}]}),
    );
    let id = created["id"].as_str().unwrap().to_string();
    let instance = wait_status(&server, &client, &id, "ACTIVE", BUILD);
    let port = port(&instance);
    let dir = node_dir(&server, port);
    let pid = server_processes(&dir)[0];
    // Kill the datastore server behind Drover's back.
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    // The health pass notices.
    wait_status(&server, &client, &id, "SHUTDOWN", Duration::from_secs(30));
    // A restart brings it back with its data directory and users.
    client
        .post(&format!("instances/{id}/action"), json!({"restart": {}}))
        .expect(202);
    wait_status(&server, &client, &id, "ACTIVE", BUILD);
    assert_eq!(redis_cli(port, "app", "app-secret", &["PING"]), "PONG");
    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(&server, &client, &id, BUILD);
}

#[test]
fn bad_requests_are_refused_and_leave_nothing_behind() {
    require_redis();
    let setup = Setup::start(None, &[]);
    let client = &setup.member;
    let body = |extra: Value| {
        let mut instance = json!({"name": "x", "flavorRef": 2, "volume": {"size": 1}, "datastore": {"type": "redis", "version": "7.0"}});
        for (key, value) in extra.as_object().unwrap() {
            instance[key] = value.clone();
        }
        json!({"instance": instance})
    };
    client
        .post("instances", body(json!({"flavorRef": "404"})))
        .error("itemNotFound", 404);
    client
        .post(
            "instances",
            body(json!({"datastore": {"type": "redis", "version": "1.0"}})),
        )
        .error("badRequest", 400);
    client
        .post("instances", body(json!({"datastore": {"type": "nosuch"}})))
        .error("itemNotFound", 404);
    let message = client
        .post(
            "instances",
            body(json!({"users": [{"name": "bad name", "password": "x"}]})),
        )
        .error("badRequest", 400);
    assert!(message.contains("users[0].name"), "{message}");
    let message = client
        .post("instances", body(json!({"volume": {"size": 0}})))
        .error("badRequest", 400);
    assert!(message.contains("volume.size"), "{message}");
    client
        .post("instances", body(json!({"name": ""})))
        .error("badRequest", 400);
    // Past the quota: one instance is allowed, the second is 413.
    setup
        .admin
        .put("mgmt/quotas/p1", json!({"quotas": {"instances": 1}}))
        .expect(200);
    let first = client
        .post("instances", body(json!({"name": "one"})))
        .expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let message = client
        .post("instances", body(json!({"name": "two"})))
        .error("overLimit", 413);
    assert!(message.contains("instances"), "{message}");
    // Only the first exists, counted once.
    let listed = client.get("instances").expect(200)["instances"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(listed, 1);
    let (in_use, reserved) = usage(client, "instances");
    assert_eq!(in_use + reserved, 1);
    wait_status(&setup.server, client, &first, "ACTIVE", BUILD);
    client.delete(&format!("instances/{first}")).expect(202);
    wait_gone(&setup.server, client, &first, BUILD);
    assert_eq!(usage(client, "instances"), (0, 0));
}
