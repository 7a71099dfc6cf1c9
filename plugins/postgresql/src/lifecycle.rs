//! Running a PostgreSQL node.
//!
//! Node directory layout: `postgresql.conf` and `pg_hba.conf` (rendered on every change, kept
//! outside the data directory so that base backups and rewinds never copy a node's identity),
//! `data/` (PGDATA, made by initdb), `run/` (the Unix socket).

use drover_driver_sdk::NodeRole;
use drover_driver_sdk::catalog::plain;
use drover_driver_sdk::lifecycle::{
    Command, Health, HealthStatus, PrepareRequest, Readiness, ServiceFile, ServiceSpec, StopSignal,
};
use drover_driver_sdk::prelude::*;

use crate::{accounts, sql};

/// Memory settings sized from the flavor, in MiB: shared_buffers a quarter of the memory (the
/// usual starting point), effective_cache_size three quarters, work_mem and
/// maintenance_work_mem small fractions with floors.
pub fn memory(ram_mb: u32) -> Vec<(&'static str, String)> {
    let ram = u64::from(ram_mb.max(64));
    vec![
        ("shared_buffers", format!("{}MB", (ram / 4).max(16))),
        (
            "effective_cache_size",
            format!("{}MB", (ram * 3 / 4).max(32)),
        ),
        ("work_mem", format!("{}MB", (ram / 64).max(4))),
        (
            "maintenance_work_mem",
            format!("{}MB", (ram / 16).clamp(16, 2048)),
        ),
    ]
}

/// Drover's settings, before the configuration group's values.
fn defaults(context: &NodeContext) -> Vec<(String, String)> {
    let dir = &context.directory;
    let mut values: Vec<(String, String)> = vec![
        ("listen_addresses".into(), "'127.0.0.1'".into()),
        ("port".into(), context.address.port.to_string()),
        (
            "unix_socket_directories".into(),
            conf_string(&sql::socket_dir(dir)),
        ),
        ("unix_socket_permissions".into(), "0700".into()),
        (
            "hba_file".into(),
            conf_string(&format!("{dir}/pg_hba.conf")),
        ),
        ("max_connections".into(), "100".into()),
        ("password_encryption".into(), "'scram-sha-256'".into()),
        ("logging_collector".into(), "off".into()),
        ("log_destination".into(), "'stderr'".into()),
        ("wal_level".into(), "replica".into()),
        ("max_wal_senders".into(), "10".into()),
        ("max_replication_slots".into(), "10".into()),
        ("wal_log_hints".into(), "on".into()),
        // WAL a little behind the latest checkpoint stays: a base backup that starts while
        // another one checkpoints, and pg_rewind of a former source, both read it.
        ("wal_keep_size".into(), "128MB".into()),
        ("hot_standby".into(), "on".into()),
        ("dynamic_shared_memory_type".into(), "posix".into()),
    ];
    values.extend(
        memory(context.flavor.ram_mb)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    values
}

/// A string as postgresql.conf's parser reads it back: in single quotes, with quotes doubled and
/// backslashes escaped (the parser reads `\x` as `x`, and `\b`, `\n`… as control characters).
/// Values have no line breaks: the parser refuses them in a string, and validation refuses them.
pub fn conf_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// A value as postgresql.conf wants it: words and numbers that the parser reads as one token
/// as they are (`on`, `replica`, `64MB`, `0.5`, `-1`), anything else as a quoted string (which
/// every parameter type also accepts).
pub fn render_value(value: &Value) -> String {
    let text = plain(value);
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let word = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let unsigned = text.strip_prefix('-').unwrap_or(&text);
    let split = unsigned
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unsigned.len());
    let (number, unit) = unsigned.split_at(split);
    let integer = digits(number) && unit.chars().all(|c| c.is_ascii_alphabetic());
    let real = unsigned
        .split_once('.')
        .is_some_and(|(whole, fraction)| digits(whole) && digits(fraction));
    if word || integer || real {
        text
    } else {
        conf_string(&text)
    }
}

/// postgresql.conf: Drover's defaults, then the group's values (the last occurrence wins).
pub fn render_conf(context: &NodeContext) -> String {
    let mut text =
        String::from("# Rendered by Drover's PostgreSQL driver; rewritten on every change.\n");
    for (name, value) in defaults(context) {
        text.push_str(&format!("{name} = {value}\n"));
    }
    if !context.settings.is_empty() {
        text.push_str("# Configuration group\n");
        for setting in &context.settings {
            text.push_str(&format!(
                "{} = {}\n",
                setting.name,
                render_value(&setting.value)
            ));
        }
    }
    text
}

/// pg_hba.conf: the socket trusts whoever reaches it (only the node's user can); TCP needs a
/// password.
pub fn render_hba() -> String {
    "# Rendered by Drover's PostgreSQL driver.\n\
     local   all           all                    trust\n\
     host    all           all    127.0.0.1/32    scram-sha-256\n\
     host    replication   all    127.0.0.1/32    scram-sha-256\n"
        .into()
}

/// `lifecycle.render-service`.
pub fn render_service(context: &NodeContext) -> DriverResult<ServiceSpec> {
    let dir = &context.directory;
    Ok(ServiceSpec {
        directories: vec!["data".into(), "run".into()],
        files: vec![
            ServiceFile {
                path: "postgresql.conf".into(),
                contents: render_conf(context),
                mode: 0o600,
            },
            ServiceFile {
                path: "pg_hba.conf".into(),
                contents: render_hba(),
                mode: 0o600,
            },
        ],
        run: Command {
            argv: vec![
                "postgres".into(),
                "-D".into(),
                format!("{dir}/data"),
                "-c".into(),
                format!("config_file={dir}/postgresql.conf"),
            ],
            env: vec![],
        },
        readiness: Readiness::Exec(Command {
            argv: vec![
                "pg_isready".into(),
                "-q".into(),
                "-h".into(),
                sql::socket_dir(dir),
                "-p".into(),
                context.address.port.to_string(),
            ],
            env: vec![],
        }),
        // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, nothing is lost.
        stop_signal: StopSignal::Interrupt,
        stop_timeout_ms: 60_000,
        start_timeout_ms: 120_000,
        // The server's and the tools' own files: time zones, initdb's catalogs, extensions.
        system_paths: vec!["/usr/lib/postgresql".into(), "/usr/share/postgresql".into()],
    })
}

/// Where a data directory is made before it is moved into place as `data`: `data` exists only
/// complete, so a step killed halfway (initdb, a base backup) is simply done again.
pub const NEW_DATA: &str = "data.new";

/// `lifecycle.initialize`: initdb (or a replica's seed), unless the data directory is already a
/// cluster; then the server's check of the configuration it will start with.
pub fn initialize(node: &Node, context: &NodeContext) -> DriverResult<()> {
    if !node
        .exists("data/PG_VERSION")
        .map_err(DriverError::Failed)?
    {
        create_data(node, context)?;
    }
    // The server reads its file as it will at its first start: a value of the configuration
    // group it refuses (a time zone or locale the node lacks) fails here, in its own words.
    crate::configuration::check_file(node, context)
}

/// A new node's data directory: made by initdb, or seeded from the source for a replica.
fn create_data(node: &Node, context: &NodeContext) -> DriverResult<()> {
    // What an interrupted attempt left goes first.
    node.remove("data").map_err(DriverError::Failed)?;
    node.remove(NEW_DATA).map_err(DriverError::Failed)?;
    if matches!(context.role, NodeRole::Replica(_)) {
        return crate::replication::seed(node, context);
    }
    let data = format!("{}/{NEW_DATA}", context.directory);
    node.run_ok(
        &[
            "initdb",
            "-D",
            &data,
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--data-checksums",
        ],
        None,
    )?;
    install_data(node, context)
}

/// Moves a complete `data.new` into place as `data`.
pub fn install_data(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let dir = &context.directory;
    node.run_ok(
        &["mv", &format!("{dir}/{NEW_DATA}"), &format!("{dir}/data")],
        None,
    )?;
    Ok(())
}

/// `lifecycle.prepare`: the requested databases, then users with their access.
pub fn prepare(node: &Node, request: PrepareRequest) -> DriverResult<()> {
    accounts::create_databases(node, request.databases)?;
    accounts::create_users(node, request.users, accounts::Existing::Keep)
}

/// `lifecycle.check-health`.
pub fn check_health(node: &Node) -> DriverResult<Health> {
    match sql::run(node, "postgres", "SELECT pg_is_in_recovery();") {
        Ok(_) => Ok(Health {
            status: HealthStatus::Healthy,
            message: "accepting queries".into(),
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

/// `lifecycle.effective-configuration`.
pub fn effective_configuration(context: &NodeContext) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = defaults(context)
        .into_iter()
        .map(|(k, v)| (k, v.trim_matches('\'').to_string()))
        .collect();
    for setting in &context.settings {
        let value = plain(&setting.value);
        match values.iter_mut().find(|(name, _)| *name == setting.name) {
            Some(entry) => entry.1 = value,
            None => values.push((setting.name.clone(), value)),
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_driver_sdk::{Endpoint, Flavor, NodeRole};

    fn context(ram_mb: u32, settings: Vec<Setting>) -> NodeContext {
        NodeContext {
            datastore_version: "15".into(),
            node_id: "i".into(),
            serial: 3,
            directory: "/s/nodes/n3".into(),
            address: Endpoint {
                host: "127.0.0.1".into(),
                port: 21003,
            },
            flavor: Flavor {
                id: "3".into(),
                name: "medium".into(),
                ram_mb,
                vcpus: 2,
            },
            volume_gb: 1,
            settings,
            role: NodeRole::Standalone,
        }
    }

    #[test]
    fn the_configuration_sizes_memory_and_keeps_paths_outside_the_data_directory() {
        let conf = render_conf(&context(
            1024,
            vec![Setting {
                name: "work_mem".into(),
                value: Value::Text("64MB".into()),
            }],
        ));
        // A quarter of 1 GiB.
        assert!(conf.contains("shared_buffers = 256MB\n"), "{conf}");
        assert!(conf.contains("port = 21003\n"));
        assert!(conf.contains("unix_socket_directories = '/s/nodes/n3/run'\n"));
        assert!(conf.contains("hba_file = '/s/nodes/n3/pg_hba.conf'\n"));
        // The group's value comes last, so it wins.
        assert!(conf.ends_with("work_mem = 64MB\n"), "{conf}");
    }

    #[test]
    fn values_that_are_not_plain_words_are_quoted() {
        assert_eq!(
            render_value(&Value::Text("'$user', public".into())),
            "'''$user'', public'"
        );
        assert_eq!(render_value(&Value::Integer(200)), "200");
        assert_eq!(render_value(&Value::Integer(-1)), "-1");
        assert_eq!(render_value(&Value::Float(0.5)), "0.5");
        assert_eq!(render_value(&Value::Text("on".into())), "on");
        assert_eq!(render_value(&Value::Text("64MB".into())), "64MB");
        // What the parser would not read as one token is quoted: a sign before a word, dots
        // and dashes in words, backslashes, the empty string.
        assert_eq!(render_value(&Value::Text("-x".into())), "'-x'");
        assert_eq!(render_value(&Value::Text("a.b-c".into())), "'a.b-c'");
        assert_eq!(
            render_value(&Value::Text(r"C:\dir\".into())),
            r"'C:\\dir\\'"
        );
        assert_eq!(render_value(&Value::Text(String::new())), "''");
    }

    /// What postgresql.conf's parser (guc-file.l) reads from a quoted string: `''` is a quote,
    /// `\` followed by a character that character (or a control character for b f n r t).
    fn read_conf_string(text: &str) -> Option<String> {
        let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next()? {
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    other => out.push(other),
                },
                // A lone quote would have ended the string early.
                '\'' if chars.next()? == '\'' => out.push('\''),
                '\'' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    #[test]
    fn quoted_values_read_back_exactly() {
        for text in [
            r#""$user", public"#,
            "it's",
            r"back\slash",
            r"trailing\",
            r"\'",
            r"bell\b and tab\t",
            "100%",
        ] {
            let rendered = conf_string(text);
            assert_eq!(
                read_conf_string(&rendered).as_deref(),
                Some(text),
                "{rendered}"
            );
        }
    }
}
