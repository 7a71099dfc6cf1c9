//! A node's anchor: a thread of the host, living where the node's processes live, that forks
//! every one of them. A process starts in the cgroups, the mount namespace and under the root
//! of the thread that forks it, so the anchor sets those up once per node (per host process)
//! and no process start has to do it again:
//!
//! - **cgroups.** Moving a process into a cgroup v1 group waits for an RCU grace period (the
//!   kernel's cgroup_threadgroup_rwsem), about 6 ms here, every time; cgroup v1 lets a single
//!   thread join a group, so the anchor joins the node's groups once.
//! - **mount namespace and root.** The anchor unshares its mount namespace (which unshares its
//!   root, working directory and umask from the rest of the host) and assembles the node's
//!   root there: the host never forks a process to build a view.
//! - **Landlock ruleset.** Built by the anchor from inside that root, where the node's private
//!   `/tmp` is; every process restricts itself with it.
//!
//! The anchor's own memory is the host's (memory is charged to the cgroup of a process's
//! owner), and it is never one of the node's processes (its pid is the host's).

use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::sandbox::AnchorPlan;

type Request = (
    tokio::process::Command,
    tokio::sync::oneshot::Sender<std::io::Result<tokio::process::Child>>,
);

/// A node's anchor thread.
pub(crate) struct Anchor {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl Anchor {
    /// Starts the anchor, set up as `plan` says, spawning with the tokio runtime `runtime`;
    /// returns it with the node's ruleset.
    pub fn start(
        plan: AnchorPlan,
        runtime: tokio::runtime::Handle,
    ) -> Result<(Anchor, Option<OwnedFd>), String> {
        let (requests, incoming) = mpsc::channel::<Request>();
        let (ready, set_up) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("node-anchor".into())
            .spawn(move || {
                let setup = (|| {
                    if let Some(cgroup) = &plan.cgroup {
                        let tid = nix::unistd::gettid().to_string();
                        for file in [cgroup.memory.join("tasks"), cgroup.pids.join("tasks")] {
                            std::fs::write(&file, &tid)
                                .map_err(|e| format!("{}: {e}", file.display()))?;
                        }
                    }
                    plan.mounts
                        .enter()
                        .map_err(|e| format!("assembling the node's root: {e}"))?;
                    plan.rules.as_ref().map(|rules| rules.build()).transpose()
                })();
                let failed = setup.is_err();
                let _ = ready.send(setup);
                if failed {
                    return;
                }
                let _runtime = runtime.enter();
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .map_err(|e| format!("starting the node's anchor thread: {e}"))?;
        let ruleset = set_up
            .recv()
            .map_err(|_| "the node's anchor thread died".to_string())?;
        let anchor = Anchor {
            requests: Some(requests),
            thread: Some(thread),
        };
        Ok((anchor, ruleset?))
    }

    /// Starts `command` from the anchor.
    pub async fn spawn(
        &self,
        command: tokio::process::Command,
    ) -> std::io::Result<tokio::process::Child> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let gone = || std::io::Error::other("the node's anchor thread is gone");
        self.requests
            .as_ref()
            .ok_or_else(gone)?
            .send((command, reply))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

impl Drop for Anchor {
    /// Ends the thread and waits for it: the node's groups can be removed only once it has
    /// left them.
    fn drop(&mut self) {
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
