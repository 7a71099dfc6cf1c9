//! What the orchestrator asks of wherever nodes run. A backend places nodes (a port, an
//! address), tells which programs it cannot run, and hands out [`Node`] handles; a node is the
//! runtime's [`NodeOps`] (exec, files, start, stop) plus its life cycle (create, install,
//! destroy) and what the host reports of it. The process backend implements both here; a
//! second backend (containers, VMs) implements them without touching the orchestrator, and a
//! node on another host is reached through the same [`Node`] trait over the host link.
//!
//! Everything here is plain data that crosses the host link as JSON.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::runtime::NodeOps;
use crate::runtime::types::{Readiness, ServiceSpec, StopSignal};

use super::Service;

/// Where nodes run.
#[async_trait]
pub trait Backend: Send + Sync {
    /// What this backend is called in placements (`process`).
    fn kind(&self) -> &'static str;
    /// The address its nodes listen on, as other nodes and clients reach them.
    fn address(&self) -> String;
    /// The directory node directories are named under, as drivers see their paths.
    fn nodes_dir(&self) -> std::path::PathBuf;
    /// A free port for a new node that is not in `taken` (the ports the store has given out).
    fn allocate_port(&self, taken: &HashSet<u16>) -> Result<u16, String>;
    /// Why a program a driver names cannot run on this backend's nodes, if it cannot.
    fn cannot_run(&self, program: &str) -> Option<String>;
    /// A handle on a node (it need not exist yet: [`Node::create`] makes it).
    fn node(&self, info: &NodeInfo) -> Arc<dyn Node>;
    /// Copies the whole of node `from` into the path `to` of node `to` (a snapshot a replica
    /// seeds from), owned by `to`. Both are this backend's.
    async fn copy_between(&self, from: &NodeInfo, to: &NodeInfo, path: &str) -> Result<(), String>;
}

/// One node: what drivers do on it, and its life cycle.
#[async_trait]
pub trait Node: NodeOps {
    /// Creates the node: its identity, its directory, its limits.
    async fn create(&self) -> Result<(), String>;
    /// Writes what a driver rendered: directories and files in the node, the service the
    /// backend runs.
    async fn install(&self, installation: &Installation) -> Result<(), String>;
    /// Stops everything of the node and removes it.
    async fn destroy(&self) -> Result<(), String>;
    /// Whether the node exists where it is placed (its directory is there).
    async fn holds(&self) -> bool;
    /// What the host sees of the node, if it exists.
    async fn report(&self) -> Option<NodeReport>;
}

/// What a backend knows about a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The node's id.
    pub id: String,
    /// The directory's name under the nodes directory (short: socket paths are limited).
    pub directory: String,
    /// Its port.
    pub port: u16,
    /// The memory it may use, MiB (its flavor's).
    pub memory_mb: u32,
}

/// How a node is isolated, for the instance view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Isolation {
    /// The node's own account, or `None` when it runs as the service's user.
    pub user: Option<String>,
    /// Whether it has a private mount namespace.
    pub namespace: bool,
    /// The Landlock ABI it is confined with; 0 for none.
    pub landlock_abi: u32,
    /// `cgroup` or `rlimit`: how memory and processes are limited.
    pub limits: String,
    /// The memory limit, MiB (for `rlimit`, the address-space limit).
    pub memory_mb: u64,
    /// The process limit, when one applies.
    pub max_processes: Option<u64>,
}

/// What the host sees of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeReport {
    /// The bytes its files hold.
    pub used_bytes: u64,
    /// How it is isolated.
    pub isolation: Isolation,
}

/// A file a driver rendered for a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallFile {
    /// Relative to the node directory.
    pub path: String,
    /// Its contents.
    pub contents: String,
    /// Its mode (only the permission bits are used).
    pub mode: u32,
}

/// What a driver rendered for a node, as data a backend installs: the runtime's service
/// spec without its WIT types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installation {
    /// Directories to create, relative to the node directory.
    pub directories: Vec<String>,
    /// Files to write.
    pub files: Vec<InstallFile>,
    /// How to run the server.
    pub service: Service,
}

impl Installation {
    /// The installation a driver's service spec asks for.
    pub fn from_spec(spec: &ServiceSpec) -> Installation {
        Installation {
            directories: spec.directories.clone(),
            files: spec
                .files
                .iter()
                .map(|file| InstallFile {
                    path: file.path.clone(),
                    contents: file.contents.clone(),
                    mode: file.mode,
                })
                .collect(),
            service: Service {
                argv: spec.run.argv.clone(),
                env: spec.run.env.clone(),
                readiness: match &spec.readiness {
                    Readiness::TcpConnect => None,
                    Readiness::Exec(command) => Some((command.argv.clone(), command.env.clone())),
                },
                stop_signal: match spec.stop_signal {
                    StopSignal::Term => "TERM",
                    StopSignal::Interrupt => "INT",
                    StopSignal::Quit => "QUIT",
                }
                .into(),
                stop_timeout_ms: spec.stop_timeout_ms,
                start_timeout_ms: spec.start_timeout_ms,
                system_paths: spec.system_paths.clone(),
            },
        }
    }
}
