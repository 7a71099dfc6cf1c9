//! The vocabulary of workflows: what a workflow declares, what a step returns, and how a task
//! is admitted. The engine (`engine.rs`) runs any [`Workflow`] it finds by kind in the
//! [`Registry`]; it names none of them.
//!
//! A workflow is a unit type implementing [`Workflow`]. Its `Input` is fixed when the task is
//! admitted; its `Stage` is an enum with one variant per step (serialised with the step's name
//! as `"step"`), each carrying what that step needs — so what one step hands the next is typed,
//! and the persisted progress names the step to run next. A step returns a [`Next`]: another
//! stage now, a durable wait, children to wait for, or the `Outcome` that the workflow's
//! `on_success` writes in the task's ending transaction.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::runtime::CallError;
use crate::runtime::types::DriverError;
use crate::store::{NewTask, StoreError, StoreResult, Task, TaskHost, Tx};

use super::Inner;

/// Why a step did not succeed.
#[derive(Debug, Clone)]
pub struct StepError {
    /// For the resource's owner.
    pub message: String,
    /// For admins.
    pub details: String,
    /// Whether trying the step again later may succeed.
    pub retry: bool,
}

impl StepError {
    /// A failure with the same text for owner and admins.
    pub fn new(message: impl Into<String>) -> StepError {
        let message = message.into();
        StepError {
            details: message.clone(),
            message,
            retry: false,
        }
    }

    /// A failure the step may get past by trying again.
    pub fn transient(message: impl Into<String>) -> StepError {
        StepError {
            retry: true,
            ..StepError::new(message)
        }
    }

    /// A failure with a message for the owner and more for admins.
    pub fn explained(message: impl Into<String>, details: impl Into<String>) -> StepError {
        StepError {
            message: message.into(),
            details: details.into(),
            retry: false,
        }
    }
}

impl From<CallError> for StepError {
    fn from(error: CallError) -> StepError {
        match error {
            CallError::Driver(DriverError::NotReady(message)) => StepError::transient(message),
            CallError::Driver(other) => StepError::new(crate::runtime::driver_message(&other)),
            CallError::Fault {
                driver, message, ..
            } => StepError::explained(
                format!("The datastore driver failed: {message}"),
                format!("driver {driver} {message}"),
            ),
        }
    }
}

impl From<StoreError> for StepError {
    fn from(error: StoreError) -> StepError {
        match error {
            // A resource that is gone will not come back by waiting.
            StoreError::NotFound(_) | StoreError::Corrupt(_) => StepError::new(error.to_string()),
            other => StepError::transient(other.to_string()),
        }
    }
}

/// What follows a step.
pub enum Next<S, O> {
    /// Run this stage's step now.
    Step(S),
    /// Run this stage's step once `delay` has passed, without holding a worker meanwhile.
    After(Duration, S),
    /// Start these children, wait for them (all, or until the first fails), then run `then`.
    Spawn {
        /// The children.
        children: Vec<Admission>,
        /// Whether the first failure ends the wait.
        first_failure: bool,
        /// What runs after.
        then: S,
    },
    /// Let go of the children admitted with this task, wait for them, then run `then`.
    Join {
        /// Whether the first failure ends the wait.
        first_failure: bool,
        /// What runs after.
        then: S,
    },
    /// The workflow is done; its outcome goes to `on_success`.
    Done(O),
}

/// A step's result.
pub type StepResult<S, O> = Result<Next<S, O>, StepError>;

/// Where a workflow's tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// On the host of the node of the instance the task is on (`resource_id`).
    OnNode,
    /// On any host: the task acts on no node.
    Anywhere,
}

/// A workflow: a kind, typed input and stages, named steps, and what success and failure do
/// to its resources.
pub trait Workflow: Send + Sync + 'static {
    /// Its kind, as stored in task rows.
    const KIND: &'static str;
    /// Its version; raised when its stages change in a way an older release cannot resume.
    const VERSION: u32;
    /// The oldest version whose tasks this release can resume.
    const RESUMES_FROM: u32 = 1;
    /// Its steps' names in order (the `step` tag of each stage), for "step n of m".
    const STEPS: &'static [&'static str];
    /// Where its tasks run.
    const RUNS: Runs = Runs::OnNode;
    /// What the task is given when admitted.
    type Input: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Where it has got to: one variant per step, serialised with `#[serde(tag = "step")]`.
    type Stage: Serialize + DeserializeOwned + Send + 'static;
    /// What its last step hands `on_success`.
    type Outcome: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// The first stage.
    fn first(input: &Self::Input) -> Self::Stage;

    /// The driver digest its tasks are pinned to, if they call one.
    fn driver(input: &Self::Input) -> Option<&str>;

    /// Runs the step `stage` names. Steps are idempotent: one interrupted is run again.
    fn step(
        cx: &Cx<'_>,
        input: &Self::Input,
        stage: Self::Stage,
    ) -> impl Future<Output = StepResult<Self::Stage, Self::Outcome>> + Send;

    /// The resources' state when it succeeded, in the task's ending transaction.
    fn on_success(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &Self::Input,
        outcome: &Self::Outcome,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The resources' state when it failed (or was cancelled), in the ending transaction.
    fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        input: &Self::Input,
        error: &StepError,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// A task to admit: built by [`Admission::of`] from a workflow and its input.
#[derive(Debug, Clone)]
pub struct Admission {
    pub(crate) task: NewTask,
}

impl Admission {
    /// A task of workflow `W` on `resource_id`.
    pub fn of<W: Workflow>(resource_id: &str, input: &W::Input) -> Admission {
        Admission::at::<W>(resource_id, input, W::first(input))
    }

    /// A task of workflow `W` on `resource_id` that starts at `stage` (which may carry what
    /// must not stay in the task once a step has used it, such as passwords).
    pub fn at<W: Workflow>(resource_id: &str, input: &W::Input, stage: W::Stage) -> Admission {
        let stage = Progress::<W::Stage, W::Outcome>::Next(stage);
        Admission {
            task: NewTask {
                resource_id: resource_id.to_string(),
                kind: W::KIND,
                workflow_version: W::VERSION,
                input: serde_json::to_string(input).expect("workflow inputs serialise"),
                stage: serde_json::to_string(&stage).expect("workflow stages serialise"),
                step_count: W::STEPS.len() as u32,
                driver: W::driver(input).map(str::to_string),
                host: match W::RUNS {
                    Runs::OnNode => TaskHost::NodeOf(resource_id.to_string()),
                    Runs::Anywhere => TaskHost::Any,
                },
                parent_id: None,
                held: false,
            },
        }
    }

    /// The resource it is on.
    pub fn resource_id(&self) -> &str {
        &self.task.resource_id
    }

    /// Writes the task in `tx`. With `queue`, a task on a busy resource waits behind its
    /// active task; without, it fails with `Conflict`.
    pub async fn insert(&self, tx: &mut Tx, queue: bool) -> StoreResult<String> {
        tx.insert_task(&self.task, queue).await
    }

    /// Writes the task and its children in `tx`; the children wait, held, until the parent's
    /// step returns [`Next::Join`].
    pub async fn insert_with_children(
        &self,
        tx: &mut Tx,
        queue: bool,
        children: &[Admission],
    ) -> StoreResult<String> {
        let parent = self.insert(tx, queue).await?;
        for child in children {
            let held = NewTask {
                parent_id: Some(parent.clone()),
                held: true,
                ..child.task.clone()
            };
            tx.insert_task(&held, false).await?;
        }
        Ok(parent)
    }
}

/// What the `stage` column holds: the stage whose step runs next, or the outcome once the
/// last step is done (so a crash between the last step and the ending transaction ends the
/// task with what that step learnt).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Progress<S, O> {
    Next(S),
    Done(O),
}

/// The name of the step a stage (as JSON) runs.
pub(crate) fn step_name(stage: &serde_json::Value) -> Option<&str> {
    stage.get("next")?.get("step")?.as_str()
}

/// What a step sees of the task and the host: the store, drivers, nodes, progress.
pub struct Cx<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) task: &'a Task,
}

impl Cx<'_> {
    /// The task being run.
    pub fn task(&self) -> &Task {
        self.task
    }

    /// The resource it is on.
    pub fn resource_id(&self) -> &str {
        &self.task.resource_id
    }

    /// Reports what a long step has done so far (shown in the task's and resource's views).
    pub async fn progress(&self, done: u64, total: Option<u64>, unit: Option<&str>) {
        let progress = serde_json::json!({"done": done, "total": total, "unit": unit});
        if let Err(error) = self
            .inner
            .store
            .set_task_progress(&self.task.id, &self.inner.owner, &progress.to_string())
            .await
        {
            tracing::warn!("recording progress failed: {error}");
        }
    }

    /// The children of this task, as they are now.
    pub async fn children(&self) -> Result<Vec<Task>, StepError> {
        Ok(self.inner.store.children_of(&self.task.id).await?)
    }

    /// Asks this task's children (and theirs) to stop.
    pub async fn cancel_children(&self) -> Result<(), StepError> {
        let children = self.inner.store.children_of(&self.task.id).await?;
        let mut tx = self.inner.store.write().await?;
        for child in children {
            if !child.state.ended() {
                tx.cancel_tasks_of(&child.resource_id).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A workflow with its types erased, as the engine runs it.
pub(crate) trait ErasedWorkflow: Send + Sync {
    fn version(&self) -> u32;
    fn resumes_from(&self) -> u32;
    fn steps(&self) -> &'static [&'static str];
    /// Runs the step `stage` (JSON) names; the result's stages and outcome as JSON.
    fn step<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        input: &'a serde_json::Value,
        stage: serde_json::Value,
    ) -> BoxFuture<'a, Result<Next<serde_json::Value, serde_json::Value>, StepError>>;
    fn on_success<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        tx: &'a mut Tx,
        input: &'a serde_json::Value,
        outcome: serde_json::Value,
    ) -> BoxFuture<'a, StoreResult<()>>;
    fn on_failure<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        tx: &'a mut Tx,
        input: &'a serde_json::Value,
        error: &'a StepError,
    ) -> BoxFuture<'a, StoreResult<()>>;
}

struct Erased<W>(PhantomData<W>);

fn unreadable(what: &str, kind: &str, error: serde_json::Error) -> StepError {
    StepError::explained(
        format!(
            "This task was saved by a release of Drover whose {kind} workflow this release cannot resume; start the operation again."
        ),
        format!("{kind}: unreadable {what}: {error}"),
    )
}

fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("workflow values serialise")
}

impl<W: Workflow> ErasedWorkflow for Erased<W> {
    fn version(&self) -> u32 {
        W::VERSION
    }
    fn resumes_from(&self) -> u32 {
        W::RESUMES_FROM
    }
    fn steps(&self) -> &'static [&'static str] {
        W::STEPS
    }

    fn step<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        input: &'a serde_json::Value,
        stage: serde_json::Value,
    ) -> BoxFuture<'a, Result<Next<serde_json::Value, serde_json::Value>, StepError>> {
        Box::pin(async move {
            let input: W::Input = serde_json::from_value(input.clone())
                .map_err(|e| unreadable("input", W::KIND, e))?;
            let stage: W::Stage =
                serde_json::from_value(stage).map_err(|e| unreadable("stage", W::KIND, e))?;
            Ok(match W::step(cx, &input, stage).await? {
                Next::Step(s) => Next::Step(to_json(&s)),
                Next::After(delay, s) => Next::After(delay, to_json(&s)),
                Next::Spawn {
                    children,
                    first_failure,
                    then,
                } => Next::Spawn {
                    children,
                    first_failure,
                    then: to_json(&then),
                },
                Next::Join {
                    first_failure,
                    then,
                } => Next::Join {
                    first_failure,
                    then: to_json(&then),
                },
                Next::Done(outcome) => Next::Done(to_json(&outcome)),
            })
        })
    }

    fn on_success<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        tx: &'a mut Tx,
        input: &'a serde_json::Value,
        outcome: serde_json::Value,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let input: W::Input = serde_json::from_value(input.clone())
                .map_err(|e| StoreError::Corrupt(format!("{} input: {e}", W::KIND)))?;
            let outcome: W::Outcome = serde_json::from_value(outcome)
                .map_err(|e| StoreError::Corrupt(format!("{} outcome: {e}", W::KIND)))?;
            W::on_success(cx, tx, &input, &outcome).await
        })
    }

    fn on_failure<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        tx: &'a mut Tx,
        input: &'a serde_json::Value,
        error: &'a StepError,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let input: W::Input = serde_json::from_value(input.clone())
                .map_err(|e| StoreError::Corrupt(format!("{} input: {e}", W::KIND)))?;
            W::on_failure(cx, tx, &input, error).await
        })
    }
}

/// A hook run after any task on a resource has ended (outside its transaction), for work
/// that waited for the resource to be free.
pub(crate) type AfterTask = for<'a> fn(&'a Inner, &'a Task) -> BoxFuture<'a, ()>;

/// The workflows this host can run, by kind.
#[derive(Clone, Default)]
pub struct Registry {
    workflows: HashMap<&'static str, Arc<dyn ErasedWorkflow>>,
    after_task: Vec<AfterTask>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds workflow `W`.
    pub fn register<W: Workflow>(&mut self) -> &mut Self {
        let previous = self
            .workflows
            .insert(W::KIND, Arc::new(Erased::<W>(PhantomData)));
        assert!(previous.is_none(), "workflow {} registered twice", W::KIND);
        self
    }

    /// Adds a hook run after every task's end.
    pub(crate) fn after_task(&mut self, hook: AfterTask) -> &mut Self {
        self.after_task.push(hook);
        self
    }

    pub(crate) fn get(&self, kind: &str) -> Option<&Arc<dyn ErasedWorkflow>> {
        self.workflows.get(kind)
    }

    pub(crate) fn hooks(&self) -> &[AfterTask] {
        &self.after_task
    }

    /// The steps of a kind, for views.
    pub fn steps(&self, kind: &str) -> Option<&'static [&'static str]> {
        self.workflows.get(kind).map(|w| w.steps())
    }
}
