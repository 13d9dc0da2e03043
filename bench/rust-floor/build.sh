#!/usr/bin/env bash
# Builds bench/rust-floor/build/ with the project's local tools (see scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_OPT_BIN="$root/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$root/node_modules/esbuild/bin/esbuild"
export CARGO_TARGET_DIR="$root/target/rust-floor"
exec worker-build --release
