//! The workflows this release runs, one module per family. Each owns its typed input and
//! stages, its named steps, and what success and failure do to its resources; the engine
//! finds them by kind in the registry [`all`] builds.

mod common;
pub mod configure;
pub mod node;
pub mod replicas;
pub mod switchover;

use super::task::Registry;

/// Every workflow, and the hooks run after each task's end.
pub fn all() -> Registry {
    let mut registry = Registry::new();
    registry
        .register::<node::Create>()
        .register::<node::Delete>()
        .register::<node::Stop>()
        .register::<node::Restart>()
        .register::<node::ResizeFlavor>()
        .register::<node::ResizeVolume>()
        .register::<configure::Apply>()
        .register::<replicas::CreateReplicas>()
        .register::<replicas::CreateReplica>()
        .register::<replicas::Detach>()
        .register::<switchover::Promote>()
        .register::<switchover::Eject>()
        .after_task(configure::apply_queued);
    registry
}
