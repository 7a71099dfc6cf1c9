//! SQL for MariaDB: quoting, and running statements through the `mariadb` client over the
//! node's socket as Drover's own account (`drover@localhost`, whose password is in the node's
//! 0600 `client.cnf`).

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{ExecRequest, Node};

/// A quoted identifier: `` `name` `` with inner backticks doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A quoted string literal: backslashes escaped (the default SQL mode treats them as escapes)
/// and quotes doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
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
    ];
    let output = node
        .exec(&ExecRequest {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            stdin: Some(sql.as_bytes().to_vec()),
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
}
