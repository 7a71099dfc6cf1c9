//! What one persisted workflow step costs: a task of 41 steps that do nothing against a task
//! of one, each admitted and run to its end by the real engine on a real store; the difference
//! over 40 is the cost of a step (its stage written, its lease renewed, its progress shown).
//! SQLite in a temporary file always; PostgreSQL too when `DROVER_BENCH_POSTGRES` names a
//! database URL (a fresh database, e.g. `postgres://postgres@127.0.0.1/drover_bench`).
//! Results and the command are in docs/benchmarks.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use drover_host::orchestrator::task::{Cx, Next, Runs, StepError, StepResult};
use drover_host::orchestrator::{
    Admission, Orchestrator, OrchestratorSettings, Registry, Workflow,
};
use drover_host::store::{Store, StoreResult, Tx};
use serde::{Deserialize, Serialize};

/// Steps that do nothing but hand a count on.
struct Empty;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct EmptyInput {
    steps: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum EmptyStage {
    Step { done: u32 },
}

impl Workflow for Empty {
    const KIND: &'static str = "bench_empty";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["step"];
    const RUNS: Runs = Runs::Anywhere;
    type Input = EmptyInput;
    type Stage = EmptyStage;
    type Outcome = u32;

    fn first(_: &EmptyInput) -> EmptyStage {
        EmptyStage::Step { done: 0 }
    }

    fn driver(_: &EmptyInput) -> Option<&str> {
        None
    }

    async fn step(
        _: &Cx<'_>,
        input: &EmptyInput,
        stage: EmptyStage,
    ) -> StepResult<EmptyStage, u32> {
        let EmptyStage::Step { done } = stage;
        Ok(if done + 1 >= input.steps {
            Next::Done(done + 1)
        } else {
            Next::Step(EmptyStage::Step { done: done + 1 })
        })
    }

    async fn on_success(_: &Cx<'_>, _: &mut Tx, _: &EmptyInput, _: &u32) -> StoreResult<()> {
        Ok(())
    }

    async fn on_failure(_: &Cx<'_>, _: &mut Tx, _: &EmptyInput, _: &StepError) -> StoreResult<()> {
        Ok(())
    }
}

struct Engine {
    orchestrator: Orchestrator,
    store: Store,
    stop: Arc<tokio::sync::Notify>,
    _dir: tempfile::TempDir,
}

async fn engine(url: Option<&str>) -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let url = url.map_or_else(
        || format!("sqlite://{}", dir.path().join("store.db").display()),
        str::to_string,
    );
    let store = Store::connect(&url).await.unwrap();
    let config = drover_host::config::Config::load(None).unwrap();
    let runtime = drover_host::runtime::Runtime::new(config.runtime()).unwrap();
    let backend =
        drover_host::backend::ProcessBackend::new(config.backend_config(dir.path())).unwrap();
    let mut registry = Registry::new();
    registry.register::<Empty>();
    let settings = OrchestratorSettings {
        poll: Duration::from_millis(1000),
        ..OrchestratorSettings::default()
    };
    let orchestrator = Orchestrator::with_workflows(
        store.clone(),
        runtime,
        backend,
        format!("bench-{}", uuid::Uuid::new_v4()),
        settings,
        registry,
    );
    let stop = Arc::new(tokio::sync::Notify::new());
    orchestrator.start(stop.clone());
    Engine {
        orchestrator,
        store,
        stop,
        _dir: dir,
    }
}

impl Engine {
    /// Admits a task of `steps` steps and waits until it has ended.
    async fn run(&self, steps: u32) -> Duration {
        let resource = format!("bench-{}", uuid::Uuid::new_v4());
        let started = Instant::now();
        let mut tx = self.store.write().await.unwrap();
        let id = Admission::of::<Empty>(&resource, &EmptyInput { steps })
            .insert(&mut tx, false)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        self.orchestrator.wake();
        loop {
            if self.store.task(&id).await.unwrap().state.ended() {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
}

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut stores = vec![("SQLite", None)];
    if let Ok(url) = std::env::var("DROVER_BENCH_POSTGRES") {
        stores.push(("PostgreSQL", Some(url)));
    }
    for (name, url) in stores {
        let engine = tokio.block_on(engine(url.as_deref()));
        let mut group = c.benchmark_group(format!("workflow on {name}"));
        group.sample_size(20);
        for steps in [1u32, 41] {
            group.bench_function(format!("a task of {steps} steps, admitted to ended"), |b| {
                b.iter_custom(|iterations| {
                    (0..iterations)
                        .map(|_| tokio.block_on(engine.run(steps)))
                        .sum()
                })
            });
        }
        group.finish();
        engine.stop.notify_waiters();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
