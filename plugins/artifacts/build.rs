//! Builds every driver and test-fixture crate for wasm32-wasip2 with a nested cargo (in a
//! target directory of its own, so it never waits on the outer build's lock), copies the
//! drivers to `<target>/drivers/` and writes a constant per component for the crate's users.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Drivers shipped with Drover: (crate, file name in the drivers directory).
const DRIVERS: &[(&str, &str)] = &[
    ("drover-driver-mariadb", "mariadb"),
    ("drover-driver-postgresql", "postgresql"),
    ("drover-driver-redis", "redis"),
];

/// Environment variables for a fixture's build.
type Env = &'static [(&'static str, &'static str)];

/// Test fixtures: (crate, constant name, extra environment for the build).
const FIXTURES: &[(&str, &str, Env)] = &[
    ("fixture-hostile", "HOSTILE", &[]),
    (
        "fixture-hostile",
        "HOSTILE_V2",
        &[("FIXTURE_DRIVER_VERSION", "2.0.0")],
    ),
    ("fixture-contract-next", "CONTRACT_NEXT", &[]),
    ("fixture-partial-exports", "PARTIAL_EXPORTS", &[]),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.join("../..").canonicalize().unwrap();
    for watched in [
        "wit",
        "plugins/sdk",
        "plugins/redis",
        "plugins/postgresql",
        "plugins/mariadb",
        "tests/fixtures",
        "Cargo.lock",
    ] {
        // Relative to this package, not absolute: cargo keys a path package's build by its
        // path within the workspace, so every checkout sharing a target directory (a clone
        // CI makes, a second worktree) shares this script's record too; absolute paths
        // would make one checkout watch another's sources and ship that one's drivers.
        println!("cargo:rerun-if-changed=../../{watched}");
    }
    println!("cargo:rerun-if-env-changed=DROVER_SKIP_WASM_TARGET_INSTALL");

    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    let target_root = out_dir.ancestors().nth(4).unwrap().to_path_buf();
    let wasm_target = target_root.join("wasm");

    install_target(&workspace);

    let mut consts = String::new();
    let drivers_dir = target_root.join("drivers");
    fs::create_dir_all(&drivers_dir).unwrap();
    let packages: Vec<&str> = DRIVERS.iter().map(|(package, _)| *package).collect();
    build(&workspace, &wasm_target.join("main"), &packages, &[]);
    for (package, file) in DRIVERS {
        let built = component(&wasm_target.join("main"), package);
        let shipped = drivers_dir.join(format!("{file}.wasm"));
        copy_if_changed(&built, &shipped);
        writeln!(
            consts,
            "/// The {file} driver, as shipped in the drivers directory."
        )
        .unwrap();
        writeln!(
            consts,
            "pub const {}: &str = {:?};",
            file.to_uppercase(),
            shipped.display().to_string()
        )
        .unwrap();
    }
    writeln!(
        consts,
        "/// The directory `drover serve` loads drivers from by default."
    )
    .unwrap();
    writeln!(
        consts,
        "pub const DRIVERS_DIR: &str = {:?};",
        drivers_dir.display().to_string()
    )
    .unwrap();

    for (package, name, envs) in FIXTURES {
        // Fixtures built with a different environment get their own target directory, so the
        // variants do not rebuild each other every time.
        let dir = wasm_target.join(if envs.is_empty() {
            "main".to_string()
        } else {
            format!("variant-{}", name.to_lowercase())
        });
        build(&workspace, &dir, &[package], envs);
        let built = component(&dir, package);
        writeln!(consts, "/// Test fixture `{package}` {envs:?}.").unwrap();
        writeln!(
            consts,
            "pub const {name}: &str = {:?};",
            built.display().to_string()
        )
        .unwrap();
    }
    fs::write(out_dir.join("artifacts.rs"), consts).unwrap();
}

fn install_target(workspace: &Path) {
    if env::var_os("DROVER_SKIP_WASM_TARGET_INSTALL").is_some() {
        return;
    }
    let status = Command::new("bash")
        .arg(workspace.join("scripts/install-wasm-target.sh"))
        .status()
        .expect("run scripts/install-wasm-target.sh");
    assert!(
        status.success(),
        "the wasm32-wasip2 target is missing and could not be installed"
    );
}

fn build(workspace: &Path, target_dir: &Path, packages: &[&str], envs: &[(&str, &str)]) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--profile",
            "driver",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    // The outer build's flags are for the host, not for wasm.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
    ] {
        command.env_remove(var);
    }
    for (key, value) in envs {
        command.env(key, value);
    }
    let status = command.status().expect("run cargo for wasm32-wasip2");
    assert!(
        status.success(),
        "building {packages:?} for wasm32-wasip2 failed"
    );
}

fn component(target_dir: &Path, package: &str) -> PathBuf {
    target_dir
        .join("wasm32-wasip2/driver")
        .join(format!("{}.wasm", package.replace('-', "_")))
}

fn copy_if_changed(from: &Path, to: &Path) {
    let bytes = fs::read(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    if fs::read(to).ok().as_deref() != Some(&bytes[..]) {
        let partial = to.with_extension("wasm.partial");
        fs::write(&partial, &bytes).unwrap();
        fs::rename(partial, to).unwrap();
    }
}
