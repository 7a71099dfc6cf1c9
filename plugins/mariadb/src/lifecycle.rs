//! Running a MariaDB node.
//!
//! Node directory layout: `my.cnf` (server options, rendered on every change), `client.cnf`
//! (Drover's own account and password, 0600, written at initialisation), `init.sql` (run by
//! the server at every start: it creates Drover's account if it is missing, so the driver can
//! never lock itself out), `data/` (the data directory), `run/` (socket and pid file).
//! Binary logs are on from the first start (GTID, row format), so any node can become a
//! replication source without a restart.

use drover_driver_sdk::catalog::plain;
use drover_driver_sdk::lifecycle::{
    Command, Health, HealthStatus, PrepareRequest, Readiness, ServiceFile, ServiceSpec, StopSignal,
};
use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{NodeRole, secrets};

use crate::{accounts, sql};

/// The account Drover administers the server with.
pub const ADMIN: &str = "drover";

/// InnoDB's buffer pool: half the flavor's memory, at least 32 MiB.
pub fn buffer_pool_mb(ram_mb: u32) -> u32 {
    (ram_mb / 2).max(32)
}

/// Drover's server options, before the configuration group's values.
pub(crate) fn defaults(context: &NodeContext) -> Vec<(String, String)> {
    let dir = &context.directory;
    let mut values: Vec<(String, String)> = vec![
        ("datadir".into(), format!("{dir}/data")),
        ("socket".into(), format!("{dir}/run/mysqld.sock")),
        ("pid-file".into(), format!("{dir}/run/mysqld.pid")),
        // Its own: a starting server deletes every `#sql*` file it finds in its tmpdir, which
        // in a shared /tmp includes other nodes' temporary tables.
        ("tmpdir".into(), format!("{dir}/tmp")),
        ("port".into(), context.address.port.to_string()),
        ("bind-address".into(), "127.0.0.1".into()),
        ("skip-name-resolve".into(), "ON".into()),
        ("server_id".into(), context.serial.to_string()),
        ("log_bin".into(), "mysql-bin".into()),
        ("log_slave_updates".into(), "ON".into()),
        ("binlog_format".into(), "ROW".into()),
        ("gtid_strict_mode".into(), "ON".into()),
        // Named after the node, not the machine, so a renamed host keeps its relay logs.
        ("relay_log".into(), "relay-bin".into()),
        ("character_set_server".into(), "utf8mb4".into()),
        ("collation_server".into(), "utf8mb4_general_ci".into()),
        (
            "innodb_buffer_pool_size".into(),
            format!("{}M", buffer_pool_mb(context.flavor.ram_mb)),
        ),
    ];
    if matches!(context.role, NodeRole::Replica(_)) {
        // A replica refuses writes from clients even right after a restart.
        values.push(("read_only".into(), "ON".into()));
    }
    values
}

/// A value as MariaDB's option-file parser reads it back: words, numbers and lists of them as
/// they are; anything else in double quotes, with backslashes and double quotes escaped (the
/// parser strips one pair of quotes and reads `\\`, `\"`, `\'`, `\n`… as escapes; outside
/// quotes a `#` starts a comment). Values have no line breaks: validation refuses them.
pub fn option_value(value: &str) -> String {
    let bare = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.,:/+-=@%".contains(c));
    if bare {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// my.cnf: Drover's options, then the group's values (the last occurrence wins). A group that
/// sets the server's character set without a collation gets that character set's default
/// collation, not Drover's (which belongs to Drover's character set: the server refuses to start
/// with a collation of another character set).
pub fn render_conf(context: &NodeContext) -> String {
    let mut text = String::from(
        "# Rendered by Drover's MariaDB driver; rewritten on every change.\n[mysqld]\n",
    );
    let given = |name: &str| context.settings.iter().any(|s| s.name == name);
    let own_collation = given("character_set_server") && !given("collation_server");
    for (name, value) in defaults(context) {
        if own_collation && name == "collation_server" {
            continue;
        }
        text.push_str(&format!("{name} = {value}\n"));
    }
    if !context.settings.is_empty() {
        text.push_str("# Configuration group\n");
        for setting in &context.settings {
            let value = option_value(&plain(&setting.value));
            text.push_str(&format!("{} = {value}\n", setting.name));
        }
    }
    text
}

/// `lifecycle.render-service`.
pub fn render_service(context: &NodeContext) -> DriverResult<ServiceSpec> {
    let dir = &context.directory;
    Ok(ServiceSpec {
        directories: vec!["data".into(), "run".into(), "tmp".into()],
        files: vec![ServiceFile {
            path: "my.cnf".into(),
            contents: render_conf(context),
            mode: 0o600,
        }],
        // --defaults-file must come first, or the packaged /etc/mysql files are read too.
        // The init file is given here, not in my.cnf, so mariadb-install-db (which reads my.cnf)
        // never runs it against a data directory without system tables.
        run: Command {
            argv: vec![
                "mariadbd".into(),
                format!("--defaults-file={dir}/my.cnf"),
                format!("--init-file={dir}/init.sql"),
            ],
            // The server's own file modes (it replaces the process umask with them): its
            // files (binary logs, master.info with the replication password) its user's alone.
            env: vec![
                ("UMASK".into(), "0600".into()),
                ("UMASK_DIR".into(), "0700".into()),
            ],
        },
        readiness: Readiness::Exec(Command {
            argv: vec![
                "mariadb-admin".into(),
                format!("--defaults-file={dir}/client.cnf"),
                "--connect-timeout=2".into(),
                "ping".into(),
            ],
            env: vec![],
        }),
        stop_signal: StopSignal::Term,
        stop_timeout_ms: 60_000,
        start_timeout_ms: 120_000,
        // Error messages, character sets, the system tables' SQL, plugins.
        system_paths: vec![
            "/usr/share/mariadb".into(),
            "/usr/share/mysql".into(),
            "/usr/lib/mysql".into(),
        ],
    })
}

/// `lifecycle.initialize`: Drover's account files, then the system tables.
pub fn initialize(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let dir = &context.directory;
    if node.read_text("client.cnf")?.is_none() {
        write_account_files(node, dir, &secrets::password(32)?)?;
    }
    if node.exists("data/mysql").map_err(DriverError::Failed)? {
        return Ok(());
    }
    // The system tables are made in `data.new` and moved into place complete: an install
    // killed halfway leaves no `data` that looks made (its `mysql` directory comes first).
    node.remove("data").map_err(DriverError::Failed)?;
    node.remove("data.new").map_err(DriverError::Failed)?;
    node.run_ok(
        &[
            "mariadb-install-db",
            &format!("--defaults-file={dir}/my.cnf"),
            &format!("--datadir={dir}/data.new"),
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        None,
    )?;
    node.run_ok(
        &["mv", &format!("{dir}/data.new"), &format!("{dir}/data")],
        None,
    )?;
    Ok(())
}

/// Drover's account: `client.cnf` for the driver's own connections and `init.sql`, which the
/// server runs at every start. Nothing in it is binary-logged: on a replica a local GTID would
/// break `gtid_strict_mode` replication.
pub fn write_account_files(node: &Node, dir: &str, password: &str) -> DriverResult<()> {
    let client = format!(
        "[client]\nuser = {ADMIN}\npassword = {password}\nsocket = {dir}/run/mysqld.sock\n"
    );
    node.write_text("client.cnf", &client, 0o600)?;
    node.write_text("init.sql", &init_sql(password), 0o600)
}

/// `init.sql`. install-db's password-less 'root'@'127.0.0.1' would shadow 'root'@'%' (root
/// enable) for every TCP login; the anonymous account is not wanted either. The server runs the
/// file with its global settings, which a configuration group may have changed: the session is
/// pinned first, and Drover's password never expires (whatever `default_password_lifetime`).
pub fn init_sql(password: &str) -> String {
    format!(
        "{session}SET SESSION sql_log_bin = 0;\n\
         CREATE USER IF NOT EXISTS {admin} IDENTIFIED BY {password};\n\
         ALTER USER {admin} PASSWORD EXPIRE NEVER;\n\
         GRANT ALL PRIVILEGES ON *.* TO {admin} WITH GRANT OPTION;\n\
         ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket;\n\
         DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', ''@'localhost';\n",
        session = sql::SESSION,
        admin = sql::account(ADMIN, "localhost"),
        password = sql::literal(password),
    )
}

/// The password in a node's `client.cnf`.
pub fn admin_password(client_cnf: &str) -> Option<&str> {
    client_cnf.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "password").then(|| value.trim())
    })
}

/// `lifecycle.prepare`: the requested databases, then users with their access.
pub fn prepare(node: &Node, request: PrepareRequest) -> DriverResult<()> {
    accounts::create_databases(node, request.databases)?;
    accounts::create_users(node, request.users)
}

/// `lifecycle.check-health`.
pub fn check_health(node: &Node) -> DriverResult<Health> {
    match sql::run(node, "SELECT 1;") {
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
    let mut values = defaults(context);
    let given = |name: &str| context.settings.iter().any(|s| s.name == name);
    if given("character_set_server") && !given("collation_server") {
        values.retain(|(name, _)| name != "collation_server");
    }
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
    use drover_driver_sdk::{Endpoint, Flavor};

    fn context(ram_mb: u32) -> NodeContext {
        NodeContext {
            datastore_version: "10.11".into(),
            node_id: "i".into(),
            serial: 9,
            directory: "/s/nodes/n9".into(),
            address: Endpoint {
                host: "127.0.0.1".into(),
                port: 21009,
            },
            flavor: Flavor {
                id: "2".into(),
                name: "small".into(),
                ram_mb,
                vcpus: 1,
            },
            volume_gb: 1,
            settings: vec![Setting {
                name: "sql_mode".into(),
                value: Value::Text("STRICT_ALL_TABLES".into()),
            }],
            role: NodeRole::Standalone,
        }
    }

    #[test]
    fn the_configuration_has_identity_memory_and_binary_logs() {
        let conf = render_conf(&context(512));
        assert!(conf.starts_with(
            "# Rendered by Drover's MariaDB driver; rewritten on every change.\n[mysqld]\n"
        ));
        // A unique server id from the node's serial, and GTID binary logs from the start.
        assert!(conf.contains("server_id = 9\n") && conf.contains("log_bin = mysql-bin\n"));
        // Half of 512 MiB for InnoDB.
        assert!(conf.contains("innodb_buffer_pool_size = 256M\n"), "{conf}");
        assert!(conf.contains("socket = /s/nodes/n9/run/mysqld.sock\n"));
        assert!(conf.ends_with("sql_mode = STRICT_ALL_TABLES\n"));
        assert!(conf.contains("collation_server = utf8mb4_general_ci\n"));
        // The server is started with its own options file only.
        let spec = render_service(&context(512)).unwrap();
        assert_eq!(
            spec.run.argv,
            [
                "mariadbd",
                "--defaults-file=/s/nodes/n9/my.cnf",
                "--init-file=/s/nodes/n9/init.sql"
            ]
        );
    }

    /// What MariaDB's option-file parser reads from a value (my_default.c): the comment cut
    /// outside quotes, one pair of matching quotes stripped, the escapes undone.
    fn read_option(value: &str) -> String {
        let mut quote = None;
        let mut escape = false;
        let mut end = value.len();
        for (i, c) in value.char_indices() {
            if (c == '\'' || c == '"') && !escape {
                match quote {
                    None => quote = Some(c),
                    Some(q) if q == c => quote = None,
                    _ => {}
                }
            }
            if quote.is_none() && c == '#' {
                end = i;
                break;
            }
            escape = quote.is_some() && c == '\\' && !escape;
        }
        let value = value[..end].trim();
        let bytes: Vec<char> = value.chars().collect();
        let inner: &[char] = if bytes.len() > 1
            && (bytes[0] == '"' || bytes[0] == '\'')
            && bytes[0] == bytes[bytes.len() - 1]
        {
            &bytes[1..bytes.len() - 1]
        } else {
            &bytes
        };
        let mut out = String::new();
        let mut i = 0;
        while i < inner.len() {
            if inner[i] == '\\' && i + 1 < inner.len() {
                i += 1;
                match inner[i] {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    's' => out.push(' '),
                    c @ ('"' | '\'' | '\\') => out.push(c),
                    c => {
                        out.push('\\');
                        out.push(c);
                    }
                }
            } else {
                out.push(inner[i]);
            }
            i += 1;
        }
        out
    }

    #[test]
    fn option_values_read_back_exactly() {
        for value in [
            "STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES",
            "SET NAMES utf8mb4 # not a comment",
            "it's",
            "\"quoted\"",
            "back\\slash\\",
            "\\s is not a space",
            " padded ",
            "",
            "'",
        ] {
            let rendered = option_value(value);
            assert_eq!(read_option(&rendered), value, "{rendered}");
        }
        assert_eq!(option_value("ON"), "ON");
        assert_eq!(option_value("a,b"), "a,b");
    }

    #[test]
    fn a_character_set_of_the_group_comes_with_its_own_collation() {
        let mut context = context(512);
        context.settings = vec![Setting {
            name: "character_set_server".into(),
            value: Value::Text("latin1".into()),
        }];
        let conf = render_conf(&context);
        assert!(!conf.contains("collation_server"), "{conf}");
        assert!(conf.ends_with("character_set_server = latin1\n"), "{conf}");
        context.settings.push(Setting {
            name: "collation_server".into(),
            value: Value::Text("latin1_bin".into()),
        });
        assert!(render_conf(&context).ends_with("collation_server = latin1_bin\n"));
    }

    #[test]
    fn the_init_file_pins_its_session_first_and_keeps_the_password_alive() {
        let init = init_sql("pw");
        assert!(init.starts_with(sql::SESSION), "{init}");
        // The server reads the init file a line per statement.
        assert_eq!(init.lines().count(), 7, "{init}");
        assert!(init.contains("ALTER USER 'drover'@'localhost' PASSWORD EXPIRE NEVER;\n"));
    }
}
