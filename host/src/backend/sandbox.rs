//! Confinement of every process a node starts: its server and every command a driver runs on
//! it. Treat a tenant's datastore root as code execution on its node; what it runs can do what
//! a root on its own machine could do to its own node, and nothing else:
//!
//! - **its own identity** (when the host is root): the node's user and group, no
//!   supplementary groups, no capabilities;
//! - **its own view of the file system** (when the host is root): a private mount namespace
//!   whose root holds only the system paths the operator configures and the driver's service
//!   declares (read-only), the node's own directory (read-write, no exec, no devices), a
//!   private `/tmp` and `/dev/shm`, a few devices and `/proc`. The host's state, other nodes and
//!   other services' sockets do not exist there;
//! - **Landlock**, on top: read-only access to those system paths, read-write access to the
//!   node's directory, TCP bind to the node's own port only, TCP connect to node ports only (so
//!   not to the host's database, its API or other services on the machine), no signals or
//!   abstract sockets beyond its own domain;
//! - **no new privileges**, and the kernel's limits: the node's cgroups, or rlimits where the
//!   host cannot use cgroups.
//!
//! A node's [`View`] — its anchor thread and its Landlock ruleset — is built once per node
//! (per host process; see `anchor`): the anchor joins the node's cgroups, unshares its mount
//! namespace, assembles the node's root and changes into it (`chroot`; the host's mounts stay
//! in that namespace underneath, unreachable from the new root), and builds the ruleset from
//! there (its private `/tmp` exists nowhere else). Every process of the node is forked by the
//! anchor and so starts in those groups, that namespace and that root; between `fork` and
//! `exec` — a fork of a multi-threaded process, where nothing may allocate — the child only
//! takes the node's identity, limits and ruleset, with a handful of system calls on what the
//! parent prepared.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::anchor::Anchor;
use super::cgroups::{Cgroups, NodeCgroup};
use super::identity::Identity;
use super::landlock::{self, Abi, Ruleset};

/// Devices every node gets, read-write.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// How this host confines nodes, decided once at start.
pub(crate) struct Sandbox {
    /// The host is root: nodes get their own identities and mount namespaces.
    pub privileged: bool,
    /// Landlock as the kernel offers it.
    pub abi: Abi,
    /// Where node cgroups are made, when the host can.
    pub cgroups: Option<Cgroups>,
    /// Why there are no cgroups, when there are none.
    pub cgroups_missing: Option<String>,
    /// The node port range: the only TCP ports a node's processes may connect to.
    ports: (u16, u16),
    /// Read-only paths every node sees: the operator's system paths and the directories of
    /// the programs nodes may run.
    system_paths: Vec<PathBuf>,
}

/// What a node's view is made from.
pub(crate) struct ViewSpec {
    /// The node directory (absolute, without links).
    pub node_dir: PathBuf,
    /// An empty directory the host owns, where the node's root is assembled.
    pub root: PathBuf,
    /// The node's port: the one it may bind.
    pub port: u16,
    /// Read-only paths the driver's service declares.
    pub extra_paths: Vec<String>,
    /// The node's memory: the size of its private temporary file systems.
    pub memory_bytes: u64,
}

/// A node's view of the machine, ready for its processes to start in.
pub(crate) struct View {
    /// The thread its processes are forked from (root hosts): in its cgroups and its mount
    /// namespace, under its root.
    anchor: Option<Anchor>,
    /// Its Landlock ruleset (where the kernel has Landlock).
    ruleset: Option<OwnedFd>,
    /// The read-only paths it shows, for telling a program that is not among them.
    read_only: Vec<PathBuf>,
    /// The driver's paths it was built with.
    pub extra_paths: Vec<String>,
}

/// A Landlock ruleset to build: the paths (as the node sees them) with their rights, the node
/// ports it may connect to, and the one it may bind.
pub(crate) struct RulesetPlan {
    abi: Abi,
    paths: Vec<(PathBuf, u64)>,
    ports: (u16, u16),
    port: u16,
}

impl RulesetPlan {
    /// Builds it, opening each path as the calling thread sees it.
    pub fn build(&self) -> Result<OwnedFd, String> {
        let abi = &self.abi;
        let failed = |what: &str, errno: i32| {
            format!(
                "Landlock {what}: {}",
                std::io::Error::from_raw_os_error(errno)
            )
        };
        // One layer: every layer denies cross-directory renames unless it grants them, so the
        // network rules cannot live in a layer of their own.
        let ruleset = Ruleset::new(
            abi,
            abi.fs,
            landlock::net::BIND_TCP | landlock::net::CONNECT_TCP,
            abi.scoped,
        )
        .map_err(|e| failed("ruleset", e))?;
        for (path, allowed) in &self.paths {
            ruleset
                .allow_path(&cstring(path)?, allowed & abi.fs)
                .map_err(|e| failed(&path.display().to_string(), e))?;
        }
        if abi.net != 0 {
            for port in self.ports.0..=self.ports.1 {
                let mut allowed = landlock::net::CONNECT_TCP;
                if port == self.port {
                    allowed |= landlock::net::BIND_TCP;
                }
                ruleset
                    .allow_port(port, allowed)
                    .map_err(|e| failed("port rule", e))?;
            }
        }
        Ok(ruleset.into_fd())
    }
}

/// What a node's anchor thread sets up.
pub(crate) struct AnchorPlan {
    /// The groups it joins, so that what it forks starts in them.
    pub cgroup: Option<NodeCgroup>,
    /// The node's root, assembled in the thread's own mount namespace.
    pub mounts: Mounts,
    /// The ruleset, built from inside that root.
    pub rules: Option<RulesetPlan>,
}

impl View {
    /// Starts `command` (made by [`Sandbox::confine`]) where the node's processes start.
    pub async fn spawn(
        &self,
        mut command: tokio::process::Command,
    ) -> std::io::Result<tokio::process::Child> {
        match &self.anchor {
            Some(anchor) => anchor.spawn(command).await,
            None => command.spawn(),
        }
    }
}

/// What one process of a node needs beyond its view.
pub(crate) struct Spawn<'a> {
    /// The node directory, its working directory.
    pub node_dir: &'a Path,
    /// The node's identity, when it has one of its own.
    pub identity: Option<Identity>,
    /// Whether the node has groups (it is then started in them by its spawning thread and
    /// needs no rlimits).
    pub in_cgroups: bool,
    /// The program to run.
    pub program: &'a Path,
    /// The node's memory, for rlimits.
    pub memory_bytes: u64,
    /// The node's process limit.
    pub max_processes: u32,
}

fn cstring(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{} contains a NUL byte", path.display()))
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The address-space rlimit standing in for a memory limit: servers reserve far more address
/// space than they use (thread stacks, shared memory), so it is a multiple of the flavor's
/// memory, never under 2 GiB. A stand-in, and the instance view says so.
pub(crate) fn address_space_limit(memory_bytes: u64) -> u64 {
    (memory_bytes.saturating_mul(4)).max(2 << 30)
}

impl Sandbox {
    /// Decides how nodes are confined here. `ports` is the node port range; `programs` are
    /// the directories nodes' programs may be found in (a program run by a link needs its
    /// target's directory too).
    pub fn detect(
        system_paths: Vec<PathBuf>,
        programs: Vec<PathBuf>,
        ports: (u16, u16),
    ) -> Sandbox {
        let privileged = nix::unistd::geteuid().is_root();
        let abi = Abi::detect();
        let (cgroups, cgroups_missing) = if privileged {
            match Cgroups::detect() {
                Ok(cgroups) => (Some(cgroups), None),
                Err(why) => (None, Some(why)),
            }
        } else {
            (None, Some("the host does not run as root".to_string()))
        };
        let mut paths = system_paths;
        paths.extend(programs);
        Sandbox {
            privileged,
            abi,
            cgroups,
            cgroups_missing,
            ports,
            system_paths: paths,
        }
    }

    /// A sentence for the start-up log.
    pub fn describe(&self) -> String {
        let landlock = if self.abi.version > 0 {
            format!("Landlock ABI {}", self.abi.version)
        } else {
            "no Landlock (the kernel does not offer it): nodes are NOT confined".into()
        };
        let limits = match (&self.cgroups, &self.cgroups_missing) {
            (Some(_), _) => "cgroup memory and pids limits".to_string(),
            (None, Some(why)) => format!("rlimits, not cgroups ({why})"),
            (None, None) => "rlimits".to_string(),
        };
        if self.privileged {
            format!(
                "nodes run as users of their own in private mount namespaces, confined by {landlock}, with {limits}"
            )
        } else {
            format!(
                "per-node identities need root: every node runs as this service's own user, confined by {landlock}, with {limits}"
            )
        }
    }

    /// How a node's memory and process count are limited, for the instance view.
    pub fn limits_kind(&self) -> &'static str {
        if self.cgroups.is_some() {
            "cgroup"
        } else {
            "rlimit"
        }
    }

    /// The read-only paths a node sees: the operator's, the programs', the driver's; a path
    /// inside another one is visible through it already.
    fn read_only(&self, extra_paths: &[String]) -> Result<Vec<PathBuf>, String> {
        let mut read_only: BTreeSet<PathBuf> = self.system_paths.iter().cloned().collect();
        for extra in extra_paths {
            let path = PathBuf::from(extra);
            if !path.is_absolute() {
                return Err(format!("system path {extra:?} is not absolute"));
            }
            read_only.insert(path);
        }
        Ok(read_only
            .iter()
            .filter(|p| {
                !read_only
                    .iter()
                    .any(|q| q != *p && p.starts_with(q) && !is_link(q))
            })
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .cloned()
            .collect())
    }

    /// Builds a node's view. On a root host, the node's anchor thread joins its cgroups,
    /// assembles its namespace and builds its ruleset there; otherwise the ruleset is built
    /// here, from the machine's own paths.
    pub fn view(
        &self,
        spec: &ViewSpec,
        cgroup: Option<&NodeCgroup>,
        runtime: tokio::runtime::Handle,
    ) -> Result<View, String> {
        let read_only = self.read_only(&spec.extra_paths)?;
        let rules = (self.abi.version > 0).then(|| RulesetPlan {
            abi: self.abi,
            paths: self.rules(spec, &read_only),
            ports: self.ports,
            port: spec.port,
        });
        let (anchor, ruleset) = if self.privileged {
            let (anchor, ruleset) = Anchor::start(
                AnchorPlan {
                    cgroup: cgroup.cloned(),
                    mounts: Mounts::plan(spec, &read_only)?,
                    rules,
                },
                runtime,
            )?;
            (Some(anchor), ruleset)
        } else {
            (None, rules.map(|rules| rules.build()).transpose()?)
        };
        Ok(View {
            anchor,
            ruleset,
            read_only,
            extra_paths: spec.extra_paths.clone(),
        })
    }

    /// What a node's processes may touch, as paths and the Landlock rights on them.
    fn rules(&self, spec: &ViewSpec, read_only: &[PathBuf]) -> Vec<(PathBuf, u64)> {
        let abi = &self.abi;
        let read = landlock::fs::READ_FILE | landlock::fs::READ_DIR | landlock::fs::EXECUTE;
        let write =
            abi.fs & !(landlock::fs::EXECUTE | landlock::fs::MAKE_CHAR | landlock::fs::MAKE_BLOCK);
        let device = landlock::fs::READ_FILE
            | landlock::fs::WRITE_FILE
            | landlock::fs::TRUNCATE
            | landlock::fs::IOCTL_DEV;
        let mut rules: Vec<(PathBuf, u64)> = read_only
            .iter()
            .filter(|p| !is_link(p))
            .map(|p| (p.clone(), read))
            .collect();
        rules.push((spec.node_dir.clone(), write));
        rules.push((PathBuf::from("/dev/shm"), write));
        if self.privileged {
            rules.push((PathBuf::from("/tmp"), write));
        }
        for path in DEVICES {
            rules.push((PathBuf::from(path), device));
        }
        rules.push((
            PathBuf::from("/proc"),
            landlock::fs::READ_FILE | landlock::fs::READ_DIR,
        ));
        rules
    }

    /// Arranges for `command` to start inside `view`, confined as `spawn` says.
    pub fn confine(
        &self,
        command: &mut tokio::process::Command,
        view: &View,
        spawn: &Spawn<'_>,
    ) -> Result<(), String> {
        let visible = |program: &Path| {
            program
                .parent()
                .is_some_and(|dir| view.read_only.iter().any(|p| dir.starts_with(p)))
        };
        let real = std::fs::canonicalize(spawn.program).unwrap_or_default();
        if !visible(spawn.program) || !visible(&real) {
            return Err(format!(
                "{} is outside what nodes see: add its directory to backend.system_paths",
                spawn.program.display()
            ));
        }
        let mut limits = vec![(libc::RLIMIT_CORE, 0)];
        if !spawn.in_cgroups {
            limits.push((libc::RLIMIT_AS, address_space_limit(spawn.memory_bytes)));
            if spawn.identity.is_some() {
                // Counted per user, which is the node's own only when it has an identity.
                limits.push((libc::RLIMIT_NPROC, u64::from(spawn.max_processes)));
            }
        }
        let dup = |fd: &Option<OwnedFd>| -> Result<Option<OwnedFd>, String> {
            fd.as_ref()
                .map(|fd| fd.try_clone().map_err(|e| e.to_string()))
                .transpose()
        };
        let plan = Plan {
            workdir: cstring(spawn.node_dir)?,
            identity: spawn.identity,
            ruleset: dup(&view.ruleset)?,
            limits,
        };
        // SAFETY: `Plan::enter` only makes system calls on data prepared here (no allocation,
        // no locks), which is what may run between fork and exec.
        unsafe {
            command.pre_exec(move || plan.enter());
        }
        Ok(())
    }
}

/// Everything the child does between fork and exec, prepared by the parent.
struct Plan {
    workdir: CString,
    identity: Option<Identity>,
    ruleset: Option<OwnedFd>,
    limits: Vec<(libc::__rlimit_resource_t, u64)>,
}

/// Fails the spawn with the current errno, after saying which step failed on the child's
/// standard error (the node's log, or the command's captured stderr).
fn fail(step: &CStr) -> std::io::Error {
    let error = std::io::Error::last_os_error();
    fail_with(step, error.raw_os_error().unwrap_or(libc::EIO))
}

fn fail_with(step: &CStr, errno: i32) -> std::io::Error {
    let prefix = b"drover: confining the node failed at ";
    // SAFETY: writing static and caller-owned bytes to the child's stderr.
    unsafe {
        libc::write(2, prefix.as_ptr().cast(), prefix.len());
        libc::write(2, step.as_ptr().cast(), step.to_bytes().len());
        libc::write(2, b"\n".as_ptr().cast(), 1);
    }
    std::io::Error::from_raw_os_error(errno)
}

fn check(result: libc::c_int, step: &CStr) -> std::io::Result<()> {
    if result < 0 { Err(fail(step)) } else { Ok(()) }
}

/// Gives up root for the node's identity: its user and group only.
fn drop_to(identity: Identity) -> std::io::Result<()> {
    // SAFETY: system calls in a single-threaded child.
    unsafe {
        check(libc::setgroups(0, std::ptr::null()), c"setgroups")?;
        check(
            libc::setresgid(identity.gid, identity.gid, identity.gid),
            c"setresgid",
        )?;
        check(
            libc::setresuid(identity.uid, identity.uid, identity.uid),
            c"setresuid",
        )
    }
}

impl Plan {
    /// Runs in the forked child. Only system calls; nothing allocates.
    fn enter(&self) -> std::io::Result<()> {
        // SAFETY (every block below): system calls on NUL-terminated strings and descriptors
        // the plan owns, in a single-threaded child.
        unsafe {
            // What the node creates is its own alone.
            libc::umask(0o077);
            check(
                libc::chdir(self.workdir.as_ptr()),
                c"entering the node directory",
            )?;
        }
        if let Some(identity) = self.identity {
            drop_to(identity)?;
        }
        // SAFETY: as above.
        unsafe {
            check(
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
                c"no_new_privs",
            )?;
            for (resource, value) in &self.limits {
                let limit = libc::rlimit {
                    rlim_cur: *value,
                    rlim_max: *value,
                };
                check(libc::setrlimit(*resource, &limit), c"setrlimit")?;
            }
        }
        if let Some(ruleset) = &self.ruleset {
            landlock::restrict_self(ruleset.as_raw_fd()).map_err(|e| fail_with(c"Landlock", e))?;
        }
        Ok(())
    }
}

/// One step in assembling a node's root.
enum Step {
    MakeDir(CString),
    MakeFile(CString),
    Link {
        target: CString,
        link: CString,
    },
    Bind {
        source: CString,
        target: CString,
        recursive: bool,
        /// Flags of the read-only or restricted remount after the bind, if any.
        remount: Option<libc::c_ulong>,
    },
    Tmpfs {
        target: CString,
        options: CString,
    },
}

/// The node's root, as mounts in its own namespace.
pub(crate) struct Mounts {
    root: CString,
    steps: Vec<Step>,
}

impl Mounts {
    fn plan(spawn: &ViewSpec, read_only: &[PathBuf]) -> Result<Mounts, String> {
        let root = spawn.root.as_path();
        let inside = |path: &Path| -> Result<CString, String> {
            cstring(&root.join(path.strip_prefix("/").unwrap_or(path)))
        };
        // What to mount where, mounted in path order so that a parent is in place before
        // anything inside it.
        enum What<'p> {
            ReadOnly(&'p Path),
            Device(&'p Path),
            Node,
            Tmpfs(&'static str),
            Proc,
        }
        let mut entries: Vec<(PathBuf, What<'_>)> = Vec::new();
        for path in read_only {
            entries.push((path.clone(), What::ReadOnly(path)));
        }
        for device in DEVICES {
            entries.push((PathBuf::from(device), What::Device(Path::new(device))));
        }
        entries.push((spawn.node_dir.clone(), What::Node));
        entries.push((PathBuf::from("/tmp"), What::Tmpfs("1777")));
        entries.push((PathBuf::from("/dev/shm"), What::Tmpfs("1777")));
        entries.push((PathBuf::from("/proc"), What::Proc));
        entries.sort_by(|a, b| a.0.cmp(&b.0));

        let mut made: BTreeSet<PathBuf> = BTreeSet::new();
        let mut steps = Vec::new();
        let make_parents = |path: &Path,
                            made: &mut BTreeSet<PathBuf>,
                            steps: &mut Vec<Step>|
         -> Result<(), String> {
            let mut ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
            ancestors.reverse();
            for ancestor in ancestors {
                if ancestor == Path::new("/") || !made.insert(ancestor.to_path_buf()) {
                    continue;
                }
                steps.push(Step::MakeDir(inside(ancestor)?));
            }
            Ok(())
        };
        let size = format!("size={}", spawn.memory_bytes.clamp(16 << 20, 64 << 30));
        for (path, what) in &entries {
            make_parents(path, &mut made, &mut steps)?;
            match what {
                What::ReadOnly(source) if is_link(source) => {
                    let target = std::fs::read_link(source).map_err(|e| e.to_string())?;
                    steps.push(Step::Link {
                        target: cstring(&target)?,
                        link: inside(path)?,
                    });
                }
                What::ReadOnly(source) => {
                    let is_dir = source.is_dir();
                    steps.push(if is_dir {
                        Step::MakeDir(inside(path)?)
                    } else {
                        Step::MakeFile(inside(path)?)
                    });
                    steps.push(Step::Bind {
                        source: cstring(source)?,
                        target: inside(path)?,
                        recursive: true,
                        remount: Some(libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV),
                    });
                }
                What::Device(source) => {
                    steps.push(Step::MakeFile(inside(path)?));
                    steps.push(Step::Bind {
                        source: cstring(source)?,
                        target: inside(path)?,
                        recursive: false,
                        remount: None,
                    });
                }
                What::Node => {
                    steps.push(Step::MakeDir(inside(path)?));
                    steps.push(Step::Bind {
                        source: cstring(path)?,
                        target: inside(path)?,
                        recursive: false,
                        remount: Some(libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC),
                    });
                }
                What::Tmpfs(mode) => {
                    steps.push(Step::MakeDir(inside(path)?));
                    steps.push(Step::Tmpfs {
                        target: inside(path)?,
                        options: CString::new(format!("mode={mode},{size}")).expect("no NUL"),
                    });
                }
                What::Proc => {
                    steps.push(Step::MakeDir(inside(path)?));
                    steps.push(Step::Bind {
                        source: c"/proc".into(),
                        target: inside(path)?,
                        recursive: true,
                        remount: None,
                    });
                }
            }
            made.insert(path.clone());
        }
        Ok(Mounts {
            root: cstring(root)?,
            steps,
        })
    }
}

impl Mounts {
    /// Gives the calling thread a mount namespace of its own holding the node's root, and
    /// makes that root its own. Unsharing the mount namespace unshares the thread's root,
    /// working directory and umask from the rest of the process first, so nothing else of the
    /// host changes.
    pub fn enter(&self) -> std::io::Result<()> {
        let none: *const libc::c_char = std::ptr::null();
        // SAFETY: system calls on data the plan owns.
        unsafe {
            check(libc::unshare(libc::CLONE_NEWNS), c"unshare")?;
            // The mount points made below are for everyone to traverse (the thread's own umask
            // now).
            libc::umask(0o022);
            check(
                libc::mount(
                    none,
                    c"/".as_ptr(),
                    none,
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ),
                c"making mounts private",
            )?;
            check(
                libc::mount(
                    c"tmpfs".as_ptr(),
                    self.root.as_ptr(),
                    c"tmpfs".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    c"mode=0755,size=1m".as_ptr().cast(),
                ),
                c"mounting the node's root",
            )?;
            for step in &self.steps {
                match step {
                    Step::MakeDir(path) => {
                        if libc::mkdir(path.as_ptr(), 0o755) < 0
                            && std::io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST)
                        {
                            return Err(fail(path));
                        }
                    }
                    Step::MakeFile(path) => {
                        let fd = libc::open(
                            path.as_ptr(),
                            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                            0o644,
                        );
                        check(fd, path)?;
                        libc::close(fd);
                    }
                    Step::Link { target, link } => {
                        check(libc::symlink(target.as_ptr(), link.as_ptr()), link)?;
                    }
                    Step::Bind {
                        source,
                        target,
                        recursive,
                        remount,
                    } => {
                        let flags = libc::MS_BIND | if *recursive { libc::MS_REC } else { 0 };
                        check(
                            libc::mount(
                                source.as_ptr(),
                                target.as_ptr(),
                                none,
                                flags,
                                std::ptr::null(),
                            ),
                            target,
                        )?;
                        if let Some(extra) = remount {
                            check(
                                libc::mount(
                                    none,
                                    target.as_ptr(),
                                    none,
                                    libc::MS_BIND | libc::MS_REMOUNT | extra,
                                    std::ptr::null(),
                                ),
                                target,
                            )?;
                        }
                    }
                    Step::Tmpfs { target, options } => {
                        check(
                            libc::mount(
                                c"tmpfs".as_ptr(),
                                target.as_ptr(),
                                c"tmpfs".as_ptr(),
                                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                                options.as_ptr().cast(),
                            ),
                            target,
                        )?;
                    }
                }
            }
            // The thread's root becomes the node's. A chroot, not a pivot_root: what the node
            // runs never has the privilege that leaves a chroot (no capabilities, no new
            // privileges), and the host's mounts below it cost nothing to keep (detaching them
            // would wait for an RCU grace period on every view).
            check(libc::chroot(self.root.as_ptr()), c"chroot")?;
            check(libc::chdir(c"/".as_ptr()), c"chdir /")?;
        }
        Ok(())
    }
}
