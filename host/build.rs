//! Reads the contract version from the WIT package so the host can never claim another one.

use std::{env, fs, path::PathBuf};

fn main() {
    let wit = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    println!("cargo:rerun-if-changed=../migrations");
    let world = fs::read_to_string(wit.join("world.wit")).expect("read wit/world.wit");
    let version = world
        .lines()
        .find_map(|line| line.trim().strip_prefix("package drover:driver@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("wit/world.wit declares `package drover:driver@<version>;`");
    println!("cargo:rustc-env=DROVER_CONTRACT_VERSION={version}");
}
