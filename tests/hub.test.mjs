// The live hub (a SQLite-backed Durable Object, run by Miniflare as wrangler.toml declares it):
// told of every change after the KV write, never in the way of TaskRouter's answer; the console's
// WebSocket, behind the operator token; one decision per reservation; the day's outcomes.
// Consoles are played here by the `ws` package; tests/console.test.mjs drives the page itself.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { before, describe, test } from 'node:test';

import WebSocket from 'ws';

import { startFakeTwilio } from './support/fake_twilio.mjs';
import { assertError, operatorGet } from './support/http.mjs';
import { checkLiveMessage } from './support/openapi.mjs';
import { freePort } from './support/prism.mjs';
import { BASE, assignmentParams, eventParams, signedPost } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { API_TOKEN, AUTH_TOKEN, ownWorker } from './support/worker.mjs';

const bindings = (taskrouterUrl) => ({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, PUBLIC_URL: BASE, TWILIO_TASKROUTER_URL: taskrouterUrl });
const bearer = (token) => `bearer.${Buffer.from(token).toString('base64url')}`;

/**
 * A console: a WebSocket to `edge`'s /live with the token as a subprotocol (or, with
 * `{ authorization: true }`, as a program would send it: in `Authorization`, offering no
 * subprotocol), and what it received.
 */
async function console_(edge, token = API_TOKEN, { authorization = false } = {}) {
  const url = `${edge.url.replace('http', 'ws')}/live`;
  const socket = authorization
    ? new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
    : new WebSocket(url, ['taskrouter-edge.v1', bearer(token)]);
  const messages = [];
  socket.on('message', (data) => {
    // Each message as openapi.json's LiveMessage describes it (a violation throws, failing the test).
    checkLiveMessage(data.toString());
    messages.push(JSON.parse(data.toString()));
  });
  const opened = await new Promise((resolve) => {
    socket.once('open', () => resolve({ ok: true }));
    socket.once('unexpected-response', (request, response) => resolve({ ok: false, status: response.statusCode }));
    socket.once('error', (error) => resolve({ ok: false, error }));
  });
  return { socket, messages, opened, close: () => socket.close() };
}

function decide(edge, reservationSid, decision) {
  return edge.fetch(`${BASE}/reservations/${reservationSid}/${decision}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: '{}',
  });
}

const cardOf = (message) => message.card ?? null;

let fake;
let edge;

before(async () => {
  fake = await startFakeTwilio({ delayMs: 150 });
  edge = await ownWorker(bindings(fake.url));
});

describe('the hub beside the store', () => {
  test('a console sees the pending snapshot, then each change as it happens, within a second', async () => {
    const earlier = assignmentParams();
    assert.equal((await signedPost(edge.fetch, '/assignment_callback', earlier)).status, 200);
    const live = await console_(edge);
    assert.equal(live.opened.ok, true, JSON.stringify(live.opened));
    assert.equal(live.socket.protocol, 'taskrouter-edge.v1');
    const snapshot = await until(() => live.messages.find((m) => m.type === 'snapshot'), { what: 'the snapshot' });
    assert.ok(snapshot.pending.some((card) => card.summary.reservation_sid === earlier.ReservationSid));
    assert.ok(snapshot.day && Array.isArray(snapshot.day.buckets));

    const fresh = assignmentParams({ WorkerName: 'Alice Smith', TaskQueueName: 'Support', TaskPriority: '5' });
    const answered = Date.now();
    assert.equal((await signedPost(edge.fetch, '/assignment_callback', fresh)).status, 200);
    const change = await until(() => live.messages.find((m) => cardOf(m)?.summary.reservation_sid === fresh.ReservationSid), { what: 'the change', timeoutMs: 1000 });
    assert.ok(Date.now() - answered < 1000);
    assert.deepEqual([change.card.summary.agent, change.card.summary.queue, change.card.summary.priority], ['Alice Smith', 'Support', 5]);
    assert.deepEqual(change.card.attributes[0], ['from', '+14155550100']);

    await signedPost(edge.fetch, '/events', eventParams('reservation.timeout', fresh));
    const timedOut = await until(() => live.messages.find((m) => cardOf(m)?.summary.status === 'timeout'), { what: 'the timeout' });
    assert.equal(timedOut.day.counts.timeout >= 1, true, 'the day moved');
    live.close();
  });

  test('the operator token is checked before the hub: never in the URL, a wrong one is refused', async () => {
    const wrong = await console_(edge, 'not-the-token');
    assert.deepEqual(wrong.opened, { ok: false, status: 401 });
    const plain = await edge.fetch(`${BASE}/live`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    await assertError(plain, 426, 'upgrade_required');
    await assertError(await edge.fetch(`${BASE}/live`), 401, 'unauthorized');
    // A program may send the token in Authorization and offer no subprotocol: it is answered none
    // (a subprotocol it did not offer would fail its handshake).
    const program = await console_(edge, API_TOKEN, { authorization: true });
    assert.equal(program.opened.ok, true, JSON.stringify(program.opened));
    assert.equal(program.socket.protocol, '');
    await until(() => program.messages.find((m) => m.type === 'snapshot'), { what: 'the snapshot, over Authorization' });
    program.close();
    const lines = edge.output.join('\n');
    assert.ok(!lines.includes(API_TOKEN) && !lines.includes(bearer(API_TOKEN).slice(7)), 'the token never reaches a log');
  });

  test('each connection costs at most one KV list, and callbacks none', async () => {
    const before = edge.output.length;
    const live = await console_(edge);
    await until(() => live.messages.find((m) => m.type === 'snapshot'), { what: 'the snapshot' });
    for (let i = 0; i < 5; i += 1) await signedPost(edge.fetch, '/assignment_callback', assignmentParams());
    await until(() => live.messages.filter((m) => m.type === 'change').length >= 5, { what: 'five changes' });
    live.close();
    const lines = edge.output.slice(before).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    const lists = lines.reduce((sum, line) => sum + (line.kv?.lists ?? 0), 0);
    assert.equal(lists, 1, JSON.stringify(lines.filter((line) => line.kv)));
    assert.ok(lines.some((line) => line.route === 'hub /live' && line.kv?.lists === 1));
  });
});

describe('one decision per reservation', () => {
  test('three accepts at once make exactly one request to TaskRouter; the others are 409', async () => {
    const params = assignmentParams();
    await signedPost(edge.fetch, '/assignment_callback', params);
    const answers = await Promise.all([1, 2, 3].map(() => decide(edge, params.ReservationSid, 'accept')));
    const bodies = await Promise.all(answers.map((answer) => answer.json()));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409], JSON.stringify(bodies));
    assert.equal(fake.requestsFor(params.ReservationSid).filter((r) => r.method === 'POST').length, 1, 'the fake counts one');
    for (const body of bodies.filter((b) => b.error)) {
      assert.ok(['decision_in_flight', 'already_decided'].includes(body.error.code), JSON.stringify(body));
      assert.match(body.error.message, /nothing was sent to TaskRouter/);
    }
  });

  test('after a reservation settled, an accept or reject answers 409 with the outcome and asks TaskRouter nothing', async () => {
    const params = assignmentParams();
    await signedPost(edge.fetch, '/assignment_callback', params);
    assert.equal((await decide(edge, params.ReservationSid, 'accept')).status, 200);
    await until(async () => {
      const again = await decide(edge, params.ReservationSid, 'reject');
      if (again.status !== 409) return false;
      const body = await again.json();
      return body.error.code === 'already_decided' && body.error.settled.status === 'accepted' && body;
    }, { what: 'the hub to know it settled' });
    assert.equal(fake.requestsFor(params.ReservationSid).filter((r) => r.method === 'POST').length, 1);
  });

  test('a claim is given back when TaskRouter refused and nothing changed', async () => {
    const params = assignmentParams();
    await signedPost(edge.fetch, '/assignment_callback', params);
    fake.behave(params.ReservationSid, 'unauthorized');
    await assertError(await decide(edge, params.ReservationSid, 'accept'), 502, 'twilio_refused');
    await assertError(await decide(edge, params.ReservationSid, 'accept'), 502, 'twilio_refused');
    assert.equal(fake.requestsFor(params.ReservationSid).filter((r) => r.method === 'POST').length, 2, 'the second was not blocked');
  });

  test('the CLI\'s claim routes: claim, a second claim is 409, release, claim again', async () => {
    const params = assignmentParams();
    await signedPost(edge.fetch, '/assignment_callback', params);
    const post = (path, body) => edge.fetch(`${BASE}/reservations/${params.ReservationSid}/${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const first = await post('claim', { decision: 'accept' });
    assert.deepEqual([first.status, await first.json()], [200, { claimed: true }]);
    const body = await assertError(await post('claim', { decision: 'reject' }), 409, 'decision_in_flight');
    assert.equal(body.error.in_flight.decision, 'accept');
    assert.equal((await post('release', { decision: 'accept' })).status, 200);
    assert.equal((await post('claim', { decision: 'reject' })).status, 200);
    await assertError(await post('claim', { decision: 'maybe' }), 400, 'invalid_json');
    const badSid = await edge.fetch(`${BASE}/reservations/WRnope/claim`, {
      method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: '{"decision":"accept"}',
    });
    await assertError(badSid, 400, 'invalid_sid');
  });

  test('TaskRouter out of reach: accept and reject say so, name the URL, and that nothing changed', async () => {
    const port = await freePort();
    const offline = await ownWorker(bindings(`http://127.0.0.1:${port}`));
    for (const decision of ['accept', 'reject']) {
      const params = assignmentParams();
      await signedPost(offline.fetch, '/assignment_callback', params);
      const body = await assertError(await decide(offline, params.ReservationSid, decision), 502, 'twilio_unreachable');
      assert.match(body.error.message, new RegExp(`^TaskRouter could not be reached \\(.*http://127\\.0\\.0\\.1:${port}/v1/Workspaces/.*\\)\\. Nothing changed`), decision);
      assert.doesNotMatch(body.error.message, /answer from Twilio was lost|internal error/);
      const shown = await (await operatorGet(offline.fetch, `/reservations/${params.ReservationSid}`)).json();
      assert.equal(shown.status, 'pending', decision);
    }
    await offline.dispose();
  });
});

describe('a hub that is missing or failing', () => {
  const BROKEN_HUB = `
export class BrokenHub {
  constructor() {}
  async fetch() { throw new Error('the hub is down'); }
}
export default { fetch() { return new Response('not this one', { status: 404 }); } };
`;

  test('never fails a callback, an event or a decision: they answer as without a hub', async () => {
    const broken = await ownWorker(bindings(fake.url), {
      worker: { durableObjects: { HUB: { className: 'BrokenHub', scriptName: 'broken-hub' } } },
      workers: [{ name: 'broken-hub', modules: [{ type: 'ESModule', path: 'hub.mjs', contents: BROKEN_HUB }] }],
    });
    const absent = await ownWorker(bindings(fake.url), { worker: { durableObjects: {} } });
    for (const edgeWithout of [broken, absent]) {
      const params = assignmentParams();
      const answer = await signedPost(edgeWithout.fetch, '/assignment_callback', params);
      assert.deepEqual([answer.status, await answer.text()], [200, '{}']);
      assert.equal((await signedPost(edgeWithout.fetch, '/events', eventParams('reservation.rescinded', assignmentParams()))).status, 204);
      const other = assignmentParams();
      await signedPost(edgeWithout.fetch, '/assignment_callback', other);
      assert.equal((await decide(edgeWithout, other.ReservationSid, 'accept')).status, 200);
      assert.equal((await (await operatorGet(edgeWithout.fetch, `/reservations/${params.ReservationSid}`)).json()).status, 'pending');
    }
    await until(() => broken.output.some((line) => line.includes('"outcome":"hub_failed"')), { what: 'the broken hub to be logged' });
    const live = await console_(absent);
    assert.deepEqual(live.opened, { ok: false, status: 503 });
    const health = await (await absent.fetch(`${BASE}/health`)).json();
    assert.equal(health.hub, 'missing');
    await broken.dispose();
    await absent.dispose();
  });
});

describe('a hub that is slow to answer', () => {
  // The hub is told in waitUntil, after the answer: a hub held mid-request (here on a gate this
  // test opens at the end) must not hold the callback's or the event's answer.
  const HELD_HUB = (gate) => `
export class HeldHub {
  constructor() {}
  async fetch(request) {
    await fetch(${JSON.stringify(gate)} + new URL(request.url).pathname);
    return new Response('{}', { headers: { 'content-type': 'application/json' } });
  }
}
export default { fetch() { return new Response('not this one', { status: 404 }); } };
`;

  test('TaskRouter\'s answers do not wait for it: a callback and an event are answered while the hub is still held', async () => {
    const held = [];
    const gate = createServer((request, response) => held.push({ path: request.url, open: () => response.end('open') }));
    await new Promise((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const slow = await ownWorker(bindings(fake.url), {
      worker: { durableObjects: { HUB: { className: 'HeldHub', scriptName: 'held-hub' } } },
      workers: [{ name: 'held-hub', modules: [{ type: 'ESModule', path: 'hub.mjs', contents: HELD_HUB(`http://127.0.0.1:${gate.address().port}`) }] }],
    });
    try {
      const params = assignmentParams();
      const answer = await signedPost(slow.fetch, '/assignment_callback', params);
      assert.deepEqual([answer.status, await answer.text()], [200, '{}']);
      const event = await signedPost(slow.fetch, '/events', eventParams('reservation.accepted', params));
      assert.equal(event.status, 204);
      // Both reached the hub, which has answered neither: the answers above did not wait for it.
      await until(() => held.filter(({ path }) => path === '/changes').length >= 2, { what: 'the hub to be told of both changes' });
      assert.equal((await (await operatorGet(slow.fetch, `/reservations/${params.ReservationSid}`)).json()).status, 'accepted');
    } finally {
      for (const { open } of held) open();
      await slow.dispose();
      gate.close();
    }
  });
});

describe('the day at a glance', () => {
  test('the hub keeps each outcome once, with the time to accept', async () => {
    const fresh = await ownWorker(bindings(fake.url));
    const accepted = assignmentParams();
    const timedOut = assignmentParams();
    for (const params of [accepted, timedOut]) await signedPost(fresh.fetch, '/assignment_callback', params);
    assert.equal((await decide(fresh, accepted.ReservationSid, 'accept')).status, 200);
    await signedPost(fresh.fetch, '/events', eventParams('reservation.timeout', timedOut));
    await signedPost(fresh.fetch, '/events', eventParams('reservation.accepted', accepted));
    await signedPost(fresh.fetch, '/events', eventParams('reservation.completed', accepted));
    const live = await console_(fresh);
    const { day } = await until(() => live.messages.find((m) => m.type === 'snapshot'), { what: 'the snapshot' });
    assert.deepEqual(day.counts, { accepted: 1, timeout: 1, completed: 1 });
    assert.ok(Number.isInteger(day.accept_median_ms) && day.accept_median_ms >= 0 && day.accept_p90_ms >= day.accept_median_ms);
    assert.equal(day.buckets.length, 145);
    live.close();
    await fresh.dispose();
  });
});
