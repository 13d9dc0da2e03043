// The hub (a SQLite-backed Durable Object, run by Miniflare as wrangler.toml declares it): the
// authority for status, listings and claims; never in the way of a callback's answer, never
// acknowledging an event it did not apply, never letting a decision through without it; the
// console's WebSocket, behind the operator token; one decision per reservation, owned by its
// claimant; catching up from KV after it missed a callback, and after an upgrade; the day.
// Consoles are played here by the `ws` package; tests/console.test.mjs drives the page itself.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import WebSocket from 'ws';

import { startFakeTwilio } from './support/fake_twilio.mjs';
import { assertError, operatorGet } from './support/http.mjs';
import { checkLiveMessage } from './support/openapi.mjs';
import { freePort } from './support/prism.mjs';
import { BASE, assignmentParams, eventParams, signedPost } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { API_TOKEN, AUTH_TOKEN, HUB, ownWorker } from './support/worker.mjs';

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
    assert.equal(timedOut.day_moved.counts.timeout >= 1, true, 'the day moved');
    assert.equal(Object.values(timedOut.day_moved.bucket).reduce((a, b) => a + b, 0) >= 1, true, 'and its bar');
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

  test('connections, callbacks and listings cost no KV list: the hub imported once, when it started new', async () => {
    const before = edge.output.length;
    const live = await console_(edge);
    await until(() => live.messages.find((m) => m.type === 'snapshot'), { what: 'the snapshot' });
    for (let i = 0; i < 5; i += 1) await signedPost(edge.fetch, '/assignment_callback', assignmentParams());
    await until(() => live.messages.filter((m) => m.type === 'change').length >= 5, { what: 'five changes' });
    for (let i = 0; i < 5; i += 1) assert.equal((await operatorGet(edge.fetch, '/reservations?status=pending')).status, 200);
    live.close();
    const lines = (from) => edge.output.slice(from).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    const lists = lines(before).reduce((sum, line) => sum + (line.kv?.lists ?? 0), 0);
    assert.equal(lists, 0, JSON.stringify(lines(before).filter((line) => line.kv)));
    const imports = lines(0).filter((line) => line.route === 'hub import');
    assert.deepEqual(imports.map((line) => line.kv.lists), [1], 'one import, of one list, when the hub first started');
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
    const first = await post('claim', { decision: 'accept', owner: 'night shift' });
    const granted = await first.json();
    assert.equal(first.status, 200, JSON.stringify(granted));
    assert.equal(granted.claimed, true);
    assert.match(granted.token, /^[0-9a-f]{32}$/);
    assert.ok(Date.parse(granted.until) > Date.now() + 100_000, 'until the reservation\'s own timeout, two minutes on');
    const body = await assertError(await post('claim', { decision: 'reject' }), 409, 'decision_in_flight');
    assert.deepEqual([body.error.in_flight.decision, body.error.in_flight.owner], ['accept', 'night shift']);
    assert.equal(body.error.in_flight.until, granted.until);
    assert.ok(!JSON.stringify(body).includes(granted.token), 'the token is its owner\'s alone');
    await assertError(await post('release', { claim_token: 'f'.repeat(32) }), 409, 'claim_not_held');
    await assertError(await post('claim', { decision: 'reject' }), 409, 'decision_in_flight');
    assert.equal((await post('release', { claim_token: granted.token })).status, 200);
    const second = await (await post('claim', { decision: 'reject' })).json();
    const settle = (token) => edge.fetch(`${BASE}/reservations/${params.ReservationSid}/status`, {
      method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'rejected', claim_token: token }),
    });
    await assertError(await settle(granted.token), 409, 'claim_not_held');
    assert.equal((await settle(second.token)).status, 200);
    await assertError(await post('claim', { decision: 'accept' }), 409, 'already_decided');
    await assertError(await post('claim', { decision: 'maybe' }), 400, 'invalid_json');
    const unknown = await edge.fetch(`${BASE}/reservations/${assignmentParams().ReservationSid}/claim`, {
      method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: '{"decision":"accept"}',
    });
    await assertError(unknown, 404, 'reservation_not_found');
    const upper = await edge.fetch(`${BASE}/reservations/WR${params.ReservationSid.slice(2).toUpperCase()}/claim`, {
      method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: '{"decision":"accept"}',
    });
    await assertError(upper, 400, 'invalid_sid');
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

  test('a callback is answered once KV holds it; an event is 503 so TaskRouter sends it again; a decision fails closed and TaskRouter hears nothing', async () => {
    const broken = await ownWorker(bindings(fake.url), {
      worker: { durableObjects: { HUB: { className: 'BrokenHub', scriptName: 'broken-hub' } } },
      workers: [{ name: 'broken-hub', durableObjects: { HUB: 'BrokenHub' }, modules: [{ type: 'ESModule', path: 'hub.mjs', contents: BROKEN_HUB }] }],
    });
    const absent = await ownWorker(bindings(fake.url), { worker: { durableObjects: {} } });
    for (const edgeWithout of [broken, absent]) {
      const params = assignmentParams();
      const answer = await signedPost(edgeWithout.fetch, '/assignment_callback', params);
      assert.deepEqual([answer.status, await answer.text()], [200, '{}']);
      const keys = (await (await edgeWithout.kv()).list({ prefix: 'at:' })).keys.map((key) => key.name);
      assert.ok(keys.some((key) => key.endsWith(params.ReservationSid)), 'the record is in KV');
      await assertError(await signedPost(edgeWithout.fetch, '/events', eventParams('reservation.accepted', params)), 503, 'hub_unavailable');
      for (let i = 0; i < 20; i += 1) {
        const refused = await assertError(await decide(edgeWithout, params.ReservationSid, 'accept'), 503, 'hub_unavailable');
        assert.match(refused.error.message, /nothing sent to TaskRouter; decide in Twilio's console meanwhile/);
      }
      assert.equal(fake.requestsFor(params.ReservationSid).length, 0, 'no claim, no request to TaskRouter');
      await assertError(await operatorGet(edgeWithout.fetch, '/reservations'), 503, 'hub_unavailable');
    }
    assert.ok(broken.output.some((line) => line.includes('"hub":"untold"')), 'the callback says the hub was not told');
    const live = await console_(absent);
    assert.deepEqual(live.opened, { ok: false, status: 503 });
    const health = await (await absent.fetch(`${BASE}/health`)).json();
    assert.equal(health.hub, 'missing');
    await broken.dispose();
    await absent.dispose();
  });

  test('a hub that comes back learns of the callback it missed, from one KV import at its next start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hub-back-'));
    const brokenHub = { HUB: { className: 'BrokenHub', scriptName: 'broken-hub' } };
    const edgeBack = await ownWorker(bindings(fake.url), {
      workers: [{ name: 'broken-hub', durableObjects: { HUB: 'BrokenHub' }, modules: [{ type: 'ESModule', path: 'hub.mjs', contents: BROKEN_HUB }] }],
      resourcePersistencePath: dir,
    });
    const first = assignmentParams();
    assert.equal((await signedPost(edgeBack.fetch, '/assignment_callback', first)).status, 200);
    await edgeBack.restart({ durableObjects: brokenHub });
    const missed = assignmentParams();
    assert.equal((await signedPost(edgeBack.fetch, '/assignment_callback', missed)).status, 200);
    await until(() => edgeBack.output.some((line) => line.includes('"outcome":"import_due"')), { what: 'the import to be marked due', timeoutMs: 20_000 });
    await edgeBack.restart({ durableObjects: HUB });
    const listed = await (await operatorGet(edgeBack.fetch, '/reservations?status=pending')).json();
    assert.deepEqual(listed.reservations.map((r) => r.reservation_sid), [missed.ReservationSid, first.ReservationSid]);
    assert.equal((await decide(edgeBack, missed.ReservationSid, 'accept')).status, 200);
    const imports = edgeBack.output.filter((line) => line.includes('"route":"hub import"')).map((line) => JSON.parse(line));
    assert.deepEqual(imports.map((line) => [line.outcome, line.kv.lists]), [['imported_0', 1], ['imported_1', 1]], 'new, then told an import was due');
    assert.ok(!(await (await edgeBack.kv()).list({ prefix: 'hub:' })).keys.length, 'the mark is gone once imported');
    await edgeBack.dispose();
  });

  test('a deployment of the earlier layout (KV the store of record) keeps every pending reservation when it moves to this one', async () => {
    const edgeNew = await ownWorker(bindings(fake.url));
    const kv = await edgeNew.kv();
    // What the earlier version wrote: the record under its `at:` key with its summary, a pointer,
    // and the task's record. One reservation still pending, one accepted.
    const earlier = [['pending', assignmentParams()], ['accepted', assignmentParams()]];
    for (const [index, [status, params]] of earlier.entries()) {
      const ms = Date.now() - 10_000 + index;
      const at = new Date(ms).toISOString();
      const key = `at:${String(9_999_999_999_999 - ms).padStart(13, '0')}:${params.ReservationSid}`;
      const summary = { reservation_sid: params.ReservationSid, task_sid: params.TaskSid, workspace_sid: params.WorkspaceSid, status, received_at: at, status_updated_at: at, task: 'type=support' };
      const record = { ...summary, task_attributes: JSON.parse(params.TaskAttributes), worker_attributes: null, parameters: params, status_source: 'callback' };
      delete record.task;
      await kv.put(key, JSON.stringify(record), { metadata: summary });
      await kv.put(`reservation:${params.ReservationSid}`, key);
      await kv.put(`task:${params.TaskSid}`, JSON.stringify({ ended: null, reservations: [params.ReservationSid] }));
    }
    const pending = await (await operatorGet(edgeNew.fetch, '/reservations?status=pending')).json();
    assert.deepEqual(pending.reservations.map((r) => r.reservation_sid), [earlier[0][1].ReservationSid]);
    const shown = await (await operatorGet(edgeNew.fetch, `/reservations/${earlier[1][1].ReservationSid}`)).json();
    assert.deepEqual([shown.status, shown.parameters.TaskSid], ['accepted', earlier[1][1].TaskSid]);
    assert.equal((await decide(edgeNew, earlier[0][1].ReservationSid, 'accept')).status, 200);
    await edgeNew.dispose();
  });
});

describe('a hub that is slow to answer', () => {
  // A hub held mid-request (here on a gate this test opens at the end).
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

  test('a callback is answered within TaskRouter\'s 5 s all the same; an event is answered 503, not acknowledged', async () => {
    const held = [];
    const gate = createServer((request, response) => held.push({ path: request.url, open: () => response.end('open') }));
    await new Promise((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const slow = await ownWorker(bindings(fake.url), {
      worker: { durableObjects: { HUB: { className: 'HeldHub', scriptName: 'held-hub' } } },
      workers: [{ name: 'held-hub', durableObjects: { HUB: 'HeldHub' }, modules: [{ type: 'ESModule', path: 'hub.mjs', contents: HELD_HUB(`http://127.0.0.1:${gate.address().port}`) }] }],
    });
    try {
      const params = assignmentParams();
      const started = Date.now();
      const answer = await signedPost(slow.fetch, '/assignment_callback', params);
      assert.deepEqual([answer.status, await answer.text()], [200, '{}']);
      assert.ok(Date.now() - started < 5_000, `answered after ${Date.now() - started} ms`);
      await assertError(await signedPost(slow.fetch, '/events', eventParams('reservation.accepted', params)), 503, 'hub_unavailable');
      assert.ok(held.some(({ path: asked }) => asked === '/ledger'), 'the hub was asked');
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
