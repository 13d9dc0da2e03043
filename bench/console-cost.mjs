// What a live console costs: one console (a WebSocket, as the page opens it) open for
// BENCH_CONSOLE_MINUTES (10 by default) while 100 callbacks arrive, spread over that time, and
// each reservation then settles by an event (accepted, or timed out). The worker and the hub log
// one line per request with what it cost; those lines are summed: KV operations, hub requests,
// and the hub's SQLite rows. The page before this round polled the listing once a second: 600
// KV lists in 10 minutes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Miniflare } from 'miniflare';
import WebSocket from 'ws';

import { freePort } from '../tests/support/prism.mjs';
import { AUTH_TOKEN, signedCallbacks } from './callbacks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MINUTES = Number(process.env.BENCH_CONSOLE_MINUTES ?? 10);
const CALLBACKS = 100;
const API_TOKEN = 'bench-operator-token';

const log = (...args) => console.error('bench:', ...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An event TaskRouter would send about a callback's reservation. */
function event(callback, type) {
  const params = Object.fromEntries(new URLSearchParams(callback.body));
  return { ...params, EventType: type, ResourceType: 'reservation', ResourceSid: params.ReservationSid };
}

export async function consoleCost() {
  const lines = [];
  const port = await freePort();
  const mf = new Miniflare({
    host: '127.0.0.1', port, cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) stream.on('data', (chunk) => lines.push(...chunk.toString().split('\n').filter((line) => line.startsWith('{'))));
    },
    modules: true,
    scriptPath: path.join(root, 'build/index.js'),
    modulesRoot: path.join(root, 'build'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
    compatibilityDate: '2026-04-01',
    kvNamespaces: ['RESERVATIONS'],
    durableObjects: { HUB: { className: 'Hub', useSQLite: true } },
    bindings: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN },
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const { signEvent } = await import('./events.mjs');
  try {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/live`, ['taskrouter-edge.v1', `bearer.${Buffer.from(API_TOKEN).toString('base64url')}`]);
    let received = 0;
    socket.on('message', () => (received += 1));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const callbacks = signedCallbacks(`${url}/assignment_callback`, CALLBACKS);
    const gap = (MINUTES * 60_000) / CALLBACKS;
    for (const [i, callback] of callbacks.entries()) {
      const post = (pathname, body, signature) => fetch(`${url}${pathname}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } });
      const answer = await post('/assignment_callback', callback.body, callback.signature);
      if (answer.status !== 200) throw new Error(`callback ${i}: ${answer.status}`);
      const settled = signEvent(`${url}/events`, event(callback, i % 4 === 3 ? 'reservation.timeout' : 'reservation.accepted'));
      if ((await post('/events', settled.body, settled.signature)).status !== 204) throw new Error(`event ${i}`);
      if ((i + 1) % 10 === 0) log(`console cost: ${i + 1} of ${CALLBACKS} reservations, ${received} messages pushed`);
      await sleep(gap);
    }
    socket.close();
    await sleep(3_500);
    const parsed = lines.map((line) => JSON.parse(line));
    const requests = parsed.filter((line) => 'duration_ms' in line);
    const hub = parsed.filter((line) => typeof line.route === 'string' && line.route.startsWith('hub '));
    const sum = (items, pick) => items.reduce((total, item) => total + (pick(item) ?? 0), 0);
    return {
      minutes: MINUTES,
      callbacks: CALLBACKS,
      messages_pushed: received,
      kv: {
        lists: sum(parsed, (line) => line.kv?.lists),
        reads_per_reservation: sum(requests, (line) => line.kv?.reads) / CALLBACKS,
        writes_per_reservation: sum(requests, (line) => line.kv?.writes) / CALLBACKS,
      },
      hub: {
        requests: hub.length,
        connections: hub.filter((line) => line.route === 'hub /live').length,
        requests_per_reservation: hub.filter((line) => line.route === 'hub /changes').length / CALLBACKS,
        rows_written_per_reservation: sum(hub.filter((line) => line.route === 'hub /changes'), (line) => line.rows_written) / CALLBACKS,
        rows_read_per_reservation: sum(hub.filter((line) => line.route === 'hub /changes'), (line) => line.rows_read) / CALLBACKS,
      },
    };
  } finally {
    await mf.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(await consoleCost(), null, 2));
