//! SQL for MariaDB: quoting, and running statements through the `mariadb` client over the
//! node's socket as Drover's own account (`drover@localhost`, whose password is in the node's
//! 0600 `client.cnf`).
//!
//! Users set the server's defaults through configuration groups, and some of them change how
//! SQL is read (`sql_mode`: NO_BACKSLASH_ESCAPES, ANSI_QUOTES, EMPTY_STRING_IS_NULL, ORACLE…),
//! how a session behaves (autocommit, timeouts, memory caps) or what is logged. The driver's
//! own sessions start with [`SESSION`], which sets each of them back to what the driver's SQL
//! (and [`literal`] in particular) is written for, and keeps its statements (passwords are in
//! some) out of the general and slow query logs.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{ExecRequest, Node};

/// A quoted identifier: `` `name` `` with inner backticks doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A quoted string literal: backslashes escaped and quotes doubled, as the SQL mode of the
/// driver's sessions ([`SESSION`], without NO_BACKSLASH_ESCAPES) reads them.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// The SQL mode of the driver's sessions: MariaDB 10.11's default.
macro_rules! sql_mode {
    () => {
        "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"
    };
}

/// The first statement of every session of the driver: its SQL is read the same whatever the
/// configuration group says, no limit cuts it short, new passwords get the current hash, and
/// nothing it runs reaches the general or slow query log. (The client's character set is
/// pinned on its command line.)
pub const SESSION: &str = concat!(
    "SET SESSION sql_mode = '",
    sql_mode!(),
    "', autocommit = 1, completion_type = 'NO_CHAIN', max_statement_time = 0, \
     lock_wait_timeout = 86400, innodb_lock_wait_timeout = 50, old_passwords = 0, \
     sql_safe_updates = 0, sql_select_limit = 18446744073709551615, \
     max_join_size = 18446744073709551615, sql_big_selects = 1, \
     max_session_mem_used = 9223372036854775807, net_read_timeout = 30, net_write_timeout = 60, \
     wait_timeout = 28800, sql_log_off = 1, log_slow_query = 0;\n"
);

/// A statement (`CREATE USER …`, `ALTER USER …`, given as `head` and `tail`) that gives an
/// account `password` without the password reaching the binary log, which replicas receive and
/// root can read (`SHOW BINLOG EVENTS`): the server hashes it, and only
/// `head IDENTIFIED BY PASSWORD '<hash>' tail` is executed, and logged.
pub fn with_password(head: &str, password: &str, tail: &str) -> String {
    format!(
        "EXECUTE IMMEDIATE CONCAT({}, QUOTE(PASSWORD({})), {});\n",
        literal(&format!("{head} IDENTIFIED BY PASSWORD ")),
        literal(password),
        literal(tail)
    )
}

/// An account: `'user'@'host'`.
pub fn account(user: &str, host: &str) -> String {
    format!("{}@{}", literal(user), literal(host))
}

/// Runs SQL (statements separated by `;`) and returns the rows, fields separated by tabs.
pub fn run(node: &Node, sql: &str) -> DriverResult<Vec<Vec<String>>> {
    client(node, sql, false)
}

/// Runs one statement that returns at most one row and gives that row by column name.
pub fn row(node: &Node, sql: &str) -> DriverResult<Option<Vec<(String, String)>>> {
    let mut rows = client(node, sql, true)?.into_iter();
    let (Some(names), Some(values)) = (rows.next(), rows.next()) else {
        return Ok(None);
    };
    Ok(Some(names.into_iter().zip(values).collect()))
}

fn client(node: &Node, sql: &str, column_names: bool) -> DriverResult<Vec<Vec<String>>> {
    let defaults = format!("--defaults-file={}/client.cnf", node.directory());
    let names = if column_names {
        "--column-names"
    } else {
        "--skip-column-names"
    };
    let argv = [
        "mariadb",
        &defaults,
        "--batch",
        names,
        "--raw",
        "--connect-timeout=10",
        "--default-character-set=utf8mb4",
    ];
    let output = node
        .exec(&ExecRequest {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            stdin: Some(format!("{SESSION}{sql}").into_bytes()),
            env: vec![],
            timeout_ms: 120_000,
        })
        .map_err(DriverError::Failed)?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status != 0 {
        let message = stderr.trim().to_string();
        if message.contains("Can't connect")
            || message.contains("(2002)")
            || message.contains("(2013)")
        {
            return Err(DriverError::not_ready(format!(
                "MariaDB is not accepting connections: {message}"
            )));
        }
        return Err(DriverError::failed(format!("MariaDB: {message}")));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect())
}

/// Whether a query returns a row.
pub fn exists(node: &Node, sql: &str) -> DriverResult<bool> {
    Ok(!run(node, sql)?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_user_input_inert() {
        assert_eq!(ident("a`b"), "`a``b`");
        // A backslash cannot escape the closing quote.
        assert_eq!(literal("x\\' OR 1=1 -- "), "'x\\\\'' OR 1=1 -- '");
        assert_eq!(account("app", "%"), "'app'@'%'");
    }

    /// What MariaDB reads from a quoted string without NO_BACKSLASH_ESCAPES: `''` is a quote,
    /// `\` escapes the next character.
    fn read_string(sql: &str) -> Option<(String, &str)> {
        let rest = sql.strip_prefix('\'')?;
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?.1),
                '\'' if rest[i + 1..].starts_with('\'') => {
                    chars.next();
                    out.push('\'');
                }
                '\'' => return Some((out, &rest[i + 1..])),
                c => out.push(c),
            }
        }
        None
    }

    #[test]
    fn a_literal_is_one_string_that_reads_back_exactly() {
        for text in [
            "plain",
            "it's",
            "\\",
            "trailing\\",
            "\\';CREATE ROLE injected SUPERUSER LOGIN;--",
            "\"double\" 'single' \\' \\\\",
        ] {
            let sql = format!("{} AND 1", literal(text));
            let (read, rest) = read_string(&sql).unwrap_or_else(|| panic!("{sql}"));
            assert_eq!(read, text, "{sql}");
            assert_eq!(rest, " AND 1", "{sql}");
        }
    }

    #[test]
    fn passwords_are_hashed_by_the_server_before_the_statement_runs() {
        let statement = with_password("CREATE USER 'a'@'%'", "it's \\", " PASSWORD EXPIRE NEVER");
        assert_eq!(
            statement,
            "EXECUTE IMMEDIATE CONCAT('CREATE USER ''a''@''%'' IDENTIFIED BY PASSWORD ', \
             QUOTE(PASSWORD('it''s \\\\')), ' PASSWORD EXPIRE NEVER');\n"
        );
    }

    #[test]
    fn sessions_pin_the_sql_mode_literals_are_written_for() {
        assert!(SESSION.contains(concat!("sql_mode = '", sql_mode!(), "'")));
        for mode in [
            "NO_BACKSLASH_ESCAPES",
            "ANSI_QUOTES",
            "PAD_CHAR",
            "EMPTY_STRING",
            "ORACLE",
        ] {
            assert!(!sql_mode!().contains(mode), "{mode}");
        }
        for pinned in [
            "autocommit = 1",
            "max_statement_time = 0",
            "sql_log_off = 1",
            "log_slow_query = 0",
            "old_passwords = 0",
        ] {
            assert!(SESSION.contains(pinned), "{pinned}");
        }
    }
}
