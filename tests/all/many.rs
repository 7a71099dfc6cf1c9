//! Many workflows at once: a hundred Redis creates fired together from several threads all
//! reach ACTIVE and answer, and once deleted give their quota back. Nothing here is timed:
//! how long it takes is measured in docs/benchmarks.md.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::api::Client;
use crate::common::nodes::{app_user, redis_cli, tail, usage, wait_until};
use crate::common::server::{Options, PortBlock, Server};
use crate::nodes::require_binary;

const INSTANCES: usize = 100;
const THREADS: usize = 10;

/// The project's instances, by id.
fn instances(client: &Client) -> std::collections::BTreeMap<String, Value> {
    client.get("instances").expect(200)["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap().to_string(), i.clone()))
        .collect()
}

#[test]
fn a_hundred_redis_creates_at_once_all_become_active_and_give_their_quota_back() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let state = tempfile::Builder::new()
        .prefix("drover-e2e-")
        .tempdir()
        .unwrap();
    // A hundred nodes need more ports than one block holds.
    let server = Server::start_with_ports(
        state,
        Options {
            args: vec!["--auth".into(), "noauth".into()],
            ..Default::default()
        },
        Arc::new(PortBlock::claim_run(3)),
    );
    let client = Client::new(&server.base, "p1", None);
    let admin = client.clone().with_roles("admin");
    admin
        .put(
            "mgmt/quotas/p1",
            json!({"quotas": {"instances": INSTANCES, "volumes": INSTANCES}}),
        )
        .expect(200);

    // Ten threads fire ten creates each, all starting together.
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (client, barrier) = (client.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                (0..INSTANCES / THREADS)
                    .map(|n| {
                        let body = json!({"instance": {"name": format!("many-{t}-{n}"),
                            "flavorRef": 1, "volume": {"size": 1},
                            "datastore": {"type": "redis", "version": "7.0"},
                            "users": app_user("redis", "app-secret")["users"]}});
                        let reply = client.post("instances", body);
                        assert_eq!(reply.status, 200, "create {t}-{n}: {}", reply.body);
                        reply.body["instance"]["id"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let ids: BTreeSet<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(ids.len(), INSTANCES, "distinct instances");

    // All ACTIVE (none in ERROR on the way), each answering with its own server.
    let mut shown = Default::default();
    wait_until(
        Duration::from_secs(1200),
        || {
            shown = instances(&client);
            for (id, instance) in &shown {
                assert!(
                    instance["status"] != "ERROR",
                    "instance {id} went to ERROR: {instance}\n--- server log ---\n{}",
                    tail(&server.log_text(), 200)
                );
            }
            ids.iter()
                .all(|id| shown.get(id).is_some_and(|i| i["status"] == "ACTIVE"))
        },
        "all hundred instances are ACTIVE",
    );
    let ports: BTreeSet<u16> = ids
        .iter()
        .map(|id| crate::common::nodes::port(&shown[id]))
        .collect();
    assert_eq!(
        ports.len(),
        INSTANCES,
        "each instance has a port of its own"
    );
    for port in &ports {
        assert_eq!(
            redis_cli(*port, "app", "app-secret", &["PING"]),
            "PONG",
            "the instance on port {port} does not answer"
        );
    }
    assert_eq!(usage(&admin, "instances"), (INSTANCES as i64, 0));

    // All deleted: the quota is back to nothing, no node is left.
    for id in &ids {
        let reply = client.delete(&format!("instances/{id}"));
        assert_eq!(
            reply.status,
            202,
            "delete {id}: {}\n--- server log ---\n{}",
            reply.body,
            tail(&server.log_text(), 100)
        );
    }
    wait_until(
        Duration::from_secs(1200),
        || instances(&client).is_empty(),
        "every instance is deleted",
    );
    assert_eq!(usage(&admin, "instances"), (0, 0));
    assert_eq!(usage(&admin, "volumes"), (0, 0));
    let left: Vec<_> = std::fs::read_dir(server.state_dir().join("nodes"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "node directories left: {left:?}");
}
