//! SQL for PostgreSQL: quoting, and running statements through `psql` over the node's socket as
//! the bootstrap superuser (`postgres`, trusted on the socket, which only the node's user can
//! reach: it lives in the 0700 node directory).

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{ExecRequest, Node};

/// A quoted identifier: `"name"` with inner quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A quoted string literal (standard_conforming_strings is on: backslashes are literal).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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
            env: vec![("PGCONNECT_TIMEOUT".into(), "10".into())],
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
            "'it''s; DROP TABLE x; --'"
        );
        assert_eq!(literal("back\\slash"), "'back\\slash'");
    }
}
