//! The host link, on which the hosts sharing a store act on each other's nodes: it answers
//! only a host that shows the token derived from the shared secrets key, runs operations only
//! on nodes placed on its host, and keeps paths inside the node as the runtime does.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::api::Setup;
use crate::common::nodes::{app_user, create_instance, wait_status};
use crate::nodes::require_binary;

/// What another host sharing `state`'s key file shows: the token derived from the key.
fn host_token(state: &std::path::Path) -> String {
    let key = std::fs::read(state.join("secret.key")).unwrap();
    let mut hash = Sha256::new();
    hash.update(b"drover host link v1\0");
    hash.update(&key);
    BASE64.encode(hash.finalize())
}

/// Posts a node operation for instance `id`; returns the status and the JSON body.
fn call(base: &str, id: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::blocking::Client::new()
        .post(format!("{base}/drover/v1/nodes/{id}"))
        .json(body);
    if let Some(token) = token {
        request = request.header("x-drover-host-token", token);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

#[test]
fn the_host_link_runs_node_operations_only_for_a_host_with_the_shared_key() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let id = create_instance(
        client,
        "linked",
        "redis",
        "7.0",
        app_user("redis", "app-secret"),
    );
    let shown = wait_status(server, client, &id, "ACTIVE", Duration::from_secs(120));
    let port = shown["addresses"][0]["port"].as_u64().unwrap().to_string();
    let ping = json!({"call": {"op": "exec",
        "argv": ["redis-cli", "-p", port, "--user", "app", "--pass", "app-secret", "--no-auth-warning", "PING"],
        "env": [], "timeout_ms": 10000}});

    // Without the token, or with a user's token or a made-up one: refused before anything
    // is read, in Trove's envelope.
    let user_token = crate::common::api::token(server.state_dir(), "p1", "member");
    for token in [None, Some("not-the-token"), Some(user_token.as_str())] {
        let (status, body) = call(&server.base, &id, token, &ping);
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["unauthorized"]["code"], 401, "{body}");
    }

    // Another host with the shared key runs a command on the node, as the node's user, and
    // gets what the datastore's own client printed.
    let token = host_token(server.state_dir());
    let (status, body) = call(&server.base, &id, Some(&token), &ping);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reply"], "output", "{body}");
    assert_eq!(body["status"], 0, "{body}");
    let stdout = BASE64.decode(body["stdout"].as_str().unwrap()).unwrap();
    assert_eq!(String::from_utf8_lossy(&stdout).trim(), "PONG", "{body}");

    // Its paths stay inside the node: the host's key file next to the nodes is out of reach.
    for path in ["../../secret.key", "/etc/shadow"] {
        let (status, body) = call(
            &server.base,
            &id,
            Some(&token),
            &json!({"call": {"op": "read_file", "path": path}}),
        );
        assert_eq!(status, 400, "{path}: {body}");
    }
    // An instance this host does not have is not found; a malformed call is a 400.
    let (status, body) = call(&server.base, "no-such-instance", Some(&token), &ping);
    assert_eq!(status, 404, "{body}");
    let (status, body) = call(
        &server.base,
        &id,
        Some(&token),
        &json!({"call": {"op": "format_disk"}}),
    );
    assert_eq!(status, 400, "{body}");

    // The instance is as it was.
    wait_status(server, client, &id, "ACTIVE", Duration::from_secs(10));
}
