//! What confining a node's process costs: a command run on a node through the process backend
//! (the node's cgroups, a private mount namespace with its read-only root, its own identity,
//! no new privileges, a Landlock layer with one rule per node port) against the same program
//! spawned directly. Run as root for the full confinement; results and the command are in
//! docs/benchmarks.md.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use drover_host::backend::{NodeInfo, ProcessBackend};
use drover_host::runtime::{NodeCommand, NodeOps};

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let config = drover_host::config::Config::load(None)
        .unwrap()
        .backend_config(state.path());
    let ports = config.port_range;
    let backend = ProcessBackend::new(config).unwrap();
    let node = backend.node(&NodeInfo {
        id: "bench".into(),
        directory: "n1".into(),
        port: ports.0,
        memory_mb: 512,
    });
    tokio.block_on(node.create()).unwrap();
    let command = || NodeCommand {
        argv: vec!["true".into()],
        stdin: None,
        env: vec![],
        timeout: Some(Duration::from_secs(10)),
    };
    let mut group = c.benchmark_group("process start");
    group.bench_function("confined command on a node", |b| {
        b.iter(|| {
            let output = tokio.block_on(node.exec(command())).unwrap();
            assert_eq!(output.status, 0);
        })
    });
    group.bench_function("the same program spawned directly", |b| {
        b.iter(|| {
            let status = tokio
                .block_on(tokio::process::Command::new("/usr/bin/true").status())
                .unwrap();
            assert!(status.success());
        })
    });
    group.finish();
    tokio.block_on(node.destroy()).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
