//! Running commands on nodes, with failures turned into [`DriverError`]s.

use crate::errors::DriverResult;
use crate::{DriverError, ExecOutput, ExecRequest, Node};

/// Conveniences on [`Node`] for drivers.
pub trait NodeExt {
    /// Runs `argv` with `stdin` and returns what it produced, whatever its exit status.
    fn run(&self, argv: &[&str], stdin: Option<&[u8]>) -> DriverResult<ExecOutput>;

    /// Runs `argv` and returns its standard output as text. A non-zero exit status is a
    /// `failed` error carrying the command's standard error (or output, if that is empty).
    fn run_ok(&self, argv: &[&str], stdin: Option<&[u8]>) -> DriverResult<String>;

    /// Reads a file as UTF-8 text; a missing file is `None`.
    fn read_text(&self, path: &str) -> DriverResult<Option<String>>;

    /// Writes a text file with the given permission bits.
    fn write_text(&self, path: &str, contents: &str, mode: u32) -> DriverResult<()>;
}

impl NodeExt for Node {
    fn run(&self, argv: &[&str], stdin: Option<&[u8]>) -> DriverResult<ExecOutput> {
        let request = ExecRequest {
            argv: argv.iter().map(|arg| arg.to_string()).collect(),
            stdin: stdin.map(|bytes| bytes.to_vec()),
            env: Vec::new(),
            timeout_ms: 0,
        };
        self.exec(&request).map_err(|message| {
            DriverError::Failed(format!("{}: {message}", argv.first().unwrap_or(&"")))
        })
    }

    fn run_ok(&self, argv: &[&str], stdin: Option<&[u8]>) -> DriverResult<String> {
        let output = self.run(argv, stdin)?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status == 0 {
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail = if stderr.trim().is_empty() {
            stdout.trim().to_string()
        } else {
            stderr.trim().to_string()
        };
        Err(DriverError::Failed(format!(
            "{} exited with status {}: {detail}",
            argv.first().unwrap_or(&""),
            output.status
        )))
    }

    fn read_text(&self, path: &str) -> DriverResult<Option<String>> {
        if !self.exists(path).map_err(DriverError::Failed)? {
            return Ok(None);
        }
        let bytes = self.read_file(path).map_err(DriverError::Failed)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| DriverError::Failed(format!("{path} is not UTF-8 text")))
    }

    fn write_text(&self, path: &str, contents: &str, mode: u32) -> DriverResult<()> {
        self.write_file(path, contents.as_bytes(), mode)
            .map_err(DriverError::Failed)
    }
}
