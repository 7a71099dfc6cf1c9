//! Bindings of contract `drover:driver@0.1.x`, the newest and only version.
//!
//! When 0.2 arrives it gets its own module; this one then converts its types to and from the
//! newest module's and delegates, so callers only ever see the newest types (Zed's
//! `wasm_host/wit/since_v*` pattern).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "datastore-driver",
    imports: { default: async | trappable },
    exports: { default: async },
    additional_derives: [PartialEq],
    with: {
        "drover:driver/node-api.node": super::node::NodeRef,
    },
});
