// The operator API: listing (newest first, filtered, paged), one reservation, status updates,
// all behind the bearer token; /health for anyone.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { assertError, operatorGet, operatorSetStatus } from './support/http.mjs';
import { assignmentParams, signedPost, storedCallback } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { API_TOKEN, AUTH_TOKEN, SLOW_WORKFLOW_SID, worker } from './support/worker.mjs';

const store = (fetchWorker, overrides = {}) => storedCallback(fetchWorker, assignmentParams(overrides));

async function listAll(fetchWorker, query) {
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const response = await operatorGet(fetchWorker, `/reservations?${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(response.status, 200);
    const page = await response.json();
    seen.push(...page.reservations);
    cursor = page.cursor;
    pages += 1;
  } while (cursor);
  return { seen, pages };
}

describe('operator API', () => {
  const RESERVATIONS = 230;
  let stored;

  before(async () => {
    const fetchWorker = await worker('listing');
    stored = [];
    for (let batch = 0; batch < RESERVATIONS / 10; batch += 1) {
      stored.push(...(await Promise.all(Array.from({ length: 10 }, () => store(fetchWorker)))));
    }
  });

  test('lists every reservation exactly once across pages, newest first', async () => {
    const fetchWorker = await worker('listing');
    const { seen, pages } = await listAll(fetchWorker, 'limit=50');
    assert.equal(pages, Math.ceil(RESERVATIONS / 50));
    assert.equal(seen.length, RESERVATIONS);
    assert.deepEqual(new Set(seen.map((r) => r.reservation_sid)), new Set(stored.map((p) => p.ReservationSid)));
    for (let i = 1; i < seen.length; i += 1) {
      assert.ok(seen[i - 1].received_at >= seen[i].received_at, `item ${i} is not older than item ${i - 1}`);
    }
    const first = seen.find((r) => r.reservation_sid === stored[0].ReservationSid);
    assert.equal(first.task_sid, stored[0].TaskSid);
    assert.equal(first.worker_sid, stored[0].WorkerSid);
    assert.equal(first.status, 'pending');
  });

  test('the default page is 100 and the limit has a maximum of 1000', async () => {
    const fetchWorker = await worker('listing');
    const page = await (await operatorGet(fetchWorker, '/reservations')).json();
    assert.equal(page.reservations.length, 100);
    assert.equal(typeof page.cursor, 'string');
    const all = await (await operatorGet(fetchWorker, '/reservations?limit=1000')).json();
    assert.equal(all.reservations.length, RESERVATIONS);
    assert.equal(all.cursor, null);
    await assertError(await operatorGet(fetchWorker, '/reservations?limit=1001'), 400, 'invalid_query');
    await assertError(await operatorGet(fetchWorker, '/reservations?cursor=bogus'), 400, 'invalid_query');
    await assertError(await operatorGet(fetchWorker, '/reservations?status=done'), 400, 'invalid_query');
  });

  test('shows one reservation with parsed task and worker attributes', async () => {
    const fetchWorker = await worker('listing');
    const params = stored[7];
    const response = await operatorGet(fetchWorker, `/reservations/${params.ReservationSid}`);
    assert.equal(response.status, 200);
    const record = await response.json();
    assert.equal(record.reservation_sid, params.ReservationSid);
    assert.deepEqual(record.task_attributes, JSON.parse(params.TaskAttributes));
    assert.deepEqual(record.worker_attributes, JSON.parse(params.WorkerAttributes));
    assert.equal(record.parameters.TaskQueueSid, params.TaskQueueSid);
    assert.equal(record.status, 'pending');

    await assertError(await operatorGet(fetchWorker, `/reservations/WR${'0'.repeat(32)}`), 404, 'reservation_not_found');
    await assertError(await operatorGet(fetchWorker, '/reservations/WR123'), 400, 'invalid_sid');
  });

  test('a status update is recorded, filtered on, and obeys the status model', async () => {
    const fetchWorker = await worker('listing');
    const params = stored[3];
    const response = await operatorSetStatus(fetchWorker, params.ReservationSid, 'accepted');
    assert.equal(response.status, 200);
    const record = await response.json();
    assert.equal(record.status, 'accepted');
    assert.equal(record.status_source, 'operator');
    assert.ok(record.status_updated_at >= record.received_at);

    const again = await operatorSetStatus(fetchWorker, params.ReservationSid, 'accepted');
    assert.equal(again.status, 200, 'setting the same status twice is harmless');

    const back = await assertError(await operatorSetStatus(fetchWorker, params.ReservationSid, 'pending'), 409, 'invalid_transition');
    assert.match(back.error.message, /accepted.*cannot become pending/);

    const accepted = await (await operatorGet(fetchWorker, '/reservations?status=accepted')).json();
    assert.deepEqual(accepted.reservations.map((r) => r.reservation_sid), [params.ReservationSid]);
    const pending = await listAll(fetchWorker, 'status=pending&limit=100');
    assert.equal(pending.seen.length, RESERVATIONS - 1);
    assert.ok(!pending.seen.some((r) => r.reservation_sid === params.ReservationSid));

    await assertError(await operatorSetStatus(fetchWorker, `WR${'f'.repeat(32)}`, 'accepted'), 404, 'reservation_not_found');
  });

  test('every operator route needs the bearer token', async () => {
    const fetchWorker = await worker('listing');
    const sid = stored[0].ReservationSid;
    const requests = {
      list: (headers) => fetchWorker('http://localhost/reservations', { headers }),
      show: (headers) => fetchWorker(`http://localhost/reservations/${sid}`, { headers }),
      update: (headers) =>
        fetchWorker(`http://localhost/reservations/${sid}/status`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{"status":"rejected"}',
        }),
    };
    for (const [name, send] of Object.entries(requests)) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: API_TOKEN }, { authorization: `Basic ${API_TOKEN}` }]) {
        const body = await assertError(await send(headers), 401, 'unauthorized');
        assert.ok(!JSON.stringify(body).includes(API_TOKEN), `${name} must not echo the token`);
      }
    }
    const untouched = await (await operatorGet(fetchWorker, `/reservations/${sid}`)).json();
    assert.equal(untouched.status, 'pending', 'an unauthorized update changes nothing');
  });

  test('without RESERVATIONS_API_TOKEN the operator API is closed (503)', async () => {
    const fetchWorker = await worker('unconfigured');
    const body = await assertError(await operatorGet(fetchWorker, '/reservations', 'anything'), 503, 'not_configured');
    assert.match(body.error.message, /RESERVATIONS_API_TOKEN/);
  });

  test('a pending reservation older than RESERVATION_TIMEOUT_SECONDS is reported expired', async () => {
    const fetchWorker = await worker('shortTimeout');
    const params = await store(fetchWorker);
    assert.equal((await (await operatorGet(fetchWorker, `/reservations/${params.ReservationSid}`)).json()).status, 'pending');
    await until(async () => (await (await operatorGet(fetchWorker, `/reservations/${params.ReservationSid}`)).json()).status === 'expired', {
      what: 'the reservation to be reported expired once RESERVATION_TIMEOUT_SECONDS (1 s) passed',
    });
    const pending = await (await operatorGet(fetchWorker, '/reservations?status=pending')).json();
    assert.ok(!pending.reservations.some((r) => r.reservation_sid === params.ReservationSid));
    const expired = await (await operatorGet(fetchWorker, '/reservations?status=expired')).json();
    assert.ok(expired.reservations.some((r) => r.reservation_sid === params.ReservationSid));
  });

  test('each Workflow\'s own reservation timeout (WORKFLOW_TIMEOUTS) decides when its reservations expire', async () => {
    const fetchWorker = await worker('workflowTimeouts');
    const slow = await store(fetchWorker, { WorkflowSid: SLOW_WORKFLOW_SID });
    const quick = await store(fetchWorker);
    const status = async (params) => (await (await operatorGet(fetchWorker, `/reservations/${params.ReservationSid}`)).json()).status;
    await until(async () => (await status(quick)) === 'expired', { what: 'the default-timeout reservation (1 s) to expire' });
    assert.equal(await status(slow), 'pending', 'the Workflow with a 600 s timeout keeps its reservation pending');
    const pending = await (await operatorGet(fetchWorker, '/reservations?status=pending')).json();
    assert.deepEqual(pending.reservations.map((r) => r.reservation_sid), [slow.ReservationSid]);
    assert.equal(pending.reservations[0].workflow_sid, SLOW_WORKFLOW_SID);
  });

  test('/health answers anyone and reveals no secret', async () => {
    for (const name of ['main', 'unconfigured']) {
      const response = await (await worker(name))('http://localhost/health');
      assert.equal(response.status, 200);
      const text = await response.text();
      const health = JSON.parse(text);
      assert.equal(health.status, 'ok');
      assert.match(health.version, /^\d+\.\d+\.\d+$/);
      assert.ok(!text.includes(AUTH_TOKEN) && !text.includes(API_TOKEN), text);
    }
  });

  test('/health names a configuration problem, and other routes answer 503 for it', async () => {
    const fetchWorker = await worker('badTtl');
    const answered = await fetchWorker('http://localhost/health');
    assert.equal(answered.status, 200, 'alive all the same');
    const health = await answered.json();
    assert.equal(health.configuration.ok, false);
    assert.equal(health.status, 'degraded', 'not "ok" while the configuration is not');
    assert.match(health.configuration.problem, /RESERVATION_TTL_SECONDS/);
    const body = await assertError(await signedPost(fetchWorker, '/assignment_callback', assignmentParams()), 503, 'invalid_configuration');
    assert.match(body.error.message, /RESERVATION_TTL_SECONDS/);
  });
});
