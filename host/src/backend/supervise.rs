//! Supervising a node's server process. Everything the host relies on lives where the node
//! cannot write (the node's supervision directory in the host's state): how to run the server,
//! which process it is (pid and start time, so a reused pid is never mistaken for it), and its
//! log, whose descriptor the server is started with.
//!
//! A node's processes are found through the kernel, never through a file the node wrote: its
//! pids cgroup, or its uid when it has one. Stopping or deleting a node kills all of them. The
//! first time this host process touches a node (after a crash, say) it adopts the server the
//! record names, if that very process still runs, and kills every other process of the node —
//! a command orphaned by the crash, or a server started just before it whose pid was never
//! recorded — so there is never a second server beside the first.

use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{Durability, ProcessNode, Service};
use crate::runtime::{NodeCommand, NodeOps};

/// The server's process record, in the supervision directory.
const RECORD: &str = "server";
/// The server's log, in the supervision directory.
pub(super) const LOG: &str = "server.log";
/// A log grown past this is cut to its last part when the server starts again.
const LOG_CAP: u64 = 64 << 20;

/// Whether a node's server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessState {
    /// It runs with this pid.
    Running {
        /// The process id.
        pid: u32,
    },
    /// It does not run.
    Stopped,
}

/// The start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), its
/// parent, and whether it is a zombie.
fn stat(pid: u32) -> Option<(u64, u32, bool)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain anything: split after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let zombie = fields.first() == Some(&"Z");
    Some((
        fields.get(19)?.parse().ok()?,
        fields.get(1)?.parse().ok()?,
        zombie,
    ))
}

pub(super) fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, _, zombie)| !zombie)
}

/// Whether `pid` is `ancestor` or one of its descendants.
fn descends(mut pid: u32, ancestor: u32) -> bool {
    for _ in 0..128 {
        if pid == ancestor {
            return true;
        }
        match stat(pid) {
            Some((_, parent, _)) if parent > 1 => pid = parent,
            _ => return false,
        }
    }
    false
}

/// A process handle that cannot be confused with a later process of the same pid.
struct PidFd(std::os::fd::OwnedFd);

impl PidFd {
    fn open(pid: u32) -> Option<PidFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0u32) };
        (fd >= 0).then(|| {
            // SAFETY: a descriptor the kernel just gave us.
            PidFd(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd as i32) })
        })
    }

    fn signal(&self, signal: Signal) {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid pidfd; no siginfo.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                signal as libc::c_int,
                std::ptr::null::<libc::siginfo_t>(),
                0u32,
            );
        }
    }
}

impl ProcessNode {
    /// The recorded server, if that very process still runs and belongs to the node.
    pub(super) fn server(&self) -> Option<u32> {
        let text = fs::read_to_string(self.supervision.join(RECORD)).ok()?;
        let mut parts = text.split_whitespace();
        let pid: u32 = parts.next()?.parse().ok()?;
        let started: u64 = parts.next()?.parse().ok()?;
        match stat(pid) {
            Some((now, _, false)) if now == started && self.owns(pid) => Some(pid),
            _ => None,
        }
    }

    fn record(&self, pid: u32) -> Result<(), String> {
        let started = stat(pid).map(|(t, _, _)| t).unwrap_or(0);
        self.write_supervision(
            Durability::Process,
            RECORD,
            format!("{pid} {started}\n").as_bytes(),
        )
    }

    /// The running state of the server process.
    pub fn state(&self) -> ProcessState {
        match self.server() {
            Some(pid) => ProcessState::Running { pid },
            None => ProcessState::Stopped,
        }
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read(self.supervision.join(LOG)).unwrap_or_default();
        let text = String::from_utf8_lossy(&text[text.len().saturating_sub(64 << 10)..]);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Adopts the recorded server if it still runs and kills every other process of the node.
    /// Run once per node per host process, before anything else acts on the node.
    pub(super) async fn recover(&self) {
        let keep = self.server();
        let strays: Vec<u32> = self
            .processes()
            .into_iter()
            .filter(|pid| keep.is_none_or(|server| !descends(*pid, server)))
            .collect();
        if keep.is_none() {
            let _ = fs::remove_file(self.supervision.join(RECORD));
        }
        if !strays.is_empty() {
            tracing::warn!(node = %self.info.id, ?strays, adopted = ?keep, "killing processes a previous host left on the node");
            for pid in &strays {
                self.kill(*pid, Signal::SIGKILL);
            }
            self.wait_gone(&strays, Duration::from_secs(10)).await;
        }
    }

    /// Sends a signal to a process of the node, checked to be the node's after the handle is
    /// taken (so a pid reused in between is never hit).
    fn kill(&self, pid: u32, signal: Signal) {
        if let Some(handle) = PidFd::open(pid)
            && self.owns(pid)
        {
            handle.signal(signal);
        }
    }

    async fn wait_gone(&self, pids: &[u32], within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let left = pids.iter().any(|pid| alive(*pid) && self.owns(*pid));
            if !left {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills every process of the node and waits until they are gone.
    pub(super) async fn kill_all(&self) -> Result<(), String> {
        for _ in 0..50 {
            let left: Vec<u32> = self
                .processes()
                .into_iter()
                .filter(|pid| alive(*pid))
                .collect();
            if left.is_empty() {
                return Ok(());
            }
            for pid in &left {
                self.kill(*pid, Signal::SIGKILL);
            }
            self.wait_gone(&left, Duration::from_millis(200)).await;
        }
        Err(format!(
            "the processes of node {} could not all be stopped",
            self.info.id
        ))
    }

    /// Opens the server's log for appending (the host's file), cutting a grown one.
    fn open_log(&self) -> Result<fs::File, String> {
        let path = self.supervision.join(LOG);
        if fs::metadata(&path).is_ok_and(|m| m.len() > LOG_CAP) {
            let text = fs::read(&path).unwrap_or_default();
            let keep = &text[text.len().saturating_sub(1 << 20)..];
            let _ = self.write_supervision(Durability::Process, LOG, keep);
        }
        fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Starts the server unless it runs, and waits until it is ready.
    pub(super) async fn start_server(&self) -> Result<(), String> {
        if self.server().is_some() {
            return Ok(());
        }
        // Nothing of the node may run beside the server about to start.
        self.kill_all().await?;
        self.ensure_limits()?;
        let service = self.service()?;
        let (program, args) = service
            .argv
            .split_first()
            .ok_or("the service has no program")?;
        let path = self.backend.resolve(program)?;
        let log = self.open_log()?;
        let (mut process, view) = self.command(&path, args, &service.env, &service).await?;
        process
            .kill_on_drop(false)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
            .stderr(Stdio::from(log));
        let mut child = view.spawn(process).await.map_err(|e| {
            format!(
                "starting {program}: {e}; its log ends with:\n{}",
                self.log_tail(5)
            )
        })?;
        let pid = child.id().ok_or("the server exited at once")?;
        self.record(pid)?;

        let deadline =
            Instant::now() + Duration::from_millis(u64::from(service.start_timeout_ms.max(1000)));
        // Small servers are ready in tens of milliseconds: probe early, then back off.
        let mut pause = Duration::from_millis(10);
        let outcome = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break Err(format!(
                    "{program} exited while starting ({status}); its log ends with:\n{}",
                    self.log_tail(15)
                ));
            }
            if self.ready(&service, pid).await {
                break Ok(());
            }
            if Instant::now() >= deadline {
                let tail = self.log_tail(15);
                break Err(format!(
                    "{program} was not ready within {} ms; its log ends with:\n{tail}",
                    service.start_timeout_ms
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        };
        let node_id = self.info.id.clone();
        // Reap the process when it exits, so it never lingers as a zombie of the host.
        tokio::spawn(async move {
            if let Ok(status) = child.wait().await {
                tracing::info!(node = %node_id, pid, %status, "node server process exited");
            }
        });
        if outcome.is_err() {
            let _ = self.stop_server().await;
        }
        outcome
    }

    /// Whether the server the host started is ready: its probe answers, and what answers is
    /// that process (a listener on the port that belongs to the node), not anything else.
    async fn ready(&self, service: &Service, pid: u32) -> bool {
        let ready = match &service.readiness {
            None => {
                tokio::time::timeout(
                    Duration::from_secs(1),
                    tokio::net::TcpStream::connect(("127.0.0.1", self.info.port)),
                )
                .await
                .is_ok_and(|connected| connected.is_ok())
                    && self.listens(self.info.port)
            }
            Some((argv, env)) => {
                let check = NodeCommand {
                    argv: argv.clone(),
                    stdin: None,
                    env: env.clone(),
                    timeout: Some(Duration::from_secs(5)),
                };
                self.exec(check)
                    .await
                    .is_ok_and(|output| output.status == 0)
            }
        };
        ready && alive(pid)
    }

    /// Whether a process of the node listens on TCP `port` (from the kernel's socket tables
    /// and the processes' descriptors).
    fn listens(&self, port: u16) -> bool {
        let mut inodes = Vec::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            for line in fs::read_to_string(table)
                .unwrap_or_default()
                .lines()
                .skip(1)
            {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(local), Some(state), Some(inode)) =
                    (fields.get(1), fields.get(3), fields.get(9))
                else {
                    continue;
                };
                let listening = *state == "0A";
                let on_port = local
                    .rsplit(':')
                    .next()
                    .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                    == Some(port);
                if listening && on_port {
                    inodes.push(format!("socket:[{inode}]"));
                }
            }
        }
        !inodes.is_empty()
            && self.processes().into_iter().any(|pid| {
                fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                    fds.flatten().any(|fd| {
                        fs::read_link(fd.path()).is_ok_and(|target| {
                            inodes.iter().any(|i| Path::new(i) == target.as_path())
                        })
                    })
                })
            })
    }

    /// Stops the server (the service's signal, then SIGKILL after its stop timeout), then
    /// every other process of the node, and waits until all are gone.
    pub(super) async fn stop_server(&self) -> Result<(), String> {
        if let Some(pid) = self.server() {
            let (signal, timeout) = match self.service() {
                Ok(service) => (
                    match service.stop_signal.as_str() {
                        "INT" => Signal::SIGINT,
                        "QUIT" => Signal::SIGQUIT,
                        _ => Signal::SIGTERM,
                    },
                    Duration::from_millis(u64::from(service.stop_timeout_ms.max(1000))),
                ),
                Err(_) => (Signal::SIGTERM, Duration::from_secs(30)),
            };
            self.kill(pid, signal);
            if !self.wait_gone(&[pid], timeout).await {
                tracing::warn!(node = %self.info.id, pid, "server did not stop in time; killing it");
            }
        }
        // Whatever the server left behind goes with it.
        self.kill_all().await?;
        let _ = fs::remove_file(self.supervision.join(RECORD));
        Ok(())
    }

    /// Writes a file of the supervision directory atomically.
    pub(super) fn write_supervision(
        &self,
        durability: Durability,
        name: &str,
        contents: &[u8],
    ) -> Result<(), String> {
        let path = self.supervision.join(name);
        super::write_private(&path, contents, durability)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}
