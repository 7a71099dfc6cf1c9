//! The host side of the contract's imports: the `node` resource and `log`. Every privileged
//! call is checked here against what the driver declared (its binaries) before it reaches the
//! backend, which checks again against what the operator allows.

use std::time::Duration;

use wasmtime::component::Resource;

use super::node::{NodeCommand, NodeRef, node_path};
use super::since_v0_1_0::drover::driver::{log, node_api, types};
use super::state::DriverState;

impl types::Host for DriverState {}

impl node_api::Host for DriverState {}

impl DriverState {
    fn node(&self, handle: &Resource<NodeRef>) -> wasmtime::Result<&NodeRef> {
        Ok(self.table.get(handle)?)
    }
}

impl node_api::HostNode for DriverState {
    async fn id(&mut self, node: Resource<NodeRef>) -> wasmtime::Result<String> {
        Ok(self.node(&node)?.ops.id())
    }

    async fn address(&mut self, node: Resource<NodeRef>) -> wasmtime::Result<types::Endpoint> {
        let (host, port) = self.node(&node)?.ops.address();
        Ok(types::Endpoint { host, port })
    }

    async fn directory(&mut self, node: Resource<NodeRef>) -> wasmtime::Result<String> {
        Ok(self.node(&node)?.ops.directory().display().to_string())
    }

    async fn exec(
        &mut self,
        node: Resource<NodeRef>,
        request: node_api::ExecRequest,
    ) -> wasmtime::Result<Result<node_api::ExecOutput, String>> {
        let Some(binary) = request.argv.first() else {
            return Ok(Err("exec needs a program name in argv[0]".into()));
        };
        if !self
            .identity
            .binaries
            .iter()
            .any(|declared| declared == binary)
        {
            return Ok(Err(format!(
                "{binary} is not among the binaries the driver's manifest declares ({})",
                self.identity.binaries.join(", ")
            )));
        }
        let command = NodeCommand {
            argv: request.argv,
            stdin: request.stdin,
            env: request.env,
            timeout: (request.timeout_ms > 0)
                .then(|| Duration::from_millis(u64::from(request.timeout_ms))),
        };
        let ops = self.node(&node)?.ops.clone();
        Ok(ops.exec(command).await.map(|output| node_api::ExecOutput {
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
            truncated: output.truncated,
        }))
    }

    async fn read_file(
        &mut self,
        node: Resource<NodeRef>,
        path: String,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let ops = self.node(&node)?.ops.clone();
        Ok(match node_path(&path) {
            Ok(path) => ops.read_file(&path).await,
            Err(message) => Err(message),
        })
    }

    async fn write_file(
        &mut self,
        node: Resource<NodeRef>,
        path: String,
        contents: Vec<u8>,
        mode: u32,
    ) -> wasmtime::Result<Result<(), String>> {
        let ops = self.node(&node)?.ops.clone();
        Ok(match node_path(&path) {
            Ok(path) => ops.write_file(&path, &contents, mode & 0o777).await,
            Err(message) => Err(message),
        })
    }

    async fn exists(
        &mut self,
        node: Resource<NodeRef>,
        path: String,
    ) -> wasmtime::Result<Result<bool, String>> {
        let ops = self.node(&node)?.ops.clone();
        Ok(match node_path(&path) {
            Ok(path) => ops.exists(&path).await,
            Err(message) => Err(message),
        })
    }

    async fn remove(
        &mut self,
        node: Resource<NodeRef>,
        path: String,
    ) -> wasmtime::Result<Result<(), String>> {
        let ops = self.node(&node)?.ops.clone();
        Ok(match node_path(&path) {
            Ok(path) => ops.remove(&path).await,
            Err(message) => Err(message),
        })
    }

    async fn is_running(&mut self, node: Resource<NodeRef>) -> wasmtime::Result<bool> {
        let ops = self.node(&node)?.ops.clone();
        Ok(ops.is_running().await)
    }

    async fn start(&mut self, node: Resource<NodeRef>) -> wasmtime::Result<Result<(), String>> {
        let ops = self.node(&node)?.ops.clone();
        Ok(ops.start().await)
    }

    async fn stop(&mut self, node: Resource<NodeRef>) -> wasmtime::Result<Result<(), String>> {
        let ops = self.node(&node)?.ops.clone();
        Ok(ops.stop().await)
    }

    async fn restart(&mut self, node: Resource<NodeRef>) -> wasmtime::Result<Result<(), String>> {
        let ops = self.node(&node)?.ops.clone();
        Ok(ops.restart().await)
    }

    async fn drop(&mut self, node: Resource<NodeRef>) -> wasmtime::Result<()> {
        // The handle is the host's: the runtime removes it from the table after the call. A
        // driver dropping its borrow needs nothing here.
        let _ = node;
        Ok(())
    }
}

impl log::Host for DriverState {
    async fn log(&mut self, level: log::Level, mut message: String) -> wasmtime::Result<()> {
        if message.len() > self.log_cap {
            let mut cut = self.log_cap;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" [cut]");
        }
        let driver = &self.identity.label;
        match level {
            log::Level::Trace => tracing::trace!(target: "drover::driver", %driver, "{message}"),
            log::Level::Debug => tracing::debug!(target: "drover::driver", %driver, "{message}"),
            log::Level::Info => tracing::info!(target: "drover::driver", %driver, "{message}"),
            log::Level::Warn => tracing::warn!(target: "drover::driver", %driver, "{message}"),
            log::Level::Error => tracing::error!(target: "drover::driver", %driver, "{message}"),
        }
        Ok(())
    }
}
