// The operator console and the decisions it takes at the edge: POST /reservations/{sid}/accept
// and …/reject, GET /activities, against Prism serving Twilio's description (and the error fake
// for what Prism cannot do), then the page itself in a real Chromium driven by puppeteer-core.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import puppeteer from 'puppeteer-core';

import { AUD, keyPair, startSignedInProxy, startTeam } from './support/access.mjs';
import { startFakeTwilio } from './support/fake_twilio.mjs';
import { assertError, statusOf } from './support/http.mjs';
import { onStop } from './support/lifecycle.mjs';
import { checkAnswer } from './support/openapi.mjs';
import { freePort, prismRequests, startedPrism } from './support/prism.mjs';
import { BASE, assignmentParams, eventParams, sid, signedPost, storedCallback } from './support/twilio.mjs';
import { API_TOKEN, AUTH_TOKEN, ownWorker } from './support/worker.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCREENSHOTS = path.join(root, 'target/console');
const XSS = '<img src=x onerror=alert(1)>';

function chromePath() {
  if (process.env.CHROME_PATH) return process.env.CHROME_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const bindings = (taskrouterUrl) => ({
  TWILIO_AUTH_TOKEN: AUTH_TOKEN,
  RESERVATIONS_API_TOKEN: API_TOKEN,
  PUBLIC_URL: BASE,
  TWILIO_TASKROUTER_URL: taskrouterUrl,
});

const callback = (edge, overrides = {}) => storedCallback(edge.fetch, assignmentParams(overrides));

function decide(edge, reservationSid, decision, body = {}, token = API_TOKEN) {
  return edge.fetch(`${BASE}/reservations/${reservationSid}/${decision}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const storedStatus = (edge, reservationSid) => statusOf(edge.fetch, reservationSid);

let prism;
let fake;
let viaPrism;
let viaFake;
let quickTimeout;

before(async () => {
  prism = await startedPrism();
  fake = await startFakeTwilio();
  viaPrism = await ownWorker(bindings(prism.url));
  viaFake = await ownWorker(bindings(fake.url));
  // Reservations that TaskRouter would time out after 3 s.
  quickTimeout = await ownWorker({ ...bindings(fake.url), RESERVATION_TIMEOUT_SECONDS: '3' });
});

describe('accept and reject at the edge', () => {
  test('accept sends Twilio a valid update with Basic auth as the callback\'s account, then records it', async () => {
    const params = await callback(viaFake);
    const response = await decide(viaFake, params.ReservationSid, 'accept');
    assert.equal(response.status, 200, await response.clone().text());
    const answer = await response.json();
    assert.deepEqual([answer.twilio_status, answer.recorded, answer.reservation.status], ['accepted', true, 'accepted']);
    const [sent] = fake.requestsFor(params.ReservationSid);
    assert.equal(sent.path, `/v1/Workspaces/${params.WorkspaceSid}/Tasks/${params.TaskSid}/Reservations/${params.ReservationSid}`);
    assert.deepEqual(sent.form, { ReservationStatus: 'accepted' });
    assert.equal(sent.authorization, `Basic ${Buffer.from(`${params.AccountSid}:${AUTH_TOKEN}`).toString('base64')}`);
    assert.equal(await storedStatus(viaFake, params.ReservationSid), 'accepted');
  });

  test('Prism, serving Twilio\'s description, finds the accept and the reject with an activity valid', async () => {
    const accepted = await callback(viaPrism);
    const rejected = await callback(viaPrism);
    const mark = prism.mark();
    assert.equal((await decide(viaPrism, accepted.ReservationSid, 'accept')).status, 200);
    const activity = sid('WA');
    assert.equal((await decide(viaPrism, rejected.ReservationSid, 'reject', { activity_sid: activity })).status, 200);
    const seen = prismRequests(prism.logSince(mark)).filter((r) => r.method === 'POST');
    assert.equal(seen.length, 2, prism.logSince(mark));
    assert.ok(seen.every((r) => r.valid === true), prism.logSince(mark));
    assert.equal(await storedStatus(viaPrism, rejected.ReservationSid), 'rejected');
  });

  test('a reservation no longer pending at Twilio is recorded with its real status: 409', async () => {
    const params = await callback(viaFake);
    fake.behave(params.ReservationSid, 'no_longer_pending');
    const response = await decide(viaFake, params.ReservationSid, 'accept');
    const body = await assertError(response, 409, 'no_longer_pending');
    assert.equal(body.error.twilio_status, 'timeout');
    assert.equal(await storedStatus(viaFake, params.ReservationSid), 'timeout');
  });

  test('429 is retried within the request; Twilio\'s refusals are named; nothing is recorded', async () => {
    const limited = await callback(viaFake);
    fake.behave(limited.ReservationSid, 'rate_limited');
    assert.equal((await decide(viaFake, limited.ReservationSid, 'accept')).status, 200);
    assert.equal(fake.requestsFor(limited.ReservationSid).length, 3);

    const unauthorized = await callback(viaFake);
    fake.behave(unauthorized.ReservationSid, 'unauthorized');
    const body = await assertError(await decide(viaFake, unauthorized.ReservationSid, 'accept'), 502, 'twilio_refused');
    assert.match(body.error.message, /Twilio rejected the credentials.*\[error 20003\]: Authenticate/);
    assert.equal(body.error.twilio.code, 20003);
    assert.equal(await storedStatus(viaFake, unauthorized.ReservationSid), 'pending');
    assert.ok(!JSON.stringify(body).includes(AUTH_TOKEN));
  });

  for (const behaviour of ['lost_answer', 'dropped']) {
    test(`an update applied whose answer was lost (${behaviour}) is read back, not sent again: recorded accepted`, async () => {
      const params = await callback(viaFake);
      fake.behave(params.ReservationSid, behaviour);
      const response = await decide(viaFake, params.ReservationSid, 'accept');
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal((await response.json()).twilio_status, 'accepted');
      assert.deepEqual(fake.requestsFor(params.ReservationSid).map((r) => r.method), ['POST', 'GET']);
      assert.equal(await storedStatus(viaFake, params.ReservationSid), 'accepted');
    });
  }

  test('an unreachable TaskRouter: 502 naming the URL and the runtime\'s own reason, and that nothing changed', async () => {
    const closed = await ownWorker(bindings(`http://127.0.0.1:${await freePort()}`));
    const params = await callback(closed);
    const body = await assertError(await decide(closed, params.ReservationSid, 'accept'), 502, 'twilio_unreachable');
    // The runtime's words for a refused connection reach the operator, not a placeholder.
    assert.doesNotMatch(body.error.message, /without a message/);
    assert.match(body.error.message, /could not reach Twilio after 4 attempts at http:\/\/127\.0\.0\.1:\d+\/v1\/Workspaces\/.*: \S.*\. Nothing changed/);
    assert.equal(await storedStatus(closed, params.ReservationSid), 'pending');
    await closed.dispose();
  });

  test('bad requests: no token, unknown reservation, activity on accept, malformed activity', async () => {
    const params = await callback(viaFake);
    await assertError(await decide(viaFake, params.ReservationSid, 'accept', {}, 'wrong'), 401, 'unauthorized');
    await assertError(await decide(viaFake, sid('WR'), 'accept'), 404, 'reservation_not_found');
    await assertError(await decide(viaFake, params.ReservationSid, 'accept', { activity_sid: sid('WA') }), 400, 'invalid_json');
    await assertError(await decide(viaFake, params.ReservationSid, 'reject', { activity_sid: 'WAnope' }), 400, 'invalid_sid');
    await assertError(await decide(viaFake, params.ReservationSid, 'reject', { status: 'x' }), 400, 'invalid_json');
    assert.equal(fake.requestsFor(params.ReservationSid).length, 0, 'Twilio was never asked');
  });

  test('/health says how accept and reject sign in to TaskRouter, and where, without a secret', async () => {
    const health = await (await viaFake.fetch(`${BASE}/health`)).json();
    assert.equal(health.configuration.accept_at_the_edge, "each reservation's AccountSid and TWILIO_AUTH_TOKEN");
    assert.equal(health.configuration.TWILIO_TASKROUTER_URL, fake.url);
    assert.ok(!JSON.stringify(health).includes(AUTH_TOKEN));
  });

  test('GET /activities lists the reservation\'s Workspace\'s activities from Twilio', async () => {
    const params = await callback(viaPrism);
    const mark = prism.mark();
    const response = await viaPrism.fetch(`${BASE}/activities?reservation_sid=${params.ReservationSid}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    assert.equal(response.status, 200, await response.clone().text());
    const body = await response.json();
    assert.equal(body.workspace_sid, params.WorkspaceSid);
    assert.ok(body.activities.length > 0 && body.activities.every((a) => /^WA[0-9a-f]{32}$/i.test(a.sid) && typeof a.friendly_name === 'string'));
    const [seen] = prismRequests(prism.logSince(mark));
    assert.equal(seen.path.split('?')[0], `/v1/Workspaces/${params.WorkspaceSid}/Activities`);
    assert.equal(seen.valid, true);
    await assertError(await viaPrism.fetch(`${BASE}/activities`, { headers: { authorization: `Bearer ${API_TOKEN}` } }), 400, 'invalid_query');
  });
});

describe('the console page', () => {
  const executablePath = chromePath();
  let browser;
  const checks = [];
  const violations = [];

  before(async () => {
    if (!executablePath) return;
    browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    onStop(() => browser.close());
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(() => browser?.close());

  /**
   * A fresh tab (its own storage) on `edge`'s page, with dialogs, errors and every request to the
   * listing recorded.
   */
  async function open(edge, { width = 1100, height = 720 } = {}) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width, height });
    const seen = { dialogs: [], errors: [], listings: 0 };
    page.on('dialog', async (dialog) => {
      seen.dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    page.on('pageerror', (error) => seen.errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && seen.errors.push(message.text()));
    page.on('request', (request) => new URL(request.url()).pathname === '/reservations' && (seen.listings += 1));
    // Every answer the page receives from the worker is checked against openapi.json, as the
    // suites' own requests are; the last test asserts that none broke it.
    page.on('response', (response) => {
      if (!response.url().startsWith(`${edge.url}/`)) return;
      // A body the browser no longer holds (the tab closed as it arrived, or a socket's upgrade)
      // cannot be checked; its reading is bounded so that the last test never waits on it.
      const unread = new Promise((resolve) => setTimeout(resolve, 5000, null).unref());
      checks.push(Promise.race([response.text().catch(() => null), unread]).then((body) => {
        if (body === null) return;
        try {
          checkAnswer(response.request().method(), response.url(), { status: response.status(), headers: new Headers(response.headers()), body });
        } catch (error) {
          violations.push(error.message);
        }
      }));
    });
    const response = await page.goto(`${edge.url}/`);
    return { page, seen, response, context };
  }

  async function signIn(page, token) {
    await page.waitForSelector('#token', { visible: true });
    await page.type('#token', token);
    await page.keyboard.press('Enter');
  }

  /** Signs in and waits until the page is live on the hub. */
  async function live(page) {
    await signIn(page, API_TOKEN);
    await page.waitForFunction(() => document.querySelector('#connection').className === 'live', { timeout: 5000 });
  }

  const row = (reservationSid) => `#reservations li[data-sid="${reservationSid}"]`;
  const text = (page, selector) => page.$eval(selector, (node) => node.textContent);
  const count = (page, outcome) => page.$eval(`#counts [data-outcome="${outcome}"] strong`, (node) => Number(node.textContent));

  test('browser', { skip: !executablePath && 'NO BROWSER: install chromium or set CHROME_PATH; the console was NOT tested in a browser' }, async (t) => {
    await t.test('is served with a strict CSP and runs no inline script', async () => {
      const { response, seen, context } = await open(viaPrism);
      const headers = response.headers();
      const csp = headers['content-security-policy'];
      for (const directive of ["script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "default-src 'none'"]) assert.ok(csp.includes(directive), csp);
      assert.ok(!csp.includes('unsafe'), csp);
      assert.equal(headers['x-content-type-options'], 'nosniff');
      assert.deepEqual(seen.errors, []);
      await context.close();
    });

    await t.test('live: a callback shows within 1 s with the agent, queue, age, priority and what tells rows apart; accept by keyboard', async () => {
      const { page, seen, context } = await open(viaPrism);
      await live(page);
      assert.equal(await page.evaluate(() => document.cookie), '');
      assert.ok(!page.url().includes(API_TOKEN));
      assert.equal(await page.evaluate(() => sessionStorage.getItem('taskrouter-edge:operator-token')), API_TOKEN);

      await callback(viaPrism, { TaskAttributes: JSON.stringify({ type: 'support', name: 'Bob', language: 'es' }), TaskQueueName: 'Support' });
      const sent = Date.now();
      const params = await callback(viaPrism, {
        TaskAttributes: JSON.stringify({ type: 'support', name: XSS, language: 'en' }),
        WorkerName: 'Alice Smith',
        TaskQueueName: 'Support',
        TaskPriority: '7',
        TaskAge: '65',
      });
      await page.waitForSelector(row(params.ReservationSid), { timeout: 1000 });
      assert.ok(Date.now() - sent < 1000);

      assert.equal(await text(page, `${row(params.ReservationSid)} .agent`), 'Alice Smith');
      const task = await text(page, `${row(params.ReservationSid)} .task`);
      assert.ok(task.startsWith('language: en · name: <img'), `the attributes that differ first: ${task}`);
      assert.ok(task.includes(XSS), 'as text');
      assert.equal(await page.$$eval('#reservations img', (images) => images.length), 0);
      const meta = await text(page, `${row(params.ReservationSid)} .meta`);
      assert.match(meta, /^queue Support · priority 7 · age 1:0\d · WR/);
      assert.match(await text(page, `${row(params.ReservationSid)} .countdown`), /^\d+:\d\d left$/);
      assert.equal((await page.$$eval('#reservations li', (items) => items.map((item) => item.dataset.sid)))[0], params.ReservationSid, 'newest first');
      const waiting = Number((await text(page, '#waiting')).split(' ')[0]);
      assert.ok(waiting >= 2);
      assert.equal(await page.title(), `(${waiting}) Reservations · taskrouter-edge`);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'console-desktop.png') });

      const mark = prism.mark();
      await page.focus(`${row(params.ReservationSid)} .accept`);
      await page.keyboard.press('Enter');
      await page.waitForFunction((selector) => /accepted by Twilio/.test(document.querySelector(`${selector} .outcome`)?.textContent ?? ''), { timeout: 10_000 }, row(params.ReservationSid));
      assert.ok(await page.$eval(row(params.ReservationSid), (node) => node.classList.contains('done')));
      const posted = prismRequests(prism.logSince(mark)).filter((r) => r.method === 'POST');
      assert.deepEqual(posted.map((r) => [r.path, r.valid]), [[`/v1/Workspaces/${params.WorkspaceSid}/Tasks/${params.TaskSid}/Reservations/${params.ReservationSid}`, true]]);
      assert.equal(await storedStatus(viaPrism, params.ReservationSid), 'accepted');
      assert.equal(seen.listings, 0, 'live: no listing request at all');
      assert.deepEqual(seen.dialogs, [], 'the attribute ran nothing');
      assert.deepEqual(seen.errors, []);

      await page.setViewport({ width: 360, height: 740 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const first = await page.$eval('#reservations li', (node) => node.getBoundingClientRect().bottom);
      assert.ok(first <= 740, `the first reservation is visible without scrolling at 360 px (its bottom at ${first})`);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling at 360 px');
      assert.ok(await page.$eval('header', (node) => node.getBoundingClientRect().height < 60), 'the header holds on one line');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'console-360.png') });
      await context.close();
    });

    await t.test('two pages: callbacks in both within 1 s with no listing; an accept in one shows in the other; the day moves', async () => {
      const edge = await ownWorker(bindings(fake.url));
      const pages = [await open(edge), await open(edge, { width: 360, height: 740 })];
      for (const { page } of pages) await live(page);
      const accepted = await callback(edge, { WorkerName: 'Alice' });
      const timedOut = await callback(edge, { WorkerName: 'Bob' });
      for (const { page } of pages) {
        await page.waitForSelector(row(accepted.ReservationSid), { timeout: 1000 });
        await page.waitForSelector(row(timedOut.ReservationSid), { timeout: 1000 });
      }
      const [one, other] = pages.map(({ page }) => page);
      await one.click(`${row(accepted.ReservationSid)} .accept`);
      await other.waitForFunction((selector) => /Accepted/.test(document.querySelector(`${selector} .outcome`)?.textContent ?? ''), { timeout: 5000 }, row(accepted.ReservationSid));
      assert.ok(await other.$eval(`${row(accepted.ReservationSid)} .accept`, (button) => button.disabled));
      await other.waitForFunction(() => Number(document.querySelector('#counts [data-outcome="accepted"] strong')?.textContent) === 1, { timeout: 5000 });
      assert.equal(await count(other, 'timeout'), 0);
      await signedPost(edge.fetch, '/events', eventParams('reservation.timeout', timedOut));
      for (const page of [one, other]) {
        await page.waitForFunction(() => Number(document.querySelector('#counts [data-outcome="timeout"] strong')?.textContent) === 1, { timeout: 5000 });
        assert.match(await page.$eval('#accept-times', (node) => node.textContent), /^Time to accept: median [\d.]+ s, 90th percentile [\d.]+ s\.$/);
        assert.ok(Number(await page.$eval('#chart', (node) => node.dataset.bars)) >= 2, 'the chart has a bar for each outcome');
        const marks = await page.$$eval('#chart-axis span', (spans) => spans.map((span) => span.textContent));
        assert.equal(marks.length, 5, 'a time axis under the chart');
        for (const mark of marks.slice(0, 4)) assert.match(mark, /\d{1,2}[:.]\d{2}/, `a clock time: ${marks}`);
        assert.match(marks[4], /^now · tallest bar \d+$/);
        await page.waitForSelector(`#recent li[data-sid="${timedOut.ReservationSid}"]`, { timeout: 5000 });
      }
      assert.match(await other.$eval(`#recent li[data-sid="${timedOut.ReservationSid}"]`, (node) => node.textContent), /^Bob · timeout \d+ s after it arrived, at /);
      await other.waitForSelector(`#recent li[data-sid="${accepted.ReservationSid}"]`, { timeout: 5000 });
      assert.match(await other.$eval(`#recent li[data-sid="${accepted.ReservationSid}"]`, (node) => node.textContent), /^Alice · accepted by operator token \d+ s after it arrived, at /, 'who decided');
      assert.deepEqual(pages.map(({ seen }) => seen.listings), [0, 0], 'no GET /reservations after the first load');
      assert.deepEqual(pages.flatMap(({ seen }) => seen.errors), []);
      for (const { context } of pages) await context.close();
      await edge.dispose();
    });

    await t.test('the server closes the sockets: the pages say so, reconnect, and show what they missed', async () => {
      const state = mkdtempSync(path.join(tmpdir(), 'taskrouter-edge-console-'));
      onStop(() => rmSync(state, { recursive: true, force: true }));
      const edge = await ownWorker(bindings(fake.url), { resourcePersistencePath: state });
      const pages = [await open(edge), await open(edge)];
      for (const { page } of pages) await live(page);
      const before = await callback(edge);
      for (const { page } of pages) await page.waitForSelector(row(before.ReservationSid), { timeout: 1000 });
      for (const { page } of pages) await page.setOfflineMode(true);
      await edge.restart();
      for (const { page } of pages) await page.waitForFunction(() => document.querySelector('#connection').className === 'reconnecting', { timeout: 5000 });
      const missed = await callback(edge);
      await signedPost(edge.fetch, '/events', eventParams('reservation.canceled', before));
      for (const { page } of pages) await page.setOfflineMode(false);
      for (const { page } of pages) {
        await page.waitForSelector(row(missed.ReservationSid), { timeout: 40_000 });
        await page.waitForFunction(() => document.querySelector('#connection').className === 'live', { timeout: 5000 });
        assert.match(await text(page, '#missed'), /^While reconnecting: 1 arrived, 1 canceled\.$/);
        assert.equal(await text(page, `${row(missed.ReservationSid)} .badge`), 'arrived while reconnecting');
        assert.match(await text(page, `${row(before.ReservationSid)} .outcome`), /^Canceled while reconnecting\.$/);
      }
      assert.deepEqual(pages.map(({ seen }) => seen.listings), [0, 0]);
      for (const { context } of pages) await context.close();
      await edge.dispose();
    });

    await t.test('a name holding bidi controls or other format characters is shown with them written out, not obeyed', async () => {
      const { page, context } = await open(viaFake);
      await live(page);
      const tricky = await callback(viaFake, { WorkerName: '\u202Eecila ot dengissa', TaskQueueName: 'Sales\u200B\u2066x', TaskAttributes: JSON.stringify({ note: 'a\u202Bb' }) });
      await page.waitForSelector(row(tricky.ReservationSid), { timeout: 1000 });
      const shown = await text(page, row(tricky.ReservationSid));
      assert.doesNotMatch(shown, /[\u202A-\u202E\u2066-\u2069\u200B]/, 'no format character reaches the page raw');
      assert.match(shown, /⟨U\+202E⟩ecila ot dengissa/);
      assert.match(shown, /queue Sales⟨U\+200B⟩⟨U\+2066⟩x/);
      assert.match(shown, /note: a⟨U\+202B⟩b/);
      const ordinary = await callback(viaFake, { WorkerName: 'Zoë\u200D👩\u200D💻 نیم\u200Cفاصله' });
      await page.waitForSelector(row(ordinary.ReservationSid), { timeout: 1000 });
      assert.match(await text(page, `${row(ordinary.ReservationSid)} .agent`), /^Zoë\u200D👩\u200D💻 نیم\u200Cفاصله$/, 'ZWJ and ZWNJ, which scripts and emoji need, stay');
      await context.close();
    });

    await t.test('a new reservation is announced, unless the supervisor turned it off', async () => {
      const { page, context } = await open(viaFake);
      await live(page);
      assert.ok(await page.$eval('#announce', (box) => box.checked), 'on by default');
      const first = await callback(viaFake, { WorkerName: 'Carol', TaskQueueName: 'Sales' });
      await page.waitForFunction(() => /New reservation for Carol, queue Sales\./.test(document.querySelector('#announcer').textContent), { timeout: 1000 });
      const announced = await page.evaluate(() => Number(document.body.dataset.announced));
      await page.click('#announce');
      const second = await callback(viaFake, { WorkerName: 'Dave' });
      await page.waitForSelector(row(second.ReservationSid), { timeout: 1000 });
      assert.equal(await page.evaluate(() => Number(document.body.dataset.announced)), announced, 'not announced once turned off');
      assert.doesNotMatch(await text(page, '#announcer'), /Dave/);
      await page.reload();
      await page.waitForSelector(row(first.ReservationSid), { timeout: 5000 });
      assert.equal(await page.$eval('#announce', (box) => box.checked), false, 'the choice is kept');
      await context.close();
    });

    await t.test('reject offers the Workspace\'s activities, and sends the one chosen by keyboard', async () => {
      const { page, seen, context } = await open(viaPrism);
      await live(page);
      const params = await callback(viaPrism);
      await page.waitForSelector(row(params.ReservationSid), { timeout: 1000 });
      await page.focus(`${row(params.ReservationSid)} .reject`);
      await page.keyboard.press('Enter');
      const select = `${row(params.ReservationSid)} .activity select`;
      await page.waitForFunction((selector) => document.querySelector(selector)?.options.length > 1, { timeout: 5000 }, select);
      const chosen = await page.$eval(select, (node) => node.options[1].value);
      assert.match(chosen, /^WA[0-9a-f]{32}$/i);
      assert.equal(await page.evaluate(() => document.activeElement.tagName), 'SELECT', 'the menu has the focus');
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.$eval(select, (node) => node.value), chosen);
      const mark = prism.mark();
      await page.focus(`${row(params.ReservationSid)} .reject`);
      await page.keyboard.press('Enter');
      await page.waitForFunction((selector) => /rejected by Twilio/.test(document.querySelector(`${selector} .outcome`)?.textContent ?? ''), { timeout: 10_000 }, row(params.ReservationSid));
      const posted = prismRequests(prism.logSince(mark)).filter((r) => r.method === 'POST');
      assert.deepEqual(posted.map((r) => r.valid), [true]);
      assert.equal(await storedStatus(viaPrism, params.ReservationSid), 'rejected');
      assert.deepEqual(seen.errors, []);
      await context.close();
    });

    await t.test('a reservation past its timeout is greyed out as expired, without a reload', async () => {
      const { page, context } = await open(quickTimeout);
      await live(page);
      const params = await callback(quickTimeout);
      await page.waitForSelector(row(params.ReservationSid), { timeout: 1000 });
      await page.waitForFunction((selector) => {
        const node = document.querySelector(selector);
        return node?.classList.contains('done') && /Expired/.test(node.querySelector('.outcome').textContent);
      }, { timeout: 8000 }, row(params.ReservationSid));
      assert.ok(await page.$eval(`${row(params.ReservationSid)} .accept`, (button) => button.disabled));
      assert.ok(await count(page, 'expired') >= 1, 'the day counts it as expired');
      // A page opened now learns the count from the hub's snapshot, not from watching it expire.
      const fresh = await open(quickTimeout);
      await live(fresh.page);
      await fresh.page.waitForSelector('#counts [data-outcome="expired"]', { timeout: 5000 });
      assert.ok(await count(fresh.page, 'expired') >= 1, 'the hub counts it too');
      assert.match(await text(fresh.page, '#counts'), /expired without an event/);
      await fresh.context.close();
      await context.close();
    });

    await t.test('a wrong token is told, and the token is asked again', async () => {
      const { page, context } = await open(viaPrism);
      await signIn(page, 'not-the-token');
      await page.waitForFunction(() => /refused this operator token \(401\)/.test(document.querySelector('#problem').textContent), { timeout: 5000 });
      assert.ok(await page.$eval('#sign-in', (form) => !form.hidden));
      assert.equal(await page.evaluate(() => sessionStorage.getItem('taskrouter-edge:operator-token')), null);
      await context.close();
    });

  });

  // Split from the test above so that neither nears the runner's time limit for one test.
  test('browser, when things go wrong', { skip: !executablePath && 'NO BROWSER: install chromium or set CHROME_PATH; the console was NOT tested in a browser' }, async (t) => {
    await t.test('Twilio\'s 400 not-pending shows the real status; TaskRouter out of reach says so; an unreachable worker is told', async () => {
      const { page, context } = await open(viaFake, { width: 360, height: 740 });
      await live(page);
      const params = await callback(viaFake);
      fake.behave(params.ReservationSid, 'no_longer_pending');
      await page.waitForSelector(row(params.ReservationSid), { timeout: 1000 });
      await page.click(`${row(params.ReservationSid)} .accept`);
      await page.waitForFunction((selector) => /No longer pending: Twilio says it is timeout/.test(document.querySelector(`${selector} .outcome`)?.textContent ?? ''), { timeout: 10_000 }, row(params.ReservationSid));
      await context.close();

      const offline = await ownWorker(bindings(`http://127.0.0.1:${await freePort()}`));
      const tab = await open(offline);
      await live(tab.page);
      const stuck = await callback(offline);
      await tab.page.waitForSelector(row(stuck.ReservationSid), { timeout: 1000 });
      await tab.page.click(`${row(stuck.ReservationSid)} .accept`);
      await tab.page.waitForFunction((selector) => /Not done: TaskRouter could not be reached \(.*http:\/\/127\.0\.0\.1:\d+\/v1\/.*\)\. Nothing changed/.test(document.querySelector(`${selector} .outcome`)?.textContent ?? ''), { timeout: 10_000 }, row(stuck.ReservationSid));
      assert.equal(await tab.page.$eval(`${row(stuck.ReservationSid)} .accept`, (button) => button.disabled), false, 'it can be tried again');
      const said = await text(tab.page, `${row(stuck.ReservationSid)} .outcome`);
      assert.doesNotMatch(said, /internal error; reference/, `the runtime's placeholder is not shown: ${said}`);
      for (const [width, height] of [[1280, 800], [360, 740]]) {
        await tab.page.setViewport({ width, height });
        const wide = await tab.page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= width, `no sideways scroll at ${width} px with TaskRouter's longest message (the page is ${wide} px wide): ${said}`);
      }
      await offline.dispose();
      await tab.page.waitForFunction(() => /cannot reach the worker/.test(document.querySelector('#problem').textContent) && document.querySelector('#connection').className === 'reconnecting', { timeout: 10_000 });
      await tab.context.close();
    });

    await t.test('an outcome Twilio leaves unknown is the operator\'s own decision: said so, with when it can be tried again', async () => {
      const { page, context } = await open(viaFake);
      await live(page);
      const params = await callback(viaFake);
      fake.behave(params.ReservationSid, 'unavailable');
      await page.waitForSelector(row(params.ReservationSid), { timeout: 1000 });
      await page.click(`${row(params.ReservationSid)} .accept`);
      const said = await page.waitForFunction((selector) => {
        const text = document.querySelector(`${selector} .outcome`)?.textContent ?? '';
        return /^Your accept: its outcome is unknown .*It stays yours until .*; try again then if it is still pending/.test(text) && text;
      }, { timeout: 20_000 }, row(params.ReservationSid));
      assert.doesNotMatch(await said.jsonValue(), /[Ss]omeone else/);
      assert.equal(await page.$eval(`${row(params.ReservationSid)} .accept`, (button) => button.disabled), true, 'not before its claim ends');
      await context.close();
    });

    await t.test('events that never come: a reservation past its timeout with no event for longer is said plainly, with the likely cause', async () => {
      const silent = await ownWorker({ ...bindings(fake.url), RESERVATION_TIMEOUT_SECONDS: '2' });
      const { page, context, seen } = await open(silent, { width: 360, height: 740 });
      await live(page);
      await page.waitForFunction(() => /^Events: Event Callback URL never · Event Streams never · catch-up every 60 s, none yet$/.test(document.querySelector('#channels').textContent), { timeout: 5000 });
      assert.equal(await page.$eval('#silent', (node) => node.hidden), true, 'nothing to warn of while nothing is overdue');
      const params = await callback(silent);
      await page.waitForSelector(row(params.ReservationSid), { timeout: 2000 });
      await page.waitForFunction(() => !document.querySelector('#silent').hidden, { timeout: 10_000 });
      const warning = await text(page, '#silent');
      assert.match(warning, /^No event from TaskRouter has arrived on any channel, and 1 reservation passed its timeout with nothing said of it\./);
      assert.match(warning, /Event Callback URL most likely points to another system, or to nothing.*reservations connect --event-streams/);
      assert.match(warning, /the hub reads TaskRouter every 60 s/);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scroll at 360 px');
      assert.deepEqual(seen.errors, []);
      await context.close();
      await silent.dispose();
    });

    await t.test('a worker without its operator token says so, and never claims that nothing is pending', async () => {
      const { RESERVATIONS_API_TOKEN: _, ...withoutToken } = bindings(fake.url);
      const unset = await ownWorker(withoutToken);
      await callback(unset);
      const { page, context } = await open(unset);
      await signIn(page, 'any-token');
      await page.waitForFunction(() => /The worker cannot show reservations yet: .*RESERVATIONS_API_TOKEN.*this is not "nothing pending"/.test(document.querySelector('#problem').textContent), { timeout: 5000 });
      assert.equal(await page.$eval('#empty', (node) => node.hidden), true, '"Nothing pending" is not shown');
      assert.doesNotMatch(await text(page, '#waiting'), /0 waiting/);
      await context.close();
      await unset.dispose();
    });

    await t.test('without a hub, the page says nothing can be decided here and names Twilio\'s console; TaskRouter is still answered', async () => {
      const hubless = await ownWorker(bindings(fake.url), { worker: { durableObjects: {} } });
      const { page, context } = await open(hubless);
      await signIn(page, API_TOKEN);
      await page.waitForFunction(() => /The hub is not available.*decide in Twilio's console meanwhile/.test(document.querySelector('#problem').textContent), { timeout: 5000 });
      assert.equal(await page.$eval('#connection', (node) => node.className), 'reconnecting');
      const params = await callback(hubless);
      assert.ok(params.ReservationSid, 'the callback was answered 200 all the same');
      await context.close();
      await hubless.dispose();
    });

    await t.test('behind Access: no token to paste, who is signed in and Access\'s sign-out, and the decision says who', async () => {
      const key = keyPair('k1');
      const team = await startTeam([key]);
      const behind = await ownWorker({ ...bindings(fake.url), ACCESS_TEAM_DOMAIN: team.url, ACCESS_AUD: AUD });
      const url = await startSignedInProxy(behind.url, team, key, 'ana@example.com');
      const { page, context, seen } = await open({ url });
      await page.waitForFunction(() => document.querySelector('#connection').className === 'live', { timeout: 5000 });
      assert.equal(await page.$eval('#sign-in', (node) => node.hidden), true, 'no token asked');
      assert.equal(await text(page, '#who-name'), 'Signed in as ana@example.com');
      assert.equal(await page.$eval('#access-sign-out', (node) => node.getAttribute('href')), '/cdn-cgi/access/logout');
      const params = await callback(behind);
      await page.waitForSelector(row(params.ReservationSid), { timeout: 2000 });
      await page.click(`${row(params.ReservationSid)} .accept`);
      await page.waitForSelector(`#recent li[data-sid="${params.ReservationSid}"]`, { timeout: 5000 });
      assert.match(await text(page, `#recent li[data-sid="${params.ReservationSid}"]`), /accepted by ana@example\.com \d+ s after it arrived/);
      assert.deepEqual(seen.errors, []);
      await context.close();
      await behind.dispose();
    });

    await t.test('every answer the pages received is one openapi.json describes', async () => {
      await Promise.all(checks);
      assert.ok(checks.length > 50, `only ${checks.length} answers were seen`);
      assert.deepEqual(violations, []);
    });
  });
});
