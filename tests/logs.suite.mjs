// One JSON line per request for `wrangler tail`; no secret or signature in any line. Imported
// last, so it also reads everything the other suites made the worker print.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { operatorGet } from './support/http.mjs';
import { assignmentParams, eventParams, sentSignatures, signedPost } from './support/twilio.mjs';
import { API_TOKEN, AUTH_TOKEN, PUBLIC_URL, worker, workerOutput } from './support/worker.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function requestLines() {
  return workerOutput
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return null;
      }
    })
    .filter((entry) => entry && typeof entry.route === 'string' && 'duration_ms' in entry);
}

describe('structured logs', () => {
  test('each request logs one JSON line with route, status, reservation, outcome and duration', async () => {
    const fetchWorker = await worker('main');
    const assignment = assignmentParams();
    await signedPost(fetchWorker, '/assignment_callback', assignment);
    await signedPost(fetchWorker, '/events', eventParams('reservation.accepted', assignment));
    await operatorGet(fetchWorker, `/reservations/${assignment.ReservationSid}`, 'wrong-token');
    await sleep(200);

    const mine = requestLines().filter((entry) => entry.reservation_sid === assignment.ReservationSid);
    const summary = mine.map(({ method, route, status, outcome }) => ({ method, route, status, outcome }));
    assert.deepEqual(summary, [
      { method: 'POST', route: '/assignment_callback', status: 200, outcome: 'stored' },
      { method: 'POST', route: '/events', status: 200, outcome: 'moved' },
    ]);
    for (const entry of mine) assert.ok(Number.isInteger(entry.duration_ms) && entry.duration_ms >= 0);
    const refused = requestLines().filter((entry) => entry.route === '/reservations/{sid}' && entry.outcome === 'unauthorized');
    assert.ok(refused.length >= 1, 'a refused request is logged too, with its error code');
  });

  test('no secret and no signature ever appears in the worker\'s output', async () => {
    assert.ok(workerOutput.length > 50, `the suites made the worker log (${workerOutput.length} lines)`);
    assert.ok(sentSignatures.length > 50);
    const output = workerOutput.join('\n');
    for (const secret of [AUTH_TOKEN, API_TOKEN, 'wrong-token', 'not-the-auth-token']) {
      assert.ok(!output.includes(secret), `a secret was logged: ${secret}`);
    }
    const leaked = sentSignatures.filter((signature) => output.includes(signature));
    assert.deepEqual(leaked, [], 'signatures were logged');
    assert.ok(!/x-twilio-signature|authorization/i.test(output), 'headers were logged');
    assert.ok(output.includes(PUBLIC_URL) === false);
  });
});
