//! The engine: runs a claimed task's workflow from the stage it reached to its end, persisting
//! each step's result, holding and renewing the task's lease, retrying what is transient,
//! parking the task in durable waits (for a time, or for its children) without holding a
//! worker, and ending it in one transaction with its resources' final state.
//!
//! It finds the workflow by the task's kind in the [`Registry`](super::task::Registry) and
//! names none.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument as _;

use crate::store::{Advance, StoreError, Task, TaskState, Wait, now_ms};

use super::Inner;
use super::task::{Cx, ErasedWorkflow, Next, StepError, step_name};

/// How long a transient failure is retried in memory before the task waits durably instead:
/// most waits (a replica connecting, a standby catching up) end within milliseconds, and a
/// worker is not worth holding for longer ones.
const IN_MEMORY_RETRY: Duration = Duration::from_secs(1);

/// The pause between durable retries of a transient failure.
const DURABLE_RETRY: Duration = Duration::from_secs(1);

/// Runs a claimed task until it ends or waits.
pub(crate) async fn run(inner: &Arc<Inner>, task: Task) {
    let span = tracing::info_span!("task", task = %task.id, kind = %task.kind, resource = %task.resource_id, attempt = task.attempts + 1);
    async move {
        let Some(workflow) = inner.workflows.get(&task.kind).cloned() else {
            let error = StepError::explained(
                "This task was saved by a release of Drover that knows an operation this one does not; start it again.",
                format!("unknown workflow kind '{}'", task.kind),
            );
            end_unknown(inner, &task, &error).await;
            return;
        };
        let input: serde_json::Value = match serde_json::from_str(&task.input) {
            Ok(input) => input,
            Err(error) => {
                let error = StepError::new(format!("unreadable task input: {error}"));
                end(inner, &*workflow, &task, &serde_json::Value::Null, Err(error)).await;
                return;
            }
        };
        let version = task.workflow_version;
        if version > i64::from(workflow.version()) || version < i64::from(workflow.resumes_from()) {
            let error = StepError::explained(
                "This task was saved by another release of Drover, which this one cannot resume; start the operation again.",
                format!(
                    "{} task of workflow version {version}; this release runs versions {} to {}",
                    task.kind,
                    workflow.resumes_from(),
                    workflow.version()
                ),
            );
            end(inner, &*workflow, &task, &input, Err(error)).await;
            return;
        }
        if task.cancel_requested {
            end(inner, &*workflow, &task, &input, Err(cancelled())).await;
            return;
        }
        let outcome = drive(inner, &*workflow, &task, &input).await;
        if let Some(outcome) = outcome {
            end(inner, &*workflow, &task, &input, outcome).await;
        }
    }
    .instrument(span)
    .await
}

fn cancelled() -> StepError {
    StepError::new("The operation was cancelled.")
}

/// Runs steps until the workflow ends (`Some`: its outcome) or the task waits or is lost
/// (`None`).
async fn drive(
    inner: &Arc<Inner>,
    workflow: &dyn ErasedWorkflow,
    task: &Task,
    input: &serde_json::Value,
) -> Option<Result<serde_json::Value, StepError>> {
    let mut progress: serde_json::Value = match task
        .stage
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        Some(Ok(stage)) => stage,
        _ => {
            return Some(Err(StepError::explained(
                "This task was saved by an older release of Drover, which recorded its progress in a form this one cannot resume; start the operation again.",
                format!("{} task without a readable stage", task.kind),
            )));
        }
    };
    let renewal = renew_lease(inner.clone(), task.id.clone());
    let cx = Cx { inner, task };
    let mut step_started = task.step_started_at.unwrap_or_else(now_ms);
    let result = loop {
        if let Some(outcome) = progress.get("done") {
            break Some(Ok(outcome.clone()));
        }
        let Some(name) = step_name(&progress).map(str::to_string) else {
            break Some(Err(StepError::new(format!(
                "the {} task's stage names no step",
                task.kind
            ))));
        };
        if !workflow.steps().contains(&name.as_str()) {
            break Some(Err(StepError::explained(
                "This task was saved by another release of Drover at a step this one does not know; start the operation again.",
                format!(
                    "{} task at step '{name}', which this release's workflow (version {}) does not have",
                    task.kind,
                    workflow.version()
                ),
            )));
        }
        let stage = progress["next"].clone();
        tracing::debug!(step = %name, "step starts");
        let next = match retrying(&cx, workflow, input, stage.clone()).await {
            Ok(next) => next,
            Err(error) if error.retry && within_patience(inner, step_started) => {
                tracing::debug!(step = %name, "step waits to be tried again: {}", error.details);
                let advance = Advance {
                    stage: &progress.to_string(),
                    last_step: None,
                    step_number: number(workflow, &name),
                    wait: Wait::Until(now_ms() + DURABLE_RETRY.as_millis() as i64),
                    lease_until: 0,
                    new_step: false,
                };
                record(inner, task, &advance, None).await;
                wake_later(inner, DURABLE_RETRY);
                break None;
            }
            Err(error) => {
                tracing::warn!(step = %name, "step failed: {}", error.details);
                break Some(Err(error));
            }
        };
        let lease_until = now_ms() + inner.settings.lease.as_millis() as i64;
        let (reached, wait, children) = match next {
            Next::Step(s) => (serde_json::json!({ "next": s }), Wait::None, Vec::new()),
            Next::Done(o) => (serde_json::json!({ "done": o }), Wait::None, Vec::new()),
            Next::After(delay, s) => {
                wake_later(inner, delay);
                (
                    serde_json::json!({ "next": s }),
                    Wait::Until(now_ms() + delay.as_millis() as i64),
                    Vec::new(),
                )
            }
            Next::Spawn {
                children,
                first_failure,
                then,
            } => (
                serde_json::json!({ "next": then }),
                Wait::Children { first_failure },
                children,
            ),
            Next::Join {
                first_failure,
                then,
            } => (
                serde_json::json!({ "next": then }),
                Wait::Children { first_failure },
                Vec::new(),
            ),
        };
        let next_name = step_name(&reached).unwrap_or_default().to_string();
        let advance = Advance {
            stage: &reached.to_string(),
            last_step: Some(&name),
            step_number: if reached.get("done").is_some() {
                workflow.steps().len() as i64
            } else {
                number(workflow, &next_name)
            },
            wait,
            lease_until,
            new_step: true,
        };
        let Some(cancel) = record(inner, task, &advance, Some(&children)).await else {
            break None;
        };
        crash_point(&task.kind, &name);
        if cancel {
            break Some(Err(cancelled()));
        }
        if wait != Wait::None {
            inner.wake.notify_one();
            break None;
        }
        progress = reached;
        step_started = now_ms();
    };
    renewal.abort();
    result
}

/// The 1-based number of a step.
fn number(workflow: &dyn ErasedWorkflow, name: &str) -> i64 {
    workflow
        .steps()
        .iter()
        .position(|s| *s == name)
        .map_or(0, |i| i as i64 + 1)
}

fn within_patience(inner: &Inner, step_started: i64) -> bool {
    now_ms() - step_started < inner.settings.not_ready_patience.as_millis() as i64
}

/// Records a step's end (and spawns `children` in the same transaction). `None`: the lease
/// was lost, or the record failed; `Some(cancel)`: recorded, and whether the task was asked to
/// stop.
async fn record(
    inner: &Inner,
    task: &Task,
    advance: &Advance<'_>,
    children: Option<&[super::task::Admission]>,
) -> Option<bool> {
    for attempt in 0..10 {
        let recorded = async {
            let mut tx = inner.store.write().await?;
            if let Some(children) = children {
                for child in children {
                    tx.spawn_child(&task.id, &child.task).await?;
                }
            }
            let cancel = tx.advance_task(&task.id, &inner.owner, advance).await?;
            if cancel.is_some() {
                tx.commit().await?;
            }
            Ok::<_, StoreError>(cancel)
        };
        match recorded.await {
            Ok(Some(cancel)) => return Some(cancel),
            Ok(None) => {
                tracing::warn!("lost the task's lease; another worker owns it now");
                return None;
            }
            Err(error) => {
                tracing::warn!(attempt, "recording progress failed: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    None
}

/// Runs a step, trying again in memory while it fails with something transient, for at most
/// [`IN_MEMORY_RETRY`].
async fn retrying(
    cx: &Cx<'_>,
    workflow: &dyn ErasedWorkflow,
    input: &serde_json::Value,
    stage: serde_json::Value,
) -> Result<Next<serde_json::Value, serde_json::Value>, StepError> {
    let give_up = Instant::now() + IN_MEMORY_RETRY;
    let mut pause = Duration::from_millis(20);
    loop {
        match workflow.step(cx, input, stage.clone()).await {
            Err(error) if error.retry && Instant::now() + pause < give_up => {
                tracing::debug!("step will be retried: {}", error.details);
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other,
        }
    }
}

/// Wakes the dispatcher once `delay` has passed (it also polls; this makes short waits short).
fn wake_later(inner: &Arc<Inner>, delay: Duration) {
    let inner = inner.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        inner.wake.notify_one();
    });
}

/// Keeps a task's lease alive while its steps run.
fn renew_lease(inner: Arc<Inner>, task_id: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = inner.settings.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let until = now_ms() + inner.settings.lease.as_millis() as i64;
            match inner.store.renew_lease(&task_id, &inner.owner, until).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => tracing::warn!(task = %task_id, "renewing the lease failed: {error}"),
            }
        }
    })
}

/// The test-only crash point (`DROVER_CRASH_AFTER=<kind>:<step>`): the process ends at once,
/// with no clean-up, as SIGKILL would end it.
fn crash_point(kind: &str, step: &str) {
    static CRASH_AFTER: std::sync::OnceLock<Option<(String, String)>> = std::sync::OnceLock::new();
    let target = CRASH_AFTER.get_or_init(|| {
        let value = std::env::var("DROVER_CRASH_AFTER").ok()?;
        let (kind, step) = value.split_once(':')?;
        Some((kind.to_string(), step.to_string()))
    });
    if let Some((k, s)) = target
        && k == kind
        && s == step
    {
        eprintln!("drover: DROVER_CRASH_AFTER: exiting after step {step} of {kind}");
        // SAFETY: _exit ends the process without running anything else, which is the point.
        unsafe { libc::_exit(86) };
    }
}

/// Ends a task in one transaction: its resources' final state and the task's.
async fn end(
    inner: &Inner,
    workflow: &dyn ErasedWorkflow,
    task: &Task,
    input: &serde_json::Value,
    outcome: Result<serde_json::Value, StepError>,
) {
    let cx = Cx { inner, task };
    let cancelled = matches!(&outcome, Err(e) if e.message == cancelled().message);
    for attempt in 0..10 {
        let finished = async {
            let mut tx = inner.store.write().await?;
            let state = match &outcome {
                Ok(o) => {
                    workflow.on_success(&cx, &mut tx, input, o.clone()).await?;
                    TaskState::Done
                }
                Err(error) => {
                    workflow.on_failure(&cx, &mut tx, input, error).await?;
                    if cancelled {
                        TaskState::Cancelled
                    } else {
                        TaskState::Failed
                    }
                }
            };
            let error = outcome.as_ref().err().map(|e| e.details.as_str());
            if !tx.finish_task(task, &inner.owner, state, error).await? {
                return Ok(false);
            }
            tx.commit().await?;
            Ok::<_, StoreError>(true)
        };
        match finished.await {
            Ok(true) => {
                match &outcome {
                    Ok(_) => tracing::info!("task done"),
                    Err(error) => tracing::warn!("task failed: {}", error.details),
                }
                for hook in inner.workflows.hooks() {
                    hook(inner, task).await;
                }
                inner.wake.notify_one();
                return;
            }
            Ok(false) => {
                tracing::warn!("task was taken over by another worker before it could end");
                return;
            }
            Err(error) => {
                tracing::warn!(attempt, "ending the task failed: {error}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Ends a task of a kind this release does not know: it fails, and nothing else is touched.
async fn end_unknown(inner: &Inner, task: &Task, error: &StepError) {
    let finished = async {
        let mut tx = inner.store.write().await?;
        tx.finish_task(task, &inner.owner, TaskState::Failed, Some(&error.details))
            .await?;
        tx.commit().await
    };
    if let Err(e) = finished.await {
        tracing::warn!("ending a task of an unknown kind failed: {e}");
    }
}
