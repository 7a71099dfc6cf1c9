//! Commands on nodes: only programs the operator allows, confined like the node's server, with
//! a cleared environment, a timeout and capped output.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::ProcessNode;
use crate::runtime::{CommandOutput, NodeCommand};

/// Runs a command to completion.
pub async fn run(node: &ProcessNode, command: NodeCommand) -> Result<CommandOutput, String> {
    let (program, args) = command
        .argv
        .split_first()
        .ok_or("a command needs a program")?;
    let path = node.backend.resolve(program)?;
    let service = node.service().unwrap_or_default();
    let (mut process, view) = node.command(&path, args, &command.env, &service).await?;
    process
        .kill_on_drop(true)
        .stdin(if command.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = view
        .spawn(process)
        .await
        .map_err(|e| format!("{program}: {e}"))?;
    let pid = child.id();
    let cap = node.backend.config.output_cap;
    let timeout = command.timeout.unwrap_or(node.backend.config.exec_timeout);

    let stdin = child.stdin.take();
    let input = command.stdin;
    let feed = async move {
        if let (Some(mut stdin), Some(bytes)) = (stdin, input) {
            // A program that exits without reading its input is not an error.
            let _ = stdin.write_all(&bytes).await;
        }
    };
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let work = async {
        let ((), (out, out_cut), (err, err_cut), status) =
            tokio::join!(feed, capped(stdout, cap), capped(stderr, cap), child.wait());
        (out, out_cut, err, err_cut, status)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok((stdout, out_cut, stderr, err_cut, status)) => {
            let status = status.map_err(|e| format!("{program}: {e}"))?;
            Ok(CommandOutput {
                status: status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
                stdout,
                stderr,
                truncated: out_cut || err_cut,
            })
        }
        Err(_) => {
            if let Some(pid) = pid {
                kill_group(pid);
            }
            Err(format!(
                "{program} did not finish within {} ms and was killed",
                timeout.as_millis()
            ))
        }
    }
}

/// Reads a stream to its end, keeping at most `cap` bytes (the rest is read and dropped, so
/// the program never blocks on a full pipe).
async fn capped(mut stream: impl AsyncRead + Unpin, cap: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut cut = false;
    let mut buffer = [0u8; 8192];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return (kept, cut),
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
}

/// Kills the process group a command leads (the host's own child: its pid is not reused
/// while it is unreaped).
fn kill_group(pid: u32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}
