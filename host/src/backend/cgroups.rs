//! Kernel limits per node through cgroup v1: a `memory` group capped at the flavor's memory
//! and a `pids` group capped at a process count, each holding every process the node starts
//! (its server and every command). The pids group is also how the host finds everything a
//! node started, to stop or delete it without leaving an orphan: a process cannot leave its
//! group (the groups' files are the host's, and Landlock keeps nodes away from them).
//!
//! The groups are created below the host's own (so an operator's limit on the service covers
//! its nodes) and named after the node's Unix identity, which is unique on the machine.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where the host may create node groups, if it can.
#[derive(Debug, Clone)]
pub(crate) struct Cgroups {
    memory: PathBuf,
    pids: PathBuf,
}

/// A node's groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeCgroup {
    pub memory: PathBuf,
    pub pids: PathBuf,
}

/// The mount point of the v1 hierarchy carrying `controller` and the group it shows as its
/// root, from /proc/self/mountinfo.
fn mount_point(controller: &str) -> Option<(PathBuf, String)> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut right = right.split_whitespace();
        if right.next()? != "cgroup" {
            return None;
        }
        let options = right.nth(1)?;
        let mut left = left.split_whitespace();
        let root = left.nth(3)?.to_string();
        let point = PathBuf::from(left.next()?);
        options
            .split(',')
            .any(|o| o == controller)
            .then_some((point, root))
    })
}

/// This process's group in the v1 hierarchy carrying `controller`, from /proc/self/cgroup.
fn own_group(controller: &str) -> Option<String> {
    let text = fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == controller)
            .then(|| path.to_string())
    })
}

fn base(controller: &str) -> Option<PathBuf> {
    let (mount, root) = mount_point(controller)?;
    let own = own_group(controller)?;
    let relative = own.strip_prefix(root.as_str()).unwrap_or(&own);
    Some(mount.join(relative.trim_start_matches('/')))
}

impl Cgroups {
    /// The host's memory and pids groups, if both are v1 hierarchies it can create groups in.
    pub fn detect() -> Result<Cgroups, String> {
        let memory = base("memory").ok_or("no cgroup v1 memory hierarchy is mounted")?;
        let pids = base("pids").ok_or("no cgroup v1 pids hierarchy is mounted")?;
        let cgroups = Cgroups { memory, pids };
        let probe = cgroups.group(&format!("drover-probe-{}", std::process::id()));
        let made = fs::create_dir(&probe.memory).and_then(|()| fs::create_dir(&probe.pids));
        let _ = fs::remove_dir(&probe.memory);
        let _ = fs::remove_dir(&probe.pids);
        made.map_err(|e| {
            format!(
                "cannot create groups in {} and {}: {e}",
                cgroups.memory.display(),
                cgroups.pids.display()
            )
        })?;
        Ok(cgroups)
    }

    /// The groups called `name`.
    pub fn group(&self, name: &str) -> NodeCgroup {
        NodeCgroup {
            memory: self.memory.join(name),
            pids: self.pids.join(name),
        }
    }
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut file| file.write_all(value.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl NodeCgroup {
    /// Creates the groups if needed and sets their limits.
    pub fn ensure(&self, memory_bytes: u64, max_processes: u32) -> Result<(), String> {
        for dir in [&self.memory, &self.pids] {
            match fs::create_dir(dir) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(format!("{}: {error}", dir.display())),
            }
        }
        write(&self.pids.join("pids.max"), &max_processes.to_string())?;
        // Where swap is accounted, swap does not extend the limit either. The kernel keeps the
        // memory limit at or below the memory+swap one, so the order depends on the direction.
        let memory = self.memory.join("memory.limit_in_bytes");
        let swap = self.memory.join("memory.memsw.limit_in_bytes");
        let value = memory_bytes.to_string();
        let current = fs::read_to_string(&memory)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        let swap_accounted = swap.exists();
        if swap_accounted && memory_bytes > current {
            let _ = write(&swap, &value);
        }
        write(&memory, &value)?;
        if swap_accounted {
            let _ = write(&swap, &value);
        }
        Ok(())
    }

    /// The limits as set, for the instance view: (memory bytes, processes).
    pub fn limits(&self) -> Option<(u64, u64)> {
        let read = |path: PathBuf| fs::read_to_string(path).ok()?.trim().parse::<u64>().ok();
        Some((
            read(self.memory.join("memory.limit_in_bytes"))?,
            read(self.pids.join("pids.max"))?,
        ))
    }

    /// The processes in the node's groups, but the host (whose spawning thread for the node is
    /// in them).
    pub fn processes(&self) -> Vec<u32> {
        let host = std::process::id();
        fs::read_to_string(self.pids.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .filter(|pid| *pid != host)
            .collect()
    }

    /// Whether `pid` is in the node's pids group (read from the kernel, not from the node).
    pub fn contains(&self, pid: u32) -> bool {
        let Some(name) = self.pids.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|text| {
            text.lines().any(|line| {
                let mut parts = line.splitn(3, ':');
                let (_, controllers, path) = (parts.next(), parts.next(), parts.next());
                controllers.is_some_and(|c| c.split(',').any(|c| c == "pids"))
                    && path.is_some_and(|p| p.ends_with(&format!("/{name}")))
            })
        })
    }

    /// Removes the groups (they must be empty). A task that has just exited (the node's anchor
    /// thread, a killed process) leaves its groups a moment after it is gone: a busy group is
    /// tried again for a while.
    pub fn remove(&self) -> Result<(), String> {
        for dir in [&self.memory, &self.pids] {
            let mut tries = 0;
            loop {
                match fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => break,
                    Err(error) if error.raw_os_error() == Some(libc::EBUSY) && tries < 200 => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    Err(error) => return Err(format!("removing {}: {error}", dir.display())),
                }
            }
        }
        Ok(())
    }
}
