#!/usr/bin/env bash
# `npm test`: install what is missing, build the worker and the CLI once, then run the host
# tests (cargo test) and the end-to-end tests (tests/run.mjs: node's test runner, one file at a
# time, each with its own Miniflare running build/, the CLI binary, and Prism serving Twilio's
# OpenAPI description from tests/fixtures/twilio). The first failure ends the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --package reservations
cargo test --workspace
node tests/run.mjs
