//! Tenant isolation (issue 11) end to end, against the real `drover` binary and real servers,
//! checked with the datastores' own clients:
//!
//! - the SQL the PostgreSQL and MariaDB drivers build is read the same under the hostile session
//!   settings a configuration group can give a server (passwords keep every byte, nothing is
//!   injected, nothing reaches the server's logs);
//! - values that would switch off authentication, load code, move files or keep a node from
//!   starting are refused with a 422 naming them, and the values that are accepted survive a
//!   restart;
//! - no secret shows on the command line (or in the environment) of a process the driver runs.
//!
//! These tests need root: nodes run as their own users, and the tests read every process's
//! command line and the nodes' files.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::Setup;
use crate::common::api::Client;
use crate::common::nodes::{names, node_dir, port as port_of, redis_cli, wait_status, wait_until};
use crate::common::server::Server;
use crate::mariadb::mariadb;
use crate::nodes::require_binary;
use crate::postgresql::psql;

const BUILD: Duration = Duration::from_secs(240);

/// A piece of every password of these tests, to look for in logs and command lines.
const TAG: &str = "Qv8Pz";

/// Fails (never skips) unless the tests run as root.
#[track_caller]
fn require_root() {
    crate::common::nodes::require_root(
        "the hardening tests (they read every process's command line and the nodes' files)",
    );
}

/// Passwords that a literal quoted for the wrong session settings would change or break out
/// of: single and double quotes, backslashes, a trailing backslash, and an injection.
fn hostile_passwords(prefix: &str) -> Vec<String> {
    [
        "it's 'single' ''quoted''",
        "say \"double\" \"\"",
        r"back\slash, \\two, \n and \'",
        r"trailing\",
        r"\';CREATE ROLE injected SUPERUSER LOGIN;--",
        r"\' OR 1=1; CREATE USER injected@'%' IDENTIFIED BY 'x'; GRANT ALL ON *.* TO injected@'%'; -- ",
    ]
    .iter()
    .enumerate()
    .map(|(i, password)| format!("{TAG}{prefix}{i}{password}"))
    .collect()
}

/// What a server that reads backslashes as escapes in plain strings makes of a password sent
/// without escaping them (PostgreSQL with standard_conforming_strings = off).
fn unescaped(password: &str) -> String {
    let mut out = String::new();
    let mut chars = password.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

fn create_group(client: &Client, datastore: &str, version: &str, values: Value) -> String {
    crate::configurations::create_group(
        client,
        &format!("{datastore}-hostile"),
        datastore,
        version,
        values,
    )
}

fn create_instance(client: &Client, datastore: &str, version: &str, extra: Value) -> String {
    crate::common::nodes::create_instance(
        client,
        &format!("{datastore}-hardening"),
        datastore,
        version,
        extra,
    )
}

fn attach(client: &Client, id: &str, group: &str) {
    client
        .put(
            &format!("instances/{id}"),
            json!({"instance": {"configuration": group}}),
        )
        .expect(202);
}

fn enable_root(client: &Client, id: &str, password: &str) -> String {
    client
        .post(
            &format!("instances/{id}/root"),
            json!({"password": password}),
        )
        .expect(200)["user"]["password"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Restarts through the API, and waits until the server is another process (`identity` is how
/// the server tells who it is: its start time, run id, pid) and the instance is ACTIVE. The
/// task that applied a group may still be finishing (the status stays ACTIVE meanwhile, as in
/// Trove): a 422 says to retry.
fn restart(server: &Server, client: &Client, id: &str, identity: impl Fn() -> String) -> Value {
    let before = identity();
    assert!(!before.is_empty(), "the server does not say who it is");
    wait_until(
        BUILD,
        || {
            let reply = client.post(&format!("instances/{id}/action"), json!({"restart": {}}));
            assert!(
                reply.status == 202 || reply.status == 422,
                "restart: {} {}",
                reply.status,
                reply.body
            );
            reply.status == 202
        },
        "the restart was accepted",
    );
    wait_until(
        BUILD,
        || {
            let now = identity();
            !now.is_empty() && now != before
        },
        "the server restarted",
    );
    wait_status(server, client, id, "ACTIVE", BUILD)
}

/// A 422 that names every field given, with the word each message must hold.
#[track_caller]
fn refused(client: &Client, datastore: &str, version: &str, bad: &[(&str, Value, &str)]) {
    let mut values = serde_json::Map::new();
    for (name, value, _) in bad {
        values.insert(name.to_string(), value.clone());
    }
    let message = client
        .post(
            "configurations",
            json!({"configuration": {"name": "bricks", "values": values,
                "datastore": {"type": datastore, "version": version}}}),
        )
        .error("unprocessableEntity", 422);
    for (name, _, word) in bad {
        assert!(message.contains(name), "{name} is not named: {message}");
        assert!(message.contains(word), "{word:?} is not said: {message}");
    }
    // One at a time too: each alone is refused, naming it.
    for (name, value, word) in bad {
        let message = client
            .post(
                "configurations",
                json!({"configuration": {"name": "brick", "values": {*name: value},
                    "datastore": {"type": datastore, "version": version}}}),
            )
            .error("unprocessableEntity", 422);
        assert!(
            message.contains(name) && message.contains(word),
            "{name}: {message}"
        );
    }
}

/// What the walks through users below need of a SQL server and its client.
struct Engine {
    datastore: &'static str,
    version: &'static str,
    /// The client: port, user, password, database, SQL; whether it succeeded, and its output.
    query: fn(u16, &str, &str, &str, &str) -> (bool, String),
    /// The database a session opens when none is named.
    default_database: &'static str,
    /// The superuser root access enables.
    root_user: &'static str,
    /// Logs in with exactly the password, and not with what a server that read the driver's
    /// literal under other session settings would have stored instead.
    logs_in: fn(u16, &str, &str),
}

impl Engine {
    fn can_log_in(&self, port: u16, user: &str, password: &str) -> bool {
        (self.query)(port, user, password, self.default_database, "SELECT 1;").0
    }

    /// An instance in `group`, created with the database `appdb` and users `made0..2` (the
    /// first three `passwords`) with access to it, and root enabled with `root_password`: all
    /// log in with exactly their passwords. Its id, port and root password.
    fn created_with_users(
        &self,
        server: &Server,
        client: &Client,
        group: &str,
        passwords: &[String],
        root_password: &str,
    ) -> (String, u16, String) {
        let users: Vec<Value> = passwords
            .iter()
            .enumerate()
            .take(3)
            .map(|(i, p)| json!({"name": format!("made{i}"), "password": p, "databases": [{"name": "appdb"}]}))
            .collect();
        let id = create_instance(
            client,
            self.datastore,
            self.version,
            json!({"configuration": group, "databases": [{"name": "appdb"}], "users": users}),
        );
        let port = port_of(&wait_status(server, client, &id, "ACTIVE", BUILD));
        let root = enable_root(client, &id, root_password);
        assert_eq!(root, root_password);
        (self.logs_in)(port, self.root_user, &root);
        for (i, password) in passwords.iter().enumerate().take(3) {
            (self.logs_in)(port, &format!("made{i}"), password);
        }
        let (ok, out) = (self.query)(port, "made0", &passwords[0], "appdb", "SELECT 42;");
        assert!(ok && out == "42", "{out}");
        (id, port, root)
    }

    /// A running instance with root enabled (`first_root`), then attached to `group`; ACTIVE
    /// once `live` says the group is what the server runs with. Its id, port and root password.
    fn attached_later(
        &self,
        server: &Server,
        client: &Client,
        group: &str,
        live: impl Fn(u16, &str) -> bool,
    ) -> (String, u16, String) {
        let id = create_instance(client, self.datastore, self.version, json!({}));
        let port = port_of(&wait_status(server, client, &id, "ACTIVE", BUILD));
        let root = enable_root(client, &id, "plain-root-password");
        attach(client, &id, group);
        wait_until(BUILD, || live(port, &root), "the group is live");
        wait_status(server, client, &id, "ACTIVE", BUILD);
        (id, port, root)
    }

    /// Adds the users `{prefix}{i}` with `passwords` to a running instance; each logs in with
    /// exactly its password.
    fn add_users(&self, client: &Client, id: &str, port: u16, prefix: &str, passwords: &[String]) {
        let users: Vec<Value> = passwords
            .iter()
            .enumerate()
            .map(|(i, p)| json!({"name": format!("{prefix}{i}"), "password": p}))
            .collect();
        client
            .post(&format!("instances/{id}/users"), json!({"users": users}))
            .expect(202);
        for (i, password) in passwords.iter().enumerate() {
            let user = format!("{prefix}{i}");
            wait_until(
                BUILD,
                || self.can_log_in(port, &user, password),
                &format!("{user} can log in"),
            );
            (self.logs_in)(port, &user, password);
        }
    }

    /// Changes `user`'s password from `old` to `new`: the new one logs in exactly, the old one
    /// no longer does.
    fn change_password(
        &self,
        client: &Client,
        id: &str,
        port: u16,
        user: &str,
        old: &str,
        new: &str,
    ) {
        client
            .put(
                &format!("instances/{id}/users/{user}"),
                json!({"user": {"password": new}}),
            )
            .expect(202);
        wait_until(
            BUILD,
            || self.can_log_in(port, user, new),
            &format!("{user}'s new password works"),
        );
        (self.logs_in)(port, user, new);
        assert!(
            !self.can_log_in(port, user, old),
            "{user} still logs in with {old:?}"
        );
    }

    /// Enables root again with `new`: root logs in with it exactly, and no longer with `old`.
    fn root_again(&self, client: &Client, id: &str, port: u16, old: &str, new: &str) -> String {
        let root = enable_root(client, id, new);
        (self.logs_in)(port, self.root_user, &root);
        assert!(
            !self.can_log_in(port, self.root_user, old),
            "root still logs in with {old:?}"
        );
        root
    }
}

const POSTGRESQL: Engine = Engine {
    datastore: "postgresql",
    version: "15",
    query: psql,
    default_database: "postgres",
    root_user: "postgres",
    logs_in: pg_logs_in,
};

const MARIADB: Engine = Engine {
    datastore: "mariadb",
    version: "10.11",
    query: mariadb,
    default_database: "",
    root_user: "root",
    logs_in: maria_logs_in,
};

/// Every file called `server.log` under `dir` (the nodes' server output), with its text.
fn server_logs(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() && entry.file_name() == "server.log" {
                let text =
                    String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap_or_default())
                        .to_string();
                found.push((entry.path().display().to_string(), text));
            }
        }
    }
    found
}

// ---- PostgreSQL ----

fn require_postgresql() {
    require_binary("postgres", "postgresql-15");
    require_binary("psql", "postgresql-client-15");
}

/// The settings a tenant can give a PostgreSQL server that change how the driver's SQL is read,
/// what its sessions do, and what the server logs.
fn hostile_postgresql() -> Value {
    json!({
        "standard_conforming_strings": "off",
        "backslash_quote": "on",
        "escape_string_warning": "off",
        "password_encryption": "md5",
        "log_statement": "all",
        "log_min_duration_statement": 0,
    })
}

/// A query as root, expected to succeed; its output.
#[track_caller]
fn pg_root(port: u16, root: &str, sql: &str) -> String {
    let (ok, out) = psql(port, "postgres", root, "postgres", sql);
    assert!(ok, "{sql}: {out}");
    out
}

/// The roles of the server (without the built-in pg_ ones), and its superusers.
fn pg_roles(port: u16, root: &str) -> (BTreeSet<String>, Vec<String>) {
    let roles = pg_root(
        port,
        root,
        "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1;",
    );
    let superusers = pg_root(
        port,
        root,
        "SELECT rolname FROM pg_roles WHERE rolsuper ORDER BY 1;",
    );
    (
        roles.lines().map(str::to_string).collect(),
        superusers.lines().map(str::to_string).collect(),
    )
}

/// Logs in over TCP with exactly `password` (and not with what a backslash-escaping server
/// would have stored instead).
#[track_caller]
fn pg_logs_in(port: u16, user: &str, password: &str) {
    let (ok, out) = psql(port, user, password, "postgres", "SELECT current_user;");
    assert!(ok && out == user, "{user} with {password:?}: {out}");
    let mangled = unescaped(password);
    if mangled != password {
        let (ok, out) = psql(port, user, &mangled, "postgres", "SELECT current_user;");
        assert!(!ok, "{user} logged in with {mangled:?}: {out}");
    }
}

#[test]
fn postgresql_sql_is_read_the_same_under_hostile_session_settings() {
    require_root();
    require_postgresql();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let group = create_group(client, "postgresql", "15", hostile_postgresql());
    let passwords = hostile_passwords("pg");
    let root_password = format!(r#"{TAG}root's "root" \ trailing\"#);
    let engine = &POSTGRESQL;

    // Attached at create: the users of the request, then more users, a password change, root.
    let (id, port, root) =
        engine.created_with_users(server, client, &group, &passwords, &root_password);
    // The hostile settings are what the server's sessions get.
    assert_eq!(
        pg_root(port, &root, "SHOW standard_conforming_strings;"),
        "off"
    );
    assert_eq!(pg_root(port, &root, "SHOW password_encryption;"), "md5");
    engine.add_users(client, &id, port, "added", &passwords[3..]);
    engine.change_password(client, &id, port, "made1", &passwords[1], &passwords[4]);
    // Nothing was injected: exactly the users asked for, and one superuser.
    let expected: BTreeSet<String> = ["postgres", "made0", "made1", "made2"]
        .iter()
        .map(|s| s.to_string())
        .chain((0..passwords.len() - 3).map(|i| format!("added{i}")))
        .collect();
    let (roles, superusers) = pg_roles(port, &root);
    assert_eq!(roles, expected);
    assert_eq!(superusers, ["postgres"]);
    assert_eq!(
        names(
            &client.get(&format!("instances/{id}/users")).expect(200),
            "users"
        )
        .len(),
        expected.len() - 1
    );

    // Attached to a running instance, then users and root.
    let (other, other_port, first_root) =
        engine.attached_later(server, client, &group, |port, root| {
            pg_root(port, root, "SHOW standard_conforming_strings;") == "off"
        });
    let (before, _) = pg_roles(other_port, &first_root);
    engine.add_users(client, &other, other_port, "late", &passwords);
    engine.change_password(
        client,
        &other,
        other_port,
        "late0",
        &passwords[0],
        &passwords[3],
    );
    let other_root = engine.root_again(client, &other, other_port, &first_root, &root_password);
    let (after, superusers) = pg_roles(other_port, &other_root);
    let added: BTreeSet<String> = after.difference(&before).cloned().collect();
    let late: BTreeSet<String> = (0..passwords.len()).map(|i| format!("late{i}")).collect();
    assert_eq!(added, late);
    assert!(before.is_subset(&after));
    assert_eq!(superusers, ["postgres"]);

    // The servers log every statement of the tenant's own sessions (log_statement = all), and
    // none of the driver's: no password reached a log.
    let marker = format!("logcheck-{}", std::process::id());
    pg_root(port, &root, &format!("SELECT '{marker}';"));
    wait_until(
        BUILD,
        || {
            server_logs(server.state_dir())
                .iter()
                .any(|(_, text)| text.contains(&marker))
        },
        "the tenant's statement is in a server log",
    );
    for (path, text) in &server_logs(server.state_dir()) {
        assert!(
            !text.contains(TAG),
            "a password reached {path}: {}",
            text.lines().find(|l| l.contains(TAG)).unwrap_or("")
        );
    }
}

#[test]
fn postgresql_values_that_would_keep_a_node_from_starting_are_refused() {
    require_root();
    require_postgresql();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    refused(
        client,
        "postgresql",
        "15",
        &[
            ("search_path", json!("\"$user, public"), "double quote"),
            ("application_name", json!("two\nlines"), "line breaks"),
            ("log_line_prefix", json!("%m\r[%p]"), "line breaks"),
            ("TimeZone", json!("Nowhere/City"), "time zone"),
            ("DateStyle", json!("ISO, Foo"), "date style"),
            ("lc_messages", json!("xx_XX"), "locale"),
            ("include", json!("/etc/passwd"), "no other file"),
            ("hba_file", json!("/tmp/pg_hba.conf"), "file locations"),
            ("data_directory", json!("/tmp"), "file locations"),
            ("shared_preload_libraries", json!("evil"), "arbitrary code"),
            ("extension_destdir", json!("/tmp"), "arbitrary code"),
            ("dynamic_library_path", json!("/tmp"), "arbitrary code"),
            ("allow_system_table_mods", json!("on"), "corrupt"),
            ("db_user_namespace", json!("on"), "logins"),
            ("listen_addresses", json!("*"), "listens"),
            ("huge_pages", json!("on"), "huge pages"),
        ],
    );

    // Values with quotes and backslashes are accepted when the server reads them back exactly,
    // and the node starts with them.
    let search_path = r#""it's", public, "$user""#;
    let prefix = r#"%m [%p] it's "quoted" \ trailing\"#;
    let group = create_group(
        client,
        "postgresql",
        "15",
        json!({"search_path": search_path, "log_line_prefix": prefix, "TimeZone": "Europe/Paris"}),
    );
    let id = create_instance(client, "postgresql", "15", json!({}));
    let port = port_of(&wait_status(server, client, &id, "ACTIVE", BUILD));
    let root = enable_root(client, &id, "root-password");
    attach(client, &id, &group);
    wait_until(
        BUILD,
        || pg_root(port, &root, "SHOW search_path;") == search_path,
        "the group is live",
    );
    wait_status(server, client, &id, "ACTIVE", BUILD);
    restart(server, client, &id, || {
        psql(
            port,
            "postgres",
            &root,
            "postgres",
            "SELECT pg_postmaster_start_time();",
        )
        .1
    });
    assert_eq!(pg_root(port, &root, "SHOW search_path;"), search_path);
    assert_eq!(pg_root(port, &root, "SHOW log_line_prefix;"), prefix);
    assert_eq!(pg_root(port, &root, "SHOW TimeZone;"), "Europe/Paris");
    assert_eq!(
        pg_root(
            port,
            &root,
            "SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL;"
        ),
        "0"
    );
}

// ---- MariaDB ----

fn require_mariadb() {
    require_binary("mariadbd", "mariadb-server");
    require_binary("mariadb", "mariadb-client");
}

/// The settings a tenant can give a MariaDB server that change how the driver's SQL is read and
/// what the server logs (every statement, in tables the tenant's root reads).
fn hostile_mariadb() -> Value {
    json!({
        "sql_mode": "NO_BACKSLASH_ESCAPES,ANSI_QUOTES,EMPTY_STRING_IS_NULL,PIPES_AS_CONCAT",
        "general_log": "ON",
        "log_slow_query": "ON",
        "log_slow_query_time": 0,
        "log_output": "TABLE",
    })
}

#[track_caller]
fn maria_root(port: u16, root: &str, sql: &str) -> String {
    let (ok, out) = mariadb(port, "root", root, "", sql);
    assert!(ok, "{sql}: {out}");
    out
}

/// Logs in over TCP with exactly `password` (and not with what a server without backslash
/// escapes would have stored from a literal that escaped them).
#[track_caller]
fn maria_logs_in(port: u16, user: &str, password: &str) {
    let (ok, out) = mariadb(port, user, password, "", "SELECT CURRENT_USER();");
    assert!(
        ok && out.starts_with(&format!("{user}@")),
        "{user} with {password:?}: {out}"
    );
    if password.contains('\\') {
        let mangled = password.replace('\\', "\\\\");
        let (ok, out) = mariadb(port, user, &mangled, "", "SELECT 1;");
        assert!(!ok, "{user} logged in with {mangled:?}: {out}");
    }
}

/// The server's accounts, and the global privileges of each account the API made.
fn maria_accounts(port: u16, root: &str) -> BTreeSet<String> {
    maria_root(
        port,
        root,
        "SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1;",
    )
    .lines()
    .map(str::to_string)
    .collect()
}

#[track_caller]
fn maria_no_global_privileges(port: u16, root: &str, user: &str) {
    let grants = maria_root(port, root, &format!("SHOW GRANTS FOR '{user}'@'%';"));
    for line in grants.lines() {
        if line.contains(" ON *.* ") {
            assert!(line.starts_with("GRANT USAGE ON *.* "), "{user}: {line}");
        }
    }
}

/// Rows of the general and slow query logs holding `needle`, counted without the query itself
/// holding it (it is logged too).
fn maria_logged(port: u16, root: &str, needle: &str) -> (u64, u64) {
    let (head, tail) = needle.split_at(needle.len() / 2);
    let count = |sql: String| maria_root(port, root, &sql).parse::<u64>().unwrap();
    (
        count(format!(
            "SELECT COUNT(*) FROM mysql.general_log WHERE argument LIKE CONCAT('%', '{head}', '{tail}', '%');"
        )),
        count(format!(
            "SELECT COUNT(*) FROM mysql.slow_log WHERE sql_text LIKE CONCAT('%', '{head}', '{tail}', '%');"
        )),
    )
}

#[test]
fn mariadb_sql_is_read_the_same_under_hostile_session_settings() {
    require_root();
    require_mariadb();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let group = create_group(client, "mariadb", "10.11", hostile_mariadb());
    let passwords = hostile_passwords("my");
    let root_password = format!(r#"{TAG}root's "root" \ trailing\"#);
    let engine = &MARIADB;

    // Attached at create.
    let (id, port, root) =
        engine.created_with_users(server, client, &group, &passwords, &root_password);
    assert!(maria_root(port, &root, "SELECT @@GLOBAL.sql_mode;").contains("NO_BACKSLASH_ESCAPES"));
    engine.add_users(client, &id, port, "added", &passwords[3..]);
    engine.change_password(client, &id, port, "made1", &passwords[1], &passwords[4]);
    // The users are listed (EMPTY_STRING_IS_NULL would hide them from a query with ''), and no
    // account or global privilege was injected.
    let listed = names(
        &client.get(&format!("instances/{id}/users")).expect(200),
        "users",
    );
    let expected: Vec<String> = (0..passwords.len() - 3)
        .map(|i| format!("added{i}"))
        .chain((0..3).map(|i| format!("made{i}")))
        .collect();
    assert_eq!(listed, expected);
    let accounts = maria_accounts(port, &root);
    assert!(
        !accounts.iter().any(|a| a.starts_with("injected")),
        "{accounts:?}"
    );
    for user in &expected {
        assert!(accounts.contains(&format!("{user}@%")), "{accounts:?}");
        maria_no_global_privileges(port, &root, user);
    }

    // Attached to a running instance, then users and root.
    let (other, other_port, first_root) =
        engine.attached_later(server, client, &group, |port, root| {
            maria_root(port, root, "SELECT @@GLOBAL.sql_mode;").contains("NO_BACKSLASH_ESCAPES")
        });
    let before = maria_accounts(other_port, &first_root);
    engine.add_users(client, &other, other_port, "late", &passwords);
    engine.change_password(
        client,
        &other,
        other_port,
        "late0",
        &passwords[0],
        &passwords[3],
    );
    let other_root = engine.root_again(client, &other, other_port, &first_root, &root_password);
    let after = maria_accounts(other_port, &other_root);
    let late: BTreeSet<String> = (0..passwords.len()).map(|i| format!("late{i}@%")).collect();
    assert_eq!(
        after.difference(&before).cloned().collect::<BTreeSet<_>>(),
        late
    );
    assert!(before.is_subset(&after));
    for i in 0..passwords.len() {
        maria_no_global_privileges(other_port, &other_root, &format!("late{i}"));
    }

    // Both servers log every statement of the tenant's sessions, and none of the driver's.
    for (port, root) in [(port, &root), (other_port, &other_root)] {
        let marker = format!("logcheck{}x{port}", std::process::id());
        maria_root(port, root, &format!("SELECT '{marker}';"));
        let (general, slow) = maria_logged(port, root, &marker);
        assert!(
            general >= 1 && slow >= 1,
            "the logs are not on: {general} {slow}"
        );
        assert_eq!(
            maria_logged(port, root, TAG),
            (0, 0),
            "a password was logged"
        );
        // The binary log (replicas receive it; root reads it) holds password hashes only.
        let logs = maria_root(port, root, "SHOW BINARY LOGS;");
        let files: Vec<&str> = logs.lines().filter_map(|l| l.split('\t').next()).collect();
        assert!(!files.is_empty(), "no binary logs");
        let mut created = 0;
        for file in files {
            let events = maria_root(port, root, &format!("SHOW BINLOG EVENTS IN '{file}';"));
            assert!(!events.contains(TAG), "a password is in {file}");
            created += events.matches("IDENTIFIED BY PASSWORD '*").count();
        }
        assert!(created > 0, "the users' creation is not in the binary log");
    }
}

#[test]
fn mariadb_values_that_would_keep_a_node_from_starting_are_refused() {
    require_root();
    require_mariadb();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    refused(
        client,
        "mariadb",
        "10.11",
        &[
            ("skip_grant_tables", json!("ON"), "privilege checks"),
            ("skip-grant-tables", json!(true), "privilege checks"),
            ("loose-skip-grant-tables", json!(1), "privilege checks"),
            ("plugin_load_add", json!("ha_spider.so"), "arbitrary code"),
            ("plugin-load", json!("auth_pam.so"), "arbitrary code"),
            ("init_file", json!("/tmp/init.sql"), "init file"),
            ("plugin_dir", json!("/tmp"), "arbitrary code"),
            ("secure_file_priv", json!(""), "file locations"),
            ("bind_address", json!("0.0.0.0"), "listens"),
            ("socket", json!("/tmp/x.sock"), "file locations"),
            ("datadir", json!("/tmp"), "file locations"),
            ("general_log_file", json!("/tmp/general.log"), "logs"),
            (
                "init_connect",
                json!("SET @a = 1;\nSET @b = 2"),
                "line breaks",
            ),
            ("sql_mode", json!("FOO"), "is not one of"),
            ("lc_time_names", json!("xx_XX"), "locale"),
            ("default_storage_engine", json!("nope"), "storage engine"),
            (
                "collation_server",
                json!("latin1_swedish_ci"),
                "character set",
            ),
            ("innodb_encrypt_tables", json!("ON"), "key management"),
        ],
    );

    // A character set without a collation, and free text with quotes, backslashes and a #, are
    // accepted, and the node starts with them.
    let init_connect = r#"SET @drover = 'it''s \ "x" # not a comment'"#;
    let group = create_group(
        client,
        "mariadb",
        "10.11",
        json!({"character_set_server": "latin1", "init_connect": init_connect}),
    );
    let id = create_instance(client, "mariadb", "10.11", json!({}));
    let port = port_of(&wait_status(server, client, &id, "ACTIVE", BUILD));
    let root = enable_root(client, &id, "root-password");
    attach(client, &id, &group);
    wait_until(
        BUILD,
        || maria_root(port, &root, "SELECT @@GLOBAL.character_set_server;") == "latin1",
        "the group is live",
    );
    wait_status(server, client, &id, "ACTIVE", BUILD);
    let pid_file = node_dir(server, port).join("run/mysqld.pid");
    restart(server, client, &id, || {
        std::fs::read_to_string(&pid_file)
            .unwrap_or_default()
            .trim()
            .to_string()
    });
    assert_eq!(
        maria_root(
            port,
            &root,
            "SELECT CONCAT(@@GLOBAL.character_set_server, ' ', @@GLOBAL.collation_server);"
        ),
        "latin1 latin1_swedish_ci"
    );
    // In hexadecimal: the client's batch output escapes backslashes.
    let hex: String = init_connect.bytes().map(|b| format!("{b:02X}")).collect();
    assert_eq!(
        maria_root(port, &root, "SELECT HEX(@@GLOBAL.init_connect);"),
        hex
    );
}

// ---- Redis ----

fn require_redis() {
    require_binary("redis-server", "redis-server");
    require_binary("redis-cli", "redis-tools");
}

#[test]
fn redis_values_that_would_keep_a_node_from_starting_are_refused() {
    require_root();
    require_redis();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    refused(
        client,
        "redis",
        "7.0",
        &[
            ("ignore-warnings", json!("a\nb"), "line breaks"),
            ("loadmodule", json!("/tmp/evil.so"), "arbitrary code"),
            ("include", json!("/etc/redis/redis.conf"), "no other file"),
            ("rename-command", json!("CONFIG \"\""), "names"),
            ("dir", json!("/tmp"), "file locations"),
            ("dbfilename", json!("x.rdb"), "file locations"),
            ("enable-debug-command", json!("yes"), "DEBUG"),
            ("enable-module-command", json!("yes"), "arbitrary code"),
            ("requirepass", json!("x"), "root API"),
            ("masterauth", json!("x"), "replication"),
            ("bind", json!("0.0.0.0"), "listens"),
        ],
    );

    // An unbalanced quote is a character like any other once quoted in the file: accepted,
    // applied live, and the node starts with it.
    let group = create_group(client, "redis", "7.0", json!({"ignore-warnings": "'x"}));
    let id = create_instance(client, "redis", "7.0", json!({}));
    let port = port_of(&wait_status(server, client, &id, "ACTIVE", BUILD));
    let root = enable_root(client, &id, "root-password");
    let live = || {
        redis_cli(
            port,
            "default",
            &root,
            &["CONFIG", "GET", "ignore-warnings"],
        )
        .lines()
        .nth(1)
        .unwrap_or("")
        .to_string()
    };
    attach(client, &id, &group);
    wait_until(BUILD, || live() == "'x", "the group is live");
    wait_status(server, client, &id, "ACTIVE", BUILD);
    restart(server, client, &id, || {
        redis_cli(port, "default", &root, &["INFO", "server"])
            .lines()
            .find_map(|line| line.strip_prefix("run_id:"))
            .unwrap_or("")
            .trim()
            .to_string()
    });
    assert_eq!(live(), "'x");
}

/// Watches every process's command line and environment while it runs, for any of `secrets`.
struct Watcher {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(BTreeSet<u32>, BTreeSet<String>)>,
}

impl Watcher {
    fn start(program: &'static str, secrets: Vec<String>) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = BTreeSet::new();
            let mut leaks = BTreeSet::new();
            while !stopped.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let Some(pid) = entry
                        .file_name()
                        .to_str()
                        .and_then(|s| s.parse::<u32>().ok())
                    else {
                        continue;
                    };
                    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                        continue;
                    };
                    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                    if !cmdline.contains(program) {
                        continue;
                    }
                    seen.insert(pid);
                    let environ = std::fs::read(format!("/proc/{pid}/environ"))
                        .map(|e| String::from_utf8_lossy(&e).replace('\0', " "))
                        .unwrap_or_default();
                    for secret in &secrets {
                        if cmdline.contains(secret.as_str()) {
                            leaks.insert(format!("the command line of {pid}: {cmdline}"));
                        }
                        if environ.contains(secret.as_str()) {
                            leaks.insert(format!("the environment of {pid} ({cmdline})"));
                        }
                    }
                }
            }
            (seen, leaks)
        });
        Watcher { stop, thread }
    }

    fn finish(self) -> (BTreeSet<u32>, BTreeSet<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

#[test]
fn redis_secrets_never_appear_on_a_command_line() {
    require_root();
    require_redis();
    let setup = Setup::start(None, &[]);
    let (server, client) = (&setup.server, &setup.member);
    let id = create_instance(client, "redis", "7.0", json!({}));
    let port = port_of(&wait_status(server, client, &id, "ACTIVE", BUILD));
    let admin_secret = std::fs::read_to_string(node_dir(server, port).join("admin.secret"))
        .expect("the node's admin.secret")
        .trim()
        .to_string();
    assert!(!admin_secret.is_empty());
    let watcher = Watcher::start("redis-cli", vec![TAG.to_string(), admin_secret]);
    // Enough users, password changes and root enables that the watcher sees many of the
    // driver's redis-cli processes (each lives a few milliseconds).
    let started = Instant::now();
    let mut count = 0;
    loop {
        let password = format!("{TAG}{count} it's \"hostile\" \\");
        client
            .post(
                &format!("instances/{id}/users"),
                json!({"users": [{"name": format!("u{count}"), "password": password}]}),
            )
            .expect(202);
        client
            .put(
                &format!("instances/{id}/users/u{count}"),
                json!({"user": {"password": format!("{password}-new")}}),
            )
            .expect(202);
        enable_root(client, &id, &format!("{TAG}root{count}"));
        count += 1;
        if count >= 40 || started.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    let (seen, leaks) = watcher.finish();
    eprintln!("the watcher saw {} redis-cli processes", seen.len());
    assert!(
        seen.len() >= 10,
        "the watcher saw only {} redis-cli processes; it cannot tell",
        seen.len()
    );
    assert!(
        leaks.is_empty(),
        "{} processes showed a secret, among them:\n{}",
        leaks.len(),
        leaks.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
    // The users work with exactly their passwords.
    let password = format!("{TAG}0 it's \"hostile\" \\-new");
    assert_eq!(redis_cli(port, "u0", &password, &["SET", "k", "v"]), "OK");
}
