//! Running a Redis node: its configuration file, first-time set-up and health.
//!
//! Node directory layout: `redis.conf` (rendered on every change), `users.acl` (the ACL file,
//! written at initialisation and saved by Redis after every account change), `admin.secret`
//! (the driver's own password), `data/` (RDB and AOF files), `run/redis.sock`.

use drover_driver_sdk::catalog::plain;
use drover_driver_sdk::lifecycle::{
    Command, Health, HealthStatus, PrepareRequest, Readiness, ServiceFile, ServiceSpec, StopSignal,
};
use drover_driver_sdk::prelude::*;
use drover_driver_sdk::secrets;

use crate::accounts;
use crate::admin::{self, ADMIN_USER, SECRET_FILE};

/// Share of the flavor's memory Redis may use for data; the rest is for the process itself,
/// client buffers and copy-on-write during background saves.
const MAXMEMORY_SHARE: f64 = 0.75;

/// Parameters whose value is several words Redis reads as separate arguments.
const MULTI_WORD: &[&str] = &[
    "save",
    "client-output-buffer-limit",
    "latency-tracking-info-percentiles",
];

/// The defaults Drover runs Redis with, before the configuration group's values.
pub(crate) fn defaults(context: &NodeContext) -> Vec<(String, String)> {
    let dir = admin::directory(context);
    let maxmemory = (f64::from(context.flavor.ram_mb) * MAXMEMORY_SHARE * 1024.0 * 1024.0) as u64;
    vec![
        ("port".into(), context.address.port.to_string()),
        ("bind".into(), "127.0.0.1".into()),
        ("protected-mode".into(), "yes".into()),
        ("unixsocket".into(), admin::socket(dir)),
        ("unixsocketperm".into(), "700".into()),
        ("dir".into(), format!("{dir}/data")),
        ("daemonize".into(), "no".into()),
        ("supervised".into(), "no".into()),
        ("logfile".into(), "\"\"".into()),
        ("aclfile".into(), format!("{dir}/users.acl")),
        ("maxmemory".into(), maxmemory.to_string()),
        ("appendonly".into(), "yes".into()),
        ("appendfsync".into(), "everysec".into()),
    ]
}

/// A value as redis.conf's parser (`sdssplitargs`, the one redis-cli uses) reads it back as
/// one argument: plain words as they are, anything else in double quotes with every byte that
/// is not a letter or digit as `\xHH` (an unbalanced `'` or `"` in a bare word would make the
/// server refuse the whole file). Multi-word values are several arguments, each quoted so.
fn render_value(name: &str, value: &str) -> String {
    if MULTI_WORD.contains(&name) && !value.trim().is_empty() {
        return value
            .split_whitespace()
            .map(render_word)
            .collect::<Vec<_>>()
            .join(" ");
    }
    render_word(value)
}

fn render_word(word: &str) -> String {
    let bare = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/,%*@+".contains(c));
    if bare {
        word.to_string()
    } else {
        crate::admin::quote(word)
    }
}

/// The configuration file: Drover's defaults, then the group's values (Redis uses the last
/// value of a repeated directive, so the group's win).
pub fn render_conf(context: &NodeContext) -> String {
    let mut text =
        String::from("# Rendered by Drover's Redis driver; rewritten on every change.\n");
    for (name, value) in defaults(context) {
        text.push_str(&format!("{name} {value}\n"));
    }
    // A replica starts following its source (it is kept out of `defaults`, so the
    // credentials never show in the effective configuration).
    if let Some((host, port, user, password)) = crate::replication::source_of(context) {
        text.push_str(&format!(
            "replicaof {host} {port}\nmasteruser {}\nmasterauth {}\nreplica-read-only yes\n",
            render_value("masteruser", &user),
            render_value("masterauth", &password)
        ));
    }
    if !context.settings.is_empty() {
        text.push_str("# Configuration group\n");
        for setting in &context.settings {
            text.push_str(&format!(
                "{} {}\n",
                setting.name,
                render_value(&setting.name, &plain(&setting.value))
            ));
        }
    }
    text
}

/// `lifecycle.render-service`.
pub fn render_service(context: &NodeContext) -> DriverResult<ServiceSpec> {
    let dir = admin::directory(context);
    Ok(ServiceSpec {
        directories: vec!["data".into(), "run".into()],
        files: vec![ServiceFile {
            path: "redis.conf".into(),
            contents: render_conf(context),
            mode: 0o600,
        }],
        run: Command {
            argv: vec!["redis-server".into(), format!("{dir}/redis.conf")],
            env: vec![],
        },
        readiness: Readiness::Exec(Command {
            argv: vec![
                "redis-cli".into(),
                "-s".into(),
                admin::socket(dir),
                "--raw".into(),
                "PING".into(),
            ],
            env: vec![],
        }),
        stop_signal: StopSignal::Term,
        stop_timeout_ms: 30_000,
        start_timeout_ms: 60_000,
        // redis-server and redis-cli need nothing beyond the operator's system paths.
        system_paths: vec![],
    })
}

/// `lifecycle.initialize`: the ACL file with the admin user and the default user off. A node
/// that already has one is left alone.
pub fn initialize(node: &Node) -> DriverResult<()> {
    if admin::initialised(node)? {
        return Ok(());
    }
    let password = secrets::password(32)?;
    node.write_text(SECRET_FILE, &format!("{password}\n"), 0o600)?;
    // The default user is off until root is enabled: nobody connects without a password.
    let acl =
        format!("user default off resetpass -@all\nuser {ADMIN_USER} on >{password} ~* &* +@all\n");
    node.write_text("users.acl", &acl, 0o600)
}

/// `lifecycle.prepare`: the requested users. Redis has no named databases.
pub fn prepare(node: &Node, request: PrepareRequest) -> DriverResult<()> {
    if !request.databases.is_empty() {
        return Err(accounts::no_databases());
    }
    accounts::create_users(node, request.users)
}

/// `lifecycle.check-health`.
pub fn check_health(node: &Node) -> DriverResult<Health> {
    match admin::command(node, &["PING"]) {
        Ok(reply) if reply.first() == "PONG" => Ok(Health {
            status: HealthStatus::Healthy,
            message: "PONG".into(),
        }),
        Ok(reply) => Ok(Health {
            status: HealthStatus::Unhealthy,
            message: format!("PING answered {:?}", reply.first()),
        }),
        Err(DriverError::NotReady(message)) => Ok(Health {
            status: HealthStatus::Starting,
            message,
        }),
        Err(error) => Ok(Health {
            status: HealthStatus::Unhealthy,
            message: error.to_string(),
        }),
    }
}

/// `lifecycle.effective-configuration`: the values the node runs with (the group's win).
pub fn effective_configuration(context: &NodeContext) -> Vec<(String, String)> {
    let mut values = defaults(context);
    for setting in &context.settings {
        let value = plain(&setting.value);
        match values.iter_mut().find(|(name, _)| *name == setting.name) {
            Some(entry) => entry.1 = value,
            None => values.push((setting.name.clone(), value)),
        }
    }
    for (_, value) in values.iter_mut() {
        if value == "\"\"" {
            value.clear();
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_driver_sdk::{Endpoint, Flavor, NodeRole};

    fn context(settings: Vec<Setting>) -> NodeContext {
        NodeContext {
            datastore_version: "7.0".into(),
            node_id: "i-1".into(),
            serial: 7,
            directory: "/state/nodes/n7".into(),
            address: Endpoint {
                host: "127.0.0.1".into(),
                port: 21001,
            },
            flavor: Flavor {
                id: "2".into(),
                name: "small".into(),
                ram_mb: 512,
                vcpus: 1,
            },
            volume_gb: 1,
            settings,
            role: NodeRole::Standalone,
        }
    }

    #[test]
    fn the_configuration_sizes_memory_from_the_flavor_and_lets_the_group_win() {
        let conf = render_conf(&context(vec![
            Setting {
                name: "maxmemory-policy".into(),
                value: Value::Text("allkeys-lru".into()),
            },
            Setting {
                name: "save".into(),
                value: Value::Text("3600 1 300 100".into()),
            },
            Setting {
                name: "notify-keyspace-events".into(),
                value: Value::Text("".into()),
            },
        ]));
        // 75 % of 512 MiB.
        assert!(
            conf.contains(&format!("maxmemory {}\n", 512 * 1024 * 1024 * 3 / 4)),
            "{conf}"
        );
        // Listening on loopback on the allocated port, with the socket in the node directory.
        assert!(conf.contains("port 21001\nbind 127.0.0.1\n"));
        assert!(conf.contains("unixsocket /state/nodes/n7/run/redis.sock\n"));
        // The group's values come after the defaults; multi-word and empty values are rendered
        // the way redis.conf reads them.
        assert!(
            conf.ends_with(
                "maxmemory-policy allkeys-lru\nsave 3600 1 300 100\nnotify-keyspace-events \"\"\n"
            ),
            "{conf}"
        );
    }

    #[test]
    fn values_are_rendered_the_way_redis_reads_them_back() {
        assert_eq!(render_value("ignore-warnings", "'x"), "\"\\x27x\"");
        assert_eq!(
            render_value("ignore-warnings", "ARM64-COW-BUG"),
            "ARM64-COW-BUG"
        );
        assert_eq!(render_value("notify-keyspace-events", ""), "\"\"");
        assert_eq!(render_value("notify-keyspace-events", "Ex$"), "\"Ex\\x24\"");
        assert_eq!(render_value("save", "3600 1  300 100"), "3600 1 300 100");
        assert_eq!(render_value("masterauth", "p w\"d"), "\"p\\x20w\\x22d\"");
    }

    #[test]
    fn effective_configuration_shows_the_group_values_over_the_defaults() {
        let values = effective_configuration(&context(vec![Setting {
            name: "maxmemory".into(),
            value: Value::Integer(1000),
        }]));
        let maxmemory: Vec<&(String, String)> = values
            .iter()
            .filter(|(name, _)| name == "maxmemory")
            .collect();
        assert_eq!(maxmemory, [&("maxmemory".to_string(), "1000".to_string())]);
        assert!(values.contains(&("logfile".to_string(), String::new())));
    }
}
