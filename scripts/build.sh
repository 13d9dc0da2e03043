#!/usr/bin/env bash
# Builds the worker to build/ with worker-build, using local tools instead of downloads:
# wasm-bindgen from cargo, wasm-opt from npm's binaryen, esbuild from npm.
# Run by `wrangler dev`/`wrangler deploy` (wrangler.toml [build]) and by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_OPT_BIN="$PWD/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$PWD/node_modules/esbuild/bin/esbuild"
exec worker-build --release
