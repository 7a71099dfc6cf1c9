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
//! Everything is prepared in the parent; the child runs only system calls (it is a fork of a
//! multi-threaded process, so it must not allocate) between `fork` and `exec`.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

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
    /// The operator's read-only system paths.
    system_paths: Vec<PathBuf>,
}

/// What one process of a node needs.
pub(crate) struct Spawn<'a> {
    /// The node directory (absolute, without links).
    pub node_dir: &'a Path,
    /// An empty directory the host owns, where the node's root is assembled.
    pub root: &'a Path,
    /// The node's identity, when it has one of its own.
    pub identity: Option<Identity>,
    /// The node's groups.
    pub cgroup: Option<&'a NodeCgroup>,
    /// The node's port: the one it may bind.
    pub port: u16,
    /// Read-only paths the driver's service declares.
    pub extra_paths: &'a [String],
    /// The program to run (its directory, and its real file's, are made visible).
    pub program: &'a Path,
    /// The node's memory, for rlimits and the size of its private temporary file systems.
    pub memory_bytes: u64,
    /// The node's process limit.
    pub max_processes: u32,
}

fn cstring(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{} contains a NUL byte", path.display()))
}

impl Sandbox {
    /// Decides how nodes are confined here. `ports` is the node port range.
    pub fn detect(system_paths: Vec<PathBuf>, ports: (u16, u16)) -> Sandbox {
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
        Sandbox {
            privileged,
            abi,
            cgroups,
            cgroups_missing,
            ports,
            system_paths,
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

    /// Arranges for `command` to start confined as `spawn` says.
    pub fn confine(
        &self,
        command: &mut tokio::process::Command,
        spawn: &Spawn<'_>,
    ) -> Result<(), String> {
        let plan = self.plan(spawn)?;
        // SAFETY: `Plan::enter` only makes system calls on data prepared here (no allocation,
        // no locks), which is what may run between fork and exec.
        unsafe {
            command.pre_exec(move || plan.enter());
        }
        Ok(())
    }

    fn plan(&self, spawn: &Spawn<'_>) -> Result<Plan, String> {
        // Read-only paths: the operator's, the driver's, and the program's own directory.
        let mut read_only: BTreeSet<PathBuf> = self.system_paths.iter().cloned().collect();
        for extra in spawn.extra_paths {
            let path = PathBuf::from(extra);
            if !path.is_absolute() {
                return Err(format!("system path {extra:?} is not absolute"));
            }
            read_only.insert(path);
        }
        // The program is run by the path it was found at (some programs read their name),
        // which may be a link: both that directory and the real file's are visible.
        let real = std::fs::canonicalize(spawn.program).unwrap_or_default();
        for program in [spawn.program, real.as_path()] {
            if let Some(dir) = program.parent().filter(|d| d.is_absolute()) {
                read_only.insert(dir.to_path_buf());
            }
        }
        // A path inside another one is visible through it already.
        let read_only: Vec<PathBuf> = read_only
            .iter()
            .filter(|p| {
                !read_only
                    .iter()
                    .any(|q| q != *p && p.starts_with(q) && !is_link(q))
            })
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .cloned()
            .collect();

        let private_tmp = self.privileged;
        let mut rules: Vec<(CString, u64)> = Vec::new();
        let read = landlock::fs::READ_FILE | landlock::fs::READ_DIR | landlock::fs::EXECUTE;
        let write = self.abi.fs
            & !(landlock::fs::EXECUTE | landlock::fs::MAKE_CHAR | landlock::fs::MAKE_BLOCK);
        let device = landlock::fs::READ_FILE
            | landlock::fs::WRITE_FILE
            | landlock::fs::TRUNCATE
            | landlock::fs::IOCTL_DEV;
        for path in &read_only {
            rules.push((cstring(path)?, read));
        }
        rules.push((cstring(spawn.node_dir)?, write));
        rules.push((c"/dev/shm".into(), write));
        if private_tmp {
            rules.push((c"/tmp".into(), write));
        }
        for device_path in DEVICES {
            rules.push((CString::new(*device_path).expect("no NUL"), device));
        }
        rules.push((
            c"/proc".into(),
            landlock::fs::READ_FILE | landlock::fs::READ_DIR,
        ));

        let mounts = if self.privileged {
            Some(Mounts::plan(spawn, &read_only)?)
        } else {
            None
        };
        let cgroup_files = match spawn.cgroup {
            Some(cgroup) => cgroup.procs_files()?.into(),
            None => Vec::new(),
        };
        let mut limits = vec![(libc::RLIMIT_CORE, 0)];
        if spawn.cgroup.is_none() {
            limits.push((libc::RLIMIT_AS, address_space_limit(spawn.memory_bytes)));
            if spawn.identity.is_some() {
                // Counted per user, which is the node's own only when it has an identity.
                limits.push((libc::RLIMIT_NPROC, u64::from(spawn.max_processes)));
            }
        }
        Ok(Plan {
            cgroup_files,
            mounts,
            workdir: cstring(spawn.node_dir)?,
            identity: spawn.identity,
            abi: self.abi,
            rules,
            port: spawn.port,
            ports: self.ports,
            limits,
        })
    }

    /// How a node's memory and process count are limited, for the instance view.
    pub fn limits_kind(&self) -> &'static str {
        if self.cgroups.is_some() {
            "cgroup"
        } else {
            "rlimit"
        }
    }
}

/// The address-space rlimit standing in for a memory limit: servers reserve far more address
/// space than they use (thread stacks, shared memory), so it is a multiple of the flavor's
/// memory, never under 2 GiB. A stand-in, and the instance view says so.
pub(crate) fn address_space_limit(memory_bytes: u64) -> u64 {
    (memory_bytes.saturating_mul(4)).max(2 << 30)
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
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
struct Mounts {
    root: CString,
    old_root: CString,
    steps: Vec<Step>,
}

impl Mounts {
    fn plan(spawn: &Spawn<'_>, read_only: &[PathBuf]) -> Result<Mounts, String> {
        let root = spawn.root;
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
        entries.push((spawn.node_dir.to_path_buf(), What::Node));
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
            old_root: cstring(&root.join(".old-root"))?,
            steps,
        })
    }
}

/// Everything the child does between fork and exec, prepared by the parent.
struct Plan {
    cgroup_files: Vec<OwnedFd>,
    mounts: Option<Mounts>,
    workdir: CString,
    identity: Option<Identity>,
    abi: Abi,
    rules: Vec<(CString, u64)>,
    port: u16,
    ports: (u16, u16),
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

impl Plan {
    /// Runs in the forked child. Only system calls; nothing allocates.
    fn enter(&self) -> std::io::Result<()> {
        // SAFETY (every block below): system calls on NUL-terminated strings and descriptors
        // the plan owns, in a single-threaded child.
        unsafe {
            // The mount points made below are for everyone to traverse.
            libc::umask(0o022);
            for file in &self.cgroup_files {
                let written = libc::write(file.as_raw_fd(), b"0".as_ptr().cast(), 1);
                if written != 1 {
                    return Err(fail(c"joining the node's cgroup"));
                }
            }
            if let Some(mounts) = &self.mounts {
                mounts.enter()?;
            }
            // What the node creates is its own alone.
            libc::umask(0o077);
            check(
                libc::chdir(self.workdir.as_ptr()),
                c"entering the node directory",
            )?;
            if let Some(identity) = self.identity {
                check(libc::setgroups(0, std::ptr::null()), c"setgroups")?;
                check(
                    libc::setresgid(identity.gid, identity.gid, identity.gid),
                    c"setresgid",
                )?;
                check(
                    libc::setresuid(identity.uid, identity.uid, identity.uid),
                    c"setresuid",
                )?;
            }
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
        if self.abi.version > 0 {
            // One layer: every layer denies cross-directory renames unless it grants them, so
            // the network rules cannot live in a layer of their own without file rules that a
            // parent cannot write for mounts that exist only here. A rule per node port costs
            // about 0.6 µs to add and 0.25 µs to enforce (docs/benchmarks.md).
            let ruleset = Ruleset::new(
                &self.abi,
                self.abi.fs,
                landlock::net::BIND_TCP | landlock::net::CONNECT_TCP,
                self.abi.scoped,
            )
            .map_err(|e| fail_with(c"Landlock ruleset", e))?;
            for (path, allowed) in &self.rules {
                ruleset
                    .allow_path(path, *allowed & self.abi.fs)
                    .map_err(|e| fail_with(path, e))?;
            }
            if self.abi.net != 0 {
                for port in self.ports.0..=self.ports.1 {
                    let mut allowed = landlock::net::CONNECT_TCP;
                    if port == self.port {
                        allowed |= landlock::net::BIND_TCP;
                    }
                    ruleset
                        .allow_port(port, allowed)
                        .map_err(|e| fail_with(c"Landlock port rule", e))?;
                }
            }
            ruleset
                .restrict_self()
                .map_err(|e| fail_with(c"Landlock", e))?;
        }
        Ok(())
    }
}

impl Mounts {
    fn enter(&self) -> std::io::Result<()> {
        let none: *const libc::c_char = std::ptr::null();
        // SAFETY: see `Plan::enter`.
        unsafe {
            check(libc::unshare(libc::CLONE_NEWNS), c"unshare")?;
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
            if libc::mkdir(self.old_root.as_ptr(), 0o700) < 0
                && std::io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST)
            {
                return Err(fail(c"making the old root's mount point"));
            }
            check(
                libc::syscall(
                    libc::SYS_pivot_root,
                    self.root.as_ptr(),
                    self.old_root.as_ptr(),
                ) as libc::c_int,
                c"pivot_root",
            )?;
            check(libc::chdir(c"/".as_ptr()), c"chdir /")?;
            check(
                libc::umount2(c"/.old-root".as_ptr(), libc::MNT_DETACH),
                c"detaching the host's root",
            )?;
            libc::rmdir(c"/.old-root".as_ptr());
        }
        Ok(())
    }
}
