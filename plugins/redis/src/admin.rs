//! The driver's administrative access to a node: `redis-cli` over the node's Unix socket as
//! the `drover-admin` ACL user, whose password lives in `admin.secret` (mode 0600).
//!
//! Commands reach redis-cli on its standard input, never its command line (which every process
//! on the machine can read in /proc): first `AUTH` with the admin password, then the command,
//! each argument quoted so that redis-cli's line parser reads it back byte for byte (users'
//! passwords and configuration values are among the arguments).

use drover_driver_sdk::prelude::*;
use drover_driver_sdk::{ExecRequest, NodeContext};

/// Where the admin password is kept, relative to the node directory.
pub const SECRET_FILE: &str = "admin.secret";
/// The ACL user the driver administers the server as.
pub const ADMIN_USER: &str = "drover-admin";
/// The socket, relative to the node directory.
pub const SOCKET: &str = "run/redis.sock";

/// The socket path for a node directory.
pub fn socket(directory: &str) -> String {
    format!("{directory}/{SOCKET}")
}

/// A reply of the server, as redis-cli printed it in raw mode, one line per element.
pub struct Reply {
    pub lines: Vec<String>,
}

impl Reply {
    /// The first line.
    pub fn first(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }
}

/// An argument as redis-cli's line parser (`sdssplitargs`) reads it back exactly: in double
/// quotes, letters and digits as they are and every other byte as `\xHH`.
pub fn quote(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('"');
    for byte in arg.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(byte as char);
        } else {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out.push('"');
    out
}

/// The lines redis-cli reads on its standard input: `AUTH` as the admin user, then `args`.
pub fn script(secret: &str, args: &[&str]) -> String {
    let command: Vec<String> = args.iter().map(|arg| quote(arg)).collect();
    format!(
        "{} {} {}\n{}\n",
        quote("AUTH"),
        quote(ADMIN_USER),
        quote(secret),
        command.join(" ")
    )
}

/// Runs one Redis command as the admin user.
pub fn command(node: &Node, args: &[&str]) -> DriverResult<Reply> {
    let secret = node
        .read_text(SECRET_FILE)?
        .ok_or_else(|| DriverError::not_ready("the node has not been initialised yet"))?;
    let directory = node.directory();
    let socket = socket(&directory);
    let argv = ["redis-cli", "--raw", "--no-auth-warning", "-s", &socket];
    let output = node
        .exec(&ExecRequest {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            stdin: Some(script(secret.trim(), args).into_bytes()),
            env: vec![],
            timeout_ms: 30_000,
        })
        .map_err(DriverError::Failed)?;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    if stdout.starts_with("Could not connect") || stderr.contains("Could not connect") {
        return Err(DriverError::not_ready(format!(
            "redis is not accepting connections: {}",
            stderr.trim()
        )));
    }
    let mut lines = stdout.lines().map(str::to_string);
    // The first line answers AUTH.
    let auth = lines.next().unwrap_or_default();
    if auth.starts_with("LOADING") {
        return Err(DriverError::not_ready(auth));
    }
    if auth != "OK" {
        let detail = if auth.is_empty() {
            stderr.trim().to_string()
        } else {
            auth
        };
        return Err(DriverError::failed(format!(
            "redis AUTH as {ADMIN_USER}: {detail}"
        )));
    }
    let lines: Vec<String> = lines.collect();
    let first = lines.first().map(String::as_str).unwrap_or("");
    let is_error = [
        "ERR",
        "WRONGPASS",
        "NOPERM",
        "WRONGTYPE",
        "NOAUTH",
        "LOADING",
        "BUSY",
        "READONLY",
    ]
    .iter()
    .any(|prefix| first.starts_with(prefix));
    if first.starts_with("LOADING") {
        return Err(DriverError::not_ready(first.to_string()));
    }
    if output.status != 0 || is_error {
        let detail = if first.is_empty() {
            stderr.trim().to_string()
        } else {
            first.to_string()
        };
        return Err(DriverError::failed(format!(
            "redis {}: {detail}",
            args.first().unwrap_or(&"")
        )));
    }
    Ok(Reply { lines })
}

/// Persists ACL changes to the node's ACL file, so they survive restarts.
pub fn save_acl(node: &Node) -> DriverResult<()> {
    command(node, &["ACL", "SAVE"]).map(|_| ())
}

/// Whether the node's data has been set up (its ACL file exists).
pub fn initialised(node: &Node) -> DriverResult<bool> {
    node.exists("users.acl").map_err(DriverError::Failed)
}

/// The context's directory, for rendering.
pub fn directory(context: &NodeContext) -> &str {
    &context.directory
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What redis-cli's line parser (`sdssplitargs`) reads from a line.
    fn split_args(line: &str) -> Option<Vec<Vec<u8>>> {
        let bytes = line.as_bytes();
        let mut args = Vec::new();
        let mut i = 0;
        loop {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i == bytes.len() {
                return Some(args);
            }
            let mut current = Vec::new();
            if bytes[i] != b'"' {
                return None; // Every argument is written quoted.
            }
            i += 1;
            loop {
                match bytes.get(i)? {
                    b'\\' if bytes.get(i + 1) == Some(&b'x') => {
                        let hex = std::str::from_utf8(bytes.get(i + 2..i + 4)?).ok()?;
                        current.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 4;
                    }
                    b'\\' => return None,
                    b'"' => {
                        // A closing quote must be followed by a space or the end.
                        if bytes.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    b => {
                        current.push(*b);
                        i += 1;
                    }
                }
            }
            args.push(current);
        }
    }

    #[test]
    fn arguments_read_back_byte_for_byte() {
        let hostile = [
            ">p'\"\\ \n#x",
            "\\';CREATE ROLE injected SUPERUSER LOGIN;--",
            "trailing\\",
            "'x",
            "",
            "ünïcödé",
            "a\"b c\\\"",
        ];
        for arg in hostile {
            let line = quote(arg);
            assert!(!line.contains('\n'), "{line}");
            assert_eq!(
                split_args(&line),
                Some(vec![arg.as_bytes().to_vec()]),
                "{line}"
            );
        }
    }

    #[test]
    fn the_script_authenticates_first_and_keeps_each_command_on_one_line() {
        let script = script(
            "s3cret",
            &["ACL", "SETUSER", "app", "reset", "on", ">pa ss\nword"],
        );
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(lines.len(), 2, "{script}");
        assert_eq!(
            split_args(lines[0]).unwrap(),
            [
                b"AUTH".to_vec(),
                ADMIN_USER.as_bytes().to_vec(),
                b"s3cret".to_vec()
            ]
        );
        assert_eq!(split_args(lines[1]).unwrap()[5], b">pa ss\nword".to_vec());
    }
}
