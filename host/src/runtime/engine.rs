//! The one `Engine` of the process, configured in one place.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::RuntimeConfig;

/// How often the epoch advances. Deadlines are checked at this granularity: a call overruns its
/// deadline by at most one tick plus the straight-line code before the next loop back-edge.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Core instances, memories and tables one driver component may need. A Rust driver built for
/// wasm32-wasip2 has a handful of core instances (its module plus the canonical-ABI shims) and
/// one memory; the margins leave room for drivers built with other toolchains.
const CORE_INSTANCES_PER_SLOT: u32 = 8;
const MEMORIES_PER_SLOT: u32 = 2;
const TABLES_PER_SLOT: u32 = 4;

/// Linear memory kept resident per slot between calls: a driver's heap after a typical call is
/// well below this.
const RESIDENT_MEMORY: usize = 2 << 20;
/// Table bytes kept resident per slot.
const RESIDENT_TABLE: usize = 64 << 10;
/// Slots decommitted together.
const DECOMMIT_BATCH: usize = 16;

/// Builds the engine: Cranelift, the component model, epoch interruption for deadlines, fuel
/// when configured, and the pooling allocator sized for `config.instance_slots` concurrent calls.
pub fn build(config: &RuntimeConfig) -> wasmtime::Result<Engine> {
    let mut wasm = Config::new();
    // Deadlines interrupt guest code at loop back-edges and function entries.
    wasm.epoch_interruption(true);
    // Fuel makes every call's budget deterministic; it costs a little on hot loops, so it is off
    // unless an operator asks for it.
    wasm.consume_fuel(config.fuel.is_some());
    // Guest stack: generous for drivers, bounded so runaway recursion traps quickly.
    wasm.max_wasm_stack(1 << 20);

    let slots = config.instance_slots.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots * CORE_INSTANCES_PER_SLOT)
        .total_memories(slots * MEMORIES_PER_SLOT)
        .total_tables(slots * TABLES_PER_SLOT)
        .total_stacks(slots)
        .max_memory_size(config.memory_cap)
        .max_memories_per_component(MEMORIES_PER_SLOT)
        .max_core_instances_per_component(CORE_INSTANCES_PER_SLOT * 2)
        // A call uses a fresh instance, so slots are reused constantly. Resetting the first
        // pages of a slot with memset instead of madvise (and, on kernels with PAGEMAP_SCAN,
        // only the pages actually touched) saves the page faults every call would otherwise
        // take again; batching the remaining decommits saves system calls.
        .linear_memory_keep_resident(RESIDENT_MEMORY)
        .table_keep_resident(RESIDENT_TABLE)
        .pagemap_scan(wasmtime::Enabled::Auto)
        .decommit_batch_size(DECOMMIT_BATCH);
    wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&wasm)
}

/// A short digest of the engine settings that compiled artifacts depend on, for cache keys.
pub fn settings_digest(engine: &Engine) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Advances the epoch every [`EPOCH_TICK`] on a thread of its own, for as long as the engine
/// lives. The thread holds a weak reference so it never keeps the engine (and the address space
/// the pooling allocator reserved) alive.
pub fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("drover-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("start the epoch ticker thread");
}
