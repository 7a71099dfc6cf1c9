//! One call into a driver: a fresh store and instance from the pool, a deadline, a memory cap,
//! optional fuel, node handles in the resource table, and afterwards the guest's output in the
//! log and any failure classified for the caller.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use wasmtime::component::Resource;
use wasmtime::{Store, Trap, UpdateDeadline};

use super::loader::{DriverIdentity, error_text};
use super::node::{NodeOps, NodeRef};
use super::since_v0_1_0::drover::driver::types::DriverError;
use super::since_v0_1_0::exports::drover::driver::manifest::DriverManifest;
use super::since_v0_1_0::{DatastoreDriver, DatastoreDriverPre};
use super::state::DriverState;
use super::{CallError, FaultKind, Shared};

/// What a call may do, which decides its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A pure function: validation, catalogs, rendering. Short deadline.
    Pure,
    /// A host-assisted function that acts on nodes. Long deadline.
    Node,
}

/// An instantiated driver with its store, for the length of one call.
pub(crate) struct Call {
    pub(crate) store: Store<DriverState>,
    pub(crate) instance: DatastoreDriver,
    started: Instant,
    deadline: Duration,
    _slot: OwnedSemaphorePermit,
}

impl Shared {
    /// Takes an instance slot, builds a store with this call's limits and instantiates.
    pub(crate) async fn enter(
        &self,
        pre: &DatastoreDriverPre<DriverState>,
        identity: Arc<DriverIdentity>,
        kind: CallKind,
    ) -> Result<Call, CallError> {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the slot semaphore is never closed");
        let config = &self.config;
        let deadline = match kind {
            CallKind::Pure => config.pure_deadline,
            CallKind::Node => config.node_deadline,
        };
        let mut store = Store::new(
            &self.engine,
            DriverState::new(
                identity.clone(),
                config.memory_cap,
                config.output_cap,
                config.log_cap,
            ),
        );
        store.limiter(|state| &mut state.limiter);
        if let Some(fuel) = config.fuel {
            store
                .set_fuel(fuel)
                .map_err(|error| fault(&identity, FaultKind::Internal, error_text(&error)))?;
        }
        let started = Instant::now();
        let ends = started + deadline;
        // Every epoch tick the guest yields to the executor, so a long call never starves other
        // tasks; once the deadline has passed, the next tick traps it.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= ends {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        let instance = pre.instantiate_async(&mut store).await.map_err(|error| {
            fault(
                &identity,
                FaultKind::Instantiate,
                format!("could not instantiate: {}", error_text(&error)),
            )
        })?;
        Ok(Call {
            store,
            instance,
            started,
            deadline,
            _slot: slot,
        })
    }

    /// Calls `manifest.get` on a driver that is not registered yet.
    pub(crate) async fn call_manifest(
        &self,
        pre: &DatastoreDriverPre<DriverState>,
        identity: Arc<DriverIdentity>,
    ) -> Result<DriverManifest, CallError> {
        let mut call = self.enter(pre, identity, CallKind::Pure).await?;
        let result = call
            .instance
            .drover_driver_manifest()
            .call_get(&mut call.store)
            .await;
        call.finish(result.map(Ok))
    }
}

impl Call {
    /// Puts a node into the store's table; the driver gets a borrow of it.
    pub(crate) fn node(&mut self, ops: Arc<dyn NodeOps>) -> Result<Resource<NodeRef>, CallError> {
        let own = self
            .store
            .data_mut()
            .table
            .push(NodeRef { ops })
            .map_err(|error| {
                let identity = self.store.data().identity.clone();
                fault(
                    &identity,
                    FaultKind::Internal,
                    format!("could not hand over a node: {error}"),
                )
            })?;
        Ok(Resource::new_borrow(own.rep()))
    }

    /// Logs what the guest printed and turns the outcome into the caller's result.
    pub(crate) fn finish<T>(
        mut self,
        outcome: wasmtime::Result<Result<T, DriverError>>,
    ) -> Result<T, CallError> {
        let identity = self.store.data().identity.clone();
        let mut stderr = String::new();
        for (stream, output) in [
            ("stdout", &self.store.data().stdout),
            ("stderr", &self.store.data().stderr),
        ] {
            let (text, dropped) = output.take();
            if !text.trim().is_empty() {
                tracing::info!(target: "drover::driver", driver = %identity.label, stream, dropped, "{}", text.trim_end());
            }
            if stream == "stderr" {
                stderr = text;
            }
        }
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(CallError::Driver(error)),
            Err(error) => Err(self.classify(&identity, error, &stderr)),
        }
    }

    /// Says why a call produced no answer. `stderr` is what the guest wrote there, where a
    /// panicking Rust driver leaves its message.
    fn classify(
        &mut self,
        identity: &DriverIdentity,
        error: wasmtime::Error,
        stderr: &str,
    ) -> CallError {
        let elapsed = self.started.elapsed();
        if let Some(desired) = self.store.data().limiter.exceeded {
            let cap = self.store.data().limiter.cap();
            return fault(
                identity,
                FaultKind::Memory,
                format!(
                    "exceeded its memory cap of {} MiB (asked for {} MiB)",
                    cap >> 20,
                    desired >> 20
                ),
            );
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => fault(
                identity,
                FaultKind::Deadline,
                format!(
                    "did not finish within its deadline of {} ms (stopped after {} ms)",
                    self.deadline.as_millis(),
                    elapsed.as_millis()
                ),
            ),
            Some(Trap::OutOfFuel) => fault(identity, FaultKind::Fuel, "ran out of fuel".into()),
            Some(trap) => {
                // A Rust panic prints "thread '…' panicked at file:line:" and the message on the
                // next line, then a note about backtraces; keep the two that matter.
                let lines: Vec<&str> = stderr
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty() && !line.starts_with("note: run with"))
                    .collect();
                let detail = lines[lines.len().saturating_sub(2)..].join(" ");
                let message = if detail.is_empty() {
                    format!("trapped: {trap}")
                } else {
                    format!("trapped: {trap}: {detail}")
                };
                fault(identity, FaultKind::Trap, message)
            }
            None => fault(
                identity,
                FaultKind::Trap,
                format!("failed: {}", error_text(&error)),
            ),
        }
    }
}

pub(crate) fn fault(identity: &DriverIdentity, kind: FaultKind, message: String) -> CallError {
    CallError::Fault {
        driver: identity.label.clone(),
        kind,
        message,
    }
}
