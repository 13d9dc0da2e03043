// When Workers KV misbehaves: a write refused for KV's one-write-per-second limit (429) is tried
// again after a pause, a failing write or read answers 503 `store_unavailable` naming what
// failed, and a binding that throws instead of rejecting is reported the same way. Miniflare's
// KV does none of this, so the built worker's RESERVATIONS here is a small KV (a wrapped
// binding, in the worker's own isolate) that fails on purpose for three reservation SIDs.
// Miniflare 5 has no wrapped bindings (nor a way for a binding to throw rather than reject), so
// this suite alone runs on Miniflare 4, its newest release (docs/decisions).
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

import { Miniflare } from 'miniflare-4';

import { assertError, operatorGet } from './support/http.mjs';
import { onStop } from './support/lifecycle.mjs';
import { checked } from './support/openapi.mjs';
import { assignmentParams, signedPost } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { API_TOKEN, AUTH_TOKEN, HUB } from './support/worker.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUSY = `WR${'b'.repeat(32)}`;
const BROKEN = `WR${'e'.repeat(32)}`;
const THROWING = `WR${'f'.repeat(32)}`;

// A KV namespace in memory, as the worker uses one (bytes in, `arrayBuffer` or text out), except:
// the first write of BUSY's record is refused with a 429, every write for BROKEN is rejected with
// a 500, and a read of THROWING's record throws at once instead of returning a promise.
const MISBEHAVING_KV = `
const values = new Map();
const refused = new Set();
const bytes = (value) => (typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(value));
export default function () {
  return {
    get(key, type) {
      if (key.startsWith('at:') && key.endsWith('${THROWING}')) throw new TypeError('KV GET failed: the binding threw');
      const value = values.get(key);
      if (value === undefined) return Promise.resolve(null);
      return Promise.resolve(type === 'arrayBuffer' ? value.slice().buffer : new TextDecoder().decode(value));
    },
    async put(key, value) {
      if (key.endsWith('${BROKEN}')) throw new Error('KV PUT failed: 500 Internal Server Error');
      if (key.startsWith('at:') && key.endsWith('${BUSY}') && !refused.has(key)) {
        refused.add(key);
        throw new Error('KV PUT failed: 429 Too Many Requests');
      }
      values.set(key, bytes(value));
    },
    async delete(key) {
      values.delete(key);
    },
    async list() {
      return { keys: [], list_complete: true };
    },
  };
}
`;

const output = [];

async function startWorker() {
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) stream.on('data', (chunk) => output.push(...chunk.toString().split('\n')));
    },
    workers: [
      {
        name: 'worker',
        modules: true,
        scriptPath: path.join(root, 'build/index.js'),
        modulesRoot: path.join(root, 'build'),
        modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
        compatibilityDate: '2026-07-30', // the newest Miniflare 4's workerd knows
        bindings: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN },
        wrappedBindings: { RESERVATIONS: 'misbehaving-kv' },
        durableObjects: HUB,
      },
      { name: 'misbehaving-kv', modules: [{ type: 'ESModule', path: 'kv.mjs', contents: MISBEHAVING_KV }] },
    ],
  });
  onStop(() => mf.dispose());
  await mf.ready;
  const worker = await mf.getWorker('worker');
  return checked((url, init) => worker.fetch(url, init));
}

/** The request log line of the callback for `reservationSid`. */
function callbackLine(reservationSid) {
  return output
    .filter((line) => line.includes(reservationSid) && line.includes('"route"'))
    .map((line) => JSON.parse(line))
    .find((entry) => entry.route === '/assignment_callback' && 'duration_ms' in entry);
}

describe('Workers KV failing', () => {
  let fetchWorker;

  test('a write refused with 429 is tried again after a pause, and the callback is stored', async () => {
    fetchWorker ??= await startWorker();
    const response = await signedPost(fetchWorker, '/assignment_callback', assignmentParams({ ReservationSid: BUSY }));
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{}');
    const shown = await operatorGet(fetchWorker, `/reservations/${BUSY}`);
    assert.equal(shown.status, 200);
    assert.equal((await shown.json()).status, 'pending');
    const line = await until(() => callbackLine(BUSY), { what: "the callback's log line" });
    assert.deepEqual(line.kv, { reads: 0, writes: 2, lists: 0 }, 'the record, refused, then written');
    assert.ok(line.duration_ms >= 1000, `the second attempt waited out KV's second: ${line.duration_ms} ms`);
  });

  test('a write that fails answers 503 store_unavailable naming it; the hub still shows the reservation TaskRouter holds', async () => {
    fetchWorker ??= await startWorker();
    const response = await signedPost(fetchWorker, '/assignment_callback', assignmentParams({ ReservationSid: BROKEN }));
    const body = await assertError(response, 503, 'store_unavailable');
    assert.match(body.error.message, /writing the store: KV PUT failed: 500 Internal Server Error/);
    // TaskRouter keeps a reservation whose callback failed pending until it times out: the hub
    // says so, from its own row, without the parameters KV did not keep.
    const shown = await (await operatorGet(fetchWorker, `/reservations/${BROKEN}`)).json();
    assert.deepEqual([shown.status, shown.parameters], ['pending', {}]);
  });

  test('a binding that throws instead of rejecting answers 503 store_unavailable too', async () => {
    fetchWorker ??= await startWorker();
    assert.equal((await signedPost(fetchWorker, '/assignment_callback', assignmentParams({ ReservationSid: THROWING }))).status, 200);
    const body = await assertError(await operatorGet(fetchWorker, `/reservations/${THROWING}`), 503, 'store_unavailable');
    assert.match(body.error.message, /reading the store: KV GET failed: the binding threw/);
  });
});
