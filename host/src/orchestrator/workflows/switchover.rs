//! Switchover and failover: a replica becomes its set's source. [`Promote`] does it with the
//! old source healthy (nothing acknowledged is lost: the old source stops taking writes, the
//! candidate catches up, takes over, and everyone follows it); [`Eject`] replaces a source
//! that is unreachable by its most advanced replica.

use serde::{Deserialize, Serialize};

use crate::runtime::types::NodeRole;
use crate::secrets::Secret;
use crate::store::{InstanceStatus, InstanceUpdate, StoreResult, Tx};

use super::super::task::{Cx, Next, Runs, StepError, StepResult, Workflow};
use super::common::{driver, host_is_silent, node, own_node};
use super::node::install;

/// A replica becomes writable and the source of its set; returns what its followers need.
async fn take_over(cx: &Cx<'_>, digest: &str, candidate: &str) -> Result<Secret, StepError> {
    let mut target = node(cx, candidate, None).await?;
    target.context.role = NodeRole::Standalone;
    let driver = driver(cx, digest).await?;
    driver.promote(target.ops(), &target.context).await?;
    install(cx, digest, &target).await?;
    let setup = driver.enable_source(target.ops(), &target.context).await?;
    Ok(Secret::new(setup.info))
}

/// Every replica of `old_source` but `candidate` follows `candidate`.
async fn repoint(
    cx: &Cx<'_>,
    digest: &str,
    old_source: &str,
    candidate: &str,
    info: &Secret,
) -> Result<(), StepError> {
    let new_source = node(cx, candidate, None).await?;
    let driver = driver(cx, digest).await?;
    for other in cx.inner.store.replicas_of(old_source).await? {
        if other.id == candidate {
            continue;
        }
        let mut tx = cx.inner.store.write().await?;
        tx.set_replication(&other.id, Some(candidate), Some(info.expose()))
            .await?;
        tx.commit().await?;
        let follower = node(cx, &other.id, None).await?;
        install(cx, digest, &follower).await?;
        driver
            .attach_replica(follower.ops(), &follower.context, Some(new_source.ops()))
            .await?;
    }
    Ok(())
}

/// A fault and ERROR on the task's instance.
async fn fail(cx: &Cx<'_>, tx: &mut Tx, error: &StepError) -> StoreResult<()> {
    tx.set_instance_fault(cx.resource_id(), &error.message, &error.details)
        .await?;
    tx.update_instance(
        cx.resource_id(),
        InstanceUpdate::to_status(InstanceStatus::Error),
    )
    .await
}

/// A switchover to the task's replica, with its source healthy.
pub struct Promote;

/// What a promotion is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromoteInput {
    /// The driver digest the task is pinned to.
    pub driver: String,
    /// The source being replaced.
    pub old_source: String,
}

/// The stages of [`Promote`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PromoteStage {
    /// The old source stops taking writes.
    FreezeSource,
    /// The candidate applies everything the old source acknowledged.
    WaitCaughtUp {
        /// The old source's position once it stopped taking writes.
        position: String,
    },
    /// The candidate stops following and becomes writable.
    PromoteCandidate,
    /// The other replicas follow it.
    RepointReplicas {
        /// What its followers need.
        info: Secret,
    },
    /// The old source follows it; its paused writers are let go.
    DemoteOldSource {
        /// What its followers need.
        info: Secret,
    },
}

impl Workflow for Promote {
    const KIND: &'static str = "promote_replica";
    const VERSION: u32 = 1;
    const STEPS: &'static [&'static str] = &[
        "freeze_source",
        "wait_caught_up",
        "promote_candidate",
        "repoint_replicas",
        "demote_old_source",
    ];
    type Input = PromoteInput;
    type Stage = PromoteStage;
    type Outcome = ();

    fn first(_: &PromoteInput) -> PromoteStage {
        PromoteStage::FreezeSource
    }

    fn driver(input: &PromoteInput) -> Option<&str> {
        Some(&input.driver)
    }

    async fn step(
        cx: &Cx<'_>,
        input: &PromoteInput,
        stage: PromoteStage,
    ) -> StepResult<PromoteStage, ()> {
        let candidate = cx.resource_id().to_string();
        Ok(match stage {
            PromoteStage::FreezeSource => {
                let source = node(cx, &input.old_source, None).await?;
                let driver = driver(cx, &input.driver).await?;
                driver.set_read_only(source.ops(), true).await?;
                let position = driver.position(source.ops()).await?;
                Next::Step(PromoteStage::WaitCaughtUp { position })
            }
            PromoteStage::WaitCaughtUp { position } => {
                let target = own_node(cx).await?;
                if !driver(cx, &input.driver)
                    .await?
                    .caught_up(target.ops(), &position)
                    .await?
                {
                    return Err(StepError::transient(format!(
                        "the replica has not applied position {position} yet"
                    )));
                }
                Next::Step(PromoteStage::PromoteCandidate)
            }
            PromoteStage::PromoteCandidate => {
                let info = take_over(cx, &input.driver, &candidate).await?;
                Next::Step(PromoteStage::RepointReplicas { info })
            }
            PromoteStage::RepointReplicas { info } => {
                repoint(cx, &input.driver, &input.old_source, &candidate, &info).await?;
                Next::Step(PromoteStage::DemoteOldSource { info })
            }
            PromoteStage::DemoteOldSource { info } => {
                let mut tx = cx.inner.store.write().await?;
                tx.set_replication(&input.old_source, Some(&candidate), Some(info.expose()))
                    .await?;
                tx.set_replication(&candidate, None, None).await?;
                tx.commit().await?;
                let new_source = node(cx, &candidate, None).await?;
                let old = node(cx, &input.old_source, None).await?;
                install(cx, &input.driver, &old).await?;
                driver(cx, &input.driver)
                    .await?
                    .demote(old.ops(), &old.context, new_source.ops())
                    .await?;
                Next::Done(())
            }
        })
    }

    async fn on_success(cx: &Cx<'_>, tx: &mut Tx, _: &PromoteInput, _: &()) -> StoreResult<()> {
        tx.update_instance(
            cx.resource_id(),
            InstanceUpdate::to_status(InstanceStatus::Active),
        )
        .await
    }

    /// A promotion that fails midway leaves the set as its steps left it, with the fault
    /// saying where; the old source is not made writable again behind anyone's back.
    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        _: &PromoteInput,
        error: &StepError,
    ) -> StoreResult<()> {
        fail(cx, tx, error).await
    }
}

/// Replaces the task's unreachable source by its most advanced replica.
pub struct Eject;

/// What an ejection is given.
pub type EjectInput = super::node::DriverInput;

/// The stages of [`Eject`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum EjectStage {
    /// The unreachable source is stopped for good: if it is half alive, it must not take
    /// writes once a replica has taken over.
    FenceSource,
    /// The replica with the most recent position (among those that answer) is chosen.
    ChooseSuccessor,
    /// It becomes the source.
    PromoteSuccessor {
        /// The chosen replica.
        candidate: String,
    },
    /// The other replicas follow it; the ejected source is left with none.
    RepointToSuccessor {
        /// The new source.
        candidate: String,
        /// What its followers need.
        info: Secret,
    },
}

/// Who took over.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ejected {
    /// The replica that became the source.
    pub successor: String,
}

impl Workflow for Eject {
    const KIND: &'static str = "eject_source";
    const VERSION: u32 = 1;
    /// On any host: an eject is how a set gets a source again when its source's whole host is
    /// gone, so it cannot wait for that host.
    const RUNS: Runs = Runs::Anywhere;
    const STEPS: &'static [&'static str] = &[
        "fence_source",
        "choose_successor",
        "promote_successor",
        "repoint_to_successor",
    ];
    type Input = EjectInput;
    type Stage = EjectStage;
    type Outcome = Ejected;

    fn first(_: &EjectInput) -> EjectStage {
        EjectStage::FenceSource
    }

    fn driver(input: &EjectInput) -> Option<&str> {
        Some(&input.driver)
    }

    async fn step(
        cx: &Cx<'_>,
        input: &EjectInput,
        stage: EjectStage,
    ) -> StepResult<EjectStage, Ejected> {
        let old_source = cx.resource_id().to_string();
        Ok(match stage {
            EjectStage::FenceSource => {
                let source = own_node(cx).await?;
                if let Err(error) = source.node.stop().await {
                    // A silent host cannot stop its node now; it stops it when it returns (an
                    // ejected source never runs again), before it serves anything.
                    if !host_is_silent(cx, &source.instance).await {
                        return Err(StepError::new(error));
                    }
                    tracing::warn!(instance = %old_source, "the source's host is silent: it is fenced when the host returns ({error})");
                }
                Next::Step(EjectStage::ChooseSuccessor)
            }
            EjectStage::ChooseSuccessor => {
                let driver = driver(cx, &input.driver).await?;
                let mut best: Option<(String, String)> = None;
                for replica in cx.inner.store.replicas_of(&old_source).await? {
                    let Ok(node) = node(cx, &replica.id, None).await else {
                        continue;
                    };
                    let Ok(position) = driver.position(node.ops()).await else {
                        continue;
                    };
                    let ahead = match &best {
                        None => true,
                        Some((_, known)) => driver.compare_positions(&position, known).await? > 0,
                    };
                    if ahead {
                        best = Some((replica.id, position));
                    }
                }
                // A replica that does not answer now may in a moment (a loaded host, a server
                // still starting after the host restarted): try again within the patience.
                let (candidate, _) = best.ok_or_else(|| {
                    StepError::transient("no replica answered; none can take over")
                })?;
                Next::Step(EjectStage::PromoteSuccessor { candidate })
            }
            EjectStage::PromoteSuccessor { candidate } => {
                let info = take_over(cx, &input.driver, &candidate).await?;
                let mut tx = cx.inner.store.write().await?;
                tx.set_replication(&candidate, None, None).await?;
                tx.update_instance(
                    &candidate,
                    InstanceUpdate::to_status(InstanceStatus::Active),
                )
                .await?;
                tx.commit().await?;
                Next::Step(EjectStage::RepointToSuccessor { candidate, info })
            }
            EjectStage::RepointToSuccessor { candidate, info } => {
                repoint(cx, &input.driver, &old_source, &candidate, &info).await?;
                Next::Done(Ejected {
                    successor: candidate,
                })
            }
        })
    }

    /// The ejected source leaves the set, in ERROR with a fault saying who took over.
    async fn on_success(
        cx: &Cx<'_>,
        tx: &mut Tx,
        _: &EjectInput,
        ejected: &Ejected,
    ) -> StoreResult<()> {
        let id = cx.resource_id();
        let message = format!(
            "Ejected from its replication set: replica {} took over as the source.",
            ejected.successor
        );
        tx.set_instance_fault(id, &message, &message).await?;
        tx.mark_ejected(id, &ejected.successor).await?;
        tx.update_instance(id, InstanceUpdate::to_status(InstanceStatus::Error))
            .await
    }

    async fn on_failure(
        cx: &Cx<'_>,
        tx: &mut Tx,
        _: &EjectInput,
        error: &StepError,
    ) -> StoreResult<()> {
        fail(cx, tx, error).await
    }
}
