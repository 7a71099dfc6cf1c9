//! The driver runtime against real components: the Redis driver, hostile drivers built from
//! `tests/fixtures`, and hot swaps under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use drover_host::runtime::types::{DriverError, Setting, ValidationRequest, Value};
use drover_host::runtime::{CallError, Driver, FaultKind, LoadError, contract_version};

use crate::common::{load, runtime};

fn request(version: &str, settings: &[(&str, Value)]) -> ValidationRequest {
    ValidationRequest {
        datastore_version: version.into(),
        settings: settings
            .iter()
            .map(|(name, value)| Setting {
                name: (*name).into(),
                value: value.clone(),
            })
            .collect(),
        flavor: None,
    }
}

fn invalid_fields(error: CallError) -> Vec<(String, String)> {
    match error {
        CallError::Driver(DriverError::Invalid(errors)) => {
            errors.into_iter().map(|e| (e.field, e.message)).collect()
        }
        other => panic!("expected the driver to answer invalid, got {other:?}"),
    }
}

fn fault_of(error: CallError) -> (FaultKind, String) {
    match error {
        CallError::Fault { kind, message, .. } => (kind, message),
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[tokio::test]
async fn redis_driver_loads_with_its_manifest() {
    let runtime = runtime();
    let redis = load(&runtime, drover_artifacts::REDIS).await;
    let manifest = redis.manifest();
    assert_eq!(manifest.name, "redis");
    assert_eq!(manifest.datastore, "redis");
    assert!(manifest.versions.contains(&"7.0".to_string()));
    // The driver says which contract it implements, and it is this host's.
    assert_eq!(redis.identity().contract, contract_version());
    assert!(redis.digest().starts_with("sha256:"));
}

#[tokio::test]
async fn redis_driver_accepts_a_good_configuration_and_flags_restart_only_keys() {
    let runtime = runtime();
    let redis = load(&runtime, drover_artifacts::REDIS).await;
    let validated = redis
        .validate(&request(
            "7.0",
            &[
                ("maxmemory", Value::Text("100mb".into())),
                ("appendonly", Value::Boolean(true)),
                ("maxmemory-policy", Value::Text("allkeys-lru".into())),
                ("databases", Value::Integer(4)),
            ],
        ))
        .await
        .expect("a good configuration validates");
    // The boolean is stored the way Redis spells it.
    assert!(validated.settings.contains(&Setting {
        name: "appendonly".into(),
        value: Value::Text("yes".into())
    }));
    // `databases` cannot change on a running server: it is flagged as restart-only, alone.
    assert_eq!(validated.restart_required, vec!["databases".to_string()]);
}

#[tokio::test]
async fn redis_driver_names_every_bad_field_and_why() {
    let runtime = runtime();
    let redis = load(&runtime, drover_artifacts::REDIS).await;
    let error = redis
        .validate(&request(
            "7.0",
            &[
                ("maxclients", Value::Text("lots".into())),
                ("hz", Value::Integer(100_000_000_000)),
                ("no-such-parameter", Value::Integer(1)),
                ("maxmemory-policy", Value::Text("evict-everything".into())),
                ("dir", Value::Text("/tmp".into())),
            ],
        ))
        .await
        .unwrap_err();
    let fields = invalid_fields(error);
    let named: Vec<&str> = fields.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(
        named,
        [
            "maxclients",
            "hz",
            "no-such-parameter",
            "maxmemory-policy",
            "dir"
        ]
    );
    // Wrong type.
    assert!(
        fields[0].1.contains("\"lots\" is not of type integer"),
        "{}",
        fields[0].1
    );
    // Out of range, with the range the server itself reports.
    assert!(
        fields[1]
            .1
            .contains("greater than the maximum allowed: 2147483647"),
        "{}",
        fields[1].1
    );
    // Unknown key.
    assert!(
        fields[2]
            .1
            .contains("not supported for this datastore: redis 7.0"),
        "{}",
        fields[2].1
    );
    // Not one of the allowed values, which are listed.
    assert!(fields[3].1.contains("noeviction"), "{}", fields[3].1);
    // A parameter the service controls.
    assert!(fields[4].1.contains("cannot be set"), "{}", fields[4].1);
}

#[tokio::test]
async fn redis_catalog_lists_parameters_and_exclusions() {
    let runtime = runtime();
    let redis = load(&runtime, drover_artifacts::REDIS).await;
    let parameters = redis.parameters("7.0").await.unwrap();
    let excluded = redis.excluded("7.0").await.unwrap();
    let maxmemory = parameters
        .iter()
        .find(|p| p.name == "maxmemory")
        .expect("maxmemory is in the catalog");
    assert!(maxmemory.dynamic);
    let databases = parameters
        .iter()
        .find(|p| p.name == "databases")
        .expect("databases is in the catalog");
    assert!(!databases.dynamic, "databases needs a restart");
    assert_eq!(databases.min.as_deref(), Some("1"));
    assert!(excluded.iter().any(|e| e.name == "port"));
    // No name is both settable and excluded.
    assert!(
        parameters
            .iter()
            .all(|p| excluded.iter().all(|e| e.name != p.name))
    );
    // An unknown version is not served.
    assert!(matches!(
        redis.parameters("6.2").await,
        Err(CallError::Driver(DriverError::NotFound(_)))
    ));
}

async fn echo_works(driver: &Driver) {
    let validated = driver
        .validate(&request("1", &[("echo", Value::Integer(7))]))
        .await
        .expect("a plain call works");
    assert_eq!(validated.settings[0].name, "echo");
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_its_deadline_and_the_next_call_is_served() {
    let runtime = runtime();
    let hostile = load(&runtime, drover_artifacts::HOSTILE).await;
    let started = Instant::now();
    let (kind, message) = fault_of(
        hostile
            .validate(&request("1", &[("spin", Value::Integer(1))]))
            .await
            .unwrap_err(),
    );
    let took = started.elapsed();
    assert_eq!(kind, FaultKind::Deadline, "{message}");
    assert!(message.contains("deadline of 300 ms"), "{message}");
    // Stopped close to the deadline, not by some outer timeout much later.
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "stopped after {took:?}"
    );
    echo_works(&hostile).await;
}

#[tokio::test]
async fn a_memory_bomb_fails_cleanly_at_the_cap() {
    let runtime = runtime();
    let hostile = load(&runtime, drover_artifacts::HOSTILE).await;
    // Within the cap (32 MiB in tests) an allocation works...
    let fields = invalid_fields(
        hostile
            .validate(&request("1", &[("grow", Value::Integer(8))]))
            .await
            .unwrap_err(),
    );
    assert_eq!(fields[0].1, format!("allocated {} bytes", 8 << 20));
    // ...beyond it the call fails with the cap named, and the host goes on.
    let (kind, message) = fault_of(
        hostile
            .validate(&request("1", &[("grow", Value::Integer(256))]))
            .await
            .unwrap_err(),
    );
    assert_eq!(kind, FaultKind::Memory, "{message}");
    assert!(message.contains("memory cap of 32 MiB"), "{message}");
    echo_works(&hostile).await;
}

#[tokio::test]
async fn a_panic_is_a_trap_and_the_next_call_runs_on_a_fresh_instance() {
    let runtime = runtime();
    let hostile = load(&runtime, drover_artifacts::HOSTILE).await;
    let error = hostile
        .validate(&request("1", &[("panic", Value::Integer(1))]))
        .await
        .unwrap_err();
    let shown = error.to_string();
    let (kind, message) = fault_of(error);
    assert_eq!(kind, FaultKind::Trap);
    // The panic message the driver wrote to stderr is part of the fault.
    assert!(message.contains("driver panicked on purpose"), "{message}");
    assert!(
        shown.starts_with("driver hostile@1.0.0 (sha256:"),
        "the fault names the driver: {shown}"
    );
    for _ in 0..20 {
        echo_works(&hostile).await;
    }
}

#[tokio::test]
async fn a_driver_gets_no_files_sockets_environment_or_arguments() {
    let runtime = runtime();
    let hostile = load(&runtime, drover_artifacts::HOSTILE).await;
    let fields = invalid_fields(
        hostile
            .validate(&request(
                "1",
                &[
                    ("open-file", Value::Integer(1)),
                    ("connect", Value::Integer(1)),
                    ("environment", Value::Integer(1)),
                ],
            ))
            .await
            .unwrap_err(),
    );
    let (open, connect, environment) = (&fields[0].1, &fields[1].1, &fields[2].1);
    assert!(
        open.starts_with("Err(") && open.contains("/ Err("),
        "files must be unreachable: {open}"
    );
    assert!(
        !open.contains("OPENED") && !open.contains("LISTED"),
        "{open}"
    );
    assert!(
        connect.starts_with("Err(") && !connect.contains("CONNECTED"),
        "sockets must be unreachable: {connect}"
    );
    assert_eq!(environment, "0 variables, 0 arguments");
}

#[tokio::test]
async fn a_chatty_driver_is_cut_off_not_killed() {
    let runtime = runtime();
    let hostile = load(&runtime, drover_artifacts::HOSTILE).await;
    // One MiB of output against a 64 KiB cap: the call still succeeds.
    let validated = hostile
        .validate(&request("1", &[("chatter", Value::Integer(1))]))
        .await
        .expect("output is capped, not fatal");
    assert_eq!(validated.settings[0].name, "chatter");
}

#[tokio::test]
async fn an_incompatible_contract_version_is_refused_naming_both_versions() {
    let runtime = runtime();
    let bytes = std::fs::read(drover_artifacts::CONTRACT_NEXT).unwrap();
    let error = runtime
        .load(bytes)
        .await
        .err()
        .expect("a 0.2 driver is refused");
    assert!(
        matches!(error, LoadError::IncompatibleContract { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("drover:driver@0.2.0"), "{message}");
    assert!(
        message.contains(&format!("drover:driver@{}", contract_version())),
        "{message}"
    );
}

#[tokio::test]
async fn a_component_missing_exports_is_refused_naming_what_is_missing() {
    let runtime = runtime();
    let bytes = std::fs::read(drover_artifacts::PARTIAL_EXPORTS).unwrap();
    let error = runtime
        .load(bytes)
        .await
        .err()
        .expect("a partial driver is refused");
    assert!(matches!(error, LoadError::Exports(_)), "{error}");
    let message = error.to_string();
    assert!(message.contains("drover:driver/lifecycle"), "{message}");
}

#[tokio::test]
async fn garbage_is_refused() {
    let runtime = runtime();
    let error = runtime
        .load(b"this is not wasm".to_vec())
        .await
        .err()
        .expect("garbage is refused");
    assert!(matches!(error, LoadError::NotAComponent(_)), "{error}");
}

#[tokio::test]
async fn compiled_drivers_are_cached_on_disk_by_digest() {
    let cache = tempfile::tempdir().unwrap();
    let config = drover_host::runtime::RuntimeConfig {
        cache_dir: Some(cache.path().into()),
        ..Default::default()
    };
    let first = drover_host::runtime::Runtime::new(config.clone()).unwrap();
    let redis = load(&first, drover_artifacts::REDIS).await;
    let hex = redis.digest().trim_start_matches("sha256:").to_string();
    let cached: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        cached
            .iter()
            .any(|name| name.starts_with(&hex) && name.ends_with(".cwasm")),
        "{cached:?}"
    );
    // Another runtime with the same settings loads from the cache and works.
    let second = drover_host::runtime::Runtime::new(config).unwrap();
    let again = load(&second, drover_artifacts::REDIS).await;
    assert_eq!(again.digest(), redis.digest());
    assert!(again.parameters("7.0").await.unwrap().len() > 50);
}

#[tokio::test]
async fn activation_keeps_the_previous_version_for_rollback() {
    let runtime = runtime();
    let v1 = load(&runtime, drover_artifacts::HOSTILE).await;
    let v2 = load(&runtime, drover_artifacts::HOSTILE_V2).await;
    let registry = runtime.registry();
    registry.add(v1.clone());
    registry.add(v2.clone());
    registry.activate(v1.digest()).unwrap();
    let activation = registry.activate(v2.digest()).unwrap();
    assert_eq!(activation.previous.as_deref(), Some(v1.digest()));
    assert_eq!(
        registry
            .active("hostile")
            .unwrap()
            .identity()
            .version
            .to_string(),
        "2.0.0"
    );
    // The active version cannot be removed.
    assert!(registry.remove(v2.digest()).is_err());
    registry.rollback("hostile").unwrap();
    assert_eq!(
        registry
            .active("hostile")
            .unwrap()
            .identity()
            .version
            .to_string(),
        "1.0.0"
    );
    assert_eq!(registry.previous("hostile").unwrap().digest(), v2.digest());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_swapping_fifty_times_under_load_fails_no_call() {
    const SWAPS: usize = 60;
    const CALLERS: usize = 8;
    let runtime = runtime();
    let v1 = load(&runtime, drover_artifacts::HOSTILE).await;
    let v2 = load(&runtime, drover_artifacts::HOSTILE_V2).await;
    let registry = runtime.registry();
    registry.add(v1.clone());
    registry.add(v2.clone());
    registry.activate(v1.digest()).unwrap();

    // Swap generation n activated versions[n]; started/completed count swaps begun and ended.
    let versions: Arc<std::sync::Mutex<Vec<String>>> =
        Arc::new(std::sync::Mutex::new(vec!["1.0.0".into()]));
    let started = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));

    let mut callers = Vec::new();
    for _ in 0..CALLERS {
        let runtime = runtime.clone();
        let (versions, started, completed, stop) = (
            versions.clone(),
            started.clone(),
            completed.clone(),
            stop.clone(),
        );
        callers.push(tokio::spawn(async move {
            let (mut calls, mut failures, mut clean, mut stale) =
                (0usize, Vec::new(), 0usize, 0usize);
            while !stop.load(Ordering::SeqCst) {
                let before = started.load(Ordering::SeqCst);
                let generation = completed.load(Ordering::SeqCst);
                let driver = runtime
                    .registry()
                    .active("hostile")
                    .expect("a version is always active");
                let after = started.load(Ordering::SeqCst);
                let picked = driver.identity().version.to_string();
                // No swap was in flight while the driver was picked: it must be the version the
                // last completed swap activated.
                if before == generation && after == generation {
                    clean += 1;
                    if picked != versions.lock().unwrap()[generation] {
                        stale += 1;
                    }
                }
                calls += 1;
                match driver.parameters("1").await {
                    // The call ran on the version it started with.
                    Ok(params) if params[0].default.as_deref() == Some(picked.as_str()) => {}
                    Ok(params) => {
                        failures.push(format!("picked {picked}, answered {:?}", params[0].default))
                    }
                    Err(error) => failures.push(error.to_string()),
                }
                tokio::task::yield_now().await;
            }
            (calls, failures, clean, stale)
        }));
    }

    for n in 1..=SWAPS {
        let next = if n % 2 == 1 { &v2 } else { &v1 };
        versions
            .lock()
            .unwrap()
            .push(next.identity().version.to_string());
        started.fetch_add(1, Ordering::SeqCst);
        registry.activate(next.digest()).unwrap();
        completed.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::SeqCst);

    let (mut calls, mut clean, mut stale, mut failures) = (0, 0, 0, Vec::new());
    for caller in callers {
        let (c, f, cl, st) = caller.await.unwrap();
        calls += c;
        clean += cl;
        stale += st;
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(
        stale, 0,
        "{stale} of {clean} calls started after a swap completed ran on the old version"
    );
    assert!(
        calls > SWAPS * 4,
        "only {calls} calls were made during {SWAPS} swaps"
    );
    assert!(
        clean > SWAPS,
        "only {clean} calls could be attributed to a swap generation"
    );
}
