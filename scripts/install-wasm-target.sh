#!/usr/bin/env bash
# Makes sure the Rust target wasm32-wasip2 is installed for the active toolchain: first through
# rustup; where rustup cannot download it, from a copy of the standard library for this rustc
# (rust-std-wasm32-wasip2-<version>.tar.xz) in $DROVER_TOOLCHAIN_DIR or ../shared/toolchain.
set -euo pipefail
rustlib="$(rustc --print sysroot)/lib/rustlib"
if compgen -G "$rustlib/wasm32-wasip2/lib/libstd-*.rlib" >/dev/null; then
  exit 0
fi
if command -v rustup >/dev/null && timeout 300 rustup target add wasm32-wasip2 >/dev/null 2>&1; then
  exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
version=$(rustc --version | awk '{print $2}')
for dir in "${DROVER_TOOLCHAIN_DIR:-}" "$here/../../shared/toolchain" "$here/../shared/toolchain"; do
  tarball="$dir/rust-std-wasm32-wasip2-$version.tar.xz"
  if [[ -n $dir && -f $tarball ]]; then
    tar -xJf "$tarball" -C "$rustlib"
    echo "install-wasm-target: installed wasm32-wasip2 from $tarball"
    exit 0
  fi
done
echo "install-wasm-target: rustup could not add wasm32-wasip2 and no local copy matches rustc $version" >&2
echo "install-wasm-target: run 'rustup target add wasm32-wasip2' with network access" >&2
exit 1
