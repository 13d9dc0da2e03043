#!/usr/bin/env bash
# `npm start`: install what is missing, then run the worker locally with `wrangler dev`
# (which builds it through wrangler.toml's [build] command) on 127.0.0.1:8787 with local KV.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The project's Node first, as under npm, also when this script is run by hand.
export PATH="$PWD/node_modules/.bin:$PATH"
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars
  echo "start: created .dev.vars from .dev.vars.example (edit it to use your own tokens)"
fi
token=$(sed -n 's/^RESERVATIONS_API_TOKEN=//p' .dev.vars | tr -d '"')
auth=$(sed -n 's/^TWILIO_AUTH_TOKEN=//p' .dev.vars | tr -d '"')
cat <<MSG

  taskrouter-edge is starting on http://127.0.0.1:8787

  Is it up?
    curl -s http://127.0.0.1:8787/health
  List the reservations it stored:
    curl -s -H "Authorization: Bearer ${token:-<RESERVATIONS_API_TOKEN>}" http://127.0.0.1:8787/reservations
  Send it a signed assignment callback, then list it (in another terminal):
    export RESERVATIONS_URL=http://127.0.0.1:8787 RESERVATIONS_API_TOKEN=${token:-<token>} TWILIO_AUTH_TOKEN=${auth:-<token>}
    cargo run -q -p reservations -- simulate
    cargo run -q -p reservations -- list

  Changed .dev.vars? wrangler dev reads it once: stop it (Ctrl-C) and run npm start again.
  Changed the code? It rebuilds and reloads by itself.

MSG
exec npx wrangler dev --ip 127.0.0.1 --port 8787
