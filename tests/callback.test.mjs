// POST /assignment_callback: signed callbacks are stored, then answered with `{}`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { listAll, operatorGet } from './support/http.mjs';
import { assignmentParams, signedPost } from './support/twilio.mjs';
import { storedKeys, storedRecord, worker } from './support/worker.mjs';

describe('assignment callback', () => {
  test('answers 200 application/json {} after storing the full record with its summary and TTL', async () => {
    const fetchWorker = await worker('main');
    const params = assignmentParams({ ExtraTwilioField: 'kept too' });
    const before = Date.now();
    const response = await signedPost(fetchWorker, '/assignment_callback', params);

    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), '{}');

    const { value, metadata, expiration, key } = await storedRecord('main', params.ReservationSid);
    assert.match(key, new RegExp(`^at:\\d{13}:${params.ReservationSid}$`));
    assert.equal(value.reservation_sid, params.ReservationSid);
    assert.equal(value.task_sid, params.TaskSid);
    assert.equal(value.workspace_sid, params.WorkspaceSid);
    assert.equal(value.worker_sid, params.WorkerSid);
    assert.deepEqual(value.task_attributes, JSON.parse(params.TaskAttributes));
    assert.deepEqual(value.worker_attributes, JSON.parse(params.WorkerAttributes));
    for (const [key, sent] of Object.entries(params)) assert.equal(value.parameters[key], sent, key);
    assert.equal(value.status, 'pending');
    assert.equal(value.status_source, 'callback');
    const receivedAt = Date.parse(value.received_at);
    assert.ok(receivedAt >= before - 1000 && receivedAt <= Date.now() + 1000, value.received_at);
    assert.equal(value.status_updated_at, value.received_at);

    assert.deepEqual(metadata, {
      reservation_sid: params.ReservationSid,
      task_sid: params.TaskSid,
      workspace_sid: params.WorkspaceSid,
      worker_sid: params.WorkerSid,
      workflow_sid: params.WorkflowSid,
      status: 'pending',
      received_at: value.received_at,
      status_updated_at: value.received_at,
      task: 'from=+14155550100, language=en, type=support, vip=false',
      // What the console shows of each row: the agent (the contact_uri, without a WorkerName),
      // the queue (its SID, without a TaskQueueName), the priority and the task's age.
      agent: 'client:alice',
      queue: params.TaskQueueSid,
      priority: 0,
      task_age_seconds: 4,
    });

    const ttl = expiration - Date.now() / 1000;
    assert.ok(ttl > 3500 && ttl <= 3601, `expires in ${ttl}s, RESERVATION_TTL_SECONDS is 3600`);
    const keys = (await storedKeys('main')).map((stored) => stored.name).filter((name) => name.includes(params.ReservationSid) || name.includes(params.TaskSid));
    assert.deepEqual(keys, [key], 'KV keeps the reservation once: no pointer, no task record');
  });

  test('keeps attributes that are not JSON as the text TaskRouter sent', async () => {
    const fetchWorker = await worker('main');
    const params = assignmentParams({ TaskAttributes: 'plain text, not JSON', WorkerAttributes: '{"broken":' });
    const response = await signedPost(fetchWorker, '/assignment_callback', params);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{}');
    const { value } = await storedRecord('main', params.ReservationSid);
    assert.equal(value.task_attributes, 'plain text, not JSON');
    assert.equal(value.worker_attributes, '{"broken":');
  });

  test('a repeated callback for the same reservation leaves exactly one record, rewritten only when its parameters changed', async () => {
    const fetchWorker = await worker('main');
    const params = assignmentParams();
    const first = await signedPost(fetchWorker, '/assignment_callback', params);
    assert.equal(first.status, 200);
    const original = (await storedRecord('main', params.ReservationSid)).value;

    const again = { ...params, TaskAge: '9' };
    const responses = await Promise.all([1, 2, 3].map(() => signedPost(fetchWorker, '/assignment_callback', again)));
    for (const response of responses) assert.equal(await response.text(), '{}');

    // What a reader sees: the listing shows it once, and its record answers by SID.
    const listed = (await listAll(fetchWorker)).filter((r) => r.reservation_sid === params.ReservationSid);
    assert.equal(listed.length, 1, 'listed exactly once');
    const response = await operatorGet(fetchWorker, `/reservations/${params.ReservationSid}`);
    assert.equal(response.status, 200);
    const stored = await response.json();
    assert.equal(stored.received_at, original.received_at, 'the first arrival time is kept');
    assert.equal(stored.parameters.TaskAge, '9', 'the newest parameters are kept');
    assert.equal((await storedRecord('main', params.ReservationSid)).value.parameters.TaskAge, '9', 'one key, rewritten');
  });

  test('accepts parameters Twilio repeats, signed the way Twilio signs them', async () => {
    const fetchWorker = await worker('main');
    const params = assignmentParams({ Digits: ['5678', '1234'] });
    const response = await signedPost(fetchWorker, '/assignment_callback', params);
    assert.equal(response.status, 200, await response.clone().text());
    const { value } = await storedRecord('main', params.ReservationSid);
    assert.deepEqual(value.parameters.Digits, ['5678', '1234']);
  });
});
