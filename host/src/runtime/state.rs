//! What a driver's store holds during one call: an empty WASI context, the resource table for
//! node handles, the memory limiter, captured output and the grants the call runs under.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::loader::DriverIdentity;

/// Per-call store data.
pub struct DriverState {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) stdout: CappedOutput,
    pub(crate) stderr: CappedOutput,
    /// Who is running: name, version and digest, for logs and errors.
    pub(crate) identity: Arc<DriverIdentity>,
    /// Longest log message kept, in bytes.
    pub(crate) log_cap: usize,
}

impl DriverState {
    /// A state with nothing ambient: no preopened directories, no environment, no arguments, no
    /// network (the WASI defaults), and stdout/stderr captured up to `output_cap` bytes each.
    pub fn new(
        identity: Arc<DriverIdentity>,
        memory_cap: usize,
        output_cap: usize,
        log_cap: usize,
    ) -> Self {
        let stdout = CappedOutput::new(output_cap);
        let stderr = CappedOutput::new(output_cap);
        let mut builder = WasiCtx::builder();
        builder.stdout(stdout.clone()).stderr(stderr.clone());
        DriverState {
            wasi: builder.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_cap),
            stdout,
            stderr,
            identity,
            log_cap,
        }
    }
}

impl WasiView for DriverState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps the memory of one driver instance and remembers that the cap was hit, so the error can
/// say so plainly instead of reporting whatever trap followed.
pub struct MemoryLimiter {
    cap: usize,
    pub(crate) exceeded: Option<usize>,
}

impl MemoryLimiter {
    fn new(cap: usize) -> Self {
        MemoryLimiter {
            cap,
            exceeded: None,
        }
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.exceeded = Some(desired);
            return Err(wasmtime::format_err!(
                "memory limit exceeded: the driver asked for {} MiB, the cap is {} MiB",
                desired >> 20,
                self.cap >> 20
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a driver needs a few thousand at most.
        Ok(desired <= 100_000)
    }
}

/// A guest output stream that keeps at most `cap` bytes and silently drops the rest, so a
/// chatty driver is cut off instead of trapping.
#[derive(Clone)]
pub struct CappedOutput {
    inner: Arc<Mutex<Captured>>,
}

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    dropped: usize,
    cap: usize,
}

impl CappedOutput {
    fn new(cap: usize) -> Self {
        CappedOutput {
            inner: Arc::new(Mutex::new(Captured {
                cap,
                ..Default::default()
            })),
        }
    }

    /// What was written, as text, and how many bytes were dropped.
    pub fn take(&self) -> (String, usize) {
        let mut captured = self.inner.lock().unwrap();
        let text = String::from_utf8_lossy(&captured.bytes).into_owned();
        captured.bytes.clear();
        (text, std::mem::take(&mut captured.dropped))
    }
}

impl IsTerminal for CappedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for CappedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut captured = self.inner.lock().unwrap();
        let room = captured.cap.saturating_sub(captured.bytes.len());
        let kept = room.min(buf.len());
        captured.bytes.extend_from_slice(&buf[..kept]);
        captured.dropped += buf.len() - kept;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
