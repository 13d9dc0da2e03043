// POST /events: TaskRouter's event callbacks keep each stored reservation's status true.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { assertError, operatorGet, operatorSetStatus } from './support/http.mjs';
import { assignmentParams, BASE, eventParams, sid, signedPost, storedCallback, unsignedPost } from './support/twilio.mjs';
import { worker } from './support/worker.mjs';

/**
 * The documented settling time of racing writes: an event's write is checked again 1.1 s later,
 * once any racing write has landed. A final state can only be judged after it; no answer from
 * the worker says that its `waitUntil` work is done, so this one wait is a fixed one.
 */
const SETTLE_MS = 1600;

const callback = (fetchWorker, params = assignmentParams()) => storedCallback(fetchWorker, params);

/** Sends an event; TaskRouter's event reference asks for 204 No Content, application/json. */
async function sendEvent(fetchWorker, eventType, assignment, overrides) {
  const response = await signedPost(fetchWorker, '/events', eventParams(eventType, assignment, overrides));
  const text = await response.text();
  assert.equal(response.status, 204, text);
  assert.equal(text, '');
  assert.equal(response.headers.get('content-type'), 'application/json');
  return response;
}

async function record(fetchWorker, reservationSid) {
  const response = await operatorGet(fetchWorker, `/reservations/${reservationSid}`);
  assert.equal(response.status, 200);
  return response.json();
}

describe('event callbacks', () => {
  const moves = [
    ['reservation.accepted', 'accepted'],
    ['reservation.rejected', 'rejected'],
    ['reservation.timeout', 'timeout'],
    ['reservation.canceled', 'canceled'],
    ['reservation.rescinded', 'rescinded'],
    ['reservation.wrapup', 'wrapping'],
    ['reservation.completed', 'completed'],
    ['reservation.failed', 'failed'],
  ];
  for (const [eventType, status] of moves) {
    test(`${eventType} makes a pending reservation ${status}`, async () => {
      const fetchWorker = await worker('main');
      const assignment = await callback(fetchWorker);
      const before = await record(fetchWorker, assignment.ReservationSid);
      await sendEvent(fetchWorker, eventType, assignment);
      const after = await record(fetchWorker, assignment.ReservationSid);
      assert.equal(after.status, status);
      assert.equal(after.status_source, 'event');
      assert.ok(after.status_updated_at >= before.status_updated_at);
      assert.deepEqual(after.task_attributes, before.task_attributes, 'the callback record is kept');
    });
  }

  test('an event brings the names the callback lacked: the listing shows the agent and the queue by name', async () => {
    const edge = await worker('main');
    const params = await storedCallback(edge);
    const listed = async () => (await (await operatorGet(edge, '/reservations?status=all&limit=1000')).json()).reservations.find((r) => r.reservation_sid === params.ReservationSid);
    assert.deepEqual([(await listed()).agent, (await listed()).queue], ['client:alice', params.TaskQueueSid], 'from the callback: a contact_uri and a SID');
    assert.equal((await signedPost(edge, '/events', eventParams('reservation.accepted', params))).status, 204);
    const named = await listed();
    assert.deepEqual([named.agent, named.queue, named.status], ['Alice', 'Everyone', 'accepted']);
    const { events } = await (await edge(`${BASE}/health`)).json();
    assert.ok(Date.now() - Date.parse(events.event_callback) < 60_000, 'the Event Callback URL was heard from just now');
  });

  test('wrapup then completed follow an accepted reservation to the end', async () => {
    const fetchWorker = await worker('main');
    const assignment = await callback(fetchWorker);
    for (const [eventType, status] of [['reservation.accepted', 'accepted'], ['reservation.wrapup', 'wrapping'], ['reservation.completed', 'completed']]) {
      await sendEvent(fetchWorker, eventType, assignment);
      assert.equal((await record(fetchWorker, assignment.ReservationSid)).status, status);
    }
  });

  for (const [eventType, pendingBecomes] of [['task.canceled', 'canceled'], ['task.deleted', 'canceled'], ['task.system-deleted', 'canceled'], ['task.completed', 'canceled']]) {
    test(`${eventType} ends the task's pending reservations and no other`, async () => {
      const fetchWorker = await worker('main');
      const first = await callback(fetchWorker);
      const second = await callback(fetchWorker, assignmentParams({ TaskSid: first.TaskSid, WorkspaceSid: first.WorkspaceSid }));
      const otherTask = await callback(fetchWorker);
      await sendEvent(fetchWorker, eventType, first);
      assert.equal((await record(fetchWorker, first.ReservationSid)).status, pendingBecomes);
      assert.equal((await record(fetchWorker, second.ReservationSid)).status, pendingBecomes);
      assert.equal((await record(fetchWorker, otherTask.ReservationSid)).status, 'pending');
    });
  }

  test('task.completed completes the task\'s accepted reservation; task.canceled leaves a rejected one alone', async () => {
    const fetchWorker = await worker('main');
    const accepted = await callback(fetchWorker);
    await sendEvent(fetchWorker, 'reservation.accepted', accepted);
    const rejected = await callback(fetchWorker, assignmentParams({ TaskSid: accepted.TaskSid, WorkspaceSid: accepted.WorkspaceSid }));
    await sendEvent(fetchWorker, 'reservation.rejected', rejected);
    await sendEvent(fetchWorker, 'task.completed', accepted);
    assert.equal((await record(fetchWorker, accepted.ReservationSid)).status, 'completed');
    assert.equal((await record(fetchWorker, rejected.ReservationSid)).status, 'rejected');
  });

  test('reservation.failed also ends an accepted reservation (the call its instruction placed failed)', async () => {
    const fetchWorker = await worker('main');
    const assignment = await callback(fetchWorker);
    await sendEvent(fetchWorker, 'reservation.accepted', assignment);
    await sendEvent(fetchWorker, 'reservation.failed', assignment);
    assert.equal((await record(fetchWorker, assignment.ReservationSid)).status, 'failed');
    const listed = await (await operatorGet(fetchWorker, '/reservations?status=failed')).json();
    assert.ok(listed.reservations.some((r) => r.reservation_sid === assignment.ReservationSid));
  });

  test('an empty ReservationSid with a valid ResourceSid uses the ResourceSid', async () => {
    const fetchWorker = await worker('main');
    const assignment = await callback(fetchWorker);
    await sendEvent(fetchWorker, 'reservation.timeout', assignment, { ReservationSid: '' });
    const stored = await record(fetchWorker, assignment.ReservationSid);
    assert.equal(stored.status, 'timeout');
    assert.equal(stored.parameters.ReservationSid, assignment.ReservationSid, 'the record keeps one ReservationSid');
  });

  test('other event types answer 204 and change nothing', async () => {
    const fetchWorker = await worker('main');
    const assignment = await callback(fetchWorker);
    const before = await record(fetchWorker, assignment.ReservationSid);
    for (const eventType of ['reservation.created', 'task.created', 'task.updated', 'worker.activity.update', 'task-queue.entered', 'workflow.target-matched']) {
      await sendEvent(fetchWorker, eventType, assignment);
    }
    assert.deepEqual(await record(fetchWorker, assignment.ReservationSid), before);
  });

  test('an event for a reservation never seen creates its record from the event', async () => {
    const fetchWorker = await worker('main');
    const unseen = assignmentParams();
    await sendEvent(fetchWorker, 'reservation.accepted', unseen);
    const created = await record(fetchWorker, unseen.ReservationSid);
    assert.equal(created.status, 'accepted');
    assert.equal(created.status_source, 'event');
    assert.equal(created.task_sid, unseen.TaskSid);
    assert.equal(created.worker_sid, unseen.WorkerSid);
    assert.deepEqual(created.task_attributes, JSON.parse(unseen.TaskAttributes));
    assert.equal(created.parameters.EventType, 'reservation.accepted');
  });

  test('nothing brings a final reservation back: a late callback, or events out of order', async () => {
    const fetchWorker = await worker('main');
    const assignment = await callback(fetchWorker);
    await sendEvent(fetchWorker, 'reservation.rejected', assignment);
    await callback(fetchWorker, assignment);
    assert.equal((await record(fetchWorker, assignment.ReservationSid)).status, 'rejected');
    await sendEvent(fetchWorker, 'reservation.accepted', assignment);
    assert.equal((await record(fetchWorker, assignment.ReservationSid)).status, 'rejected');

    const late = assignmentParams();
    await sendEvent(fetchWorker, 'reservation.completed', late);
    await sendEvent(fetchWorker, 'reservation.accepted', late);
    await callback(fetchWorker, late);
    assert.equal((await record(fetchWorker, late.ReservationSid)).status, 'completed');

    await assertError(await operatorSetStatus(fetchWorker, late.ReservationSid, 'pending'), 409, 'invalid_transition');
  });

  test('a callback and its event sent back to back end with the event\'s status', async () => {
    const fetchWorker = await worker('main');
    const assignments = Array.from({ length: 20 }, () => assignmentParams());
    await Promise.all(
      assignments.map((assignment) =>
        Promise.all([
          signedPost(fetchWorker, '/assignment_callback', assignment),
          signedPost(fetchWorker, '/events', eventParams('reservation.accepted', assignment)),
        ]),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    for (const assignment of assignments) {
      const stored = await record(fetchWorker, assignment.ReservationSid);
      assert.equal(stored.status, 'accepted', assignment.ReservationSid);
      assert.deepEqual(stored.worker_attributes, JSON.parse(assignment.WorkerAttributes));
    }
  });

  test('events are checked like callbacks: unsigned → 403, no EventType → 400, bad SID → 400', async () => {
    const fetchWorker = await worker('main');
    const assignment = await callback(fetchWorker);
    const unsigned = await unsignedPost(fetchWorker, '/events', eventParams('reservation.accepted', assignment));
    await assertError(unsigned, 403, 'missing_signature');
    const forged = await signedPost(fetchWorker, '/events', eventParams('reservation.accepted', assignment), { token: 'guess' });
    await assertError(forged, 403, 'invalid_signature');
    assert.equal((await record(fetchWorker, assignment.ReservationSid)).status, 'pending');

    const noType = eventParams('reservation.accepted', assignment);
    delete noType.EventType;
    const body = await assertError(await signedPost(fetchWorker, '/events', noType), 400, 'missing_parameter');
    assert.match(body.error.message, /EventType/);
    await assertError(
      await signedPost(fetchWorker, '/events', eventParams('reservation.accepted', assignment, { ReservationSid: sid('WT') })),
      400,
      'invalid_sid',
    );
    await assertError(await fetchWorker(`${BASE}/events`), 405, 'method_not_allowed');
  });
});
