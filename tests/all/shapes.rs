//! Trove's shapes and codes, as Trove's clients read them: the instance, flavor, datastore
//! version and configuration views field by field, the codes Trove answers where Drover once
//! answered others, pagination on the lists, and the configured region and default datastore.

use std::time::Duration;

use serde_json::{Value, json};

use crate::api::Setup;
use crate::common::api::Client;
use crate::common::nodes::{names, usage, wait_gone, wait_status};
use crate::nodes::require_binary;

const BUILD: Duration = Duration::from_secs(90);

fn instance(extra: Value) -> Value {
    let mut instance = json!({"name": "x", "flavorRef": 2, "volume": {"size": 1},
        "datastore": {"type": "redis", "version": "7.0"}});
    for (key, value) in extra.as_object().unwrap() {
        instance[key] = value.clone();
    }
    json!({ "instance": instance })
}

/// Follows a `next` link (which starts with the public URL) with the same client.
fn follow(client: &Client, page: &Value) -> Value {
    let next = page["links"][0]["href"]
        .as_str()
        .unwrap_or_else(|| panic!("no next link in {page}"));
    assert_eq!(page["links"][0]["rel"], "next");
    let (_, rest) = next.split_once("/v1.0/p1/").unwrap();
    client.get(rest).expect(200)
}

#[test]
fn codes_are_troves_and_every_list_pages() {
    require_binary("redis-server", "redis-server");
    let setup = Setup::start(None, &[]);
    let client = &setup.member;
    // A volume over the installation's maximum is 413, as Trove's VolumeQuotaExceeded.
    let message = client
        .post("instances", instance(json!({"volume": {"size": 100000}})))
        .error("overLimit", 413);
    assert!(message.contains("cannot exceed maximum"), "{message}");
    // What the network cannot be made to do is refused, not ignored.
    let message = client
        .post(
            "instances",
            instance(json!({"access": {"is_public": true}})),
        )
        .error("badRequest", 400);
    assert!(message.contains("access.is_public"), "{message}");
    let message = client
        .post(
            "instances",
            instance(json!({"access": {"allowed_cidrs": ["10.0.0.0/8"]}})),
        )
        .error("badRequest", 400);
    assert!(message.contains("access.allowed_cidrs"), "{message}");
    let message = client
        .post("instances", instance(json!({"region": "Elsewhere"})))
        .error("badRequest", 400);
    assert!(message.contains("RegionOne"), "{message}");
    assert_eq!(usage(client, "instances"), (0, 0));

    // A create naming no datastore gets the configured default (Redis, at its default
    // version); a delete while it builds is 422, as Trove answers.
    let mut body = instance(json!({"name": "by-default", "access": {"is_public": false}}));
    body["instance"]
        .as_object_mut()
        .unwrap()
        .remove("datastore");
    let created = client.post("instances", body).expect(200)["instance"].clone();
    assert_eq!(created["datastore"]["type"], "redis", "{created}");
    assert_eq!(created["datastore"]["version"], "7.0", "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let message = client
        .delete(&format!("instances/{id}"))
        .error("unprocessableEntity", 422);
    assert!(message.contains("not ready"), "{message}");
    wait_status(&setup.server, client, &id, "ACTIVE", BUILD);
    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(&setup.server, client, &id, BUILD);

    // Flavors have Trove's disk and ephemeral; versions their image tags and strategies.
    let flavor = client.get("flavors/2").expect(200)["flavor"].clone();
    assert_eq!(flavor["disk"], 0, "{flavor}");
    assert_eq!(flavor["ephemeral"], 0, "{flavor}");
    let version = client.get("datastores/redis/versions/7.0").expect(200)["version"].clone();
    assert_eq!(version["image_tags"], json!([]), "{version}");
    assert!(version["registry_ext"].is_string(), "{version}");
    assert!(version["repl_strategy"].is_string(), "{version}");

    // Every list takes `limit` and `marker` and says where the rest is.
    let all = names(&client.get("flavors").expect(200), "flavors");
    assert!(all.len() >= 3, "{all:?}");
    let first = client.get("flavors?limit=2").expect(200);
    assert_eq!(names(&first, "flavors"), all[..2]);
    let second = follow(client, &first);
    assert_eq!(names(&second, "flavors")[0], all[2]);
    for name in ["g1", "g2", "g3"] {
        client
            .post(
                "configurations",
                json!({"configuration": {"name": name, "values": {"maxmemory-samples": 7},
                    "datastore": {"type": "redis", "version": "7.0"}}}),
            )
            .expect(200);
    }
    let first = client.get("configurations?limit=2").expect(200);
    assert_eq!(names(&first, "configurations").len(), 2);
    let second = follow(client, &first);
    assert_eq!(names(&second, "configurations").len(), 1);
    assert!(second.get("links").is_none(), "{second}");
    let mut seen = names(&first, "configurations");
    seen.extend(names(&second, "configurations"));
    seen.sort();
    assert_eq!(seen, ["g1", "g2", "g3"]);
    let versions = client.get("datastores/redis/versions?limit=1").expect(200);
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);

    // An admin's quota update of an unknown resource is 404; `/limits` has max_ram.
    let message = setup
        .admin
        .put("mgmt/quotas/p1", json!({"quotas": {"ram": 4096}}))
        .error("itemNotFound", 404);
    assert!(message.contains("ram"), "{message}");
    let limits = client.get("limits").expect(200)["limits"][0].clone();
    assert_eq!(limits["max_ram"], -1, "{limits}");
}

#[test]
fn a_live_instance_shows_every_field_troves_clients_read() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let group = client
        .post(
            "configurations",
            json!({"configuration": {"name": "tuned", "values": {"maxmemory-samples": 7, "appendonly": true},
                "datastore": {"type": "redis", "version": "7.0"}}}),
        )
        .expect(200)["configuration"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let created = client
        .post(
            "instances",
            instance(json!({"name": "shaped", "configuration": group,
                "users": [{"name": "a.b", "password": "a-secret"}, {"name": "c", "password": "c-secret"},
                    {"name": "d", "password": "d-secret"}]})),
        )
        .expect(200)["instance"]
        .clone();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["operating_status"], "", "{created}");
    wait_status(server, client, &id, "ACTIVE", BUILD);

    // operating_status comes from the health pass: HEALTHY once it has seen the server answer.
    let started = std::time::Instant::now();
    let shown = loop {
        let shown = client.get(&format!("instances/{id}")).expect(200)["instance"].clone();
        if shown["operating_status"] == "HEALTHY" {
            break shown;
        }
        assert!(started.elapsed() < BUILD, "never HEALTHY: {shown}");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(shown["region"], "RegionOne");
    assert_eq!(
        shown["access"],
        json!({"is_public": false, "allowed_cidrs": []})
    );
    assert!(
        shown["service_status_updated"]
            .as_str()
            .is_some_and(|t| t.len() == 19),
        "{shown}"
    );
    assert_eq!(shown["datastore"]["version_number"], "7.0");
    assert_eq!(shown["configuration"]["id"], group.as_str());
    assert_eq!(shown["configuration"]["name"], "tuned");
    assert_eq!(shown["addresses"][0]["network"], "loopback");
    assert!(shown["volume"]["used_percent"].is_number(), "{shown}");

    // The detail list has the same view.
    let detail = client.get("instances/detail").expect(200)["instances"][0].clone();
    assert_eq!(detail["id"], id.as_str());
    assert_eq!(detail["operating_status"], "HEALTHY");
    assert_eq!(detail["configuration"]["name"], "tuned");

    // The configuration the server runs with, typed as the catalog types each parameter.
    let running = client
        .get(&format!("instances/{id}/configuration"))
        .expect(200)["instance"]["configuration"]
        .clone();
    assert_eq!(running["maxmemory-samples"], 7, "{running}");
    assert_eq!(running["appendonly"], true, "{running}");
    assert!(running["port"].is_number(), "{running}");
    assert_eq!(running["appendfsync"], "everysec", "{running}");

    // Users page too, and a name with a dot quoted as troveclient quotes it (`%2e`), or
    // quoted once more by a proxy, is found.
    let first = client
        .get(&format!("instances/{id}/users?limit=2"))
        .expect(200);
    assert_eq!(names(&first, "users"), ["a.b", "c"]);
    assert_eq!(names(&follow(client, &first), "users"), ["d"]);
    for quoted in ["a%2eb", "a%252eb"] {
        let user = client
            .get(&format!("instances/{id}/users/{quoted}"))
            .expect(200);
        assert_eq!(user["user"]["name"], "a.b", "{quoted}: {user}");
    }

    // A change to the group while the instance still applies the previous one is taken, not
    // refused: it waits for that task and then reaches the server.
    for samples in [8, 9] {
        let reply = client.patch(
            &format!("configurations/{group}"),
            json!({"configuration": {"values": {"maxmemory-samples": samples}}}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let started = std::time::Instant::now();
    loop {
        let running = client
            .get(&format!("instances/{id}/configuration"))
            .expect(200);
        let shown = client.get(&format!("instances/{id}")).expect(200)["instance"].clone();
        if running["instance"]["configuration"]["maxmemory-samples"] == 9
            && shown["status"] == "ACTIVE"
        {
            break;
        }
        assert!(
            started.elapsed() < BUILD,
            "the second change never arrived: {running} {shown}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // The admin instance API: every project's instances with what an operator needs.
    let admin = &setup.admin;
    client.get("mgmt/instances").error("forbidden", 403);
    let listed = admin.get("mgmt/instances").expect(200)["instances"].clone();
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(mine["deleted"], false, "{mine}");
    assert_eq!(
        mine["task_description"], "No tasks for the instance.",
        "{mine}"
    );
    assert_eq!(mine["service_status"], "HEALTHY", "{mine}");
    assert_eq!(mine["tenant_id"], "p1", "{mine}");
    let history = admin.get(&format!("mgmt/instances/{id}/root")).expect(200);
    assert_eq!(history["root_history"]["enabled"], "Never", "{history}");
    assert_eq!(history["root_history"]["user"], "Nobody", "{history}");
    // Stop: the server ends and the instance is SHUTDOWN; reboot brings it back.
    let node_port = crate::common::nodes::port(&shown);
    let ping = || crate::common::nodes::redis_cli(node_port, "c", "c-secret", &["PING"]);
    assert_eq!(ping(), "PONG");
    admin
        .post(&format!("mgmt/instances/{id}/action"), json!({"stop": {}}))
        .expect(202);
    wait_status(server, client, &id, "SHUTDOWN", BUILD);
    assert_ne!(ping(), "PONG");
    admin
        .post(
            &format!("mgmt/instances/{id}/action"),
            json!({"reboot": {}}),
        )
        .expect(202);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(ping(), "PONG");
    admin
        .post(&format!("mgmt/instances/{id}/action"), json!({"dance": {}}))
        .error("badRequest", 400);

    client.delete(&format!("instances/{id}")).expect(202);
    wait_gone(server, client, &id, BUILD);
    // Deleted instances stay in the admin's view: with ?deleted=true, and without a filter.
    for query in ["?deleted=true", ""] {
        let listed = admin.get(&format!("mgmt/instances{query}")).expect(200)["instances"].clone();
        let gone = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{query}: {listed}"));
        assert_eq!(gone["deleted"], true, "{gone}");
        assert!(gone["deleted_at"].is_string(), "{gone}");
    }
    let live = admin.get("mgmt/instances?deleted=false").expect(200)["instances"].clone();
    assert!(
        live.as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != id.as_str()),
        "{live}"
    );
    admin
        .get(&format!("mgmt/instances/{id}"))
        .error("itemNotFound", 404);
    admin
        .get(&format!("mgmt/instances/{id}?deleted=true"))
        .expect(200);
}
