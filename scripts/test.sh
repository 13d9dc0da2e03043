#!/usr/bin/env bash
# `npm test`: install what is missing, check the code's hygiene, build the worker and the CLI
# once, then run the host tests (cargo test) and the end-to-end tests (tests/run.mjs: node's test
# runner, one file at a time, each with its own Miniflare running build/, the CLI binary, and
# Prism serving Twilio's OpenAPI description). The first failure ends the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The project's Node first, as under npm, also when this script is run by hand.
export PATH="$PWD/node_modules/.bin:$PATH"
export PATH="$HOME/.cargo/bin:$PATH"

gate() {
  printf 'gate: %s\n' "$*"
  "$@"
}
# Hygiene, on the host and for the worker's target: formatting, lints, and docs whose links hold
# (private items' too: the Worker's glue is private to its cdylib).
gate cargo fmt --all --check
gate cargo clippy --quiet --workspace --all-targets -- -D warnings
gate cargo clippy --quiet --package taskrouter-edge --target wasm32-unknown-unknown -- -D warnings
RUSTDOCFLAGS='-D warnings' gate cargo doc --quiet --no-deps --document-private-items --workspace
RUSTDOCFLAGS='-D warnings' gate cargo doc --quiet --no-deps --document-private-items --package taskrouter-edge --target wasm32-unknown-unknown

bash scripts/build.sh
cargo build --package reservations
cargo test --workspace
node tests/run.mjs
