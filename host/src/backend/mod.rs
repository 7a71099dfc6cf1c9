//! Where nodes run. The process backend runs each node as supervised local processes with its
//! own directory (`<nodes>/<name>/`), a port from a configured range below the kernel's
//! ephemeral ports, bound to loopback. It implements the runtime's [`NodeOps`] so drivers act
//! on nodes through it, and gives the orchestrator what it needs to install, start, stop,
//! adopt and destroy nodes.
//!
//! Tenants never reach each other: a node's processes run as a Unix identity of its own
//! (`identity`), confined to their own directory and the read-only system paths their programs
//! need, with kernel limits (`sandbox`, `cgroups`, `landlock`). The host keeps what it relies on
//! in a supervision directory of its own per node (`supervise`) and touches node directories
//! only through descriptors that refuse links (`nodedir`).
//!
//! Must not import: http, service, orchestrator, store.

mod anchor;
mod cgroups;
mod contract;
mod exec;
mod identity;
mod landlock;
mod nodedir;
mod sandbox;
mod supervise;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::runtime::{CommandOutput, NodeCommand, NodeOps};

pub use contract::{Backend, InstallFile, Installation, Isolation, Node, NodeInfo, NodeReport};

pub use identity::Identity;
pub use supervise::ProcessState;

use cgroups::NodeCgroup;
use nodedir::{NodeDir, Owner};
use sandbox::{Sandbox, Spawn, View, ViewSpec};

/// Where the backend looks for programs not listed in the configuration.
const SEARCH_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where the process backend's nodes listen: this host's loopback.
const ADDRESS: &str = "127.0.0.1";

/// The largest file a driver may read through `node.read-file`: configuration files and small
/// state files, never data.
const READ_CAP: u64 = 16 << 20;

/// The process backend's settings.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Where node directories are created.
    pub nodes_dir: PathBuf,
    /// Where the host keeps what it knows about each node (service, process, log), out of the
    /// nodes' reach.
    pub supervision_dir: PathBuf,
    /// Inclusive range of node ports.
    pub port_range: (u16, u16),
    /// Inclusive range of the uids (and gids) nodes run as when the host runs as root.
    pub uid_range: (u32, u32),
    /// Where the machine's Drover services record which node holds which uid.
    pub identities_dir: PathBuf,
    /// System paths every node sees, read-only.
    pub system_paths: Vec<PathBuf>,
    /// Processes (threads included) one node may have.
    pub max_processes: u32,
    /// Program name → path; `""` forbids a program.
    pub binaries: BTreeMap<String, String>,
    /// Default timeout of commands on nodes.
    pub exec_timeout: Duration,
    /// Output kept per stream of a command.
    pub output_cap: usize,
}

/// The process backend.
pub struct ProcessBackend {
    config: BackendConfig,
    nodes_dir: PathBuf,
    supervision_dir: PathBuf,
    sandbox: Sandbox,
    identities: Option<identity::Identities>,
    /// What this host process holds for each node it has touched.
    held: Mutex<HashMap<String, Arc<Held>>>,
    /// Itself, for the node handles it gives out.
    me: std::sync::Weak<ProcessBackend>,
}

/// What a host process holds for a node while it runs, shared by every handle on the node.
#[derive(Default)]
struct Held {
    /// Done once the node is recovered (see `supervise`).
    recovered: tokio::sync::OnceCell<()>,
    /// Its view: its anchor thread (cgroups, namespace) and ruleset.
    view: tokio::sync::Mutex<Option<Arc<View>>>,
}

/// A readiness probe: a program (a declared binary name and its arguments) and its environment.
pub type Probe = (Vec<String>, Vec<(String, String)>);

/// How to run a node's server, kept in the node's supervision directory so the backend can
/// start it again without asking the driver (after a host restart, or when a driver restarts
/// it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
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
    /// Read-only system paths the server and its commands need, beyond the operator's.
    #[serde(default)]
    pub system_paths: Vec<String>,
}

/// How much a host file must survive.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// Flushed to disk before it replaces the old one: it must survive the machine's crash.
    Machine,
    /// Only the process's crash matters: what is lost with the machine is rebuilt (a server
    /// whose record is lost is an unknown process of its node, killed and started again).
    Process,
}

/// Writes a file only the host may read (mode 0600) atomically: a temporary file beside it,
/// renamed over it. For the host's own directories, which no node can reach.
fn write_private(path: &Path, contents: &[u8], durability: Durability) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(".{name}.{}", std::process::id()));
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(contents)?;
            if durability == Durability::Machine {
                file.sync_all()?;
            }
            Ok(())
        })
        .and_then(|()| fs::rename(&temporary, path))
}

/// Creates a directory only the host may enter, or tightens one that exists.
fn private_dir(path: &Path) -> anyhow::Result<PathBuf> {
    fs::create_dir_all(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
    Ok(fs::canonicalize(path)?)
}

impl ProcessBackend {
    /// A backend: makes its directories, and decides how nodes are isolated on this host.
    pub fn new(config: BackendConfig) -> anyhow::Result<Arc<ProcessBackend>> {
        let nodes_dir = private_dir(&config.nodes_dir)?;
        let supervision_dir = private_dir(&config.supervision_dir)?;
        // Where the programs nodes run are: the search path, the configured ones, and where
        // links among them lead.
        let mut programs: Vec<PathBuf> = SEARCH_PATH.split(':').map(PathBuf::from).collect();
        for path in config.binaries.values().filter(|p| !p.is_empty()) {
            let path = Path::new(path);
            programs.extend(path.parent().map(Path::to_path_buf));
            programs.extend(
                fs::canonicalize(path)
                    .ok()
                    .and_then(|real| real.parent().map(Path::to_path_buf)),
            );
        }
        let sandbox = Sandbox::detect(config.system_paths.clone(), programs, config.port_range);
        let identities = if sandbox.privileged {
            Some(identity::Identities::new(
                config.uid_range,
                &config.identities_dir,
            )?)
        } else {
            None
        };
        if sandbox.privileged {
            tracing::info!("{}", sandbox.describe());
        } else {
            tracing::warn!("{}", sandbox.describe());
            eprintln!("drover: {}", sandbox.describe());
        }
        if sandbox.abi.version == 0 {
            tracing::error!(
                "the kernel offers no Landlock: nodes are not confined to their directories"
            );
        }
        Ok(Arc::new_cyclic(|me| ProcessBackend {
            config,
            nodes_dir,
            supervision_dir,
            sandbox,
            identities,
            held: Mutex::new(HashMap::new()),
            me: me.clone(),
        }))
    }

    /// A handle on a node of this backend, with what only this backend offers (its server's
    /// process state).
    pub fn process_node(&self, info: &NodeInfo) -> Arc<ProcessNode> {
        Arc::new(ProcessNode {
            backend: self.me.upgrade().expect("a backend outlives its calls"),
            info: info.clone(),
            dir: self.nodes_dir.join(&info.directory),
            supervision: self.supervision_dir.join(&info.directory),
            identity: Mutex::new(None),
        })
    }

    /// A free port from the range that is not in `taken` and can be bound right now.
    ///
    /// The search starts at a random place in the range: creates running at once would
    /// otherwise all choose the same lowest free port, and all but one would have to try again.
    fn free_port(&self, taken: &HashSet<u16>) -> Result<u16, String> {
        use rand::Rng as _;
        let (low, high) = self.config.port_range;
        let span = u32::from(high - low) + 1;
        let start = rand::rng().random_range(0..span);
        (0..span)
            .map(|i| low + ((start + i) % span) as u16)
            .find(|port| !taken.contains(port) && TcpListener::bind((ADDRESS, *port)).is_ok())
            .ok_or_else(|| format!("no free port left in the node port range {low}-{high}"))
    }

    /// The path of a program a driver names, if the operator allows it and it is installed.
    fn resolve(&self, name: &str) -> Result<PathBuf, String> {
        if name.is_empty() || name.contains('/') {
            return Err(format!("{name:?} is not a program name"));
        }
        match self.config.binaries.get(name) {
            Some(path) if path.is_empty() => {
                Err(format!("the operator does not allow {name} on nodes"))
            }
            Some(path) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(format!(
                        "{name} is configured as {} but that file does not exist",
                        path.display()
                    ));
                }
                Ok(path)
            }
            None => SEARCH_PATH
                .split(':')
                .map(|dir| Path::new(dir).join(name))
                .find(|candidate| candidate.is_file())
                .ok_or_else(|| format!("{name} is not installed (looked in {SEARCH_PATH})")),
        }
    }

    fn held(&self, directory: &str) -> Arc<Held> {
        self.held
            .lock()
            .unwrap()
            .entry(directory.to_string())
            .or_default()
            .clone()
    }
}

#[async_trait]
impl Backend for ProcessBackend {
    fn kind(&self) -> &'static str {
        "process"
    }

    /// Processes of this host, on its loopback.
    fn address(&self) -> String {
        ADDRESS.to_string()
    }

    fn nodes_dir(&self) -> PathBuf {
        self.nodes_dir.clone()
    }

    fn allocate_port(&self, taken: &HashSet<u16>) -> Result<u16, String> {
        self.free_port(taken)
    }

    fn cannot_run(&self, program: &str) -> Option<String> {
        self.resolve(program).err()
    }

    fn node(&self, info: &NodeInfo) -> Arc<dyn Node> {
        self.process_node(info)
    }

    async fn copy_between(&self, from: &NodeInfo, to: &NodeInfo, path: &str) -> Result<(), String> {
        self.process_node(to)
            .copy_from(&self.process_node(from), path)
            .await
    }
}

/// A node of the process backend.
pub struct ProcessNode {
    backend: Arc<ProcessBackend>,
    info: NodeInfo,
    dir: PathBuf,
    supervision: PathBuf,
    identity: Mutex<Option<Identity>>,
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

    /// The node's own identity, if it has one (the host runs as root and created the node).
    pub fn identity(&self) -> Option<Identity> {
        let mut cached = self.identity.lock().unwrap();
        if let (None, Some(identities)) = (*cached, &self.backend.identities) {
            *cached = fs::read_to_string(self.supervision.join("identity"))
                .ok()
                .and_then(|text| {
                    let mut parts = text.split_whitespace();
                    Some(Identity {
                        uid: parts.next()?.parse().ok()?,
                        gid: parts.next()?.parse().ok()?,
                    })
                })
                // The record is not flushed to disk; the claims are the truth it repeats.
                .or_else(|| identities.held_by(&self.dir));
        }
        *cached
    }

    fn owner(&self) -> Owner {
        self.identity().map(|i| (i.uid, i.gid))
    }

    fn open_dir(&self) -> Result<NodeDir, String> {
        NodeDir::open(&self.backend.nodes_dir, &self.info.directory, self.owner())
    }

    fn cgroup(&self) -> Option<NodeCgroup> {
        let identity = self.identity()?;
        Some(
            self.backend
                .sandbox
                .cgroups
                .as_ref()?
                .group(&format!("drover-{}", identity.uid)),
        )
    }

    fn memory_bytes(&self) -> u64 {
        u64::from(if self.info.memory_mb == 0 {
            1024
        } else {
            self.info.memory_mb
        }) << 20
    }

    /// Every live process of the node, as the kernel knows them (zombies, which nothing can
    /// signal any more, are left out).
    fn processes(&self) -> Vec<u32> {
        let mut found: Vec<u32> = self.cgroup().map(|c| c.processes()).unwrap_or_default();
        match self.identity() {
            Some(identity) => found.extend(identity::processes_of(identity.uid)),
            // Without an identity, a node's processes are those working in its directory.
            None => found.extend(processes_in(&self.dir)),
        }
        found.sort_unstable();
        found.dedup();
        found.retain(|pid| supervise::alive(*pid));
        found
    }

    /// Whether `pid` is one of the node's processes.
    fn owns(&self, pid: u32) -> bool {
        match self.identity() {
            Some(identity) => {
                identity::process_uid(pid) == Some(identity.uid)
                    || self.cgroup().is_some_and(|c| c.contains(pid))
            }
            None => works_in(pid, &self.dir),
        }
    }

    fn ensure_limits(&self) -> Result<(), String> {
        if let Some(cgroup) = self.cgroup() {
            cgroup.ensure(self.memory_bytes(), self.backend.config.max_processes)?;
        }
        Ok(())
    }

    fn service(&self) -> Result<Service, String> {
        let text = fs::read(self.supervision.join("service.json"))
            .map_err(|e| format!("node {} has no service definition: {e}", self.info.id))?;
        serde_json::from_slice(&text)
            .map_err(|e| format!("node {}: service definition: {e}", self.info.id))
    }

    /// A command for `program`, confined as the node's processes are.
    async fn command(
        &self,
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        service: &Service,
    ) -> Result<(tokio::process::Command, Arc<View>), String> {
        tracing::debug!(node = %self.info.id, program = %program.display(), "starting a process on the node");
        // Never as root: a node a root host runs has an identity, or nothing of it runs.
        if self.backend.sandbox.privileged && self.identity().is_none() {
            return Err(format!(
                "node {} has no identity of its own (its supervision record is gone); it cannot run anything",
                self.info.id
            ));
        }
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .env_clear()
            .env("PATH", SEARCH_PATH)
            .env("HOME", &self.dir)
            .env("LANG", "C.UTF-8")
            .envs(env.iter().map(|(k, v)| (k, v)))
            // Its own process group: a server outlives the host, a command is killed as one.
            .process_group(0);
        let cgroup = self.cgroup();
        if let Some(cgroup) = &cgroup
            && !cgroup.pids.exists()
        {
            self.ensure_limits()?;
        }
        let view = self.view(service).await?;
        self.backend.sandbox.confine(
            &mut command,
            &view,
            &Spawn {
                node_dir: &self.dir,
                identity: self.identity(),
                in_cgroups: cgroup.is_some(),
                program,
                memory_bytes: self.memory_bytes(),
                max_processes: self.backend.config.max_processes,
            },
        )?;
        Ok((command, view))
    }

    /// The node's view, built at its first process start (and again when its service declares
    /// other system paths).
    async fn view(&self, service: &Service) -> Result<Arc<View>, String> {
        let held = self.backend.held(&self.info.directory);
        let mut slot = held.view.lock().await;
        if let Some(view) = slot.as_ref()
            && view.extra_paths == service.system_paths
        {
            return Ok(view.clone());
        }
        let root = self.supervision.join("root");
        if self.backend.sandbox.privileged {
            fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        }
        let started = std::time::Instant::now();
        let spec = ViewSpec {
            node_dir: self.dir.clone(),
            root,
            port: self.info.port,
            extra_paths: service.system_paths.clone(),
            memory_bytes: self.memory_bytes(),
        };
        let (backend, cgroup) = (self.backend.clone(), self.cgroup());
        let runtime = tokio::runtime::Handle::current();
        // It waits for the kernel (cgroup migration) and makes many system calls: not on a
        // worker of the runtime.
        let view = tokio::task::spawn_blocking(move || {
            backend.sandbox.view(&spec, cgroup.as_ref(), runtime)
        })
        .await
        .map_err(|e| format!("building the node's view: {e}"))??;
        let view = Arc::new(view);
        tracing::debug!(node = %self.info.id, elapsed_us = started.elapsed().as_micros() as u64, "built the node's view");
        *slot = Some(view.clone());
        Ok(view)
    }

    /// Builds the node's view before its first process start, beside the rest of the step
    /// that installed its service.
    async fn prepare_for_processes(&self, service: Service) {
        if let Err(error) = self.view(&service).await {
            tracing::debug!(node = %self.info.id, "preparing the node's processes: {error}");
        }
    }

    /// Recovers the node (see `supervise`) unless this process already has: before anything
    /// acts on a node, including on its files, nothing a dead host started runs in it.
    async fn recovered(&self) {
        self.backend
            .held(&self.info.directory)
            .recovered
            .get_or_init(|| self.recover())
            .await;
    }

    /// Creates the node: its identity, its supervision directory and its directory (mode 0700,
    /// the node's own).
    async fn create_here(&self) -> Result<(), String> {
        private_dir(&self.supervision).map_err(|e| e.to_string())?;
        // The directory exists before its claim does: a claim naming a directory that does
        // not exist is one that may be taken over.
        NodeDir::create(&self.backend.nodes_dir, &self.info.directory, None)?;
        if let Some(identities) = &self.backend.identities {
            let identity = identities.claim(&self.dir, self.identity())?;
            self.write_supervision(
                Durability::Process,
                "identity",
                format!("{} {}\n", identity.uid, identity.gid).as_bytes(),
            )?;
            *self.identity.lock().unwrap() = Some(identity);
        }
        NodeDir::create(&self.backend.nodes_dir, &self.info.directory, self.owner())?;
        // A group left by an earlier holder of the uid gets this node's limits.
        self.ensure_limits()?;
        self.recovered().await;
        Ok(())
    }

    /// Writes what a driver rendered: its directories and files in the node directory, and the
    /// service definition in the host's supervision directory.
    async fn install_here(&self, installation: &Installation) -> Result<(), String> {
        self.recovered().await;
        let dir = self.open_dir()?;
        for directory in &installation.directories {
            dir.create_dir(&crate::runtime::node_path(directory)?)?;
        }
        for file in &installation.files {
            dir.write(
                &crate::runtime::node_path(&file.path)?,
                file.contents.as_bytes(),
                file.mode & 0o777,
            )?;
        }
        let service = installation.service.clone();
        let text = serde_json::to_vec_pretty(&service).map_err(|e| e.to_string())?;
        self.write_supervision(Durability::Machine, "service.json", &text)?;
        let node = self.backend.process_node(&self.info);
        tokio::spawn(async move { node.prepare_for_processes(service).await });
        Ok(())
    }

    /// Copies another node's whole directory into `to` in this one (a snapshot a replica seeds
    /// from), owned by this node.
    async fn copy_from(&self, other: &ProcessNode, to: &str) -> Result<(), String> {
        self.recovered().await;
        let to = crate::runtime::node_path(to)?;
        self.open_dir()?
            .copy_tree(&other.open_dir()?, Path::new(""), &to)
    }

    /// The bytes the node's files hold.
    fn disk_usage(&self) -> u64 {
        self.open_dir().map(|d| d.disk_usage()).unwrap_or(0)
    }

    /// How the node is isolated.
    fn isolation(&self) -> Isolation {
        let sandbox = &self.backend.sandbox;
        let cgroup_limits = self.cgroup().and_then(|c| c.limits());
        let (memory_mb, max_processes) = match cgroup_limits {
            Some((memory, processes)) => (memory >> 20, Some(processes)),
            None => (
                sandbox::address_space_limit(self.memory_bytes()) >> 20,
                self.identity()
                    .map(|_| u64::from(self.backend.config.max_processes)),
            ),
        };
        Isolation {
            user: self.identity().map(|i| i.name()),
            namespace: sandbox.privileged,
            landlock_abi: sandbox.abi.version,
            limits: if cgroup_limits.is_some() {
                "cgroup"
            } else {
                sandbox.limits_kind()
            }
            .to_string(),
            memory_mb,
            max_processes,
        }
    }

    /// Stops everything of the node and removes it: its directory, groups, identity and
    /// supervision directory.
    async fn destroy_here(&self) -> Result<(), String> {
        self.recovered().await;
        self.stop_server().await?;
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(format!("removing {}: {error}", self.dir.display())),
        }
        // Its anchor thread leaves the node's groups before they are removed.
        let held = self
            .backend
            .held
            .lock()
            .unwrap()
            .remove(&self.info.directory);
        drop(held);
        if let Some(cgroup) = self.cgroup() {
            cgroup.remove()?;
        }
        if let (Some(identities), Some(identity)) = (&self.backend.identities, self.identity()) {
            identities.release(identity, &self.dir)?;
        }
        match fs::remove_dir_all(&self.supervision) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(format!("removing {}: {error}", self.supervision.display()));
            }
        }
        Ok(())
    }
}

fn works_in(pid: u32, dir: &Path) -> bool {
    fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
}

/// The processes working in `dir` or below it.
fn processes_in(dir: &Path) -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|pid| works_in(*pid, dir))
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl NodeOps for ProcessNode {
    fn id(&self) -> String {
        self.info.id.clone()
    }

    fn address(&self) -> (String, u16) {
        (ADDRESS.into(), self.info.port)
    }

    fn directory(&self) -> PathBuf {
        self.dir.clone()
    }

    async fn exec(&self, command: NodeCommand) -> Result<CommandOutput, String> {
        self.recovered().await;
        exec::run(self, command).await
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, String> {
        self.recovered().await;
        self.open_dir()?.read(path, READ_CAP)
    }

    async fn write_file(&self, path: &Path, contents: &[u8], mode: u32) -> Result<(), String> {
        self.recovered().await;
        self.open_dir()?.write(path, contents, mode & 0o777)
    }

    async fn exists(&self, path: &Path) -> Result<bool, String> {
        self.recovered().await;
        self.open_dir()?.exists(path)
    }

    async fn remove(&self, path: &Path) -> Result<(), String> {
        self.recovered().await;
        self.open_dir()?.remove(path)
    }

    async fn is_running(&self) -> bool {
        matches!(self.state(), ProcessState::Running { .. })
    }

    async fn start(&self) -> Result<(), String> {
        self.recovered().await;
        self.start_server().await
    }

    async fn stop(&self) -> Result<(), String> {
        self.recovered().await;
        self.stop_server().await
    }

    async fn restart(&self) -> Result<(), String> {
        self.recovered().await;
        self.stop_server().await?;
        self.start_server().await
    }
}

#[async_trait]
impl Node for ProcessNode {
    async fn create(&self) -> Result<(), String> {
        self.create_here().await
    }

    async fn install(&self, installation: &Installation) -> Result<(), String> {
        self.install_here(installation).await
    }

    async fn destroy(&self) -> Result<(), String> {
        self.destroy_here().await
    }

    async fn holds(&self) -> bool {
        self.dir.exists()
    }

    async fn report(&self) -> Option<NodeReport> {
        if !self.dir.exists() {
            return None;
        }
        Some(NodeReport {
            used_bytes: self.disk_usage(),
            isolation: self.isolation(),
        })
    }
}
