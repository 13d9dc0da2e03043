// ASSIGNMENT_INSTRUCTION: the callback answers with TaskRouter's instructions, chosen by rules
// over the task, and records what it answered.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { assertError, operatorGet } from './support/http.mjs';
import { assignmentParams, signedPost } from './support/twilio.mjs';
import { ACTIVITY_SID, storedRecord, VIP_WORKFLOW_SID, worker } from './support/worker.mjs';

/** Sends a callback whose task has `attributes`; returns the answer and the stored record. */
async function callbackWith(configuration, attributes, overrides = {}) {
  const fetchWorker = await worker(configuration);
  const params = assignmentParams({ TaskAttributes: typeof attributes === 'string' ? attributes : JSON.stringify(attributes), ...overrides });
  const response = await signedPost(fetchWorker, '/assignment_callback', params);
  const text = await response.text();
  const stored = (await storedRecord(configuration, params.ReservationSid))?.value ?? null;
  return { response, text, answer: response.status === 200 ? JSON.parse(text) : null, stored, params };
}

function assertAnswer({ response, text }, expected) {
  assert.equal(response.status, 200, text);
  assert.equal(response.headers.get('content-type'), 'application/json');
  assert.deepEqual(JSON.parse(text), expected);
}

describe('assignment instructions', () => {
  test('accept: answered, and the reservation is recorded accepted by the callback', async () => {
    const result = await callbackWith('instructions', { vip: true });
    assertAnswer(result, { instruction: 'accept' });
    assert.equal(result.stored.status, 'accepted');
    assert.equal(result.stored.status_source, 'callback');
    assert.deepEqual(result.stored.answered, { instruction: 'accept', rule: 1 });
  });

  test('reject with activity_sid: answered, and recorded rejected', async () => {
    const result = await callbackWith('instructions', { kind: 'reject' });
    assertAnswer(result, { instruction: 'reject', activity_sid: ACTIVITY_SID });
    assert.equal(result.stored.status, 'rejected');
    assert.deepEqual(result.stored.answered, { instruction: 'reject', rule: 2 });
  });

  test('dequeue with every field, the worker\'s contact_uri filled in; the reservation stays pending', async () => {
    const result = await callbackWith('instructions', { type: 'voice', language: 'es' });
    assertAnswer(result, {
      instruction: 'dequeue',
      from: '+14155550100',
      to: 'client:alice',
      post_work_activity_sid: ACTIVITY_SID,
      record: 'record-from-answer',
      timeout: 20,
      status_callback_url: 'https://example.com/status',
      status_callback_events: 'initiated,completed',
    });
    assert.equal(result.stored.status, 'pending');
    assert.deepEqual(result.stored.answered, { instruction: 'dequeue', rule: 3 });
  });

  test('call from the caller\'s number in the task, with the TaskSid in the URL; "accept": true records it accepted', async () => {
    const result = await callbackWith('instructions', { kind: 'call', from: '+14155550199' });
    assertAnswer(result, { instruction: 'call', from: '+14155550199', url: `https://example.com/agent?task=${result.params.TaskSid}`, accept: true, timeout: 30 });
    assert.equal(result.stored.status, 'accepted');
    assert.equal(result.stored.status_source, 'callback');
  });

  test('redirect the parked call named in the task; "accept": true records it accepted', async () => {
    const result = await callbackWith('instructions', { kind: 'redirect', call_sid: `CA${'3'.repeat(32)}` });
    assertAnswer(result, { instruction: 'redirect', call_sid: `CA${'3'.repeat(32)}`, url: 'https://example.com/hold', accept: true });
    assert.equal(result.stored.status, 'accepted');
  });

  test('dequeue without "from": Twilio then calls from the number the caller dialled', async () => {
    const result = await callbackWith('instructions', { kind: 'dequeue-plain' });
    assertAnswer(result, { instruction: 'dequeue', to: 'client:alice' });
    assert.equal(result.stored.status, 'pending', 'a dequeue is accepted when the worker answers, not at once');
  });

  test('conference with its parameters in lower snake case', async () => {
    const result = await callbackWith('instructions', { kind: 'conference', from: '+14155550123' });
    assertAnswer(result, { instruction: 'conference', from: '+14155550123', post_work_activity_sid: ACTIVITY_SID, record: true, end_conference_on_exit: true });
  });

  test('the first matching rule wins', async () => {
    const result = await callbackWith('instructions', { vip: true, kind: 'reject', type: 'voice', language: 'en' });
    assertAnswer(result, { instruction: 'accept' });
  });

  test('a rule on the workflow SID', async () => {
    assertAnswer(await callbackWith('instructions', { kind: 'chat' }, { WorkflowSid: VIP_WORKFLOW_SID }), { instruction: 'accept' });
  });

  test('no matching rule, or an explicit {} answer, defers with {}', async () => {
    for (const attributes of [{ kind: 'chat' }, { type: 'voice', language: 'fr' }, { kind: 'later' }]) {
      const result = await callbackWith('instructions', attributes);
      assert.equal(result.text, '{}');
      assert.equal(result.stored.status, 'pending');
    }
    const explicit = await callbackWith('instructions', { kind: 'later' });
    assert.deepEqual(explicit.stored.answered, { instruction: null, rule: 7 });
  });

  test('a missing attribute: a presence condition fails, a placeholder without a value defers and says why', async () => {
    const absent = await callbackWith('instructions', { kind: 'conference' });
    assert.equal(absent.text, '{}');
    const noNumber = await callbackWith('instructions', { kind: 'call' });
    assert.equal(noNumber.text, '{}');
    assert.deepEqual(noNumber.stored.answered, { instruction: null, rule: 4, note: 'call not given: {{task.from}} has no value for this reservation' });
  });

  test('task attributes that are not JSON match no attribute rule and are still stored', async () => {
    const result = await callbackWith('instructions', 'vip=true');
    assert.equal(result.text, '{}');
    assert.equal(result.stored.task_attributes, 'vip=true');
  });

  test('one instruction for every reservation, written as text or as a TOML table', async () => {
    for (const configuration of ['acceptAll', 'acceptAllObject']) {
      const result = await callbackWith(configuration, { type: 'chat' });
      assertAnswer(result, { instruction: 'accept' });
      const listed = await (await operatorGet(await worker(configuration), '/reservations?status=accepted')).json();
      assert.ok(listed.reservations.some((r) => r.reservation_sid === result.params.ReservationSid));
    }
  });

  for (const [configuration, problem] of [
    ['unknownInstruction', /ASSIGNMENT_INSTRUCTION is .*unknown instruction `transfer`/],
    ['missingField', /ASSIGNMENT_INSTRUCTION is .*rule 1's answer: missing field `url`/],
    ['notJson', /ASSIGNMENT_INSTRUCTION is not valid JSON/],
    ['conferenceWithoutFrom', /ASSIGNMENT_INSTRUCTION is .*missing field `from`/],
    ['unknownField', /ASSIGNMENT_INSTRUCTION is .*unknown field `form`/],
  ]) {
    test(`a bad ASSIGNMENT_INSTRUCTION (${configuration}) makes the callback answer 503 naming it, and stores nothing`, async () => {
      const result = await callbackWith(configuration, { vip: true });
      const body = await assertError(new Response(result.text, { status: result.response.status, headers: result.response.headers }), 503, 'invalid_configuration');
      assert.match(body.error.message, problem);
      assert.equal(result.stored, null);
      const fetchWorker = await worker(configuration);
      assert.equal((await operatorGet(fetchWorker, '/reservations')).status, 200, 'the operator API still works');
      const health = await (await fetchWorker('http://localhost/health')).json();
      assert.match(health.configuration.ASSIGNMENT_INSTRUCTION.problem, problem);
    });
  }
});
