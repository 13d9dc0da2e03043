// What the worker does to the runtime it shares with nothing else but must not disturb: js-sys's
// futures executor is made to schedule with promise reactions instead of workerd's slower
// `queueMicrotask` (src/api/executor.rs), and the global `queueMicrotask` is left in place.
// Checked from inside the worker's own isolate, through workerd's inspector (the DevTools
// protocol's `Runtime.evaluate`), while the worker answers real requests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import WebSocket from 'ws';

import { freePort } from './support/prism.mjs';
import { BASE, assignmentParams, signedPost } from './support/twilio.mjs';
import { API_TOKEN, AUTH_TOKEN, ownWorker } from './support/worker.mjs';

/** `Runtime.evaluate` in the isolate behind one inspector target. */
async function evaluator(webSocketUrl) {
  const socket = new WebSocket(webSocketUrl);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let id = 0;
  const waiting = new Map();
  let contextId;
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    // workerd has no default context to evaluate in: each is announced once `Runtime` is on.
    if (message.method === 'Runtime.executionContextCreated') contextId = message.params.context.id;
    waiting.get(message.id)?.(message);
  });
  const send = (method, params) => new Promise((resolve, reject) => {
    id += 1;
    waiting.set(id, ({ result, error }) => {
      if (error || result.exceptionDetails) reject(new Error(`${method} ${JSON.stringify(params)}: ${JSON.stringify(error ?? result.exceptionDetails)}`));
      else resolve(result);
    });
    socket.send(JSON.stringify({ id, method, params }));
  });
  await send('Runtime.enable', {});
  assert.ok(contextId, 'workerd announced no execution context');
  const evaluate = async (expression) => (await send('Runtime.evaluate', { expression, contextId, returnByValue: true, awaitPromise: true })).result.value;
  return { evaluate, close: () => socket.close() };
}

let worker;
let isolate;

before(async () => {
  const inspectorPort = await freePort();
  worker = await ownWorker({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, PUBLIC_URL: BASE }, { inspectorPort });
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  // Miniflare runs workers of its own beside this one (KV, cache, its entry); the project's
  // worker is the unnamed user worker.
  const target = targets.find((t) => t.title.endsWith('core:user:'));
  assert.ok(target, `no inspector target is the worker: ${targets.map((t) => t.title).join(', ')}`);
  isolate = await evaluator(target.webSocketDebuggerUrl);
  assert.equal(await isolate.evaluate('typeof globalThis.__worker_init_state'), 'object', 'the target runs workers-rs');
});

after(() => isolate?.close());

describe('the runtime the worker runs in', () => {
  test('the global queueMicrotask is the runtime’s own after start-up', async () => {
    assert.equal(await isolate.evaluate('typeof queueMicrotask'), 'function');
    assert.match(await isolate.evaluate('String(queueMicrotask)'), /\[native code\]/);
  });

  test('a callback’s awaits (body, KV reads and writes) never go through queueMicrotask', async () => {
    await isolate.evaluate(`(() => {
      globalThis.queueMicrotaskCalls = 0;
      const original = globalThis.queueMicrotask;
      globalThis.queueMicrotask = function (task) { globalThis.queueMicrotaskCalls += 1; return original.call(this, task); };
      return true;
    })()`);
    const response = await signedPost(worker.fetch, '/assignment_callback', assignmentParams());
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {});
    assert.equal(await isolate.evaluate('globalThis.queueMicrotaskCalls'), 0);
    // The counter itself works: the runtime's queueMicrotask still runs what it is given.
    assert.equal(await isolate.evaluate('new Promise((resolve) => queueMicrotask(() => resolve(globalThis.queueMicrotaskCalls)))'), 1);
  });
});
