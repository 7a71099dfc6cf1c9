//! Running the real `drover` binary for end-to-end tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `drover` executable under test.
pub fn drover_bin() -> &'static str {
    env!("CARGO_BIN_EXE_drover-e2e")
}

/// A block of node ports no other test server uses, held while its lock files exist. Test
/// servers run in parallel (and nextest runs each test in its own process), so each claims a
/// block; a block whose owner process died is taken over.
pub struct PortBlock {
    /// First port.
    pub low: u16,
    /// Last port.
    pub high: u16,
    locks: Vec<PathBuf>,
}

const PORT_BLOCK: u16 = 40;
const PORT_BASE: u16 = 20000;
const PORT_BLOCKS: u16 = (32760 - PORT_BASE) / PORT_BLOCK;

impl PortBlock {
    /// Claims a free block (40 ports).
    pub fn claim() -> PortBlock {
        Self::claim_run(1)
    }

    /// Claims `count` free blocks in a row: one range of `40 * count` ports, for a server that
    /// runs more nodes than one block holds.
    pub fn claim_run(count: u16) -> PortBlock {
        assert!((1..=PORT_BLOCKS).contains(&count), "{count} port blocks");
        let dir = std::env::temp_dir().join("drover-test-ports");
        std::fs::create_dir_all(&dir).unwrap();
        let start = (std::process::id() as u16).wrapping_mul(7) % PORT_BLOCKS;
        for offset in 0..PORT_BLOCKS {
            let first = (start + offset) % PORT_BLOCKS;
            if first + count > PORT_BLOCKS {
                continue;
            }
            let mut locks = Vec::new();
            for index in first..first + count {
                match lock_block(&dir, index) {
                    Some(lock) => locks.push(lock),
                    None => break,
                }
            }
            if locks.len() == count as usize {
                let low = PORT_BASE + first * PORT_BLOCK;
                return PortBlock {
                    low,
                    high: low + count * PORT_BLOCK - 1,
                    locks,
                };
            }
            for lock in locks {
                let _ = std::fs::remove_file(lock);
            }
        }
        panic!("no {count} free blocks of test node ports in a row");
    }
}

/// Takes the lock of block `index`: its path, or None when a live process holds it.
fn lock_block(dir: &Path, index: u16) -> Option<PathBuf> {
    let me = std::process::id();
    let lock = dir.join(format!("block-{index}"));
    // A dead owner's lock is removed once and the claim tried again.
    for _ in 0..2 {
        // The lock appears with its owner already in it (a hard link of a complete file), so
        // a concurrent claimer never reads an empty lock and takes it for a dead one.
        let draft = dir.join(format!(
            "draft-{index}-{me}-{:?}",
            std::thread::current().id()
        ));
        std::fs::write(&draft, me.to_string()).unwrap();
        let linked = std::fs::hard_link(&draft, &lock);
        let _ = std::fs::remove_file(&draft);
        if linked.is_ok() {
            return Some(lock);
        }
        let owner = std::fs::read_to_string(&lock)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        if owner.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists()) {
            return None;
        }
        let _ = std::fs::remove_file(&lock);
    }
    None
}

impl Drop for PortBlock {
    fn drop(&mut self) {
        for lock in &self.locks {
            let _ = std::fs::remove_file(lock);
        }
    }
}

/// A `drover serve` process on a free port with its own state directory; stopped on drop.
pub struct Server {
    child: Child,
    stopped: bool,
    /// The node ports this server may use.
    pub ports: std::sync::Arc<PortBlock>,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The state directory (removed on drop).
    pub state: tempfile::TempDir,
    log: PathBuf,
}

/// How to start a server.
#[derive(Default, Clone)]
pub struct Options {
    /// Extra arguments after `serve`.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Run the server as this uid (and gid) instead of the test's user: the state directory is
    /// given to it, and the binary and drivers are copied where it can read them.
    pub run_as: Option<u32>,
    /// Give the state directory and configuration file relative to the server's working
    /// directory (the state directory's parent), as the quick start's `--state-dir var` is.
    pub relative_state: bool,
    /// More configuration (TOML), after the test's port range.
    pub config: String,
}

impl Server {
    /// Starts `drover serve` with the shipped drivers and waits for `/healthcheck`.
    pub fn start(options: Options) -> Server {
        let state = tempfile::Builder::new()
            .prefix("drover-e2e-")
            .tempdir()
            .unwrap();
        Self::start_in(state, options)
    }

    /// Starts `drover serve` on an existing state directory (for restart tests).
    pub fn start_in(state: tempfile::TempDir, options: Options) -> Server {
        Self::start_with_ports(state, options, std::sync::Arc::new(PortBlock::claim()))
    }

    /// Starts `drover serve` on a state directory with a given block of node ports.
    pub fn start_with_ports(
        state: tempfile::TempDir,
        options: Options,
        ports: std::sync::Arc<PortBlock>,
    ) -> Server {
        let port = free_port();
        let config = state.path().join("test-ports.toml");
        std::fs::write(
            &config,
            format!(
                "{}\n[backend]\nport_range = [{}, {}]\n",
                options.config, ports.low, ports.high
            ),
        )
        .unwrap();
        let log = state.path().join("drover.log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let (binary, drivers) = match options.run_as {
            Some(uid) => as_user(state.path(), uid),
            None => (
                PathBuf::from(drover_bin()),
                PathBuf::from(drover_artifacts::DRIVERS_DIR),
            ),
        };
        let mut command = Command::new(&binary);
        if let Some(uid) = options.run_as {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(uid);
        }
        let (state_arg, config_arg) = if options.relative_state {
            let name = PathBuf::from(state.path().file_name().unwrap());
            command.current_dir(state.path().parent().unwrap());
            (name.clone(), name.join("test-ports.toml"))
        } else {
            (state.path().to_path_buf(), config.clone())
        };
        command
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state-dir")
            .arg(&state_arg)
            .arg("--drivers-dir")
            .arg(&drivers)
            .arg("--config")
            .arg(&config_arg)
            .args(&options.args)
            .env("RUST_LOG", "info,drover=debug")
            .env("NO_COLOR", "1")
            .stdout(Stdio::from(log_file.try_clone().unwrap()))
            .stderr(Stdio::from(log_file));
        for (key, value) in &options.env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start drover");
        let mut server = Server {
            child,
            stopped: false,
            ports,
            base: format!("http://127.0.0.1:{port}"),
            state,
            log,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "drover ended ({status}) instead of becoming ready; its log:\n{}",
                    self.log_text()
                );
            }
            if let Ok(response) = reqwest::blocking::get(format!("{}/healthcheck", self.base))
                && response.status().is_success()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "drover did not become ready within 60 s; its log:\n{}",
            self.log_text()
        );
    }

    /// What the server logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// The `drover` process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits at most `timeout` for the process to end on its own: how it ended, or None if it
    /// still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if started.elapsed() >= timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the process as an operator would (SIGTERM, then SIGKILL after 10 s), leaving its
    /// nodes running, and hands back the state directory and port block, to start it again
    /// with [`Server::start_with_ports`].
    pub fn stop(mut self) -> (tempfile::TempDir, std::sync::Arc<PortBlock>) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            // SAFETY: sending a signal to our own child process, which has not been reaped.
            unsafe { libc_kill(self.child.id() as i32, 15) };
        }
        if self.wait_exit(Duration::from_secs(10)).is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let state = std::mem::replace(&mut self.state, tempfile::tempdir().unwrap());
        self.stopped = true;
        (state, self.ports.clone())
    }

    /// Kills the process at once (SIGKILL) and hands back the state directory and port block,
    /// to start it again with [`Server::start_with_ports`].
    pub fn kill(mut self) -> (tempfile::TempDir, std::sync::Arc<PortBlock>) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let state = std::mem::replace(&mut self.state, tempfile::tempdir().unwrap());
        self.stopped = true;
        (state, self.ports.clone())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        // An ended child's pid may be another process's by now.
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            // SAFETY: sending a signal to our own child process, which has not been reaped.
            unsafe { libc_kill(self.child.id() as i32, 15) };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Nodes outlive their host by design; a test's nodes must not outlive the test, or the
        // next test to take this port block meets them on its ports.
        for pid in super::nodes::processes_under(self.state.path()) {
            // SAFETY: sending a signal; the process runs in this test's state directory.
            unsafe { libc_kill(pid as i32, 9) };
        }
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

/// Gives `state` to `uid` and copies the binary and the drivers into it, where that user can
/// read them (the build's own directory may be out of its reach).
fn as_user(state: &Path, uid: u32) -> (PathBuf, PathBuf) {
    let own = |path: &Path| {
        std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
    };
    let binary = state.join("drover");
    std::fs::copy(drover_bin(), &binary).unwrap();
    let drivers = state.join("drivers");
    std::fs::create_dir_all(&drivers).unwrap();
    for entry in std::fs::read_dir(drover_artifacts::DRIVERS_DIR)
        .unwrap()
        .flatten()
    {
        std::fs::copy(entry.path(), drivers.join(entry.file_name())).unwrap();
        own(&drivers.join(entry.file_name()));
    }
    for path in [state.to_path_buf(), binary.clone(), drivers.clone()] {
        own(&path);
    }
    for entry in std::fs::read_dir(state).unwrap().flatten() {
        own(&entry.path());
    }
    (binary, drivers)
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
