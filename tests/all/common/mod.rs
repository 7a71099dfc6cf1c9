//! Helpers shared by the test modules. Not every module uses every helper.
#![allow(dead_code)]

pub mod api;
pub mod db;
pub mod hosts;
pub mod nodes;
pub mod server;

use std::time::Duration;

use drover_host::runtime::{Driver, Runtime, RuntimeConfig};

/// A runtime with short deadlines, so tests about deadlines finish quickly, and a compile cache
/// shared by the tests of this run.
pub fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(std::env::temp_dir().join("drover-test-cwasm")),
        pure_deadline: Duration::from_millis(300),
        memory_cap: 32 << 20,
        ..RuntimeConfig::default()
    })
    .expect("the runtime starts")
}

/// Loads a component from a file.
pub async fn load(runtime: &Runtime, path: &str) -> Driver {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    runtime
        .load(bytes)
        .await
        .unwrap_or_else(|e| panic!("load {path}: {e}"))
}
