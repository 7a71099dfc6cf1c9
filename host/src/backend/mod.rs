//! Where nodes run. The process backend runs each node as a supervised local process with its
//! own directory (`<state>/nodes/<name>/`), a port from a configured range below the kernel's
//! ephemeral ports, bound to loopback, as an unprivileged user. It implements the runtime's
//! [`NodeOps`] so drivers act on nodes through it, and gives the orchestrator what it needs to
//! install, start, stop, adopt and destroy nodes.
//!
//! The backend keeps `.drover/` inside each node directory for itself: `service.json` (how to
//! run the server, as the driver rendered it), `pid` (the running process and its start time,
//! so a restarted host adopts it and never mistakes a reused pid) and `server.log`.
//!
//! Must not import: http, service, orchestrator, store.

mod exec;
mod files;
mod process;

use std::collections::{BTreeMap, HashSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::runtime::types::{Readiness, ServiceSpec, StopSignal};
use crate::runtime::{CommandOutput, NodeCommand, NodeOps};

pub use process::ProcessState;

/// Where the backend looks for programs not listed in the configuration.
const SEARCH_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The largest file a driver may read through `node.read-file`: configuration files and small
/// state files, never data.
const READ_CAP: u64 = 16 << 20;

/// The process backend's settings.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Where node directories are created.
    pub nodes_dir: PathBuf,
    /// Inclusive range of node ports.
    pub port_range: (u16, u16),
    /// The user nodes run as when the host runs as root.
    pub node_user: String,
    /// Program name → path; `""` forbids a program.
    pub binaries: BTreeMap<String, String>,
    /// Default timeout of commands on nodes.
    pub exec_timeout: Duration,
    /// Output kept per stream of a command.
    pub output_cap: usize,
}

/// The user node processes run as.
#[derive(Debug, Clone)]
pub(crate) struct RunAs {
    pub uid: u32,
    pub gid: u32,
    pub name: String,
}

/// The process backend.
pub struct ProcessBackend {
    config: BackendConfig,
    run_as: Option<RunAs>,
}

/// What the backend knows about a node: its id, directory name and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node's id.
    pub id: String,
    /// The directory's name under the nodes directory (short: socket paths are limited).
    pub directory: String,
    /// Its port.
    pub port: u16,
}

/// A readiness probe: a program (a declared binary name and its arguments) and its environment.
pub type Probe = (Vec<String>, Vec<(String, String)>);

/// How to run a node's server, saved in `.drover/service.json` so the backend can start it
/// again without asking the driver (after a host restart, or when a driver restarts it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Service {
    /// The program (a name the driver declared) and its arguments.
    pub argv: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// How to tell the server is ready: `None` is a TCP connection to the port.
    pub readiness: Option<Probe>,
    /// `TERM`, `INT` or `QUIT`.
    pub stop_signal: String,
    /// How long a clean stop may take.
    pub stop_timeout_ms: u32,
    /// How long a start may take until ready.
    pub start_timeout_ms: u32,
}

impl Service {
    /// The service a driver rendered.
    pub fn from_spec(spec: &ServiceSpec) -> Service {
        Service {
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
        }
    }
}

impl ProcessBackend {
    /// A backend; resolves the node user when running as root and checks it can reach the nodes
    /// directory.
    pub fn new(config: BackendConfig) -> anyhow::Result<Arc<ProcessBackend>> {
        let run_as = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name(&config.node_user)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "node processes never run as root, and the user {:?} does not exist: run scripts/setup \
                     (or: useradd --system drover-node)",
                    config.node_user
                )
            })?;
            Some(RunAs {
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
                name: user.name,
            })
        } else {
            None
        };
        let backend = ProcessBackend { config, run_as };
        files::prepare_nodes_dir(&backend.config.nodes_dir, backend.run_as.as_ref())?;
        Ok(Arc::new(backend))
    }

    /// The directory node directories are in.
    pub fn nodes_dir(&self) -> &Path {
        &self.config.nodes_dir
    }

    /// The user nodes run as (`None`: the host's own user).
    pub fn node_user(&self) -> Option<&str> {
        self.run_as.as_ref().map(|r| r.name.as_str())
    }

    /// A handle on a node.
    pub fn node(self: &Arc<Self>, info: &NodeInfo) -> Arc<ProcessNode> {
        Arc::new(ProcessNode {
            backend: self.clone(),
            info: info.clone(),
            dir: self.config.nodes_dir.join(&info.directory),
        })
    }

    /// A free port from the range that is not in `taken` and can be bound right now.
    pub fn allocate_port(&self, taken: &HashSet<u16>) -> anyhow::Result<u16> {
        let (low, high) = self.config.port_range;
        (low..=high)
            .find(|port| !taken.contains(port) && TcpListener::bind(("127.0.0.1", *port)).is_ok())
            .ok_or_else(|| anyhow::anyhow!("no free port left in the node port range {low}-{high}"))
    }

    /// The path of a program a driver names, if the operator allows it and it is installed.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, String> {
        if name.is_empty() || name.contains('/') {
            return Err(format!("{name:?} is not a program name"));
        }
        match self.config.binaries.get(name) {
            Some(path) if path.is_empty() => {
                Err(format!("the operator does not allow {name} on nodes"))
            }
            Some(path) => {
                let path = PathBuf::from(path);
                if path.is_file() {
                    Ok(path)
                } else {
                    Err(format!(
                        "{name} is configured as {} but that file does not exist",
                        path.display()
                    ))
                }
            }
            None => SEARCH_PATH
                .split(':')
                .map(|dir| Path::new(dir).join(name))
                .find(|candidate| candidate.is_file())
                .ok_or_else(|| format!("{name} is not installed (looked in {SEARCH_PATH})")),
        }
    }
}

/// A node of the process backend.
pub struct ProcessNode {
    backend: Arc<ProcessBackend>,
    info: NodeInfo,
    dir: PathBuf,
}

impl ProcessNode {
    /// The node's id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The node's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the node directory (owned by the node user, mode 0700).
    pub async fn create(&self) -> Result<(), String> {
        files::create_node_dir(&self.dir, self.backend.run_as.as_ref())
    }

    /// Writes what a driver rendered: its directories and files, and the service definition
    /// the backend starts the server from.
    pub async fn install(&self, spec: &ServiceSpec) -> Result<(), String> {
        let run_as = self.backend.run_as.as_ref();
        for directory in &spec.directories {
            files::create_dir(&self.dir, &crate::runtime::node_path(directory)?, run_as)?;
        }
        for file in &spec.files {
            files::write(
                &self.dir,
                &crate::runtime::node_path(&file.path)?,
                file.contents.as_bytes(),
                file.mode & 0o777,
                run_as,
            )?;
        }
        let service =
            serde_json::to_vec_pretty(&Service::from_spec(spec)).map_err(|e| e.to_string())?;
        files::write(
            &self.dir,
            Path::new(".drover/service.json"),
            &service,
            0o600,
            run_as,
        )
    }

    /// The running state of the server process.
    pub fn state(&self) -> ProcessState {
        process::state(&self.dir)
    }

    /// The last lines of the server's log, for faults.
    pub fn log_tail(&self, lines: usize) -> String {
        process::log_tail(&self.dir, lines)
    }

    /// Stops the server and removes the node directory.
    pub async fn destroy(&self) -> Result<(), String> {
        process::stop(self).await?;
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(format!("removing {}: {error}", self.dir.display())),
        }
    }

    fn service(&self) -> Result<Service, String> {
        let text = std::fs::read(self.dir.join(".drover/service.json"))
            .map_err(|e| format!("node {} has no service definition: {e}", self.info.id))?;
        serde_json::from_slice(&text)
            .map_err(|e| format!("node {}: service definition: {e}", self.info.id))
    }
}

#[async_trait]
impl NodeOps for ProcessNode {
    fn id(&self) -> String {
        self.info.id.clone()
    }

    fn address(&self) -> (String, u16) {
        ("127.0.0.1".into(), self.info.port)
    }

    fn directory(&self) -> PathBuf {
        self.dir.clone()
    }

    async fn exec(&self, command: NodeCommand) -> Result<CommandOutput, String> {
        exec::run(self, command).await
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, String> {
        files::read(&self.dir, path, READ_CAP)
    }

    async fn write_file(&self, path: &Path, contents: &[u8], mode: u32) -> Result<(), String> {
        files::write(
            &self.dir,
            path,
            contents,
            mode,
            self.backend.run_as.as_ref(),
        )
    }

    async fn exists(&self, path: &Path) -> Result<bool, String> {
        files::exists(&self.dir, path)
    }

    async fn remove(&self, path: &Path) -> Result<(), String> {
        files::remove(&self.dir, path)
    }

    async fn is_running(&self) -> bool {
        matches!(self.state(), ProcessState::Running { .. })
    }

    async fn start(&self) -> Result<(), String> {
        process::start(self).await
    }

    async fn stop(&self) -> Result<(), String> {
        process::stop(self).await
    }

    async fn restart(&self) -> Result<(), String> {
        process::stop(self).await?;
        process::start(self).await
    }
}
