#!/usr/bin/env bash
# `npm test`: install what is missing, build the worker and the CLI once, then run the host
# tests (cargo test) and the end-to-end tests (node --test: Miniflare running build/, the CLI
# binary, Prism serving ../shared/twilio/taskrouter_v1.openapi.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --package reservations
cargo test --workspace
node --test tests/
