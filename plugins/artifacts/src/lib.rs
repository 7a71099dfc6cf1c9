//! Paths of the WebAssembly components built from this workspace: the drivers Drover ships
//! (`<target>/drivers/*.wasm`, the default drivers directory of `drover serve`) and the test
//! fixtures. The build script compiles them for `wasm32-wasip2` with the `driver` profile.

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
