// What reservations and a live console cost: one console (a WebSocket, as the page opens it) open
// for BENCH_CONSOLE_MINUTES (2 by default) while 100 reservations go through their whole life,
// spread over that time: the assignment callback, then `reservation.accepted`,
// `reservation.wrapup`, `reservation.completed` and `task.completed` (signed as TaskRouter signs
// them). Meanwhile an operator lists the pending reservations 20 times and reads 5 of them.
// Miniflare's own KV and the hub (the SQLite Durable Object) run as deployed. The worker logs one
// line per request with the KV operations it made, the hub one per request with the SQLite rows
// it read and wrote; those lines are summed. The hub's one import at its first start (one KV
// list) is reported apart from the reservations. A page polling the listing once a second made
// 60 KV lists a minute.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Miniflare } from '../tests/support/miniflare.mjs';
import WebSocket from 'ws';

import { freePort } from '../tests/support/prism.mjs';
import { AUTH_TOKEN, signedCallbacks } from './callbacks.mjs';
import { signEvent } from './events.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MINUTES = Number(process.env.BENCH_CONSOLE_MINUTES ?? 2);
const CALLBACKS = 100;
const LISTINGS = 20;
const READS = 5;
const API_TOKEN = 'bench-operator-token';
const RESERVATION_EVENTS = ['reservation.accepted', 'reservation.wrapup', 'reservation.completed'];

const log = (...args) => console.error('bench:', ...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value) => Number(value.toFixed(3));

/** The events TaskRouter would send about a callback's reservation, in order. */
function lifecycle(callback) {
  const params = Object.fromEntries(new URLSearchParams(callback.body));
  const { AccountSid, WorkspaceSid, TaskSid } = params;
  return [
    ...RESERVATION_EVENTS.map((type) => ({ ...params, EventType: type, ResourceType: 'reservation', ResourceSid: params.ReservationSid })),
    { AccountSid, WorkspaceSid, TaskSid, EventType: 'task.completed', ResourceType: 'task', ResourceSid: TaskSid },
  ];
}

/** Collects the JSON lines workerd prints, whole lines only. */
function lineCollector(lines) {
  return (stream) => {
    let rest = '';
    stream.on('data', (chunk) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop();
      for (const line of parts) {
        if (!line.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line));
        } catch {
          // Not one of the worker's lines.
        }
      }
    });
  };
}

const sum = (items, pick) => items.reduce((total, item) => total + (pick(item) ?? 0), 0);
const kvOf = (items) => ({ reads: sum(items, (l) => l.kv?.reads), writes: sum(items, (l) => l.kv?.writes), lists: sum(items, (l) => l.kv?.lists) });

export async function consoleCost() {
  const lines = [];
  const port = await freePort();
  const collect = lineCollector(lines);
  const mf = new Miniflare({
    host: '127.0.0.1', port, cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
    modules: true,
    scriptPath: path.join(root, 'build/index.js'),
    modulesRoot: path.join(root, 'build'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
    compatibilityDate: '2026-11-17',
    kvNamespaces: ['RESERVATIONS'],
    durableObjects: { HUB: { className: 'Hub', useSQLite: true } },
    bindings: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN },
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const operator = { authorization: `Bearer ${API_TOKEN}` };
  const post = (pathname, { body, signature }) => fetch(`${url}${pathname}`, {
    method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
  });
  const get = async (pathname) => {
    const response = await fetch(`${url}${pathname}`, { headers: operator });
    if (response.status !== 200) throw new Error(`GET ${pathname}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  try {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/live`, ['taskrouter-edge.v1', `bearer.${Buffer.from(API_TOKEN).toString('base64url')}`]);
    const pushed = { snapshot: 0, change: 0, other: 0 };
    socket.on('message', (data) => {
      const type = JSON.parse(data.toString()).type;
      pushed[type in pushed ? type : 'other'] += 1;
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const callbacks = signedCallbacks(`${url}/assignment_callback`, CALLBACKS);
    const gap = (MINUTES * 60_000) / CALLBACKS;
    const started = Date.now();
    let pendingSeen = 0;
    for (const [i, callback] of callbacks.entries()) {
      const answer = await post('/assignment_callback', callback);
      if (answer.status !== 200) throw new Error(`callback ${i}: ${answer.status} ${await answer.text()}`);
      // Listed while this one is still pending, read once settled.
      if (i % (CALLBACKS / LISTINGS) === 0) pendingSeen += (await get('/reservations?status=pending')).reservations.length;
      for (const params of lifecycle(callback)) {
        const response = await post('/events', signEvent(`${url}/events`, params));
        if (response.status !== 204) throw new Error(`callback ${i}, ${params.EventType}: ${response.status} ${await response.text()}`);
      }
      if (i % (CALLBACKS / READS) === 0) {
        const shown = await get(`/reservations/${callback.reservation}`);
        if (shown.status !== 'completed') throw new Error(`${callback.reservation} is ${shown.status} after its task completed`);
      }
      if ((i + 1) % 10 === 0) log(`console cost: ${i + 1} of ${CALLBACKS} reservations, ${pushed.snapshot + pushed.change + pushed.other} messages pushed`);
      await sleep(Math.max(0, started + (i + 1) * gap - Date.now()));
    }
    socket.close();
    await sleep(1_000);

    const requests = lines.filter((line) => 'duration_ms' in line);
    const lifecycleLines = requests.filter((line) => line.route === '/assignment_callback' || line.route === '/events');
    const reading = requests.filter((line) => line.route.startsWith('/reservations') || line.route === '/live');
    const imports = lines.filter((line) => line.route === 'hub import');
    const ledger = lines.filter((line) => line.route === 'hub /ledger');
    // What the reservations asked of the hub (a callback is `recorded`, an event `applied`).
    const ledgerLifecycle = ledger.filter((line) => ['recorded', 'applied', 'batch'].includes(line.outcome));
    const ledgerReading = ledger.filter((line) => line.outcome === 'listed' || line.outcome === 'shown');
    const per = (value) => round(value / CALLBACKS);
    const lifecycleKv = kvOf(lifecycleLines);
    const readingKv = kvOf(reading);
    const listed = requests.filter((line) => line.route.startsWith('/reservations') && line.outcome === 'listed');
    return {
      minutes: MINUTES,
      callbacks: CALLBACKS,
      lifecycle: ['assignment_callback', ...RESERVATION_EVENTS, 'task.completed'],
      listings: listed.length,
      reads: requests.filter((line) => line.route.startsWith('/reservations/') && line.outcome === 'shown').length,
      pending_listed: pendingSeen,
      worker_requests: requests.length,
      unanswered: requests.filter((line) => line.status >= 400).map((line) => `${line.route} ${line.status} ${line.outcome}`),
      messages_pushed: pushed.snapshot + pushed.change + pushed.other,
      messages: pushed,
      kv: {
        reads_per_reservation: per(lifecycleKv.reads),
        writes_per_reservation: per(lifecycleKv.writes),
        lists_per_reservation: per(lifecycleKv.lists),
        // Every listing, read and console connection, in all: the hub answers them from SQLite.
        listings_and_console: readingKv,
        lists_per_listing: round(kvOf(listed).lists / Math.max(1, listed.length)),
        lists: kvOf(requests).lists,
        import: kvOf(imports),
      },
      hub: {
        connections: lines.filter((line) => line.route === 'hub /live').length,
        requests: ledger.length,
        requests_per_reservation: per(ledgerLifecycle.length),
        rows_written_per_reservation: per(sum(ledgerLifecycle, (line) => line.rows_written)),
        rows_read_per_reservation: per(sum(ledgerLifecycle, (line) => line.rows_read)),
        rows_read_per_listing_or_read: round(sum(ledgerReading, (line) => line.rows_read) / Math.max(1, ledgerReading.length)),
        import: imports.map(({ outcome, rows_read, rows_written }) => ({ outcome, rows_read, rows_written })),
      },
    };
  } finally {
    await mf.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(await consoleCost(), null, 2));
