// What the worker does to the runtime it shares with nothing else but must not disturb: js-sys's
// futures executor is made to schedule with promise reactions instead of workerd's slower
// `queueMicrotask` (src/api/executor.rs), and the global `queueMicrotask` is left in place.
// Checked from inside the worker's own isolate, through workerd's inspector (the DevTools
// protocol's `Runtime.evaluate`), while the worker answers real requests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { devtools, workerTarget } from './support/devtools.mjs';
import { freePort } from './support/prism.mjs';
import { BASE, assignmentParams, signedPost } from './support/twilio.mjs';
import { API_TOKEN, AUTH_TOKEN, ownWorker } from './support/worker.mjs';

/** `Runtime.evaluate` in the worker's isolate. workerd has no default context to evaluate in:
 * each is announced once `Runtime` is on. */
async function evaluator(session) {
  await session.send('Runtime.enable');
  const created = session.events.find((event) => event.method === 'Runtime.executionContextCreated');
  assert.ok(created, 'workerd announced no execution context');
  const contextId = created.params.context.id;
  const evaluate = async (expression) => {
    const { result, exceptionDetails } = await session.send('Runtime.evaluate', { expression, contextId, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(exceptionDetails)}`);
    return result.value;
  };
  return { evaluate, close: session.close };
}

let worker;
let isolate;

before(async () => {
  const inspectorPort = await freePort();
  worker = await ownWorker({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, PUBLIC_URL: BASE }, { inspectorPort });
  isolate = await evaluator(await devtools(await workerTarget(inspectorPort)));
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
