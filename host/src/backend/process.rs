//! Supervising a node's server process: start from the saved service definition and wait until
//! ready, stop with the driver's signal then SIGKILL, and tell whether the process a pid file
//! names is still the one we started (after a host restart the pid may have been reused).

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::exec::kill_group;
use super::{ProcessNode, SEARCH_PATH, files};
use crate::runtime::{NodeCommand, NodeOps};

const PID_FILE: &str = ".drover/pid";
const LOG_FILE: &str = ".drover/server.log";

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

/// The start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat) and
/// whether it is a zombie.
fn start_time(pid: u32) -> Option<(u64, bool)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let zombie = fields.first() == Some(&"Z");
    Some((fields.get(19)?.parse().ok()?, zombie))
}

/// The state of the process the node's pid file names.
pub fn state(dir: &Path) -> ProcessState {
    let Ok(text) = fs::read_to_string(dir.join(PID_FILE)) else {
        return ProcessState::Stopped;
    };
    let mut parts = text.split_whitespace();
    let (Some(Ok(pid)), Some(Ok(started))) = (
        parts.next().map(str::parse::<u32>),
        parts.next().map(str::parse::<u64>),
    ) else {
        return ProcessState::Stopped;
    };
    match start_time(pid) {
        Some((now, false)) if now == started => ProcessState::Running { pid },
        _ => ProcessState::Stopped,
    }
}

/// The last `lines` lines of the server log.
pub fn log_tail(dir: &Path, lines: usize) -> String {
    let text = fs::read_to_string(dir.join(LOG_FILE)).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Starts the server unless it runs, and waits until it is ready.
pub async fn start(node: &ProcessNode) -> Result<(), String> {
    if let ProcessState::Running { .. } = state(&node.dir) {
        return Ok(());
    }
    let service = node.service()?;
    let (program, args) = service
        .argv
        .split_first()
        .ok_or("the service has no program")?;
    let path = node.backend.resolve(program)?;
    let log_path = node.dir.join(LOG_FILE);
    if !log_path.exists() {
        files::write(
            &node.dir,
            Path::new(LOG_FILE),
            b"",
            0o600,
            node.backend.run_as.as_ref(),
        )?;
    }
    let log = fs::OpenOptions::new()
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut process = tokio::process::Command::new(&path);
    process
        .args(args)
        .current_dir(&node.dir)
        .env_clear()
        .env("PATH", SEARCH_PATH)
        .env("HOME", &node.dir)
        .env("LANG", "C.UTF-8")
        .envs(service.env.iter().map(|(k, v)| (k, v)))
        // Its own process group: the server outlives the host and is stopped as a group.
        .process_group(0)
        .kill_on_drop(false)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
        .stderr(Stdio::from(log));
    if let Some(run_as) = &node.backend.run_as {
        process.uid(run_as.uid).gid(run_as.gid);
    }
    let mut child = process
        .spawn()
        .map_err(|e| format!("starting {program}: {e}"))?;
    let pid = child.id().ok_or("the server exited at once")?;
    let started = start_time(pid).map(|(t, _)| t).unwrap_or(0);
    files::write(
        &node.dir,
        Path::new(PID_FILE),
        format!("{pid} {started}\n").as_bytes(),
        0o600,
        None,
    )?;
    let node_id = node.info.id.clone();
    // Reap the process when it exits, so it never lingers as a zombie of the host.
    tokio::spawn(async move {
        if let Ok(status) = child.wait().await {
            tracing::info!(node = %node_id, pid, %status, "node server process exited");
        }
    });

    let deadline =
        Instant::now() + Duration::from_millis(u64::from(service.start_timeout_ms.max(1000)));
    // Small servers are ready in tens of milliseconds: probe early, then back off.
    let mut pause = Duration::from_millis(10);
    loop {
        if state(&node.dir) == ProcessState::Stopped {
            return Err(format!(
                "{program} exited while starting; its log ends with:\n{}",
                log_tail(&node.dir, 15)
            ));
        }
        if ready(node, &service).await {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let tail = log_tail(&node.dir, 15);
            let _ = stop(node).await;
            return Err(format!(
                "{program} was not ready within {} ms; its log ends with:\n{tail}",
                service.start_timeout_ms
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

async fn ready(node: &ProcessNode, service: &super::Service) -> bool {
    match &service.readiness {
        None => tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect(("127.0.0.1", node.info.port)),
        )
        .await
        .is_ok_and(|connected| connected.is_ok()),
        Some((argv, env)) => {
            let check = NodeCommand {
                argv: argv.clone(),
                stdin: None,
                env: env.clone(),
                timeout: Some(Duration::from_secs(5)),
            };
            node.exec(check)
                .await
                .is_ok_and(|output| output.status == 0)
        }
    }
}

/// Stops the server (the service's signal, then SIGKILL after its stop timeout) and waits until
/// it is gone.
pub async fn stop(node: &ProcessNode) -> Result<(), String> {
    let ProcessState::Running { pid } = state(&node.dir) else {
        let _ = fs::remove_file(node.dir.join(PID_FILE));
        return Ok(());
    };
    let (signal, timeout) = match node.service() {
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
    let _ = kill(Pid::from_raw(pid as i32), signal);
    let deadline = Instant::now() + timeout;
    while state(&node.dir) != ProcessState::Stopped && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if state(&node.dir) != ProcessState::Stopped {
        tracing::warn!(node = %node.info.id, pid, "server did not stop in time; killing it");
        kill_group(pid);
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(10);
        while state(&node.dir) != ProcessState::Stopped && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Whatever the server left behind in its group goes with it.
    kill_group(pid);
    if state(&node.dir) != ProcessState::Stopped {
        return Err(format!(
            "the server of node {} (pid {pid}) could not be stopped",
            node.info.id
        ));
    }
    let _ = fs::remove_file(node.dir.join(PID_FILE));
    Ok(())
}
