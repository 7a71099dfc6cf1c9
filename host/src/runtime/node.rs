//! The seam between drivers and wherever nodes run. A backend implements [`NodeOps`]; the
//! runtime hands a driver a `node` resource backed by it for the length of one call.

use std::path::{Component as PathPart, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

/// A command for a node, after the runtime checked that the driver may run it.
#[derive(Debug, Clone)]
pub struct NodeCommand {
    /// The binary name (declared by the driver) and its arguments.
    pub argv: Vec<String>,
    /// Bytes for standard input.
    pub stdin: Option<Vec<u8>>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// How long it may run; `None` is the backend's default.
    pub timeout: Option<Duration>,
}

/// What a command produced.
#[derive(Debug, Clone, Default)]
pub struct CommandOutput {
    /// Exit status; 128 + signal number for a killed process.
    pub status: i32,
    /// Standard output, cut at the backend's cap.
    pub stdout: Vec<u8>,
    /// Standard error, cut at the backend's cap.
    pub stderr: Vec<u8>,
    /// Whether either stream was cut.
    pub truncated: bool,
}

/// What a backend offers for one node. Paths are relative to the node directory and already
/// checked by [`node_path`]; errors are messages the driver receives.
#[async_trait]
pub trait NodeOps: Send + Sync {
    /// The node's id.
    fn id(&self) -> String;
    /// Host and port the server listens on.
    fn address(&self) -> (String, u16);
    /// The node directory.
    fn directory(&self) -> PathBuf;
    /// Runs a command in the node directory as the node's user.
    async fn exec(&self, command: NodeCommand) -> Result<CommandOutput, String>;
    /// Reads a file.
    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, String>;
    /// Writes a file atomically.
    async fn write_file(&self, path: &Path, contents: &[u8], mode: u32) -> Result<(), String>;
    /// Whether a path exists.
    async fn exists(&self, path: &Path) -> Result<bool, String>;
    /// Removes a file or directory tree.
    async fn remove(&self, path: &Path) -> Result<(), String>;
    /// Whether the server process runs.
    async fn is_running(&self) -> bool;
    /// Starts the server and waits until it is ready.
    async fn start(&self) -> Result<(), String>;
    /// Stops the server.
    async fn stop(&self) -> Result<(), String>;
    /// Restarts the server.
    async fn restart(&self) -> Result<(), String>;
}

/// What a `node` resource in a driver's store refers to.
pub struct NodeRef {
    pub(crate) ops: Arc<dyn NodeOps>,
}

/// Checks a path a driver gave: relative, no `..`, not empty. Returns it normalised.
pub fn node_path(path: &str) -> Result<PathBuf, String> {
    let mut clean = PathBuf::new();
    for part in Path::new(path).components() {
        match part {
            PathPart::Normal(name) => clean.push(name),
            PathPart::CurDir => {}
            PathPart::ParentDir | PathPart::RootDir | PathPart::Prefix(_) => {
                return Err(format!(
                    "path {path:?} must be relative to the node directory and must not contain .."
                ));
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(format!("path {path:?} names the node directory itself"));
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::node_path;

    #[test]
    fn paths_stay_inside_the_node_directory() {
        // Relative paths are kept, with `.` parts dropped.
        assert_eq!(
            node_path("./data/server.conf").unwrap().to_str(),
            Some("data/server.conf")
        );
        // Absolute paths and parent references are refused.
        assert!(node_path("/etc/passwd").is_err());
        assert!(node_path("data/../../x").is_err());
        assert!(node_path(".").is_err());
    }
}
