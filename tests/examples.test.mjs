// The accept-over-REST scripts of examples/, in Python and in Node, as a Twilio developer would
// run them: against the built worker (through a proxy that checks every answer against
// openapi.json), with Twilio's own helper libraries pointed at Prism serving Twilio's TaskRouter
// description (or at a fake, for Twilio's error answers) through their base URL. `npm test`
// installs twilio-python in .venv (scripts/setup.sh).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, before, describe, test } from 'node:test';

import { AUD, accessToken, keyPair, startAccessProxy, startTeam } from './support/access.mjs';
import { ACCOUNT_SID } from './support/cli.mjs';
import { startFakeTwilio } from './support/fake_twilio.mjs';
import { operatorGet, statusOf } from './support/http.mjs';
import { killOnExit } from './support/lifecycle.mjs';
import { freePort, startedPrism, watchedByPrism } from './support/prism.mjs';
import { BASE, eventParams, signedPost, sid, storedCallback } from './support/twilio.mjs';
import { API_TOKEN, AUTH_TOKEN, checkedHttpUrl, ownWorker, worker } from './support/worker.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = path.join(root, '.venv/bin/python');
const SCRIPTS = {
  Python: [PYTHON, path.join(root, 'examples/accept.py')],
  Node: [process.execPath, path.join(root, 'examples/accept.mjs')],
};

/** Runs a script with only the environment a user would give it; resolves to { code, stdout, stderr }. */
function runScript(language, args, taskrouterUrl, workerUrl, environment = { RESERVATIONS_API_TOKEN: API_TOKEN }) {
  const [program, script] = SCRIPTS[language];
  const env = {
    PATH: process.env.PATH,
    RESERVATIONS_URL: workerUrl,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_TASKROUTER_URL: taskrouterUrl,
    ...environment,
  };
  const child = spawn(program, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A reservation stored in the worker by a signed callback: its parameters. */
const stored = async () => storedCallback(await worker('cli'));
const storedStatus = async (reservationSid) => statusOf(await worker('cli'), reservationSid);

async function pendingSids() {
  const page = await (await operatorGet(await worker('cli'), '/reservations?status=pending&limit=1000')).json();
  return page.reservations.map((summary) => summary.reservation_sid);
}

/** The operator's claim of an accept, as another client would make it. */
async function claim(reservationSid) {
  return (await worker('cli'))(`http://localhost/reservations/${reservationSid}/claim`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: '{"decision":"accept","owner":"another client"}',
  });
}

/** Gives that claim back, with its token. */
async function release(reservationSid, answer) {
  const { token } = await answer.json();
  return (await worker('cli'))(`http://localhost/reservations/${reservationSid}/release`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ claim_token: token }),
  });
}

const reservationPath = (params) => `/v1/Workspaces/${params.WorkspaceSid}/Tasks/${params.TaskSid}/Reservations/${params.ReservationSid}`;

let prism;
let fake;
let workerUrl;
before(async () => {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: scripts/setup.sh creates it (npm test runs it)`);
  workerUrl = (await checkedHttpUrl()).url;
  prism = await startedPrism();
  fake = await startFakeTwilio();
});

// Every answer a script received from the worker was one openapi.json describes.
afterEach(async () => {
  const { violations } = await checkedHttpUrl();
  assert.deepEqual(violations.splice(0).map(String), []);
});

/** Runs a script against Prism; with what Prism saw meanwhile, every request valid by Twilio's spec. */
const againstPrism = (language, args) => watchedByPrism(prism, () => runScript(language, args, prism.url, workerUrl));

for (const language of Object.keys(SCRIPTS)) {
  describe(`examples/accept in ${language}, with Twilio's helper library`, () => {
    test('through Cloudflare Access with a service token (a stand-in for Access): accepted, and the worker records the service token', async () => {
      const key = keyPair('k1');
      const team = await startTeam([key]);
      const behind = await ownWorker({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_URL: BASE, TWILIO_TASKROUTER_URL: fake.url, ACCESS_TEAM_DOMAIN: team.url, ACCESS_AUD: AUD });
      const service = { clientId: `${language.toLowerCase()}.access`, clientSecret: 'its-secret' };
      const proxy = await startAccessProxy(behind.url, team, key, service);
      const params = await storedCallback(behind.fetch);
      const result = await runScript(language, ['--sid', params.ReservationSid], fake.url, proxy, { CF_ACCESS_CLIENT_ID: service.clientId, CF_ACCESS_CLIENT_SECRET: service.clientSecret });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`✓ ${params.ReservationSid}  accepted`));
      const shown = await (await behind.fetch(`${BASE}/reservations/${params.ReservationSid}`, { headers: { 'cf-access-jwt-assertion': accessToken(team, key, { email: 'ana@example.com' }) } })).json();
      assert.deepEqual([shown.status, shown.decided_by], ['accepted', `service token ${service.clientId}`]);
      const missing = await runScript(language, [], fake.url, proxy, {});
      assert.notEqual(missing.code, 0);
      assert.match(missing.stdout + missing.stderr, /set RESERVATIONS_API_TOKEN \(or CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET\)/, 'a missing variable is named, not a stack trace');
      await behind.dispose();
    });

    test('--help names the settings, the Access service token among them; a wrong argument gets the usage, not a stack trace', async () => {
      const [program, script] = SCRIPTS[language];
      const call = (args) => new Promise((resolve) => {
        const child = spawn(program, [script, ...args], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.stderr.on('data', (chunk) => (err += chunk));
        child.once('exit', (code) => resolve({ code, out, err }));
      });
      const help = await call(['--help']);
      assert.equal(help.code, 0);
      assert.match(help.out.replace(/\s+/g, ' '), /CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET/);
      for (const args of [['--bogus'], ['WR0123']]) {
        const wrong = await call(args);
        assert.equal(wrong.code, 2, `${args}: ${wrong.err}`);
        assert.match(wrong.err, /usage/i, `${args}: the usage is shown`);
        assert.doesNotMatch(wrong.err, /\n\s+at |Traceback|node:internal/, `${args}: no stack trace`);
      }
    });

    test('accepts every pending reservation at TaskRouter, and the worker records each', async () => {
      await stored();
      await stored();
      const pending = await pendingSids();
      assert.ok(pending.length >= 2);
      const result = await againstPrism(language, []);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      for (const reservation of pending) {
        assert.match(result.stdout, new RegExp(`✓ ${reservation}  accepted`));
        assert.equal(await storedStatus(reservation), 'accepted');
      }
      assert.deepEqual(result.requests.map((request) => request.method).sort(), pending.map(() => 'POST'));
      assert.deepEqual(await pendingSids(), []);
    });

    test('--sid accepts only the reservations it names, and says which are not pending', async () => {
      const chosen = await stored();
      const other = await stored();
      const unknown = sid('WR');
      const result = await againstPrism(language, ['--sid', chosen.ReservationSid, '--sid', unknown]);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`✓ ${chosen.ReservationSid}  accepted`));
      assert.match(result.stdout, new RegExp(`✗ ${unknown}  not pending in the worker`));
      assert.deepEqual(result.requests.map(({ method, path: asked }) => `${method} ${asked}`), [`POST ${reservationPath(chosen)}`]);
      assert.equal(await storedStatus(chosen.ReservationSid), 'accepted');
      assert.equal(await storedStatus(other.ReservationSid), 'pending');
    });

    test('a reservation no longer pending at Twilio: its real status is recorded, as the CLI does', async () => {
      const timedOut = await stored();
      const alreadyAccepted = await stored();
      fake.behave(timedOut.ReservationSid, 'no_longer_pending');
      fake.behave(alreadyAccepted.ReservationSid, 'already_accepted');
      const result = await runScript(language, ['--sid', timedOut.ReservationSid, '--sid', alreadyAccepted.ReservationSid], fake.url, workerUrl);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`✗ ${timedOut.ReservationSid}  no longer pending: Twilio says it is timeout`));
      assert.match(result.stdout, new RegExp(`✓ ${alreadyAccepted.ReservationSid}  accepted`));
      assert.equal(await storedStatus(timedOut.ReservationSid), 'timeout');
      assert.equal(await storedStatus(alreadyAccepted.ReservationSid), 'accepted');
      // Asked once, then read back: never sent again blindly.
      assert.deepEqual(fake.requestsFor(timedOut.ReservationSid).map((request) => request.method), ['POST', 'GET']);
      assert.equal(fake.requestsFor(timedOut.ReservationSid)[0].form.ReservationStatus, 'accepted');
    });

    test('Twilio refusing leaves the reservation pending and gives the claim back', async () => {
      const refused = await stored();
      fake.behave(refused.ReservationSid, 'unauthorized');
      const result = await runScript(language, ['--sid', refused.ReservationSid], fake.url, workerUrl);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`✗ ${refused.ReservationSid}  Twilio refused: .*Authenticate`));
      assert.equal(await storedStatus(refused.ReservationSid), 'pending');
      // Released: another client may claim the decision now.
      const again = await claim(refused.ReservationSid);
      assert.equal(again.status, 200);
      assert.equal((await release(refused.ReservationSid, again)).status, 200);
    });

    test('nothing reached TaskRouter (connection refused): the claim is given back at once', async () => {
      const unsent = await stored();
      const closed = `http://127.0.0.1:${await freePort()}`;
      const result = await runScript(language, ['--sid', unsent.ReservationSid], closed, workerUrl);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`✗ ${unsent.ReservationSid}  TaskRouter could not be reached, nothing was sent`));
      const again = await claim(unsent.ReservationSid);
      assert.equal(again.status, 200, 'released: another client may decide');
      assert.equal((await release(unsent.ReservationSid, again)).status, 200);
    });

    test('an outcome Twilio leaves unknown keeps the claim this script\'s until the reservation times out', async () => {
      const unknown = await stored();
      fake.behave(unknown.ReservationSid, 'unavailable');
      const result = await runScript(language, ['--sid', unknown.ReservationSid], fake.url, workerUrl);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`✗ ${unknown.ReservationSid}  outcome unknown [\\s\\S]*; yours until \\d{4}-`));
      const held = await (await claim(unknown.ReservationSid)).json();
      assert.equal(held.error.code, 'decision_in_flight');
      assert.equal(held.error.in_flight.owner, `accept.${language === 'Python' ? 'py' : 'mjs'}`);
      // TaskRouter times it out, and says so: the claim ends with the reservation.
      assert.equal((await signedPost(await worker('cli'), '/events', eventParams('reservation.timeout', unknown))).status, 204);
    });

    test('an answer lost after Twilio applied the accept is read back, not sent again', async () => {
      const lost = await stored();
      fake.behave(lost.ReservationSid, 'lost_answer');
      const result = await runScript(language, ['--sid', lost.ReservationSid], fake.url, workerUrl);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`✓ ${lost.ReservationSid}  accepted`));
      assert.deepEqual(fake.requestsFor(lost.ReservationSid).map((request) => request.method), ['POST', 'GET']);
      assert.equal(await storedStatus(lost.ReservationSid), 'accepted');
    });

    test('a reservation another client is deciding is left alone, and said so: TaskRouter is not asked', async () => {
      const busy = await stored();
      const held = await claim(busy.ReservationSid);
      assert.equal(held.status, 200);
      const result = await runScript(language, ['--sid', busy.ReservationSid], fake.url, workerUrl);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`✗ ${busy.ReservationSid}  ${busy.ReservationSid} is being decided \\(accept by operator token via another client, since`));
      assert.deepEqual(fake.requestsFor(busy.ReservationSid), []);
      assert.equal(await storedStatus(busy.ReservationSid), 'pending');
      assert.equal((await release(busy.ReservationSid, held)).status, 200);
    });
  });
}
