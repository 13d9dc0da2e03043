// One JSON line per request for `wrangler tail`; no secret or signature in any line. This file
// sends every kind of request itself (signed and forged callbacks and events, operator calls with
// right and wrong tokens, bad bodies) and reads everything its worker printed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { operatorGet, operatorSetStatus } from './support/http.mjs';
import { assignmentParams, eventParams, sentSignatures, signedPost, unsignedPost } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { API_TOKEN, AUTH_TOKEN, PUBLIC_URL, worker, workerOutput } from './support/worker.mjs';

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

/** Sends the worker configuration `name` one request of every kind, secrets in every place. */
async function everyKindOfRequest(name) {
  const fetchWorker = await worker(name);
  const assignment = assignmentParams();
  await signedPost(fetchWorker, '/assignment_callback', assignment);
  await signedPost(fetchWorker, '/assignment_callback', assignmentParams(), { token: 'not-the-auth-token' });
  await unsignedPost(fetchWorker, '/assignment_callback', assignmentParams());
  await signedPost(fetchWorker, '/events', eventParams('reservation.accepted', assignment));
  await signedPost(fetchWorker, '/events', eventParams('task.completed', assignment));
  await operatorGet(fetchWorker, '/reservations');
  await operatorGet(fetchWorker, '/reservations', 'wrong-token');
  await operatorGet(fetchWorker, `/reservations/${assignment.ReservationSid}`);
  await operatorSetStatus(fetchWorker, assignment.ReservationSid, 'completed');
  await operatorSetStatus(fetchWorker, assignment.ReservationSid, 'accepted', 'wrong-token');
  await fetchWorker(`http://localhost/health?token=${AUTH_TOKEN}`);
  await fetchWorker('http://localhost/nope', { headers: { authorization: `Bearer ${API_TOKEN}` } });
}

describe('structured logs', () => {
  test('each request logs one JSON line with route, status, reservation, outcome and duration', async () => {
    const fetchWorker = await worker('main');
    const assignment = assignmentParams();
    await signedPost(fetchWorker, '/assignment_callback', assignment);
    await signedPost(fetchWorker, '/events', eventParams('reservation.accepted', assignment));
    await operatorGet(fetchWorker, `/reservations/${assignment.ReservationSid}`, 'wrong-token');

    const mine = await until(() => {
      const lines = requestLines().filter((entry) => entry.reservation_sid === assignment.ReservationSid);
      return lines.length >= 2 && lines;
    }, { what: 'the two request lines of this reservation' });
    const summary = mine.map(({ method, route, status, outcome }) => ({ method, route, status, outcome }));
    assert.deepEqual(summary, [
      { method: 'POST', route: '/assignment_callback', status: 200, outcome: 'stored' },
      { method: 'POST', route: '/events', status: 204, outcome: 'moved' },
    ]);
    for (const entry of mine) assert.ok(Number.isInteger(entry.duration_ms) && entry.duration_ms >= 0);
    await until(() => requestLines().some((entry) => entry.route === '/reservations/{sid}' && entry.outcome === 'unauthorized'), {
      what: 'a refused request to be logged too, with its error code',
    });
  });

  test('each line says what the request cost in KV operations', async () => {
    const fetchWorker = await worker('main');
    const assignment = assignmentParams();
    await signedPost(fetchWorker, '/assignment_callback', assignment);
    await signedPost(fetchWorker, '/events', eventParams('reservation.accepted', assignment));
    await operatorGet(fetchWorker, '/reservations?limit=10');
    const lines = await until(() => {
      const mine = requestLines().filter((entry) => entry.reservation_sid === assignment.ReservationSid);
      const listing = requestLines().filter((entry) => entry.route === '/reservations' && entry.outcome === 'listed');
      return mine.length >= 2 && listing.length >= 1 && [...mine, listing.at(-1)];
    }, { what: 'the lines of a callback, an event and a listing' });
    assert.deepEqual(lines.map((entry) => entry.kv), [
      { reads: 0, writes: 1, lists: 0 }, // the record, once; the hub holds the rest
      { reads: 0, writes: 0, lists: 0 }, // the hub applies the event
      { reads: 0, writes: 0, lists: 0 }, // the hub's SQLite answers the listing
    ]);
  });

  test('/health logs its real outcome', async () => {
    for (const [name, outcome] of [['main', 'healthy'], ['notJson', 'unhealthy']]) {
      const before = requestLines().filter((entry) => entry.route === '/health').length;
      await (await worker(name))('http://localhost/health');
      const line = await until(() => requestLines().filter((entry) => entry.route === '/health')[before], { what: 'the /health line' });
      assert.equal(line.outcome, outcome, name);
    }
  });

  test('no secret and no signature ever appears in the worker\'s output', async () => {
    for (const name of ['main', 'publicUrl', 'unsignedAllowed', 'instructions']) {
      for (let round = 0; round < 3; round += 1) await everyKindOfRequest(name);
    }
    await until(() => requestLines().length >= 4 * 3 * 12, { what: 'a line for every request sent' });
    assert.ok(sentSignatures.length > 20);
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
