//! Values as the servers parse them, end to end: the spellings each server takes are accepted
//! through the API, attached to a real instance and read back with the datastore's own client;
//! the spellings each server refuses are a 422 naming the parameter; and a value only the
//! running server can judge fails its apply in the server's own words.

use std::time::Duration;

use serde_json::{Value, json};

use crate::api::Setup;
use crate::common::api::Client;
use crate::common::nodes::{create_instance, port, redis_cli, wait_status, wait_until};
use crate::configurations::{create_group, restart_when_idle};
use crate::nodes::require_binary;
use crate::replication::root;

const BUILD: Duration = Duration::from_secs(180);

/// A group of these values is refused (422), naming each with a word of its rule, and so is
/// each alone.
#[track_caller]
fn refused(client: &Client, datastore: &str, version: &str, bad: &[(&str, Value, &str)]) {
    let create = |values: Value| {
        client
            .post(
                "configurations",
                json!({"configuration": {"name": "refused", "values": values,
                    "datastore": {"type": datastore, "version": version}}}),
            )
            .error("unprocessableEntity", 422)
    };
    let all: serde_json::Map<String, Value> = bad
        .iter()
        .map(|(name, value, _)| (name.to_string(), value.clone()))
        .collect();
    let message = create(Value::Object(all));
    for (name, value, word) in bad {
        assert!(message.contains(name), "{name} is not named: {message}");
        assert!(message.contains(word), "{word:?} is not said: {message}");
        let alone = create(json!({ *name: value }));
        assert!(
            alone.contains(name) && alone.contains(word),
            "{name} alone: {alone}"
        );
    }
}

/// The values a group stored, as the API shows them.
fn stored(client: &Client, group: &str) -> Value {
    client.get(&format!("configurations/{group}")).expect(200)["configuration"]["values"].clone()
}

fn attach(client: &Client, id: &str, group: &str) {
    client
        .put(
            &format!("instances/{id}"),
            json!({"instance": {"configuration": group}}),
        )
        .expect(202);
}

#[test]
fn postgresql_takes_the_spellings_postgresql_takes() {
    require_binary("postgres", "postgresql-15");
    require_binary("psql", "postgresql-client-15");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);

    // Spellings PostgreSQL 15 refuses.
    refused(
        client,
        "postgresql",
        "15",
        &[
            // 8kB is the unit pages are counted in, not one a value may have.
            ("shared_buffers", json!("100 8kB"), "unknown unit"),
            // Units are case-sensitive.
            ("work_mem", json!("4 mb"), "unknown unit"),
            // 1s is 1000 ms, over the maximum of 100.
            ("vacuum_cost_delay", json!("1s"), "maximum"),
            ("synchronous_commit", json!("maybe"), "allowed values"),
            ("seq_page_cost", json!("1ms"), "takes no unit"),
        ],
    );

    // Spellings it takes, stored as it shows them.
    let group = create_group(
        client,
        "spellings",
        "postgresql",
        "15",
        json!({
            "work_mem": "1.5MB",
            "statement_timeout": "1.5s",
            "autovacuum_vacuum_cost_delay": "20ms",
            "vacuum_cost_delay": "500us",
            "synchronous_commit": false,
            "wal_compression": 1,
            "min_wal_size": "2GB",
            "TimeZone": "EST5EDT,M3.2.0,M11.1.0",
            "shared_buffers": "0.25GB",
        }),
    );
    let values = stored(client, &group);
    for (name, value) in [
        ("work_mem", json!("1536kB")),
        ("statement_timeout", json!("1500ms")),
        ("synchronous_commit", json!("off")),
        ("wal_compression", json!("on")),
        ("shared_buffers", json!("256MB")),
    ] {
        assert_eq!(values[name], value, "{name}: {values}");
    }

    let id = create_instance(client, "values-pg", "postgresql", "15", json!({}));
    let instance = wait_status(server, client, &id, "ACTIVE", BUILD);
    let port = port(&instance);
    let password = root(client, &id);
    let show = |name: &str| {
        let (ok, out) = crate::postgresql::psql(
            port,
            "postgres",
            &password,
            "postgres",
            &format!("SHOW \"{name}\";"),
        );
        assert!(ok, "SHOW {name}: {out}");
        out
    };
    let zone = show("TimeZone");

    // A time zone whose rule only the server's tz code can judge (minutes up to 59): the apply
    // fails in the server's words, and the instance keeps what it had.
    let bad = create_group(
        client,
        "bad-zone",
        "postgresql",
        "15",
        json!({"TimeZone": "ABC3:60"}),
    );
    attach(client, &id, &bad);
    wait_until(
        BUILD,
        || {
            let shown = client.get(&format!("instances/{id}")).expect(200);
            shown["instance"]["fault"].is_object() && shown["instance"]["status"] == "ACTIVE"
        },
        "the refused apply ended",
    );
    let shown = client.get(&format!("instances/{id}")).expect(200)["instance"].clone();
    let fault = shown["fault"]["message"].as_str().unwrap_or_default();
    assert!(
        fault.contains("TimeZone")
            && fault.contains("invalid value for parameter \"TimeZone\": \"ABC3:60\""),
        "{fault}"
    );
    assert!(!fault.contains("setting could not be applied"), "{fault}");
    assert!(shown["configuration"].is_null(), "{shown}");
    assert_eq!(show("TimeZone"), zone);

    // The good group: the live values at once, shared_buffers at the restart.
    attach(client, &id, &group);
    wait_status(server, client, &id, "RESTART_REQUIRED", BUILD);
    for (name, server_shows) in [
        ("work_mem", "1536kB"),
        ("statement_timeout", "1500ms"),
        ("autovacuum_vacuum_cost_delay", "20ms"),
        ("vacuum_cost_delay", "500us"),
        ("synchronous_commit", "off"),
        // wal_compression = on is pglz.
        ("wal_compression", "pglz"),
        ("min_wal_size", "2GB"),
        ("TimeZone", "EST5EDT,M3.2.0,M11.1.0"),
    ] {
        assert_eq!(show(name), server_shows, "{name}");
    }
    restart_when_idle(client, &id);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(show("shared_buffers"), "256MB");
    assert_eq!(show("work_mem"), "1536kB");
    client.delete(&format!("instances/{id}")).expect(202);
}

#[test]
fn mariadb_takes_the_spellings_mariadbd_takes() {
    require_binary("mariadbd", "mariadb-server");
    require_binary("mariadb", "mariadb-client");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);

    // Spellings mariadbd refuses in my.cnf ("Unknown suffix"), or that are not for users.
    refused(
        client,
        "mariadb",
        "10.11",
        &[
            ("max_allowed_packet", json!("16 M"), "unknown unit"),
            ("sort_buffer_size", json!("1.5M"), "whole number"),
            ("join_buffer_size", json!("16B"), "unknown unit"),
            ("long_query_time", json!("1K"), "float"),
            ("innodb_page_size", json!("8K"), "data directory"),
        ],
    );

    let group = create_group(
        client,
        "spellings",
        "mariadb",
        "10.11",
        json!({
            "max_allowed_packet": "1GB",
            "net_buffer_length": "16K",
            "query_cache_limit": "2mb",
            // A count: every integer takes the suffixes.
            "max_connect_errors": "1k",
            "max_connections": 151,
            "autocommit": 0,
            "long_query_time": "1.5",
            "thread_stack": "256K",
        }),
    );
    let values = stored(client, &group);
    for (name, value) in [
        ("max_allowed_packet", json!(1u64 << 30)),
        ("net_buffer_length", json!(16384)),
        ("query_cache_limit", json!(2u64 << 20)),
        ("max_connect_errors", json!(1024)),
        ("autocommit", json!("OFF")),
        ("thread_stack", json!(262144)),
    ] {
        assert_eq!(values[name], value, "{name}: {values}");
    }

    // Flavor 1 has 256 MB: mariadbd's own 151 connections fit it, 300 do not.
    let id = create_instance(
        client,
        "values-maria",
        "mariadb",
        "10.11",
        json!({"flavorRef": 1}),
    );
    let instance = wait_status(server, client, &id, "ACTIVE", BUILD);
    let port = port(&instance);
    let password = root(client, &id);
    let global = |name: &str| {
        let (ok, out) = crate::mariadb::mariadb(
            port,
            "root",
            &password,
            "",
            &format!("SELECT @@GLOBAL.{name};"),
        );
        assert!(ok, "@@GLOBAL.{name}: {out}");
        out
    };
    let crowded = create_group(
        client,
        "crowded",
        "mariadb",
        "10.11",
        json!({"max_connections": 300}),
    );
    let message = client
        .put(
            &format!("instances/{id}"),
            json!({"instance": {"configuration": crowded}}),
        )
        .error("unprocessableEntity", 422);
    assert!(
        message.contains("max_connections") && message.contains("at most 151"),
        "{message}"
    );

    attach(client, &id, &group);
    wait_status(server, client, &id, "RESTART_REQUIRED", BUILD);
    for (name, server_shows) in [
        ("max_allowed_packet", "1073741824"),
        ("net_buffer_length", "16384"),
        ("query_cache_limit", "2097152"),
        ("max_connect_errors", "1024"),
        ("max_connections", "151"),
        ("autocommit", "0"),
        ("long_query_time", "1.500000"),
    ] {
        assert_eq!(global(name), server_shows, "{name}");
    }
    // Restarted, the server reads them from its option file (and thread_stack, restart-only).
    restart_when_idle(client, &id);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    assert_eq!(global("thread_stack"), "262144");
    assert_eq!(global("max_allowed_packet"), "1073741824");
    assert_eq!(global("max_connect_errors"), "1024");
    assert_eq!(global("autocommit"), "0");
    client.delete(&format!("instances/{id}")).expect(202);
}

#[test]
fn redis_takes_the_spellings_redis_server_takes() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);

    // Spellings redis-server refuses, with CONFIG SET and in redis.conf.
    refused(
        client,
        "redis",
        "7.0",
        &[
            ("maxmemory", json!("100 mb"), "memory value"),
            ("repl-backlog-size", json!("+100mb"), "memory value"),
            ("proto-max-bulk-len", json!("1.5gb"), "memory value"),
            ("hz", json!("+10"), "integer"),
            ("maxmemory-clients", json!("+10%"), "percentage"),
        ],
    );

    let group = create_group(
        client,
        "spellings",
        "redis",
        "7.0",
        json!({
            "maxmemory": "100MB",
            "proto-max-bulk-len": "1gb",
            "maxmemory-clients": "10%",
            "hz": 20,
        }),
    );
    let id = create_instance(client, "values-redis", "redis", "7.0", json!({}));
    let instance = wait_status(server, client, &id, "ACTIVE", BUILD);
    let port = port(&instance);
    let password = root(client, &id);
    let get = |name: &str| {
        redis_cli(port, "default", &password, &["CONFIG", "GET", name])
            .lines()
            .nth(1)
            .unwrap_or("")
            .to_string()
    };
    let expected = [
        ("maxmemory", (100u64 << 20).to_string()),
        ("proto-max-bulk-len", (1u64 << 30).to_string()),
        ("maxmemory-clients", "10%".to_string()),
        ("hz", "20".to_string()),
    ];
    attach(client, &id, &group);
    wait_until(
        BUILD,
        || expected.iter().all(|(name, value)| get(name) == *value),
        "the group is live",
    );
    // Restarted, the server reads them from redis.conf.
    restart_when_idle(client, &id);
    wait_status(server, client, &id, "ACTIVE", BUILD);
    wait_until(
        BUILD,
        || expected.iter().all(|(name, value)| get(name) == *value),
        "the restarted server has the group's values",
    );
    client.delete(&format!("instances/{id}")).expect(202);
}
