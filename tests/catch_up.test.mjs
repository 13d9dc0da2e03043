// Status that heals itself. 200 reservations go through a TaskRouter that keeps the truth
// (tests/support/taskrouter_truth.mjs); 30 % of the event deliveries are lost at random, and
// every one for some reservations; TaskRouter's REST API is down meanwhile. Once it is back, the
// hub's catch-up (its alarm, every CATCH_UP_SECONDS) reads the Events resource and reads back
// what is pending past its timeout: after two runs every reservation's status in the worker is
// TaskRouter's. Names the callback lacks are looked up from the Worker and TaskQueue resources,
// once. The requests it made are then put to Prism serving Twilio's own description.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { operatorGet } from './support/http.mjs';
import { startedPrism, watchedByPrism } from './support/prism.mjs';
import { startTaskRouterTruth } from './support/taskrouter_truth.mjs';
import { BASE, assignmentParams, eventParams, sid, signedPost } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { API_TOKEN, AUTH_TOKEN, ownWorker } from './support/worker.mjs';

const RESERVATIONS = 200;
const LOSS = 0.3;
const ALL_LOST = 0.15;
/** The reservations TaskRouter no longer has sit on a Workflow that times out in 1 s. */
const SHORT_WORKFLOW = sid('WW');
const GONE = 5;

/** Each fate: the events TaskRouter sends on the way, and the status it ends at (null: 404). */
const FATES = [
  { events: ['reservation.accepted'], status: 'accepted' },
  { events: ['reservation.accepted', 'reservation.wrapup'], status: 'wrapping' },
  { events: ['reservation.accepted', 'reservation.wrapup', 'reservation.completed'], status: 'completed' },
  { events: ['reservation.rejected'], status: 'rejected' },
  { events: ['reservation.timeout'], status: 'timeout' },
  { events: ['reservation.canceled'], status: 'canceled' },
  { events: ['reservation.rescinded'], status: 'rescinded' },
  { events: [], status: 'pending' },
];

/** A seeded generator: the same run loses the same events. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

async function inBatches(items, size, work) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

let truth;
let edge;

before(async () => {
  truth = await startTaskRouterTruth();
  edge = await ownWorker({
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    RESERVATIONS_API_TOKEN: API_TOKEN,
    TWILIO_ACCOUNT_SID: sid('AC'),
    TWILIO_TASKROUTER_URL: truth.url,
    CATCH_UP_SECONDS: '2',
    WORKFLOW_TIMEOUTS: JSON.stringify({ [SHORT_WORKFLOW]: 1 }),
  });
});

/** The catch-up runs the hub logged from `from` on. */
function runsSince(from, outcome = /"outcome":"caught_up"/) {
  return edge.output.slice(from).filter((line) => line.includes('"route":"hub catch-up"') && line.includes('"events_read"') && outcome.test(line));
}

describe('catching up from TaskRouter', () => {
  test('200 reservations, 30 % of events lost: after two catch-up runs every status is TaskRouter\'s', async () => {
    const roll = random(37);
    const workspace = { AccountSid: sid('AC'), WorkspaceSid: sid('WS') };
    truth.state.unavailable = true;
    const reservations = Array.from({ length: RESERVATIONS }, (_, index) => {
      const gone = index < GONE;
      const fate = gone ? { events: [], status: null } : FATES[index % FATES.length];
      const params = assignmentParams({ ...workspace, ...(gone ? { WorkflowSid: SHORT_WORKFLOW } : {}) });
      return { params, fate, allLost: roll() < ALL_LOST };
    });
    await inBatches(reservations, 20, async ({ params }) => {
      const answered = await signedPost(edge.fetch, '/assignment_callback', params);
      assert.equal(answered.status, 200, await answered.text());
    });
    let delivered = 0;
    let lost = 0;
    await inBatches(reservations, 20, async ({ params, fate, allLost }) => {
      truth.setStatus(params.ReservationSid, fate.status);
      for (const eventType of fate.events) {
        truth.logEvent(eventType, params);
        if (allLost || roll() < LOSS) {
          lost += 1;
          continue;
        }
        const answered = await signedPost(edge.fetch, '/events', eventParams(eventType, params));
        assert.equal(answered.status, 204, await answered.text());
        delivered += 1;
      }
    });
    const expected = ({ fate }) => fate.status ?? 'canceled';
    const wrongNow = async () => {
      const wrong = [];
      await inBatches(reservations, 25, async (reservation) => {
        const shown = await (await operatorGet(edge.fetch, `/reservations/${reservation.params.ReservationSid}`)).json();
        if (shown.status !== expected(reservation)) wrong.push({ sid: reservation.params.ReservationSid, shown: shown.status, truth: expected(reservation) });
      });
      return wrong;
    };
    const before = await wrongNow();
    assert.ok(before.length > RESERVATIONS * 0.2, `losing ${lost} of ${lost + delivered} events leaves many wrong: ${before.length}`);

    // TaskRouter's REST API is back: two runs that start from now on put everything right.
    const from = edge.output.length;
    truth.state.unavailable = false;
    await until(() => runsSince(from).length >= 2, { timeoutMs: 60_000, what: 'two catch-up runs' });
    const after = await wrongNow();
    console.log(`# catch-up: ${lost} of ${lost + delivered} events lost; wrong before catching up ${before.length}/${RESERVATIONS} (${(100 * before.length / RESERVATIONS).toFixed(1)} %), after two runs ${after.length}/${RESERVATIONS}`);
    assert.deepEqual(after, [], 'every status is TaskRouter\'s');

    // A reservation TaskRouter no longer has ended as such, and says why.
    const gone = await (await operatorGet(edge.fetch, `/reservations/${reservations[0].params.ReservationSid}`)).json();
    assert.equal(gone.status, 'canceled');
    assert.match(gone.ended_because, /TaskRouter no longer has this reservation \(404/);
    // /health shows what the last run found, and no secret.
    const health = await (await edge.fetch(`${BASE}/health`)).json();
    assert.equal(health.configuration.CATCH_UP_SECONDS, 2);
    const text = JSON.stringify(health);
    assert.ok(!text.includes(AUTH_TOKEN) && !text.includes(API_TOKEN));
  });

  test('names the callback lacks come from TaskRouter\'s Worker and TaskQueue resources, once', async () => {
    const params = assignmentParams({ AccountSid: sid('AC'), WorkspaceSid: sid('WS') });
    truth.setStatus(params.ReservationSid, 'pending');
    truth.setName(params.WorkerSid, 'Ana Lima');
    truth.setName(params.TaskQueueSid, 'Billing');
    const answered = await signedPost(edge.fetch, '/assignment_callback', params);
    assert.equal(answered.status, 200, await answered.text());
    const summary = async () => {
      const page = await (await operatorGet(edge.fetch, '/reservations?status=pending&limit=50')).json();
      return page.reservations.find((r) => r.reservation_sid === params.ReservationSid);
    };
    assert.equal((await summary()).queue, params.TaskQueueSid, 'at first, the queue\'s SID');
    const named = await until(async () => {
      const now = await summary();
      return now.agent === 'Ana Lima' && now.queue === 'Billing' && now;
    }, { timeoutMs: 60_000, what: 'the listing to show the looked-up names' });
    assert.deepEqual([named.agent, named.queue], ['Ana Lima', 'Billing']);
    const shown = await (await operatorGet(edge.fetch, `/reservations/${params.ReservationSid}`)).json();
    assert.deepEqual([shown.agent, shown.queue], ['Ana Lima', 'Billing'], 'GET /reservations/{WR} shows them too');

    // Two more runs ask nothing again: a name stands for a day.
    const from = edge.output.length;
    await until(() => runsSince(from).length >= 2, { timeoutMs: 60_000, what: 'two more catch-up runs' });
    const lookups = truth.requests.filter((r) => r.path.endsWith(`/Workers/${params.WorkerSid}`) || r.path.endsWith(`/TaskQueues/${params.TaskQueueSid}`));
    assert.equal(lookups.length, 2, lookups.map((r) => r.path).join('\n'));
  });

  test('what the catch-up asks of TaskRouter is what Twilio\'s description allows', async () => {
    const asked = truth.requests.filter((request) => request.method === 'GET');
    const events = asked.find((request) => request.path.endsWith('/Events'));
    const readBack = asked.find((request) => request.path.includes('/Reservations/'));
    const worker = asked.find((request) => request.path.includes('/Workers/'));
    const queue = asked.find((request) => request.path.includes('/TaskQueues/'));
    assert.ok(events && readBack && worker && queue, 'the catch-up read the Events resource, a reservation, a Worker and a TaskQueue');
    assert.match(events.query, /StartDate=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{3}Z/);
    assert.match(events.authorization, /^Basic /);
    const prism = await startedPrism();
    await watchedByPrism(prism, async () => {
      for (const request of [events, readBack, worker, queue]) {
        const answered = await fetch(`${prism.url}${request.path}${request.query}`, { headers: { authorization: request.authorization } });
        assert.equal(answered.status, 200, `${request.path}${request.query}: ${await answered.text()}`);
      }
      return {};
    });
  });
});
