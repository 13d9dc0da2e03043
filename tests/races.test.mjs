// Writes that race, against the built worker in Miniflare: once every writer has been answered,
// the status is the furthest one any writer reported, in 20 of 20 trials for each race, read at
// once with no wait: the hub applies each change in one transaction. Every order of the same
// changes is a host test in core/src/hub/tests.rs, against a real SQLite.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { operatorSetStatus, statusOf } from './support/http.mjs';
import { assignmentParams, eventParams, signedPost, storedCallback } from './support/twilio.mjs';
import { worker } from './support/worker.mjs';

const TRIALS = 20;

const callback = (fetchWorker, params) => storedCallback(fetchWorker, params);

async function event(fetchWorker, type, params) {
  const response = await signedPost(fetchWorker, '/events', eventParams(type, params));
  assert.equal(response.status, 204, await response.clone().text());
}

async function assertAll(fetchWorker, trials, expected) {
  const statuses = await Promise.all(trials.map((params) => statusOf(fetchWorker, params.ReservationSid)));
  assert.deepEqual(statuses, trials.map(() => expected));
}

describe(`writes that race, ${TRIALS} trials each`, () => {
  test('an operator update ‖ a repeated callback: accepted', async () => {
    const fetchWorker = await worker('main');
    const trials = Array.from({ length: TRIALS }, () => assignmentParams());
    for (const params of trials) await callback(fetchWorker, params);
    await Promise.all(trials.map((params) => Promise.all([
      operatorSetStatus(fetchWorker, params.ReservationSid, 'accepted').then((r) => assert.equal(r.status, 200)),
      callback(fetchWorker, { ...params, TaskAge: '9' }),
    ])));
    await assertAll(fetchWorker, trials, 'accepted');
  });

  test('task.canceled before the first callback: canceled', async () => {
    const fetchWorker = await worker('main');
    const trials = Array.from({ length: TRIALS }, () => assignmentParams());
    for (const params of trials) await event(fetchWorker, 'task.canceled', params);
    for (const params of trials) await callback(fetchWorker, params);
    await assertAll(fetchWorker, trials, 'canceled');
  });

  /** A callback and an event sent together for each trial, on `configuration`. */
  async function callbackWithEvent(configuration, eventType) {
    const fetchWorker = await worker(configuration);
    const trials = Array.from({ length: TRIALS }, () => assignmentParams());
    await Promise.all(trials.map((params) => Promise.all([callback(fetchWorker, params), event(fetchWorker, eventType, params)])));
    return { fetchWorker, trials };
  }

  for (const [title, configuration, eventType, expected] of [
    ['task.canceled during the first callback: canceled', 'main', 'task.canceled', 'canceled'],
    ['reservation.accepted ‖ its callback: accepted', 'main', 'reservation.accepted', 'accepted'],
    ['an accept instruction ‖ reservation.completed: completed', 'acceptAll', 'reservation.completed', 'completed'],
  ]) {
    test(title, async () => {
      const { fetchWorker, trials } = await callbackWithEvent(configuration, eventType);
      await assertAll(fetchWorker, trials, expected);
    });
  }
});
