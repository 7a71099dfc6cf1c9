//! The driver runtime: loads WebAssembly driver components, keeps a registry of their
//! versions, and calls them in a sandbox.
//!
//! One [`wasmtime::Engine`] per [`Runtime`]. A driver is compiled once (the compiled artifact is
//! cached on disk, keyed by content digest and engine settings) and kept pre-instantiated; every
//! call gets a fresh store and instance from the pooling allocator, a deadline (epoch
//! interruption; pure calls and node calls have separate defaults), a memory cap, optional fuel,
//! and no ambient authority: no preopened directories, sockets, environment or arguments; its
//! stdout and stderr go to the log, capped. Nodes reach a driver only as handles passed into a
//! call ([`NodeOps`]).
//!
//! Must not import: the store, the orchestrator, backends, http. Everything it needs from them
//! comes in as arguments.

mod call;
mod driver;
mod engine;
mod host_imports;
mod loader;
mod node;
mod registry;
mod since_v0_1_0;
mod state;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

pub use call::CallKind;
pub use driver::Driver;
pub use loader::{DriverIdentity, compatible, digest_of, short};
pub use node::{CommandOutput, NodeCommand, NodeOps, node_path};
pub use registry::{Activation, Registry, RegistryError};

/// The contract's types, as callers outside the runtime see them (the newest contract version).
pub mod types {
    pub use super::since_v0_1_0::drover::driver::types::*;
    pub use super::since_v0_1_0::exports::drover::driver::accounts::{Credentials, UserUpdate};
    pub use super::since_v0_1_0::exports::drover::driver::configuration::{
        ApplyOutcome, ApplyRequest, ExcludedParam, ParamDef, ParamKind, Validated,
        ValidationRequest,
    };
    pub use super::since_v0_1_0::exports::drover::driver::lifecycle::{
        Command, Health, HealthStatus, PrepareRequest, Readiness, ServiceFile, ServiceSpec,
        StopSignal,
    };
    pub use super::since_v0_1_0::exports::drover::driver::manifest::{
        Binary, DriverManifest, Maturity,
    };
    pub use super::since_v0_1_0::exports::drover::driver::replication::{
        ReplicationRole, ReplicationStatus, SourceSetup,
    };
}

use since_v0_1_0::DatastoreDriver;
use state::DriverState;
use types::DriverError;

/// The WIT package drivers implement.
pub const CONTRACT_PACKAGE: &str = "drover:driver";

/// The contract version this host implements (from `wit/world.wit`).
pub fn contract_version() -> semver::Version {
    semver::Version::parse(env!("DROVER_CONTRACT_VERSION"))
        .expect("the WIT package version is semver")
}

/// Limits and settings of the runtime. Every number a driver could push against is here.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where compiled drivers are cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Linear memory one driver instance may use, in bytes.
    pub memory_cap: usize,
    /// Deadline of a pure call (validation, catalogs, rendering).
    pub pure_deadline: Duration,
    /// Deadline of a call that acts on nodes (it may run commands that take a while).
    pub node_deadline: Duration,
    /// Fuel per call; `None` disables fuel metering.
    pub fuel: Option<u64>,
    /// Driver instances that may exist at once; further calls wait for a slot.
    pub instance_slots: u32,
    /// Bytes of a driver's stdout and of its stderr kept per call for the log.
    pub output_cap: usize,
    /// Longest log message a driver may write, in bytes.
    pub log_cap: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            memory_cap: 64 << 20,
            pure_deadline: Duration::from_secs(2),
            node_deadline: Duration::from_secs(600),
            fuel: None,
            instance_slots: 64,
            output_cap: 64 << 10,
            log_cap: 8 << 10,
        }
    }
}

/// Why a component could not be loaded as a driver.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a WebAssembly component this engine can compile.
    #[error("not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    /// The component exports nothing of the `drover:driver` contract.
    #[error(
        "the component does not export the drover:driver contract (no drover:driver/* exports)"
    )]
    NoContract,
    /// The contract versions are not compatible.
    #[error(
        "the driver implements contract drover:driver@{driver}, which this host (drover:driver@{host}) cannot run: {}",
        if host.major == 0 { "before 1.0 the minor versions must match" } else { "the major versions must match and the driver's minor may not be newer" }
    )]
    IncompatibleContract {
        /// The driver's contract version.
        driver: semver::Version,
        /// The host's contract version.
        host: semver::Version,
    },
    /// An import the host does not provide.
    #[error("the driver imports something this host does not provide: {0}")]
    Imports(String),
    /// A missing or mistyped export.
    #[error("the driver does not export the datastore-driver world correctly: {0}")]
    Exports(String),
    /// The manifest could not be read.
    #[error("reading the driver's manifest failed: {0}")]
    ManifestCall(String),
    /// The manifest is wrong.
    #[error("the driver's manifest is invalid: {0}")]
    Manifest(String),
}

/// How a call into a driver failed to produce a value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The driver answered with one of the contract's errors.
    #[error("{}", driver_message(.0))]
    Driver(DriverError),
    /// The driver did not answer: it trapped, overran its deadline or memory, or could not be
    /// instantiated. The host and the next call are unaffected.
    #[error("driver {driver} {message}")]
    Fault {
        /// `name@version (digest)`.
        driver: String,
        /// What happened.
        kind: FaultKind,
        /// The details.
        message: String,
    },
}

/// What a driver's error says, as a person reads it: its text (the fields' messages, for
/// invalid input), never the binding's debug form (`Failed("…")`).
pub fn driver_message(error: &DriverError) -> String {
    match error {
        DriverError::Invalid(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        DriverError::Unsupported(message)
        | DriverError::Conflict(message)
        | DriverError::NotFound(message)
        | DriverError::Failed(message)
        | DriverError::NotReady(message) => message.clone(),
    }
}

/// The ways a driver call can fail without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// It ran past its deadline and was interrupted.
    Deadline,
    /// It tried to grow its memory past the cap.
    Memory,
    /// It used up its fuel.
    Fuel,
    /// It trapped (a panic, an unreachable, a bad memory access).
    Trap,
    /// It could not be instantiated.
    Instantiate,
    /// The host could not set the call up.
    Internal,
}

/// The driver runtime. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    engine: Engine,
    linker: Linker<DriverState>,
    config: RuntimeConfig,
    settings_digest: String,
    slots: Arc<Semaphore>,
    registry: Registry,
}

impl Runtime {
    /// Builds the engine and the linker. Starts the epoch ticker thread.
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Runtime> {
        let engine = engine::build(&config)
            .map_err(|error| anyhow::anyhow!("configuring wasmtime: {error}"))?;
        let mut linker = Linker::<DriverState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|error| anyhow::anyhow!("linking WASI: {error}"))?;
        DatastoreDriver::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|error| anyhow::anyhow!("linking the contract's imports: {error}"))?;
        engine::start_ticker(&engine);
        let settings_digest = engine::settings_digest(&engine);
        let slots = Arc::new(Semaphore::new(config.instance_slots.max(1) as usize));
        Ok(Runtime {
            shared: Arc::new(Shared {
                engine,
                linker,
                config,
                settings_digest,
                slots,
                registry: Registry::default(),
            }),
        })
    }

    /// Compiles and validates a component; the driver is not registered. A component already
    /// registered under the same digest is returned as it is.
    pub async fn load(&self, bytes: Vec<u8>) -> Result<Driver, LoadError> {
        if let Some(driver) = self.shared.registry.get(&digest_of(&bytes)) {
            return Ok(driver);
        }
        let loaded = self.shared.load(bytes).await?;
        Ok(Driver::new(self.shared.clone(), loaded))
    }

    /// The registry of loaded drivers.
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    /// The runtime's settings.
    pub fn config(&self) -> &RuntimeConfig {
        &self.shared.config
    }
}
