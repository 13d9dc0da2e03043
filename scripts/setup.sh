#!/usr/bin/env bash
# Installs what building and testing need, and skips whatever is already installed at the right
# version: the wasm32 target, worker-build and wasm-bindgen-cli at the versions Cargo.lock pins,
# the npm packages of package-lock.json (Node itself among them), and twilio-python for examples/accept.py in .venv. Offline-safe: nothing is downloaded outside the
# package registries (worker-build is pointed at local tools by scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"
installed=0

# The version Cargo.lock pins for a crate.
locked_version() {
  awk -v name="$1" '$1 == "name" && $3 == "\"" name "\"" { found = 1; next }
                    found && $1 == "version" { gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
  installed=1
fi

# Fails loudly if a tool still does not answer with the expected version after installing.
verify() {
  if [ "$("$1" --version 2>/dev/null || true)" != "$2" ]; then
    echo "setup: $1 --version should print '$2' after installing; it prints '$("$1" --version 2>&1 || true)'" >&2
    exit 1
  fi
}

# --force: cargo may still list a tool whose binary is gone or was replaced; the version check
# above each install is what decides.
worker_version=$(locked_version worker)
if [ "$(worker-build --version 2>/dev/null || true)" != "$worker_version" ]; then
  say "installing worker-build $worker_version (a few minutes on a new machine)"
  cargo install worker-build --version "$worker_version" --locked --force
  verify worker-build "$worker_version"
  installed=1
fi

# Without --locked: one crate in wasm-bindgen-cli's own lockfile is missing from the registry.
bindgen_version=$(locked_version wasm-bindgen)
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version (several minutes on a new machine)"
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
  verify wasm-bindgen "wasm-bindgen $bindgen_version"
  installed=1
fi

stamp=node_modules/.taskrouter-edge-lock
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
  installed=1
fi
# The project's own Node (package.json's `node`, the npm registry's binary): wrangler and
# Miniflare need 22.12 or later, while the machine's Node, which runs npm, may be older. npm's
# scripts put node_modules/.bin first on PATH, so every script and suite runs on this one.
node_version=$(node -p "require('./package.json').devDependencies.node")
verify node_modules/.bin/node "v$node_version"

# The Python example runs as a user would run it: in a virtual environment of its own, with
# examples/requirements.txt (Twilio's helper library) installed from PyPI.
venv_stamp=.venv/.taskrouter-edge-requirements
requirements_sum=$(sha256sum examples/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$venv_stamp" 2>/dev/null || true)" != "$requirements_sum" ]; then
  say "installing examples/requirements.txt in .venv (twilio-python, for examples/accept.py)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r examples/requirements.txt
  echo "$requirements_sum" > "$venv_stamp"
  installed=1
fi

# The console's browser test drives a real Chromium (puppeteer-core downloads none). Debian's
# package where apt-get is available; elsewhere CHROME_PATH names a browser, or that test says
# loudly that it did not run.
if [ -z "${CHROME_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing Debian's chromium for the console's browser test (about 30 s)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    installed=1
  else
    say "no chromium, no apt-get as root, and no CHROME_PATH: the console's browser test will be SKIPPED"
  fi
fi

if [ "$installed" = 0 ]; then
  say "everything is installed"
fi
