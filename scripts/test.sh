#!/usr/bin/env bash
# `npm test`: install what is missing, build the worker once, then run the host tests
# (cargo test) and the worker tests (node --test, Miniflare running build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo test --workspace
node --test tests/
