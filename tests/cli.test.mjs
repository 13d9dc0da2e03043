// The `reservations` CLI end to end: the built binary, the built worker (Miniflare's HTTP
// address), Prism serving Twilio's TaskRouter spec, and a fake for Twilio's error answers.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';

import { cliEnv, runCli, startCli } from './support/cli.mjs';
import { startFakeTwilio } from './support/fake_twilio.mjs';
import { statusOf } from './support/http.mjs';
import { checkingProxy } from './support/openapi.mjs';
import { freePort, startedPrism, watchedByPrism } from './support/prism.mjs';
import { eventParams, signedPost, sid, storedCallback } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { SHARED_KEYS, checkedHttpUrl, httpUrl, worker, workerOutput } from './support/worker.mjs';

const storedStatus = async (reservationSid) => statusOf(await worker('cli'), reservationSid);

/** How many listings the worker has answered so far (its log lines). */
const listings = () => workerOutput.filter((line) => line.includes('"route":"/reservations"') && line.includes('"outcome":"listed"')).length;

/** A reservation stored in the worker by a signed callback; its parameters. */
const storedReservation = async () => storedCallback(await worker('cli'));

async function listJson(env, status = 'all') {
  const result = await runCli(['list', '--status', status, '--json'], env);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** Every answer the CLI received from the worker was one openapi.json describes. */
async function answersAsDescribed() {
  const { violations } = await checkedHttpUrl();
  assert.deepEqual(violations.splice(0).map(String), []);
}

describe('reservations CLI against Prism (Twilio\'s TaskRouter spec)', () => {
  let prism;
  let env;
  before(async () => {
    // The worker first: if Prism then fails to start, a running Miniflare must still be stopped.
    const { url: workerUrl } = await checkedHttpUrl();
    prism = await startedPrism();
    env = cliEnv({ workerUrl, taskrouterUrl: prism.url });
  });
  afterEach(answersAsDescribed);

  /** Runs the CLI; with what Prism saw meanwhile, every request valid by Twilio's spec. */
  const cliAgainstPrism = (args) => watchedByPrism(prism, () => runCli(args, env));

  test('simulate → list shows it pending → accept (Prism 200) → list shows it accepted', async () => {
    const simulated = await runCli(['simulate', '--json'], env);
    assert.equal(simulated.code, 0, simulated.stderr);
    const { reservation_sid: reservation, task_sid: task, workspace_sid: workspace, status } = JSON.parse(simulated.stdout);
    assert.equal(status, 200);

    const pending = await listJson(env, 'pending');
    assert.ok(pending.some((r) => r.reservation_sid === reservation && r.status === 'pending'));

    const accepted = await cliAgainstPrism(['accept', reservation]);
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
    assert.match(accepted.stdout, new RegExp(`✓ ${reservation}  accepted`));
    assert.deepEqual(
      accepted.requests.map(({ method, path }) => ({ method, path })),
      [{ method: 'POST', path: `/v1/Workspaces/${workspace}/Tasks/${task}/Reservations/${reservation}` }],
    );

    const after = await listJson(env, 'accepted');
    const listed = after.find((r) => r.reservation_sid === reservation);
    assert.equal(listed.status, 'accepted');
    assert.ok(!(await listJson(env, 'pending')).some((r) => r.reservation_sid === reservation));
  });

  test('reject --activity sends ReservationStatus=rejected with WorkerActivitySid, and the worker records it', async () => {
    const params = await storedReservation();
    const activity = sid('WA');
    const rejected = await cliAgainstPrism(['reject', params.ReservationSid, '--activity', activity]);
    assert.equal(rejected.code, 0, rejected.stdout + rejected.stderr);
    assert.equal(rejected.requests.length, 1);
    assert.equal(await storedStatus(params.ReservationSid), 'rejected');
  });

  test('connect --events reads, then sets, the Workflow\'s AssignmentCallbackUrl and the Workspace\'s EventCallbackUrl', async () => {
    const workspace = sid('WS');
    const workflow = sid('WW');
    const result = await cliAgainstPrism(['connect', '--workspace', workspace, '--workflow', workflow, '--url', 'https://TaskRouter-Edge.Example.workers.dev/', '--events', '--json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(
      result.requests.map(({ method, path }) => `${method} ${path}`),
      [
        `GET /v1/Workspaces/${workspace}`,
        `GET /v1/Workspaces/${workspace}/Workflows/${workflow}`,
        `POST /v1/Workspaces/${workspace}/Workflows/${workflow}`,
        `POST /v1/Workspaces/${workspace}`,
      ],
    );
    const printed = JSON.parse(result.stdout);
    assert.equal(printed.assignment_callback_url, 'https://taskrouter-edge.example.workers.dev/assignment_callback', 'the host is written in lower case');
    assert.equal(printed.event_callback_url, 'https://taskrouter-edge.example.workers.dev/events');
    assert.ok(printed.events_filter.includes('reservation.accepted') && printed.events_filter.includes('task.system-deleted'));
  });

  test('list prints an aligned table with the same fields as --json', async () => {
    await storedReservation();
    const table = await runCli(['list'], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n').filter((line) => line.trim().startsWith('WR') || line.includes('SID'));
    const header = lines[0];
    for (const column of ['SID', 'TASK', 'WORKER', 'AGE', 'STATUS', 'TASK ATTRIBUTES']) assert.ok(header.includes(column), header);
    const statusColumn = header.indexOf('STATUS');
    for (const row of lines.slice(1)) assert.match(row.slice(statusColumn), /^(pending|accepted|rejected|expired|timeout)\b/, row);
    const json = await listJson(env);
    assert.equal(json.length, lines.length - 1);
    for (const key of ['reservation_sid', 'task_sid', 'worker_sid', 'status', 'received_at', 'task', 'age_seconds']) assert.ok(key in json[0], key);
  });

  test('show prints one reservation with its attributes', async () => {
    const params = await storedReservation();
    const shown = await runCli(['show', params.ReservationSid], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`Reservation +${params.ReservationSid}`));
    assert.match(shown.stdout, /"language": "en"/);
    assert.match(shown.stdout, /"contact_uri": "client:alice"/);
  });

  test('every command\'s --help teaches its use with an example', async () => {
    for (const command of ['list', 'show', 'accept', 'reject', 'watch', 'connect', 'simulate']) {
      const help = await runCli([command, '--help'], env);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Examples?:\n  reservations /, command);
    }
    const top = await runCli(['--help'], env);
    assert.match(top.stdout, /Exit status: 0 every action succeeded/);
  });

  test('simulate signs as a Webhook Rule does with either key of a rotation; a wrong secret is a clear failure', async () => {
    for (const [id, secret] of Object.entries(SHARED_KEYS)) {
      for (const algorithm of ['HMAC_SHA256', 'hmac_sha1']) {
        const result = await runCli(['simulate', '--shared-key', id, '--shared-key-secret', secret, '--algorithm', algorithm], env);
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, new RegExp(`✓ sent an assignment callback for WR\\w+ to .*, signed with SharedKey ${id} \\(${algorithm.toUpperCase()}\\)`));
      }
    }
    const [id] = Object.keys(SHARED_KEYS);
    const fromEnv = await runCli(['simulate', '--json'], { ...env, TWILIO_WEBHOOK_SHARED_KEY_ID: id, TWILIO_WEBHOOK_SHARED_KEY_SECRET: SHARED_KEYS[id] });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(JSON.parse(fromEnv.stdout).signed_with, `SharedKey ${id} (HMAC_SHA256)`);
    const wrong = await runCli(['simulate', '--shared-key', id, '--shared-key-secret', 'not-the-secret'], env);
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(wrong.stdout, /answered 403 .*invalid_signature/);
    assert.match(wrong.stdout, new RegExp(`TWILIO_WEBHOOK_SHARED_KEYS holds ${id} with this secret`));
    const half = await runCli(['simulate', '--shared-key', id], env);
    assert.equal(half.code, 2, 'a key without its secret is a usage error');
    assert.match(half.stderr, /TWILIO_WEBHOOK_SHARED_KEY_SECRET is not set: export TWILIO_WEBHOOK_SHARED_KEY_SECRET=… or pass --shared-key-secret/);
    assert.doesNotMatch(half.stderr, /Usage:/, 'one line naming what is missing, not a usage line of flags already set');
    const otherHalf = await runCli(['simulate'], { ...env, TWILIO_WEBHOOK_SHARED_KEY_SECRET: 'x' });
    assert.equal(otherHalf.code, 2);
    assert.match(otherHalf.stderr, /TWILIO_WEBHOOK_SHARED_KEY_ID is not set/);
  });

  test('connect refuses a URL Twilio cannot reach (exit 2, nothing sent) and says to pass --url', async () => {
    for (const url of ['http://127.0.0.1:8787', 'http://localhost:8787', 'http://192.168.1.20:8787', 'http://[::1]:8787']) {
      const result = await runCli(['connect', '--workspace', sid('WS'), '--workflow', sid('WW'), '--url', url], {
        ...env,
        TWILIO_TASKROUTER_URL: 'https://taskrouter.twilio.com',
      });
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stderr, /is a local address: Twilio cannot reach it, so every reservation would time out\. Pass the worker's public URL with --url/);
      assert.match(result.stderr, /Nothing was changed/);
    }
    // As a new user would: RESERVATIONS_URL from the first five minutes, and no --url.
    const result = await runCli(['connect', '--workspace', sid('WS'), '--workflow', sid('WW')], {
      ...env,
      RESERVATIONS_URL: 'http://127.0.0.1:8787',
      TWILIO_TASKROUTER_URL: 'https://taskrouter.twilio.com',
    });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.doesNotMatch(result.stdout, /✓/);
    const help = await runCli(['connect', '--help'], env);
    assert.match(help.stdout, /--workspace <WS…>\s+The TaskRouter Workspace/);
    assert.match(help.stdout, /--workflow <WW…>\s+The Workflow \(WW…\) whose Assignment Callback URL/);
    // The command's own options first; the settings every command takes under their own heading.
    assert.ok(help.stdout.indexOf('--workflow') < help.stdout.indexOf('Settings (every command'), help.stdout);
    assert.ok(help.stdout.indexOf('Settings (every command') < help.stdout.indexOf('--worker-url'), help.stdout);
  });

  test('a missing setting is a one-line error naming the variable and the flag (exit 2)', async () => {
    const missingUrl = await runCli(['list'], cliEnv({}));
    assert.equal(missingUrl.code, 2);
    assert.equal(missingUrl.stderr.trim().split('\n').length, 1, missingUrl.stderr);
    assert.match(missingUrl.stderr, /RESERVATIONS_URL is not set: export RESERVATIONS_URL=… or pass --worker-url/);
    const missingToken = await runCli(['accept', sid('WR')], cliEnv({ workerUrl: env.RESERVATIONS_URL, TWILIO_AUTH_TOKEN: '' }));
    assert.equal(missingToken.code, 2);
    assert.match(missingToken.stderr, /TWILIO_AUTH_TOKEN is not set: .* --auth-token/);
  });

  test('a wrong operator token is told apart from a missing one', async () => {
    const wrong = await runCli(['list'], { ...env, RESERVATIONS_API_TOKEN: 'not-the-token' });
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(wrong.stderr, /401.*the operator token sent is not this worker's RESERVATIONS_API_TOKEN/);
    assert.ok(!wrong.stderr.includes('not-the-token'), 'the token is never printed');
  });

  test('flags override the environment', async () => {
    const wrongEnv = { ...env, RESERVATIONS_URL: 'http://127.0.0.1:9' };
    const result = await runCli(['list', '--json', '--worker-url', env.RESERVATIONS_URL], wrongEnv);
    assert.equal(result.code, 0, result.stderr);
  });
});

describe('reservations CLI against Twilio\'s error answers', () => {
  let fake;
  let env;
  before(async () => {
    fake = await startFakeTwilio();
    env = cliEnv({ workerUrl: (await checkedHttpUrl()).url, taskrouterUrl: fake.url });
  });
  after(() => fake.stop());
  afterEach(answersAsDescribed);

  async function acceptWith(behaviour) {
    const params = await storedReservation();
    fake.behave(params.ReservationSid, behaviour);
    const result = await runCli(['accept', params.ReservationSid], env);
    return { params, result, output: result.stdout + result.stderr };
  }

  test('wrong credentials (401): said in plain words, exit 1, nothing recorded as accepted', async () => {
    const { params, result, output } = await acceptWith('unauthorized');
    assert.equal(result.code, 1);
    assert.match(output, /Twilio rejected the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.*\[error 20003\]: Authenticate/);
    assert.doesNotMatch(output, /✓/);
    assert.equal(await storedStatus(params.ReservationSid), 'pending');
    const [request] = fake.requestsFor(params.ReservationSid);
    assert.equal(request.authorization, `Basic ${Buffer.from(`${env.TWILIO_ACCOUNT_SID}:${env.TWILIO_AUTH_TOKEN}`).toString('base64')}`);
  });

  test('an unknown reservation (404) is reported, exit 1, nothing recorded', async () => {
    const { params, result, output } = await acceptWith('not_found');
    assert.equal(result.code, 1);
    assert.match(output, /Twilio does not know this resource.*\[error 20404\]/);
    assert.equal(await storedStatus(params.ReservationSid), 'pending');
  });

  test('a reservation no longer pending (400) is reported as such and its real status recorded', async () => {
    const { params, result, output } = await acceptWith('no_longer_pending');
    assert.equal(result.code, 1);
    assert.match(output, new RegExp(`✗ ${params.ReservationSid}  no longer pending: Twilio says it is timeout \\(recorded in the worker\\)`));
    assert.equal(await storedStatus(params.ReservationSid), 'timeout');
    assert.ok(!(await listJson(env, 'pending')).some((r) => r.reservation_sid === params.ReservationSid));
    assert.deepEqual(fake.requestsFor(params.ReservationSid).map((r) => r.method), ['POST', 'GET']);
  });

  test('rate limiting (429) is retried with backoff and then succeeds', async () => {
    const { params, result } = await acceptWith('rate_limited');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(fake.requestsFor(params.ReservationSid).length, 3);
    assert.equal(await storedStatus(params.ReservationSid), 'accepted');
  });

  test('a 503 to the update is not sent again blindly: the reservation is read back, a failing read fails clearly, and the claim stays this client\'s until the reservation times out', async () => {
    const { params, result, output } = await acceptWith('unavailable');
    assert.equal(result.code, 1, output);
    const requests = fake.requestsFor(params.ReservationSid).map((r) => r.method);
    assert.deepEqual(requests, ['POST', 'GET', 'GET', 'GET', 'GET'], 'one update; the read is retried');
    assert.match(output, /Twilio failed with 503.*reading the reservation back .* failed too: Twilio failed with 503; gave up after 4 attempts.*\. The decision stays yours until \d{4}-\d\d-\d\dT[\d:.]+Z: try again then/);
    assert.equal(await storedStatus(params.ReservationSid), 'pending');
    // The outcome is unknown: a second accept is not sent to TaskRouter while the claim holds.
    const again = await runCli(['accept', params.ReservationSid], env);
    assert.match(again.stdout, /is being decided \(accept by operator token via cli, since .*\): nothing was sent to TaskRouter/);
    assert.equal(fake.requestsFor(params.ReservationSid).length, 5);
    // TaskRouter times it out, and says so: the claim ends with the reservation.
    assert.equal((await signedPost(await worker('cli'), '/events', eventParams('reservation.timeout', params))).status, 204);
    assert.equal(await storedStatus(params.ReservationSid), 'timeout');
  });

  for (const behaviour of ['lost_answer', 'dropped']) {
    test(`an update applied whose answer was lost (${behaviour}) is read back, not sent again: exit 0, recorded accepted`, async () => {
      const { params, result, output } = await acceptWith(behaviour);
      assert.equal(result.code, 0, output);
      assert.deepEqual(fake.requestsFor(params.ReservationSid).map((r) => r.method), ['POST', 'GET']);
      assert.match(output, new RegExp(`✓ ${params.ReservationSid}  accepted \\(its answer was lost; read back from Twilio`));
      assert.equal(await storedStatus(params.ReservationSid), 'accepted');
    });
  }

  test('an update that failed and was not applied is sent again once Twilio says the reservation is still pending', async () => {
    const { params, result, output } = await acceptWith('failed_unapplied');
    assert.equal(result.code, 0, output);
    assert.deepEqual(fake.requestsFor(params.ReservationSid).map((r) => r.method), ['POST', 'GET', 'POST']);
    assert.equal(await storedStatus(params.ReservationSid), 'accepted');
  });

  test('Twilio refusing (400) an accept for a reservation it already accepted is success: exit 0, recorded accepted', async () => {
    const { params, result, output } = await acceptWith('already_accepted');
    assert.equal(result.code, 0, output);
    assert.match(output, new RegExp(`✓ ${params.ReservationSid}  accepted \\(already so at Twilio`));
    assert.equal(await storedStatus(params.ReservationSid), 'accepted');
  });

  test('connect --events leaves another consumer\'s Event Callback URL alone: nothing changes, exit 1, the URL and the flag named', async () => {
    const workspace = sid('WS');
    const workflow = sid('WW');
    fake.setWorkspace(workspace, { event_callback_url: 'https://crm.example.com/taskrouter-events', events_filter: 'task.created' });
    const result = await runCli(['connect', '--workspace', workspace, '--workflow', workflow, '--url', 'https://edge.example.com', '--events'], env);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /already sends its events to https:\/\/crm\.example\.com\/taskrouter-events; nothing was changed/);
    assert.match(result.stderr, /--replace-event-callback/);
    assert.deepEqual(fake.requestsTo(`/v1/Workspaces/${workspace}`).map((r) => r.method), ['GET'], 'only read');
    assert.equal(fake.workspace(workspace).event_callback_url, 'https://crm.example.com/taskrouter-events');

    const replaced = await runCli(['connect', '--workspace', workspace, '--workflow', workflow, '--url', 'https://edge.example.com', '--events', '--replace-event-callback'], env);
    assert.equal(replaced.code, 0, replaced.stdout + replaced.stderr);
    assert.match(replaced.stdout, /it sent them to https:\/\/crm\.example\.com\/taskrouter-events before/);
    assert.equal(fake.workspace(workspace).event_callback_url, 'https://edge.example.com/events');
  });

  test('connect --events on the worker\'s own URL merges the EventsFilter; the Workflow\'s old URL is printed and its fallback kept', async () => {
    const workspace = sid('WS');
    const workflow = sid('WW');
    fake.setWorkspace(workspace, { event_callback_url: 'https://edge.example.com/events', events_filter: 'worker.activity.update,reservation.accepted' });
    fake.setWorkflow(workflow, { assignment_callback_url: 'https://old.example.com/assign', fallback_assignment_callback_url: 'https://fallback.example.com/assign', task_reservation_timeout: 300 });
    const result = await runCli(['connect', '--workspace', workspace, '--workflow', workflow, '--url', 'https://edge.example.com', '--events'], env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const filter = fake.workspace(workspace).events_filter.split(',');
    assert.deepEqual(filter.slice(0, 2), ['worker.activity.update', 'reservation.accepted'], 'the events already chosen are kept');
    assert.ok(filter.includes('task.completed') && filter.includes('reservation.failed'));
    assert.equal(new Set(filter).size, filter.length);
    assert.match(result.stdout, /it sent them to https:\/\/old\.example\.com\/assign before/);
    assert.match(result.stdout, /its fallback URL stays https:\/\/fallback\.example\.com\/assign/);
    assert.match(result.stdout, new RegExp(`WORKFLOW_TIMEOUTS = '\\{"${workflow}": 300\\}'`));
    const posted = fake.requestsTo(`/v1/Workspaces/${workspace}/Workflows/${workflow}`).filter((r) => r.method === 'POST');
    assert.deepEqual(posted.map((r) => Object.keys(r.form)), [['AssignmentCallbackUrl']], 'only the assignment URL is sent: the fallback stays');
    assert.equal(fake.workflow(workflow).fallback_assignment_callback_url, 'https://fallback.example.com/assign');
  });

  test('a refused connection is a clear failure with exit 3', async () => {
    const params = await storedReservation();
    const closed = await freePort();
    const result = await runCli(['accept', params.ReservationSid], { ...env, TWILIO_TASKROUTER_URL: `http://127.0.0.1:${closed}` });
    assert.equal(result.code, 3, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /could not reach Twilio at http:\/\/127\.0\.0\.1:\d+\/v1\/Workspaces\/.* after 4 attempts: connection refused/);
    assert.equal(await storedStatus(params.ReservationSid), 'pending');
  });

  test('two operators accepting one reservation at once: one request reaches TaskRouter, the other is told', async () => {
    const slow = await startFakeTwilio({ delayMs: 400 });
    try {
      const params = await storedReservation();
      const both = await Promise.all([1, 2].map(() => runCli(['accept', params.ReservationSid], { ...env, TWILIO_TASKROUTER_URL: slow.url })));
      const posts = slow.requestsFor(params.ReservationSid).filter((r) => r.method === 'POST');
      assert.equal(posts.length, 1, both.map((r) => r.stdout + r.stderr).join('\n'));
      const said = both.map((r) => r.stdout).join('\n');
      assert.match(said, new RegExp(`✓ ${params.ReservationSid}  accepted`));
      assert.match(said, /WR\w+ is being decided \(accept by operator token via cli, since .*\): nothing was sent to TaskRouter|already accepted, as the worker knows; Twilio was not asked again/);
      assert.equal(await storedStatus(params.ReservationSid), 'accepted');
      // Settled: a later accept is not sent to TaskRouter, and succeeds.
      const later = await until(async () => {
        const result = await runCli(['accept', params.ReservationSid], { ...env, TWILIO_TASKROUTER_URL: slow.url });
        return /already accepted, as the worker knows/.test(result.stdout) && result;
      }, { what: 'the hub to know it was accepted' });
      assert.equal(later.code, 0);
      assert.equal(slow.requestsFor(params.ReservationSid).filter((r) => r.method === 'POST').length, 1);
    } finally {
      await slow.stop();
    }
  });

  test('accept --all-pending works through many reservations concurrently, a bounded number at a time', async () => {
    const slow = await startFakeTwilio({ delayMs: 60 });
    try {
      const stored = [];
      for (let i = 0; i < 12; i += 1) stored.push(await storedReservation());
      const result = await runCli(['accept', '--all-pending', '--concurrency', '4'], { ...env, TWILIO_TASKROUTER_URL: slow.url });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(slow.maxInFlight(), 4);
      for (const params of stored) {
        assert.match(result.stdout, new RegExp(`✓ ${params.ReservationSid}  accepted`));
        assert.equal(await storedStatus(params.ReservationSid), 'accepted');
      }
      assert.match(result.stdout, /\d+ accepted, 0 no longer pending, 0 failed/);
    } finally {
      await slow.stop();
    }
  });

  test('watch --accept follows /live, accepts each new reservation as it arrives, lists nothing, and stops cleanly on Ctrl-C', async () => {
    const listingsBefore = listings();
    const watching = startCli(['watch', '--accept', '--interval', '0.2'], env);
    const arrivals = [await storedReservation(), await storedReservation()];
    await until(() => arrivals.every((p) => watching.stdout().includes(`✓ ${p.ReservationSid}  accepted`)), {
      what: 'watch to accept both arrivals',
    });
    watching.child.kill('SIGINT');
    const { code, stdout } = await watching.done;
    assert.equal(code, 0, stdout);
    for (const params of arrivals) {
      assert.match(stdout, new RegExp(`new  ${params.ReservationSid}  task ${params.TaskSid}`));
      assert.match(stdout, new RegExp(`✓ ${params.ReservationSid}  accepted`));
      assert.equal(await storedStatus(params.ReservationSid), 'accepted');
    }
    assert.match(stdout, /stopped: \d+ seen, \d+ accepted, 0 failed/);
    assert.equal(listings(), listingsBefore, 'pushed over the socket: no listing');
  });

  test('watch lists every --interval only when no socket can be opened (a proxy that refuses upgrades)', async () => {
    const noUpgrades = await checkingProxy(await httpUrl(), { upgrades: false });
    const watching = startCli(['watch', '--accept', '--interval', '0.2'], { ...env, RESERVATIONS_URL: noUpgrades.url });
    const arrival = await storedReservation();
    await until(() => watching.stdout().includes(`✓ ${arrival.ReservationSid}  accepted`), { what: 'watch to accept the arrival by listing' });
    watching.child.kill('SIGINT');
    const { code, stdout } = await watching.done;
    assert.equal(code, 0, stdout);
    assert.match(stdout, /no live connection can be opened \(the worker answered 502 Bad Gateway to the upgrade\): listing every 0\.2s instead/);
    assert.deepEqual(noUpgrades.violations.map(String), []);
  });
});
