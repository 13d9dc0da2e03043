// POST /event-streams: an Event Streams webhook Sink. Its signature is judged by twilio-node's
// own `validateRequestWithBody` over a matrix of genuine and forged deliveries, and its TaskRouter
// events move reservations exactly as the Event Callback URL's do.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import twilio from 'twilio';

import { assertError, operatorGet, statusOf } from './support/http.mjs';
import { BASE, assignmentParams, sid, storedCallback } from './support/twilio.mjs';
import { AUTH_TOKEN, SHARED_KEYS, worker } from './support/worker.mjs';

const hash = (body) => createHash('sha256').update(body).digest('hex');

/** A CloudEvent as Event Streams sends TaskRouter's, about the reservation of `params`. */
function cloudEvent(type, params, payload = {}) {
  return {
    specversion: '1.0', type, id: sid('EV'), source: `/v1/Workspaces/${params.WorkspaceSid}`, time: new Date().toISOString(),
    datacontenttype: 'application/json', dataschema: 'https://events-schemas.twilio.com/TaskRouter.Reservation/1',
    data: {
      payload: {
        eventtype: type.replace('com.twilio.taskrouter.', ''), account_sid: params.AccountSid, workspace_sid: params.WorkspaceSid,
        reservation_sid: params.ReservationSid, task_sid: params.TaskSid, worker_sid: params.WorkerSid, worker_name: 'Alice Smith',
        task_queue_sid: params.TaskQueueSid, task_queue_name: 'Support', task_attributes: params.TaskAttributes, ...payload,
      },
    },
  };
}

/** POSTs `body` (text) signed as Event Streams signs it: over `signedUrl`, its `bodySHA256` in it. */
function delivery(fetchWorker, body, { signedUrl, sentUrl, token = AUTH_TOKEN, sharedKey } = {}) {
  const url = sentUrl ?? `${BASE}/event-streams?bodySHA256=${hash(body)}`;
  const signature = sharedKey
    ? twilio.getExpectedTwilioSignature(sharedKey.secret, signedUrl ?? url, {}, twilio.HMAC_SHA256)
    : twilio.getExpectedTwilioSignature(token, signedUrl ?? url, {});
  const settings = sharedKey ? { 'x-twilio-webhooks-signature-settings': `key=${sharedKey.id},algorithm=${twilio.HMAC_SHA256}` } : {};
  return { url, signature, response: fetchWorker(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': signature, ...settings }, body }) };
}

const batch = (...events) => JSON.stringify(events);

describe('Event Streams: the signature, judged by twilio-node', () => {
  test('genuine batches pass and every forgery fails, exactly when validateRequestWithBody says so', async () => {
    const edge = await worker('main');
    const params = assignmentParams();
    const genuine = batch(cloudEvent('com.twilio.studio.flow.started', params));
    const other = batch(cloudEvent('com.twilio.studio.flow.ended', params));
    const cases = [
      ['genuine', () => delivery(edge, genuine)],
      ['genuine, an explicit port', () => delivery(edge, genuine, { sentUrl: `http://localhost:80/event-streams?bodySHA256=${hash(genuine)}`, signedUrl: `http://localhost:80/event-streams?bodySHA256=${hash(genuine)}` })],
      ['a changed body', () => {
        const signed = delivery(() => Promise.resolve(null), genuine);
        return { ...signed, body: other, response: edge(signed.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': signed.signature }, body: other }) };
      }],
      ['a changed bodySHA256', () => {
        const signed = delivery(() => Promise.resolve(null), genuine);
        const url = `${BASE}/event-streams?bodySHA256=${hash(other)}`;
        return { url, signature: signed.signature, body: other, response: edge(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': signed.signature }, body: other }) };
      }],
      ['signed for another path', () => delivery(edge, genuine, { signedUrl: `${BASE}/events?bodySHA256=${hash(genuine)}` })],
      ['signed for another host', () => delivery(edge, genuine, { signedUrl: `https://evil.example.com/event-streams?bodySHA256=${hash(genuine)}` })],
      ['signed with another token', () => delivery(edge, genuine, { token: 'not-the-auth-token' })],
      ['no bodySHA256 at all', () => delivery(edge, genuine, { sentUrl: `${BASE}/event-streams`, signedUrl: `${BASE}/event-streams` })],
    ];
    for (const [what, make] of cases) {
      const { url, signature, response, body = genuine } = make();
      const oracle = twilio.validateRequestWithBody(AUTH_TOKEN, signature, url, body);
      const answer = await response;
      assert.equal(answer.status === 200, oracle, `${what}: the worker answered ${answer.status}, twilio-node says ${oracle}`);
      if (!oracle) assert.equal(answer.status, 403, what);
    }
  });

  test('a batch signed with a SharedKey, as a Webhook Rule signs it, passes; the same with the Auth Token\'s header rules is refused', async () => {
    const edge = await worker('sharedKeys');
    const [id] = Object.keys(SHARED_KEYS);
    const body = batch(cloudEvent('com.twilio.studio.flow.started', assignmentParams()));
    assert.equal((await delivery(edge, body, { sharedKey: { id, secret: SHARED_KEYS[id] } }).response).status, 200);
    await assertError(await delivery(edge, body, { sharedKey: { id, secret: 'not-the-secret' } }).response, 403, 'invalid_signature');
  });
});

describe('Event Streams: TaskRouter\'s events, as the Event Callback URL\'s', () => {
  test('each TaskRouter event moves its reservation; others are counted and ignored; a repeated batch changes nothing twice', async () => {
    const edge = await worker('main');
    const accepted = await storedCallback(edge);
    const ended = await storedCallback(edge);
    const body = batch(
      cloudEvent('com.twilio.taskrouter.reservation.accepted', accepted),
      cloudEvent('com.twilio.taskrouter.reservation.created', accepted),
      cloudEvent('com.twilio.taskrouter.task.canceled', ended, { reservation_sid: undefined, resource_type: 'task', resource_sid: ended.TaskSid }),
      cloudEvent('com.twilio.studio.flow.started', accepted),
    );
    const first = await delivery(edge, body).response;
    assert.deepEqual([first.status, await first.json()], [200, { applied: 2, unchanged: 0, ignored: 2, skipped: 0 }]);
    assert.equal(await statusOf(edge, accepted.ReservationSid), 'accepted');
    assert.equal(await statusOf(edge, ended.ReservationSid), 'canceled');
    const again = await delivery(edge, body).response;
    assert.deepEqual(await again.json(), { applied: 0, unchanged: 2, ignored: 2, skipped: 0 }, 'at least once: a repeat changes nothing');
    // /health says when each channel was last heard from: Event Streams just now.
    const { events } = await (await edge(`${BASE}/health`)).json();
    assert.ok(Date.now() - Date.parse(events.event_streams) < 60_000, JSON.stringify(events));
  });

  test('out of order, the furthest status wins; a reservation never seen is made from the event, with its names', async () => {
    const edge = await worker('main');
    const params = assignmentParams();
    const out = await delivery(edge, batch(
      cloudEvent('com.twilio.taskrouter.reservation.completed', params),
      cloudEvent('com.twilio.taskrouter.reservation.accepted', params),
      cloudEvent('com.twilio.taskrouter.reservation.wrapup', params),
    )).response;
    assert.deepEqual(await out.json(), { applied: 1, unchanged: 2, ignored: 0, skipped: 0 });
    assert.equal(await statusOf(edge, params.ReservationSid), 'completed');
    const shown = await (await operatorGet(edge, `/reservations/${params.ReservationSid}`)).json();
    assert.deepEqual([shown.parameters.WorkerName, shown.parameters.TaskQueueName], ['Alice Smith', 'Support']);
  });

  test('a batch that is not one is refused whole, and applies nothing', async () => {
    const edge = await worker('main');
    const params = await storedCallback(edge);
    const good = cloudEvent('com.twilio.taskrouter.reservation.accepted', params);
    for (const [what, body] of [
      ['an object', JSON.stringify(good)],
      ['not JSON', 'accepted'],
      ['a CloudEvent 0.3', batch(good, { ...good, specversion: '0.3' })],
    ]) {
      const refused = await assertError(await delivery(edge, body).response, 400, 'invalid_batch');
      assert.ok(refused.error.message.length > 0, what);
      assert.equal(await statusOf(edge, params.ReservationSid), 'pending', `${what}: nothing applied`);
    }
  });

  test('a TaskRouter event that cannot be read is skipped and named, and the rest of the batch applied', async () => {
    const edge = await worker('main');
    const params = await storedCallback(edge);
    const body = batch(
      cloudEvent('com.twilio.taskrouter.reservation.rejected', params, { reservation_sid: undefined, resource_sid: undefined }),
      cloudEvent('com.twilio.taskrouter.reservation.accepted', params),
    );
    const answer = await delivery(edge, body).response;
    assert.deepEqual(await answer.json(), { applied: 1, unchanged: 0, ignored: 0, skipped: 1 });
    assert.equal(await statusOf(edge, params.ReservationSid), 'accepted');
  });

  test('a batch of 100 events is applied in one delivery', async () => {
    const edge = await worker('main');
    const reservations = [];
    for (let i = 0; i < 50; i += 1) reservations.push(await storedCallback(edge));
    const events = reservations.flatMap((params) => [
      cloudEvent('com.twilio.taskrouter.reservation.accepted', params),
      cloudEvent('com.twilio.taskrouter.reservation.completed', params),
    ]);
    const answer = await delivery(edge, batch(...events)).response;
    assert.deepEqual(await answer.json(), { applied: 100, unchanged: 0, ignored: 0, skipped: 0 });
    for (const params of reservations.slice(0, 5)) assert.equal(await statusOf(edge, params.ReservationSid), 'completed');
  });
});
