#!/usr/bin/env bash
# Builds the worker to build/ with worker-build, using local tools instead of downloads:
# wasm-bindgen from cargo, wasm-opt from npm's binaryen, esbuild from npm.
# Run by `wrangler dev`/`wrangler deploy` (wrangler.toml [build]) and by scripts/test.sh.
#
# Skipped when build/ is newer than everything it is made from, so that `npm start` on a built
# tree starts at once, without a cargo run that finds nothing to do. (wrangler 4.86's `dev` also
# ran the [build] command twice, workers-sdk #7934; 4.164 runs it once.)
# TASKROUTER_EDGE_BUILD_CHECK=1 only says whether a build is due (the tests use it).
set -euo pipefail
cd "$(dirname "$0")/.."

output=build/index_bg.wasm
inputs=(src core Cargo.toml Cargo.lock openapi.json wrangler.toml scripts/build.sh)
if [ -f "$output" ] && [ -f build/index.js ] && [ -z "$(find "${inputs[@]}" -newer "$output" -print -quit)" ]; then
  echo "build: build/ is up to date (nothing in ${inputs[*]} changed since); not rebuilding"
  exit 0
fi
if [ "${TASKROUTER_EDGE_BUILD_CHECK:-}" = 1 ]; then
  echo "build: a build is due"
  exit 0
fi

export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_OPT_BIN="$PWD/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$PWD/node_modules/esbuild/bin/esbuild"
exec worker-build --release
