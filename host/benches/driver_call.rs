//! What a driver call costs: a cold call (a fresh store and instance from the pool, then
//! `configuration.validate` of 20 Redis parameters, then teardown) against the same validation
//! compiled natively. Results and the command are recorded in docs/benchmarks.md.

use criterion::{Criterion, criterion_group, criterion_main};
use drover_host::runtime::{Runtime, RuntimeConfig, types};

/// Twenty valid Redis 7.0 settings, of every kind the catalog has.
const SETTINGS: &[(&str, &str)] = &[
    ("maxmemory", "64mb"),
    ("maxmemory-policy", "allkeys-lru"),
    ("maxmemory-samples", "5"),
    ("appendonly", "yes"),
    ("appendfsync", "everysec"),
    ("timeout", "300"),
    ("tcp-keepalive", "60"),
    ("databases", "16"),
    ("hz", "10"),
    ("slowlog-log-slower-than", "10000"),
    ("slowlog-max-len", "128"),
    ("notify-keyspace-events", "Ex"),
    ("save", "3600 1 300 100"),
    ("lazyfree-lazy-eviction", "no"),
    ("activedefrag", "no"),
    ("hash-max-listpack-entries", "128"),
    ("list-max-listpack-size", "-2"),
    ("latency-monitor-threshold", "0"),
    ("maxclients", "1000"),
    ("loglevel", "notice"),
];

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let bytes = std::fs::read(drover_artifacts::REDIS).expect("the Redis driver is built");
    let driver = tokio.block_on(runtime.load(bytes)).unwrap();

    let wasm_request = types::ValidationRequest {
        datastore_version: "7.0".into(),
        settings: SETTINGS
            .iter()
            .map(|(name, value)| types::Setting {
                name: (*name).into(),
                value: types::Value::Text((*value).into()),
            })
            .collect(),
        flavor: None,
    };
    let native_request = drover_driver_sdk::configuration::ValidationRequest {
        datastore_version: "7.0".into(),
        settings: SETTINGS
            .iter()
            .map(|(name, value)| drover_driver_sdk::Setting {
                name: (*name).into(),
                value: drover_driver_sdk::Value::Text((*value).into()),
            })
            .collect(),
        flavor: None,
    };

    // Both paths accept all twenty values; a benchmark of a failing call would measure nothing.
    let validated = tokio
        .block_on(driver.validate(&wasm_request))
        .expect("valid settings");
    assert_eq!(validated.settings.len(), SETTINGS.len());

    // The fixed cost of a call: a fresh store and instance, a trivial export, teardown.
    c.bench_function("cold_manifest_call", |b| {
        b.iter(|| tokio.block_on(driver.call_manifest()).unwrap())
    });

    let mut group = c.benchmark_group("validate_20_redis_parameters");
    group.bench_function("cold_wasm_call", |b| {
        b.iter(|| tokio.block_on(driver.validate(&wasm_request)).unwrap())
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            <drover_driver_redis::Redis as drover_driver_sdk::Driver>::validate(
                native_request.clone(),
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
