// No loss under load: thousands of distinct signed callbacks at high concurrency are each
// answered `200 {}` and listed exactly once; a storm of one reservation leaves one record.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { listAll, operatorGet } from './support/http.mjs';
import { assignmentParams, signedPost } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { storedKeys, worker } from './support/worker.mjs';

const CALLBACKS = 3000;
const CONCURRENCY = 64;

/** Runs `task(i)` for i in 0..count with at most `limit` in flight; returns the results in order. */
async function pooled(count, limit, task) {
  const results = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

async function answer(response) {
  return { status: response.status, body: await response.text() };
}

describe('no loss under load', () => {
  test(`${CALLBACKS} distinct callbacks, ${CONCURRENCY} at a time: every one answered 200 {} and listed exactly once`, async () => {
    const fetchWorker = await worker('load');
    const sent = Array.from({ length: CALLBACKS }, () => assignmentParams());
    const answers = await pooled(CALLBACKS, CONCURRENCY, async (i) => answer(await signedPost(fetchWorker, '/assignment_callback', sent[i])));
    const refused = answers.filter((a) => a.status !== 200 || a.body !== '{}');
    assert.deepEqual(refused, [], `${refused.length} callbacks were not answered 200 {}`);

    const listed = (await listAll(fetchWorker)).map((r) => r.reservation_sid);
    assert.equal(listed.length, CALLBACKS, 'listed once each: no more, no fewer');
    assert.deepEqual(new Set(listed), new Set(sent.map((p) => p.ReservationSid)));
  });

  test('a storm of the same reservation, 200 at once, leaves one intact record', async () => {
    const fetchWorker = await worker('load');
    const storm = assignmentParams();
    const answers = await Promise.all(Array.from({ length: 200 }, async () => answer(await signedPost(fetchWorker, '/assignment_callback', storm))));
    assert.ok(answers.every((a) => a.status === 200 && a.body === '{}'));
    // Listed once, and written once: the hub took the first and knew the other 199.
    const listed = (await listAll(fetchWorker)).filter((r) => r.reservation_sid === storm.ReservationSid);
    assert.equal(listed.length, 1, 'listed exactly once');
    const keys = (await storedKeys('load', 'at:')).filter((key) => key.name.endsWith(storm.ReservationSid));
    assert.equal(keys.length, 1, 'one at: key for the stormed reservation');
    const record = await (await operatorGet(fetchWorker, `/reservations/${storm.ReservationSid}`)).json();
    assert.equal(record.status, 'pending');
    assert.deepEqual(record.task_attributes, JSON.parse(storm.TaskAttributes));
  });
});
