//! Configuration groups end to end, for each datastore: the `drover` binary over HTTP, real
//! servers, values read back with the datastore's own client.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::api::Setup;
use crate::common::api::Client;
use crate::common::nodes::{create_instance, port, redis_cli, wait_status, wait_until};
use crate::nodes::require_binary;

/// Creates a configuration group; its id.
pub fn create_group(
    client: &Client,
    name: &str,
    datastore: &str,
    version: &str,
    values: Value,
) -> String {
    client
        .post(
            "configurations",
            json!({"configuration": {"name": name, "values": values,
                "datastore": {"type": datastore, "version": version}}}),
        )
        .expect(200)["configuration"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

const BUILD: Duration = Duration::from_secs(180);

/// One datastore's case: a value that changes live and one that needs a restart, each with the
/// value the server shows for it and its default as the server shows it.
struct Case {
    datastore: &'static str,
    version: &'static str,
    dynamic: (&'static str, Value, &'static str, &'static str),
    restart_only: (&'static str, Value, &'static str, &'static str),
    /// A second value for the dynamic parameter, for the edit.
    edited: (Value, &'static str),
    /// Bad values, each with a word its message must contain.
    bad: Vec<(&'static str, Value, &'static str)>,
    /// Valid values sent beside the bad ones (the other half of a cross-field rule).
    beside: Vec<(&'static str, Value)>,
    /// A value that passes validation but that the running server refuses, and a live value
    /// (name, value, default as shown) applied before it, which must be undone.
    refused: Option<(&'static str, Value, (&'static str, Value, &'static str))>,
}

/// Reads a parameter's live value with the datastore's client, as root.
fn live(case: &Case, port: u16, password: &str, name: &str) -> String {
    match case.datastore {
        "redis" => {
            let out = redis_cli(port, "default", password, &["CONFIG", "GET", name]);
            out.lines().nth(1).unwrap_or("").to_string()
        }
        "postgresql" => {
            crate::postgresql::psql(
                port,
                "postgres",
                password,
                "postgres",
                &format!("SHOW {name};"),
            )
            .1
        }
        "mariadb" => mariadb_root(port, password, &format!("SELECT @@GLOBAL.{name};")),
        other => panic!("no client for {other}"),
    }
}

fn mariadb_root(port: u16, password: &str, sql: &str) -> String {
    crate::mariadb::mariadb(port, "root", password, "", sql).1
}

/// Every parameter name the live server itself reports.
fn server_names(case: &Case, port: u16, password: &str) -> BTreeSet<String> {
    let text = match case.datastore {
        "redis" => redis_cli(port, "default", password, &["CONFIG", "GET", "*"])
            .lines()
            .step_by(2)
            .collect::<Vec<_>>()
            .join("\n"),
        "postgresql" => {
            crate::postgresql::psql(
                port,
                "postgres",
                password,
                "postgres",
                "SELECT name FROM pg_settings;",
            )
            .1
        }
        "mariadb" => mariadb_root(
            port,
            password,
            "SELECT LOWER(VARIABLE_NAME) FROM information_schema.SYSTEM_VARIABLES;",
        ),
        other => panic!("no client for {other}"),
    };
    text.lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

fn configuration_count(client: &Client) -> usize {
    client.get("configurations").expect(200)["configurations"]
        .as_array()
        .unwrap()
        .len()
}

fn lifecycle(case: Case) {
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let body = json!({"instance": {"name": format!("{}-cfg", case.datastore), "flavorRef": 2, "volume": {"size": 1},
        "datastore": {"type": case.datastore, "version": case.version}}});
    let id = client.post("instances", body).expect(200)["instance"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let instance = wait_status(server, client, &id, "ACTIVE", BUILD);
    let port = port(&instance);
    let root = client
        .post(&format!("instances/{id}/root"), json!({}))
        .expect(200);
    let password = root["user"]["password"].as_str().unwrap().to_string();
    let live = |name: &str| live(&case, port, &password, name);

    // The catalog, through the API, is the server's own list less what the driver excludes.
    let parameters = client
        .get(&format!(
            "datastores/{}/versions/{}/parameters",
            case.datastore, case.version
        ))
        .expect(200);
    let listed: BTreeSet<String> = parameters["configuration-parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    // Operators see what the catalog leaves out, and why; users may not.
    let version_id = parameters["configuration-parameters"][0]["datastore_version_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("mgmt/datastores/versions/{version_id}/parameters");
    client.get(&path).error("forbidden", 403);
    let operators = setup.admin.get(&path).expect(200);
    let excluded: BTreeSet<String> = operators["excluded-parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["reason"].as_str().is_some_and(|r| !r.is_empty()), "{e}");
            e["name"].as_str().unwrap().to_string()
        })
        .collect();
    let by_version = client
        .get(&format!("datastores/versions/{version_id}/parameters"))
        .expect(200);
    assert_eq!(by_version, parameters);
    let actual = server_names(&case, port, &password);
    assert!(
        listed.is_disjoint(&excluded),
        "a parameter is both listed and excluded"
    );
    let catalog: BTreeSet<String> = listed.union(&excluded).cloned().collect();
    assert_eq!(
        actual.difference(&catalog).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "the server has parameters the catalog lacks"
    );
    assert_eq!(
        catalog.difference(&actual).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "the catalog has parameters the server lacks"
    );
    let one = client
        .get(&format!(
            "datastores/{}/versions/{}/parameters/{}",
            case.datastore, case.version, case.restart_only.0
        ))
        .expect(200);
    assert_eq!(one["restart_required"], true, "{one}");

    // Bad values: 422 naming each, and nothing stored.
    let mut values = serde_json::Map::new();
    for (name, value, _) in &case.bad {
        values.insert(name.to_string(), value.clone());
    }
    for (name, value) in &case.beside {
        values.insert(name.to_string(), value.clone());
    }
    let message = client
        .post(
            "configurations",
            json!({"configuration": {"name": "bad", "values": values,
                "datastore": {"type": case.datastore, "version": case.version}}}),
        )
        .error("unprocessableEntity", 422);
    for (name, _, word) in &case.bad {
        assert!(message.contains(name), "{name} is not named: {message}");
        assert!(message.contains(word), "{word:?} is not said: {message}");
    }
    assert_eq!(configuration_count(client), 0);

    // A group with a live value and a restart-only one.
    let (dynamic, dynamic_value, dynamic_live, dynamic_default) = &case.dynamic;
    let (restart, restart_value, restart_live, restart_default) = &case.restart_only;
    assert_eq!(live(dynamic), *dynamic_default);
    assert_eq!(live(restart), *restart_default);
    let group = client
        .post(
            "configurations",
            json!({"configuration": {"name": "tuned", "description": "for the test",
                "values": {*dynamic: dynamic_value, *restart: restart_value},
                "datastore": {"type": case.datastore, "version": case.version}}}),
        )
        .expect(200)["configuration"]
        .clone();
    let group_id = group["id"].as_str().unwrap().to_string();
    assert_eq!(group["instance_count"], 0, "{group}");

    // A value the running server refuses: nothing is half-applied, the instance keeps what it
    // had, and its fault says why.
    if let Some((name, value, (before, before_value, before_default))) = &case.refused {
        let refused = client
            .post(
                "configurations",
                json!({"configuration": {"name": "refused",
                    "values": {*before: before_value, *name: value},
                    "datastore": {"type": case.datastore, "version": case.version}}}),
            )
            .expect(200)["configuration"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        client
            .put(
                &format!("instances/{id}"),
                json!({"instance": {"configuration": refused}}),
            )
            .expect(202);
        wait_until(
            BUILD,
            || {
                let shown = client.get(&format!("instances/{id}")).expect(200);
                shown["instance"]["fault"].is_object() && shown["instance"]["status"] == "ACTIVE"
            },
            "the refused apply ended",
        );
        let shown = client.get(&format!("instances/{id}")).expect(200)["instance"].clone();
        let fault = shown["fault"]["message"].as_str().unwrap();
        assert!(fault.contains(name), "{fault}");
        // The driver's words, not the binding's debug form of its error.
        assert!(
            !fault.contains("DriverError") && !fault.starts_with("Failed("),
            "{fault}"
        );
        assert!(shown["configuration"].is_null(), "{shown}");
        assert_eq!(
            live(before),
            *before_default,
            "the change before the refusal was undone"
        );
        client
            .delete(&format!("configurations/{refused}"))
            .expect(202);
    }

    // Attach: the live value at once, RESTART_REQUIRED for the other.
    client
        .put(
            &format!("instances/{id}"),
            json!({"instance": {"configuration": group_id}}),
        )
        .expect(202);
    wait_status(server, client, &id, "RESTART_REQUIRED", BUILD);
    assert_eq!(live(dynamic), *dynamic_live);
    assert_eq!(live(restart), *restart_default);
    let shown = client.get(&format!("instances/{id}")).expect(200);
    assert_eq!(shown["instance"]["configuration"]["id"], group_id.as_str());
    let users = client
        .get(&format!("configurations/{group_id}/instances"))
        .expect(200);
    assert_eq!(users["instances"][0]["id"], id.as_str(), "{users}");

    // Restart: both values live.
    client
        .post(&format!("instances/{id}/action"), json!({"restart": {}}))
        .expect(202);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(live(dynamic), *dynamic_live);
    assert_eq!(live(restart), *restart_live);

    // An attached group cannot be deleted; an edit reaches the instance.
    client
        .delete(&format!("configurations/{group_id}"))
        .error("badRequest", 400);
    client
        .patch(
            &format!("configurations/{group_id}"),
            json!({"configuration": {"values": {*dynamic: case.edited.0}}}),
        )
        .expect(200);
    wait_until(
        BUILD,
        || live(dynamic) == case.edited.1,
        "the edit reached the server",
    );

    // Detach: the live value returns at once, the other after a restart. The edit's task may
    // still be finishing (the status stays ACTIVE meanwhile, as in Trove): a 422 says to retry.
    wait_until(
        BUILD,
        || {
            let reply = client.put(
                &format!("instances/{id}"),
                json!({"instance": {"configuration": null}}),
            );
            assert!(
                reply.status == 202 || reply.status == 422,
                "detach: {} {}",
                reply.status,
                reply.body
            );
            reply.status == 202
        },
        "the detach was accepted",
    );
    wait_status(server, client, &id, "RESTART_REQUIRED", BUILD);
    assert_eq!(live(dynamic), *dynamic_default);
    client
        .post(&format!("instances/{id}/action"), json!({"restart": {}}))
        .expect(202);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(live(restart), *restart_default);
    let shown = client.get(&format!("instances/{id}")).expect(200);
    assert!(shown["instance"]["configuration"].is_null(), "{shown}");

    client
        .delete(&format!("configurations/{group_id}"))
        .expect(202);
    assert_eq!(configuration_count(client), 0);
    client.delete(&format!("instances/{id}")).expect(202);
}

#[test]
fn redis_configuration_groups_apply_live_and_at_restart() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    lifecycle(Case {
        datastore: "redis",
        version: "7.0",
        dynamic: (
            "maxmemory-policy",
            json!("allkeys-lru"),
            "allkeys-lru",
            "noeviction",
        ),
        restart_only: ("databases", json!(8), "8", "16"),
        edited: (json!("volatile-lru"), "volatile-lru"),
        bad: vec![
            ("maxclients", json!("many"), "integer"),
            ("databases", json!(0), "minimum"),
            ("appendfsync", json!("sometimes"), "allowed values"),
            ("maxmemory", json!("10qb"), "unit"),
            ("port", json!(7000), "cannot be set"),
            ("no-such-parameter", json!(1), "not supported"),
        ],
        beside: vec![],
        refused: None,
    });
}

#[test]
fn postgresql_configuration_groups_apply_live_and_at_restart() {
    require_binary("postgres", "postgresql-15");
    require_binary("psql", "postgresql-client-15");
    lifecycle(Case {
        datastore: "postgresql",
        version: "15",
        // Drover sizes work_mem from flavor 2's 512 MiB: 8MB.
        dynamic: ("work_mem", json!("16MB"), "16MB", "8MB"),
        restart_only: ("max_connections", json!(50), "50", "100"),
        edited: (json!("32MB"), "32MB"),
        bad: vec![
            ("max_wal_senders", json!(3), "cannot be set"),
            ("work_mem", json!("8mb"), "unit"),
            ("statement_timeout", json!(-5), "minimum"),
            ("wal_compression", json!("maybe"), "allowed values"),
            ("enable_seqscan", json!(12), "boolean"),
            ("no_such_setting", json!(1), "not supported"),
            (
                "superuser_reserved_connections",
                json!(100),
                "max_connections",
            ),
        ],
        beside: vec![],
        refused: None,
    });
}

#[test]
fn mariadb_configuration_groups_apply_live_and_at_restart() {
    require_binary("mariadbd", "mariadb-server");
    require_binary("mariadb", "mariadb-client");
    lifecycle(Case {
        datastore: "mariadb",
        version: "10.11",
        dynamic: ("max_connections", json!(90), "90", "151"),
        // back_log defaults to 50 + max_connections / 5.
        restart_only: ("back_log", json!(100), "100", "80"),
        edited: (json!(120), "120"),
        bad: vec![
            ("wait_timeout", json!("long"), "integer"),
            ("max_allowed_packet", json!("1Q"), "unit"),
            ("binlog_row_image", json!("some"), "allowed values"),
            ("datadir", json!("/tmp"), "cannot be set"),
            ("no_such_variable", json!(1), "not supported"),
            (
                "innodb_ft_min_token_size",
                json!(16),
                "innodb_ft_max_token_size",
            ),
        ],
        beside: vec![("innodb_ft_max_token_size", json!(10))],
        // Free text the catalog cannot judge; the server knows its character sets.
        // Values apply in name order: auto_increment_increment first, then the refusal.
        refused: Some((
            "character_set_server",
            json!("klingon"),
            ("auto_increment_increment", json!(5), "1"),
        )),
    });
}

#[test]
fn an_instance_created_with_a_group_starts_with_its_values() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let group = create_group(
        client,
        "at-create",
        "redis",
        "7.0",
        json!({"maxmemory-policy": "allkeys-lfu", "databases": 4}),
    );
    let id = create_instance(
        client,
        "with-group",
        "redis",
        "7.0",
        json!({"flavorRef": 1, "configuration": group}),
    );
    // The server starts with the values: no restart is owed, even for restart-only ones.
    let instance = wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(
        instance["configuration"]["id"],
        group.as_str(),
        "{instance}"
    );
    let port = port(&instance);
    let password = client
        .post(&format!("instances/{id}/root"), json!({}))
        .expect(200)["user"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let case = Case {
        datastore: "redis",
        version: "7.0",
        dynamic: ("maxmemory-policy", json!(null), "", ""),
        restart_only: ("databases", json!(null), "", ""),
        edited: (json!(null), ""),
        bad: vec![],
        beside: vec![],
        refused: None,
    };
    assert_eq!(
        live(&case, port, &password, "maxmemory-policy"),
        "allkeys-lfu"
    );
    assert_eq!(live(&case, port, &password, "databases"), "4");
    // A group for another datastore version is refused at create, and nothing is left.
    let other = create_group(client, "pg", "postgresql", "15", json!({"work_mem": "8MB"}));
    let message = client
        .post(
            "instances",
            json!({"instance": {"name": "mismatch", "flavorRef": 1, "volume": {"size": 1},
                "datastore": {"type": "redis", "version": "7.0"}, "configuration": other}}),
        )
        .error("badRequest", 400);
    assert!(message.contains("another datastore version"), "{message}");
    assert_eq!(
        client.get("instances").expect(200)["instances"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The legacy client's `{"instance": {}}` detaches.
    client
        .put(&format!("instances/{id}"), json!({"instance": {}}))
        .expect(202);
    wait_status(server, client, &id, "RESTART_REQUIRED", BUILD);
    assert_eq!(
        live(&case, port, &password, "maxmemory-policy"),
        "noeviction"
    );
    client.delete(&format!("instances/{id}")).expect(202);
}

/// Asks for a restart until the instance's previous task has ended (422 meanwhile).
pub fn restart_when_idle(client: &Client, id: &str) {
    let started = std::time::Instant::now();
    loop {
        let reply = client.post(&format!("instances/{id}/action"), json!({"restart": {}}));
        if reply.status == 202 {
            return;
        }
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert!(started.elapsed() < BUILD, "still busy: {}", reply.body);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_stopped_instance_can_have_its_group_detached_and_attached_and_be_restarted() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let group = create_group(
        client,
        "policy",
        "redis",
        "7.0",
        json!({"maxmemory-policy": "allkeys-lfu"}),
    );
    let id = create_instance(
        client,
        "repairable",
        "redis",
        "7.0",
        json!({"configuration": group}),
    );
    let port = port(&wait_status(server, client, &id, "ACTIVE", BUILD));
    let password = client
        .post(&format!("instances/{id}/root"), json!({}))
        .expect(200)["user"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let policy = || {
        redis_cli(
            port,
            "default",
            &password,
            &["CONFIG", "GET", "maxmemory-policy"],
        )
    };
    assert_eq!(policy(), "maxmemory-policy\nallkeys-lfu");

    // Stopped, the group can still be detached: the files change, the status stays.
    crate::common::nodes::kill_server_behind_drovers_back(server, client, &id);
    client
        .put(
            &format!("instances/{id}"),
            json!({"instance": {"configuration": null}}),
        )
        .expect(202);
    let detached = wait_status(server, client, &id, "SHUTDOWN", BUILD);
    assert!(detached["configuration"].is_null(), "{detached}");
    assert!(detached["fault"].is_null(), "{detached}");
    // And it restarts, with the defaults.
    restart_when_idle(client, &id);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(policy(), "maxmemory-policy\nnoeviction");

    // Stopped again, a group can be attached; it is in effect once restarted.
    crate::common::nodes::kill_server_behind_drovers_back(server, client, &id);
    client
        .put(
            &format!("instances/{id}"),
            json!({"instance": {"configuration": group}}),
        )
        .expect(202);
    let attached = wait_status(server, client, &id, "SHUTDOWN", BUILD);
    assert_eq!(
        attached["configuration"]["id"],
        group.as_str(),
        "{attached}"
    );
    restart_when_idle(client, &id);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(policy(), "maxmemory-policy\nallkeys-lfu");
}
