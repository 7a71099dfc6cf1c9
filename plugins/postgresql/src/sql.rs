//! SQL for PostgreSQL: quoting, and running statements through `psql` over the node's socket as
//! the bootstrap superuser (`postgres`, trusted on the socket, which only the node's user can
//! reach: it lives in the 0700 node directory).
//!
//! Users set the server's defaults through configuration groups, and some of them change how
//! SQL is read (`standard_conforming_strings`, `client_encoding`, `search_path`) or how a session
//! behaves (timeouts, what is logged). The driver's own sessions do not inherit them: every
//! command it runs gets [`SESSION`] (or [`CLIENT_SESSION`] for connections as a non-superuser)
//! in `PGOPTIONS`, which takes precedence over the file, the database and the role; and its
//! literals are `E'…'` strings, which read the same whatever `standard_conforming_strings` says.

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{ExecRequest, Node};

/// A quoted identifier: `"name"` with inner quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A quoted string literal: an escape string (`E'…'`) with backslashes doubled and quotes
/// doubled, which PostgreSQL reads back as `text` whatever `standard_conforming_strings` and
/// `backslash_quote` say (a quote is never written as `\'`).
pub fn literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// The settings of the driver's own sessions as the superuser, whatever the configuration group
/// says: SQL is read the same way (strings, encoding, and only `pg_catalog`'s functions and
/// operators, so no user-made object is ever called with superuser rights), no timeout cuts a
/// statement short, roles get passwords the `scram-sha-256` lines of pg_hba.conf accept, and no
/// statement (passwords are in some) reaches the server log or `pg_stat_activity`.
/// `default_transaction_read_only` is not pinned: promoting a replica freezes writes with it.
pub const SESSION: &[(&str, &str)] = &[
    ("standard_conforming_strings", "on"),
    ("backslash_quote", "safe_encoding"),
    ("client_encoding", "UTF8"),
    ("search_path", "pg_catalog"),
    ("statement_timeout", "0"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
    ("idle_session_timeout", "0"),
    ("exit_on_error", "off"),
    ("transform_null_equals", "off"),
    ("client_min_messages", "warning"),
    ("log_min_messages", "warning"),
    ("lc_messages", "C"),
    ("password_encryption", "scram-sha-256"),
    ("log_statement", "none"),
    ("log_min_duration_statement", "-1"),
    ("log_min_duration_sample", "-1"),
    ("log_transaction_sample_rate", "0"),
    ("log_min_error_statement", "panic"),
    ("debug_print_parse", "off"),
    ("debug_print_rewritten", "off"),
    ("debug_print_plan", "off"),
    ("track_activities", "off"),
];

/// The settings of the driver's connections as a non-superuser (the replication role, for
/// pg_basebackup and pg_rewind), who may set only these of [`SESSION`].
pub const CLIENT_SESSION: &[(&str, &str)] = &[
    ("standard_conforming_strings", "on"),
    ("client_encoding", "UTF8"),
    ("statement_timeout", "0"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
    ("idle_session_timeout", "0"),
    ("exit_on_error", "off"),
    ("client_min_messages", "warning"),
];

/// `PGOPTIONS` for these settings: `-c name=value` each (no value has a space to escape).
pub fn pgoptions(settings: &[(&str, &str)]) -> String {
    settings
        .iter()
        .map(|(name, value)| format!("-c {name}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The socket directory of a node.
pub fn socket_dir(directory: &str) -> String {
    format!("{directory}/run")
}

/// Runs SQL (one or more statements, each committed on its own) in `database` and returns the
/// rows, fields separated by `|`.
pub fn run(node: &Node, database: &str, sql: &str) -> DriverResult<Vec<Vec<String>>> {
    let directory = node.directory();
    let port = node.address().port.to_string();
    let socket = socket_dir(&directory);
    let argv = [
        "psql",
        "-h",
        &socket,
        "-p",
        &port,
        "-U",
        "postgres",
        "-d",
        database,
        "-X",
        "-q",
        "-A",
        "-t",
        "-F",
        "|",
        "-v",
        "ON_ERROR_STOP=1",
        "-f",
        "-",
    ];
    let output = node
        .exec(&ExecRequest {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            stdin: Some(sql.as_bytes().to_vec()),
            env: vec![
                ("PGCONNECT_TIMEOUT".into(), "10".into()),
                ("PGOPTIONS".into(), pgoptions(SESSION)),
                ("PGCLIENTENCODING".into(), "UTF8".into()),
            ],
            timeout_ms: 120_000,
        })
        .map_err(DriverError::Failed)?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status != 0 {
        let message = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim_start_matches("psql:<stdin>:").trim())
            .collect::<Vec<_>>()
            .join("; ");
        if stderr.contains("could not connect")
            || stderr.contains("No such file or directory")
            || stderr.contains("the database system is starting up")
            // After a crash of one of its processes, the server recovers and comes back.
            || stderr.contains("the database system is in recovery mode")
        {
            return Err(DriverError::not_ready(format!(
                "PostgreSQL is not accepting connections: {message}"
            )));
        }
        return Err(DriverError::failed(format!("PostgreSQL: {message}")));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect())
}

/// Whether a query returns a row.
pub fn exists(node: &Node, database: &str, sql: &str) -> DriverResult<bool> {
    Ok(!run(node, database, sql)?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_user_input_inert() {
        // A name with a quote stays one identifier; a password with quotes one literal.
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            literal("it's; DROP TABLE x; --"),
            "E'it''s; DROP TABLE x; --'"
        );
        // Backslashes are doubled: an escape string reads them as one, under any setting.
        assert_eq!(literal("back\\slash"), "E'back\\\\slash'");
        assert_eq!(literal("trailing\\"), "E'trailing\\\\'");
    }

    /// What PostgreSQL reads from an `E'…'` literal: `''` is a quote, `\` followed by any
    /// other character that character (the escapes `literal` never writes aside).
    fn read_escape_string(sql: &str) -> Option<(String, &str)> {
        let rest = sql.strip_prefix("E'")?;
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?.1),
                '\'' => {
                    if rest[i + 1..].starts_with('\'') {
                        chars.next();
                        out.push('\'');
                    } else {
                        return Some((out, &rest[i + 1..]));
                    }
                }
                c => out.push(c),
            }
        }
        None
    }

    #[test]
    fn a_literal_is_one_token_that_reads_back_exactly() {
        for text in [
            "plain",
            "it's",
            "\\",
            "ends with a backslash\\",
            "\\';CREATE ROLE injected SUPERUSER LOGIN;--",
            "\"double\" and 'single' and \\' both",
            "\\\\''\\",
            "",
        ] {
            let sql = format!("{} AND 1 = 1", literal(text));
            let (read, rest) = read_escape_string(&sql).unwrap_or_else(|| panic!("{sql}"));
            assert_eq!(read, text, "{sql}");
            assert_eq!(rest, " AND 1 = 1", "{sql}");
        }
    }

    #[test]
    fn the_driver_sessions_pin_what_changes_how_sql_is_read() {
        let options = pgoptions(SESSION);
        for pinned in [
            "-c standard_conforming_strings=on",
            "-c client_encoding=UTF8",
            "-c search_path=pg_catalog",
            "-c statement_timeout=0",
            "-c lock_timeout=0",
            "-c idle_in_transaction_session_timeout=0",
            "-c password_encryption=scram-sha-256",
            "-c log_statement=none",
            "-c log_min_duration_statement=-1",
        ] {
            assert!(options.contains(pinned), "{options}");
        }
        assert!(!options.contains("default_transaction_read_only"));
        // Every setting a non-superuser session pins is one the superuser sessions pin too.
        for setting in CLIENT_SESSION {
            assert!(SESSION.contains(setting), "{setting:?}");
        }
    }
}
