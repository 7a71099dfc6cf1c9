//! What confining a node's process costs: a command run on a node through the process backend
//! (the node's cgroups, a private mount namespace with its read-only root, its own identity,
//! no new privileges, a Landlock layer with one rule per node port) against the same program
//! spawned directly. Run as root for the full confinement; results and the command are in
//! docs/benchmarks.md.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use drover_host::backend::{Backend as _, Node, NodeInfo, ProcessBackend};
use drover_host::runtime::NodeCommand;

/// A node on a backend with `ports` node ports (one Landlock rule each).
fn node(
    tokio: &tokio::runtime::Runtime,
    state: &std::path::Path,
    ports: u16,
) -> std::sync::Arc<dyn Node> {
    let mut config = drover_host::config::Config::load(None)
        .unwrap()
        .backend_config(state);
    config.port_range = (20000, 20000 + ports - 1);
    let backend = ProcessBackend::new(config).unwrap();
    let node = backend.node(&NodeInfo {
        id: format!("bench-{ports}"),
        directory: "n1".into(),
        port: 20000,
        memory_mb: 512,
    });
    tokio.block_on(node.create()).unwrap();
    node
}

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let command = || NodeCommand {
        argv: vec!["true".into()],
        stdin: None,
        env: vec![],
        timeout: Some(Duration::from_secs(10)),
    };
    let mut group = c.benchmark_group("process start");
    // The default range, and the range of 12,768 ports the defaults had before.
    for ports in [2048u16, 12768] {
        let state = tempfile::tempdir().unwrap();
        let node = node(&tokio, state.path(), ports);
        group.bench_function(format!("confined command, {ports} node ports"), |b| {
            b.iter(|| {
                let output = tokio.block_on(node.exec(command())).unwrap();
                assert_eq!(output.status, 0);
            })
        });
        tokio.block_on(node.destroy()).unwrap();
    }
    group.bench_function("the same program spawned directly", |b| {
        b.iter(|| {
            let status = tokio
                .block_on(async { tokio::process::Command::new("/usr/bin/true").status().await })
                .unwrap();
            assert!(status.success());
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
