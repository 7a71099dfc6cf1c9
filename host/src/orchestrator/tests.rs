//! The engine on its own: workflows that touch no node, run against a real SQLite store.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreResult, TaskState, Tx};

use super::task::{Admission, Cx, Next, Registry, Runs, StepError, StepResult, Workflow};
use super::{Orchestrator, OrchestratorSettings};

/// What the test workflows did, in order: `"<resource> <event>"`.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(resource: &str, event: &str) {
    LOG.lock().unwrap().push(format!("{resource} {event}"));
}

fn events(resource: &str) -> Vec<String> {
    let prefix = format!("{resource} ");
    LOG.lock()
        .unwrap()
        .iter()
        .filter_map(|e| e.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

/// Three steps; fails at the one its input names.
struct Steps;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StepsInput {
    fail_at: Option<String>,
    /// Each step waits this long, durably, before it runs (ms).
    wait_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum StepsStage {
    One,
    Two { from_one: u32 },
    Three { from_two: u32 },
}

impl Workflow for Steps {
    const KIND: &'static str = "test_steps";
    const VERSION: u32 = 2;
    const STEPS: &'static [&'static str] = &["one", "two", "three"];
    const RUNS: Runs = Runs::Anywhere;
    type Input = StepsInput;
    type Stage = StepsStage;
    type Outcome = u32;

    fn first(_: &StepsInput) -> StepsStage {
        StepsStage::One
    }

    fn driver(_: &StepsInput) -> Option<&str> {
        None
    }

    async fn step(
        cx: &Cx<'_>,
        input: &StepsInput,
        stage: StepsStage,
    ) -> StepResult<StepsStage, u32> {
        let name = match &stage {
            StepsStage::One => "one",
            StepsStage::Two { .. } => "two",
            StepsStage::Three { .. } => "three",
        };
        if input.fail_at.as_deref() == Some(name) {
            log(cx.resource_id(), &format!("{name} fails"));
            return Err(StepError::new(format!("{name} failed")));
        }
        log(cx.resource_id(), name);
        Ok(match stage {
            StepsStage::One => Next::Step(StepsStage::Two { from_one: 1 }),
            StepsStage::Two { from_one } => {
                let next = StepsStage::Three {
                    from_two: from_one + 1,
                };
                if input.wait_ms > 0 {
                    Next::After(Duration::from_millis(input.wait_ms), next)
                } else {
                    Next::Step(next)
                }
            }
            StepsStage::Three { from_two } => Next::Done(from_two + 1),
        })
    }

    async fn on_success(cx: &Cx<'_>, _: &mut Tx, _: &StepsInput, outcome: &u32) -> StoreResult<()> {
        log(cx.resource_id(), &format!("done {outcome}"));
        Ok(())
    }

    async fn on_failure(
        cx: &Cx<'_>,
        _: &mut Tx,
        _: &StepsInput,
        error: &StepError,
    ) -> StoreResult<()> {
        log(cx.resource_id(), &format!("failed: {}", error.message));
        Ok(())
    }
}

/// A parent of [`Steps`] children.
struct Parent;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ParentInput {
    children: Vec<(String, StepsInput)>,
    first_failure: bool,
    /// Whether the children were admitted with the parent (held), or are spawned by it.
    held: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum ParentStage {
    Spawn,
    Joined,
}

impl Workflow for Parent {
    const KIND: &'static str = "test_parent";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &["spawn", "joined"];
    const RUNS: Runs = Runs::Anywhere;
    type Input = ParentInput;
    type Stage = ParentStage;
    type Outcome = Vec<String>;

    fn first(_: &ParentInput) -> ParentStage {
        ParentStage::Spawn
    }

    fn driver(_: &ParentInput) -> Option<&str> {
        None
    }

    async fn step(
        cx: &Cx<'_>,
        input: &ParentInput,
        stage: ParentStage,
    ) -> StepResult<ParentStage, Vec<String>> {
        Ok(match stage {
            ParentStage::Spawn if input.held => Next::Join {
                first_failure: input.first_failure,
                then: ParentStage::Joined,
            },
            ParentStage::Spawn => Next::Spawn {
                children: input
                    .children
                    .iter()
                    .map(|(id, child)| Admission::of::<Steps>(id, child))
                    .collect(),
                first_failure: input.first_failure,
                then: ParentStage::Joined,
            },
            ParentStage::Joined => {
                let children = cx.children().await?;
                let seen: Vec<String> = children
                    .iter()
                    .map(|c| format!("{}={}", c.resource_id, c.state.as_str()))
                    .collect();
                log(cx.resource_id(), &format!("joined {}", seen.join(",")));
                if children.iter().any(|c| !c.state.ended()) {
                    cx.cancel_children().await?;
                }
                Next::Done(seen)
            }
        })
    }

    async fn on_success(
        cx: &Cx<'_>,
        _: &mut Tx,
        _: &ParentInput,
        _: &Vec<String>,
    ) -> StoreResult<()> {
        log(cx.resource_id(), "done");
        Ok(())
    }

    async fn on_failure(
        cx: &Cx<'_>,
        _: &mut Tx,
        _: &ParentInput,
        error: &StepError,
    ) -> StoreResult<()> {
        log(cx.resource_id(), &format!("failed: {}", error.message));
        Ok(())
    }
}

struct Engine {
    orchestrator: Orchestrator,
    store: Store,
    _dir: tempfile::TempDir,
    stop: std::sync::Arc<tokio::sync::Notify>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop.notify_waiters();
    }
}

async fn engine() -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("store.db").display()
    ))
    .await
    .unwrap();
    let config = crate::config::Config::load(None).unwrap();
    let runtime = crate::runtime::Runtime::new(config.runtime()).unwrap();
    let backend = crate::backend::ProcessBackend::new(config.backend_config(dir.path())).unwrap();
    let mut registry = Registry::new();
    registry.register::<Steps>().register::<Parent>();
    let settings = OrchestratorSettings {
        poll: Duration::from_millis(50),
        ..OrchestratorSettings::default()
    };
    let orchestrator = Orchestrator::with_workflows(
        store.clone(),
        runtime,
        backend,
        "test-host".into(),
        settings,
        registry,
    );
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    orchestrator.start(stop.clone());
    Engine {
        orchestrator,
        store,
        _dir: dir,
        stop,
    }
}

impl Engine {
    async fn admit(&self, admission: Admission) -> String {
        let mut tx = self.store.write().await.unwrap();
        let id = admission.insert(&mut tx, false).await.unwrap();
        tx.commit().await.unwrap();
        self.orchestrator.wake();
        id
    }

    async fn ended(&self, id: &str) -> crate::store::Task {
        for _ in 0..400 {
            let task = self.store.task(id).await.unwrap();
            if task.state.ended() {
                return task;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("task {id} did not end: {:?}", self.store.task(id).await);
    }
}

fn unique(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn a_workflow_runs_its_named_steps_in_order_and_hands_typed_state_on() {
    let engine = engine().await;
    let r = unique("plain");
    let id = engine
        .admit(Admission::of::<Steps>(&r, &StepsInput::default()))
        .await;
    let task = engine.ended(&id).await;
    assert_eq!(task.state, TaskState::Done);
    assert_eq!(task.last_step.as_deref(), Some("three"));
    assert_eq!(events(&r), ["one", "two", "three", "done 3"]);
}

#[tokio::test]
async fn a_failing_step_ends_the_task_through_on_failure() {
    let engine = engine().await;
    let r = unique("failing");
    let input = StepsInput {
        fail_at: Some("two".into()),
        ..Default::default()
    };
    let task = engine
        .ended(&engine.admit(Admission::of::<Steps>(&r, &input)).await)
        .await;
    assert_eq!(task.state, TaskState::Failed);
    assert_eq!(events(&r), ["one", "two fails", "failed: two failed"]);
}

#[tokio::test]
async fn a_durable_wait_releases_the_worker_and_resumes_at_the_next_step() {
    let engine = engine().await;
    let r = unique("waiting");
    let input = StepsInput {
        wait_ms: 700,
        ..Default::default()
    };
    let id = engine.admit(Admission::of::<Steps>(&r, &input)).await;
    let mut saw_waiting = false;
    for _ in 0..40 {
        let task = engine.store.task(&id).await.unwrap();
        if task.state == TaskState::Waiting {
            saw_waiting = true;
            assert_eq!(task.last_step.as_deref(), Some("two"));
            assert!(task.wake_at.is_some());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saw_waiting, "the task never waited durably");
    let task = engine.ended(&id).await;
    assert_eq!(task.state, TaskState::Done);
    assert_eq!(events(&r), ["one", "two", "three", "done 3"]);
}

/// A task written by an earlier run (of this release) at stage `three` resumes there.
#[tokio::test]
async fn a_task_resumes_at_the_step_its_stage_names() {
    let engine = engine().await;
    let r = unique("resumed");
    let mut admission = Admission::of::<Steps>(&r, &StepsInput::default());
    admission.task.stage = r#"{"next":{"step":"three","from_two":41}}"#.into();
    let task = engine.ended(&engine.admit(admission).await).await;
    assert_eq!(task.state, TaskState::Done);
    assert_eq!(events(&r), ["three", "done 42"]);
}

#[tokio::test]
async fn a_step_name_from_a_newer_release_fails_the_task_with_a_clear_message() {
    let engine = engine().await;
    let r = unique("newer");
    let mut admission = Admission::of::<Steps>(&r, &StepsInput::default());
    admission.task.stage = r#"{"next":{"step":"four"}}"#.into();
    let task = engine.ended(&engine.admit(admission).await).await;
    assert_eq!(task.state, TaskState::Failed);
    let error = task.error.unwrap();
    assert!(error.contains("'four'"), "{error}");
    assert_eq!(events(&r).len(), 1, "only on_failure ran: {:?}", events(&r));
    assert!(events(&r)[0].starts_with("failed: This task was saved by another release"));

    let r = unique("newer-version");
    let mut admission = Admission::of::<Steps>(&r, &StepsInput::default());
    admission.task.workflow_version = 3;
    let task = engine.ended(&engine.admit(admission).await).await;
    assert_eq!(task.state, TaskState::Failed);
    assert!(task.error.unwrap().contains("workflow version 3"));
    assert!(events(&r).iter().all(|e| e.starts_with("failed")));
}

#[tokio::test]
async fn a_parent_waits_for_all_its_children_and_sees_how_each_ended() {
    let engine = engine().await;
    let p = unique("parent");
    let (a, b) = (unique("child-a"), unique("child-b"));
    let input = ParentInput {
        children: vec![
            (a.clone(), StepsInput::default()),
            (
                b.clone(),
                StepsInput {
                    fail_at: Some("three".into()),
                    wait_ms: 300,
                },
            ),
        ],
        first_failure: false,
        held: false,
    };
    let task = engine
        .ended(&engine.admit(Admission::of::<Parent>(&p, &input)).await)
        .await;
    assert_eq!(task.state, TaskState::Done);
    assert_eq!(events(&a).last().unwrap(), "done 3");
    assert_eq!(events(&b).last().unwrap(), "failed: three failed");
    let joined = &events(&p)[0];
    assert!(
        joined.contains(&format!("{a}=done")) && joined.contains(&format!("{b}=failed")),
        "{joined}"
    );
    assert_eq!(events(&p)[1..], ["done"]);
}

#[tokio::test]
async fn a_parent_waiting_for_the_first_failure_wakes_then_and_cancels_the_rest() {
    let engine = engine().await;
    let p = unique("parent-ff");
    let (fast, slow) = (unique("fails-fast"), unique("slow"));
    let input = ParentInput {
        children: vec![
            (
                fast.clone(),
                StepsInput {
                    fail_at: Some("one".into()),
                    ..Default::default()
                },
            ),
            (
                slow.clone(),
                StepsInput {
                    wait_ms: 3000,
                    ..Default::default()
                },
            ),
        ],
        first_failure: true,
        held: false,
    };
    let task = engine
        .ended(&engine.admit(Admission::of::<Parent>(&p, &input)).await)
        .await;
    assert_eq!(task.state, TaskState::Done);
    let joined = &events(&p)[0];
    // It woke at the failure, while the slow child was still at work.
    assert!(joined.contains(&format!("{fast}=failed")), "{joined}");
    assert!(
        !joined.contains(&format!("{slow}=done")) && !joined.contains(&format!("{slow}=failed")),
        "{joined}"
    );
    // The slow child was cancelled before its last step.
    let children = engine.store.children_of(&task.id).await.unwrap();
    let slow_task = children.iter().find(|c| c.resource_id == slow).unwrap();
    let slow_task = engine.ended(&slow_task.id).await;
    assert_eq!(slow_task.state, TaskState::Cancelled);
    assert!(
        !events(&slow).iter().any(|e| e == "three"),
        "{:?}",
        events(&slow)
    );
    assert_eq!(
        events(&slow).last().unwrap(),
        "failed: The operation was cancelled."
    );
}

#[tokio::test]
async fn children_admitted_with_their_parent_wait_held_until_it_lets_them_go() {
    let engine = engine().await;
    let p = unique("holder");
    let (a, b) = (unique("held-a"), unique("held-b"));
    let input = ParentInput {
        children: vec![],
        first_failure: false,
        held: true,
    };
    let children =
        [a.clone(), b.clone()].map(|r| Admission::of::<Steps>(&r, &StepsInput::default()));
    let mut tx = engine.store.write().await.unwrap();
    // The parent is queued behind a task already on its resource, so the children stay held.
    let blocker = Admission::of::<Steps>(
        &p,
        &StepsInput {
            wait_ms: 500,
            ..Default::default()
        },
    );
    blocker.insert(&mut tx, false).await.unwrap();
    let id = Admission::of::<Parent>(&p, &input)
        .insert_with_children(&mut tx, true, &children)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    engine.orchestrator.wake();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        engine.store.task(&id).await.unwrap().state,
        TaskState::Queued
    );
    assert!(events(&a).is_empty() && events(&b).is_empty());
    let task = engine.ended(&id).await;
    assert_eq!(task.state, TaskState::Done);
    assert_eq!(events(&a), ["one", "two", "three", "done 3"]);
    assert_eq!(
        events(&p).last().map(String::as_str),
        Some("done"),
        "{:?}",
        events(&p)
    );
}

#[tokio::test]
async fn cancelling_a_parent_cancels_its_children() {
    let engine = engine().await;
    let p = unique("cancelled-parent");
    let c = unique("cancelled-child");
    let input = ParentInput {
        children: vec![(
            c.clone(),
            StepsInput {
                wait_ms: 5000,
                ..Default::default()
            },
        )],
        first_failure: false,
        held: false,
    };
    let id = engine.admit(Admission::of::<Parent>(&p, &input)).await;
    // Wait until the child waits durably.
    for _ in 0..100 {
        if events(&c).len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut tx = engine.store.write().await.unwrap();
    assert!(tx.cancel_tasks_of(&p).await.unwrap() >= 2);
    tx.commit().await.unwrap();
    engine.orchestrator.wake();
    let task = engine.ended(&id).await;
    assert_eq!(task.state, TaskState::Cancelled);
    let child = &engine.store.children_of(&id).await.unwrap()[0];
    assert_eq!(engine.ended(&child.id).await.state, TaskState::Cancelled);
    assert_eq!(
        events(&c).last().unwrap(),
        "failed: The operation was cancelled."
    );
}
