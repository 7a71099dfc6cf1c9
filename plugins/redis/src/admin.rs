//! The driver's administrative access to a node: `redis-cli` over the node's Unix socket as
//! the `drover-admin` ACL user, whose password lives in `admin.secret` (mode 0600) and reaches
//! redis-cli through its environment, never its command line.

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

/// Runs one Redis command as the admin user.
pub fn command(node: &Node, args: &[&str]) -> DriverResult<Reply> {
    let secret = node
        .read_text(SECRET_FILE)?
        .ok_or_else(|| DriverError::not_ready("the node has not been initialised yet"))?;
    let directory = node.directory();
    let socket = socket(&directory);
    let mut argv = vec![
        "redis-cli",
        "--raw",
        "--no-auth-warning",
        "-s",
        &socket,
        "--user",
        ADMIN_USER,
    ];
    argv.extend_from_slice(args);
    let output = node
        .exec(&ExecRequest {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            stdin: None,
            env: vec![("REDISCLI_AUTH".into(), secret.trim().to_string())],
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
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
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
