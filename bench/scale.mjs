// The store at scale: what a callback, a task event and two listings cost with 1,000, 10,000 and
// 100,000 reservations stored. KV is filled directly through Miniflare's KV API, with records
// that are exactly what the worker writes: the worker stores one reservation per task shape
// first, and its keys, values and metadata are copied with other SIDs and arrival times. Each
// figure is the median of 11 requests; the KV operations are the ones the worker's log line
// reports for the request.
import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Miniflare } from 'miniflare';

import { freePort } from '../tests/support/prism.mjs';
import { median } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const AUTH_TOKEN = 'bench-auth-token';
const API_TOKEN = 'bench-operator-token';
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '1000,10000,100000').split(',').map(Number);
const ROUNDS = 11;
const DAY_MS = 86_400_000;

const log = (...args) => console.error('bench:', ...args);
const hex = () => randomBytes(16).toString('hex');

function sign(url, params) {
  const data = Object.keys(params).sort().reduce((text, key) => text + key + params[key], url);
  return createHmac('sha1', AUTH_TOKEN).update(data).digest('base64');
}

function post(url, path, params) {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(`${url}${path}`, params) },
    body: new URLSearchParams(params).toString(),
  });
}

function assignment(overrides = {}) {
  return {
    AccountSid: `AC${hex()}`, WorkspaceSid: `WS${hex()}`, WorkflowSid: `WW${hex()}`, TaskQueueSid: `WQ${hex()}`,
    TaskSid: `WT${hex()}`, ReservationSid: `WR${hex()}`, WorkerSid: `WK${hex()}`, TaskAge: '3', TaskPriority: '0',
    TaskAttributes: JSON.stringify({ type: 'support', from: '+14155550100', language: 'en', vip: false }),
    WorkerAttributes: JSON.stringify({ skills: ['support'], languages: ['en'], contact_uri: 'client:alice' }),
    ...overrides,
  };
}

const INVERTED = 9_999_999_999_999n;
const timeKey = (ms, reservation) => `at:${String(INVERTED - BigInt(ms)).padStart(13, '0')}:${reservation}`;

/** Fills KV with `count` copies of what the worker wrote for `template`, spread over a day. */
async function fill(kv, template, count, now) {
  const { value, metadata } = template;
  const puts = [];
  for (let i = 0; i < count; i += 1) {
    // Spread over most of a day: the oldest still has time left before it expires.
    const received = now - Math.floor((i * DAY_MS * 0.9) / count);
    const stamp = new Date(received).toISOString();
    const reservation = `WR${hex()}`;
    const task = `WT${hex()}`;
    const replace = (text) => text.replaceAll(template.reservation, reservation).replaceAll(template.task, task).replaceAll(template.receivedAt, stamp);
    const key = timeKey(received, reservation);
    const expiration = Math.floor((received + DAY_MS) / 1000);
    puts.push(
      () => kv.put(key, replace(value), { metadata: JSON.parse(replace(JSON.stringify(metadata))), expiration }),
      () => kv.put(`reservation:${reservation}`, key, { expiration }),
      () => kv.put(`task:${task}`, JSON.stringify({ ended: null, reservations: [reservation] }), { expiration }),
    );
    if (i === 0) template.newestTask = task;
  }
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < puts.length) await puts[next++]();
  }));
}

/** Times `send` ROUNDS times; the median latency and the KV operations of the last request. */
async function measure(lines, route, send) {
  const times = [];
  let kv;
  for (let round = 0; round < ROUNDS; round += 1) {
    const before = lines.length;
    const started = performance.now();
    const response = await send(round);
    await response.arrayBuffer();
    times.push(performance.now() - started);
    if (response.status >= 300) throw new Error(`${route} answered ${response.status}`);
    for (let waited = 0; waited < 2000 && !kv; waited += 10) {
      const line = lines.slice(before).map((text) => { try { return JSON.parse(text); } catch { return null; } }).find((entry) => entry?.route === route);
      if (line) kv = line.kv;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return { p50_ms: Number(median(times).toFixed(2)), kv };
}

async function atSize(size) {
  const lines = [];
  const capture = (stream) => {
    let pending = '';
    stream.on('data', (chunk) => {
      const split = (pending + chunk).split('\n');
      pending = split.pop();
      lines.push(...split);
    });
  };
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(root, 'build/index.js'),
    modulesRoot: path.join(root, 'build'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
    host: '127.0.0.1',
    port: await freePort(),
    cf: false,
    compatibilityDate: '2026-04-01',
    kvNamespaces: ['RESERVATIONS'],
    bindings: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, RESERVATION_TIMEOUT_SECONDS: '120' },
    handleRuntimeStdio: (stdout, stderr) => {
      capture(stdout);
      stderr.resume();
    },
  });
  try {
    const url = (await mf.ready).toString().replace(/\/$/, '');
    const kv = await mf.getKVNamespace('RESERVATIONS');
    // What the worker writes for one reservation, to copy.
    const first = assignment();
    if ((await post(url, '/assignment_callback', first)).status !== 200) throw new Error('the template callback failed');
    const key = await kv.get(`reservation:${first.ReservationSid}`);
    const { value, metadata } = await kv.getWithMetadata(key, 'text');
    const template = { value, metadata, reservation: first.ReservationSid, task: first.TaskSid, receivedAt: metadata.received_at };
    const started = Date.now();
    await fill(kv, template, size - 1, Date.now());
    log(`scale ${size}: filled in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const operator = { authorization: `Bearer ${API_TOKEN}` };
    const tasks = Array.from({ length: ROUNDS }, () => assignment());
    const result = {
      callback: await measure(lines, '/assignment_callback', (i) => post(url, '/assignment_callback', tasks[i])),
      task_completed: await measure(lines, '/events', (i) => post(url, '/events', {
        EventType: 'task.completed', TaskSid: tasks[i].TaskSid, WorkspaceSid: tasks[i].WorkspaceSid, AccountSid: tasks[i].AccountSid,
        ResourceType: 'task', ResourceSid: tasks[i].TaskSid, Timestamp: String(Math.floor(Date.now() / 1000)),
      })),
      pending_list: await measure(lines, '/reservations', () => fetch(`${url}/reservations?status=pending&limit=100`, { headers: operator })),
      first_page: await measure(lines, '/reservations', () => fetch(`${url}/reservations?limit=100`, { headers: operator })),
    };
    log(`scale ${size}:`, JSON.stringify(result));
    return result;
  } finally {
    await mf.dispose();
  }
}

export async function scale() {
  const results = {};
  for (const size of SIZES) results[size] = await atSize(size);
  return results;
}

export function scaleTable(results) {
  const kv = ({ reads, writes, lists }) => `${reads} r / ${writes} w / ${lists} l`;
  const rows = Object.entries(results).map(([size, r]) =>
    `| ${Number(size).toLocaleString('en')} stored | ${r.callback.p50_ms} (${kv(r.callback.kv)}) | ${r.task_completed.p50_ms} (${kv(r.task_completed.kv)}) | ${r.pending_list.p50_ms} (${kv(r.pending_list.kv)}) | ${r.first_page.p50_ms} (${kv(r.first_page.kv)}) |`);
  return [
    '| KV store, p50 ms (KV reads / writes / lists) | callback | `task.completed` | `?status=pending&limit=100` | first page, `limit=100` |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await scale();
  console.log(JSON.stringify(results, null, 2));
  console.log(scaleTable(results));
}
