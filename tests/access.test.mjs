// Cloudflare Access as the way in: the worker checks the JWT Access puts on each request (RS256
// by a key of the team's JWKS, `iss`, `aud`, `exp`, `nbf`), records who decided, and refuses every
// way a token can be wrong, saying which check failed and never the token. The team's JWKS is
// served locally and tokens are signed by node's crypto (tests/support/access.mjs).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { AUD, accessToken, hs256WithPublicKey, keyPair, startAccessProxy, startTeam } from './support/access.mjs';
import { cliEnv, runCli } from './support/cli.mjs';
import { startFakeTwilio } from './support/fake_twilio.mjs';
import { assertError } from './support/http.mjs';
import { freePort } from './support/prism.mjs';
import { BASE, assignmentParams, signedPost } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { API_TOKEN, AUTH_TOKEN, ownWorker } from './support/worker.mjs';

const K1 = keyPair('k1');
const K2 = keyPair('k2');
const STRANGER = keyPair('k1');

let team;
let fake;
let edge;

const bindings = (extra = {}) => ({
  TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, PUBLIC_URL: BASE, TWILIO_TASKROUTER_URL: fake.url,
  ACCESS_TEAM_DOMAIN: team.url, ACCESS_AUD: AUD, ...extra,
});

const as = (token) => (token === undefined ? {} : { 'cf-access-jwt-assertion': token });
const get = (worker, path, headers = {}) => worker.fetch(`${BASE}${path}`, { headers });
const post = (worker, path, body, headers = {}) => worker.fetch(`${BASE}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});

before(async () => {
  team = await startTeam([K1]);
  fake = await startFakeTwilio();
  edge = await ownWorker(bindings());
});

describe('Access as the way in', () => {
  test('a person signed in through Access decides, and the decision says who', async () => {
    const ana = accessToken(team, K1, { email: 'ana@example.com' });
    const me = await (await get(edge, '/me', as(ana))).json();
    assert.deepEqual(me, { actor: 'ana@example.com', via: 'access', sign_out: '/cdn-cgi/access/logout' });
    const params = assignmentParams();
    assert.equal((await signedPost(edge.fetch, '/assignment_callback', params)).status, 200, 'TaskRouter never needs Access');
    const listed = await (await get(edge, '/reservations?status=pending', as(ana))).json();
    assert.ok(listed.reservations.some((r) => r.reservation_sid === params.ReservationSid));
    const decided = await post(edge, `/reservations/${params.ReservationSid}/accept`, {}, as(ana));
    assert.equal(decided.status, 200, await decided.clone().text());
    const shown = await (await get(edge, `/reservations/${params.ReservationSid}`, as(ana))).json();
    assert.deepEqual([shown.status, shown.decided_by], ['accepted', 'ana@example.com']);
    const lines = edge.output.filter((line) => line.includes('"route":"/reservations/{sid}/accept"'));
    assert.ok(lines.some((line) => line.includes('"actor":"ana@example.com"')), 'the log line says who');
    assert.ok(!edge.output.join('\n').includes(ana.split('.')[2]), 'the token never reaches a log');
  });

  test('a claim in flight says whose it is', async () => {
    const params = assignmentParams();
    await signedPost(edge.fetch, '/assignment_callback', params);
    const bo = accessToken(team, K1, { email: 'bo@example.com' });
    assert.equal((await post(edge, `/reservations/${params.ReservationSid}/claim`, { decision: 'accept', owner: 'cli' }, as(bo))).status, 200);
    const refused = await assertError(await post(edge, `/reservations/${params.ReservationSid}/claim`, { decision: 'reject' }, as(accessToken(team, K1, { email: 'cy@example.com' }))), 409, 'decision_in_flight');
    assert.deepEqual([refused.error.in_flight.actor, refused.error.in_flight.owner], ['bo@example.com', 'cli']);
    assert.match(refused.error.message, /accept by bo@example\.com via cli/);
  });

  test('every way a token can be wrong is refused with 401, naming the check, never the token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = { email: 'ana@example.com' };
    const valid = accessToken(team, K1, good);
    const [header, payload, signature] = valid.split('.');
    const cases = [
      ['expired', accessToken(team, K1, { ...good, exp: now - 120 }), /expired/],
      ['not yet valid', accessToken(team, K1, { ...good, nbf: now + 3600 }), /not valid yet/],
      ['another application', accessToken(team, K1, { ...good, aud: ['another-application'] }), /another application/],
      ['another team', accessToken(team, K1, { ...good, iss: 'https://evil.cloudflareaccess.com' }), /another team/],
      ['an unknown kid', accessToken(team, K1, good, { kid: 'k9' }), /names a key \(k9\)/],
      ['alg none', `${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${payload}.`, /"none": only RS256/],
      ['HS256 with the public key', hs256WithPublicKey(team, K1, JSON.parse(Buffer.from(payload, 'base64url'))), /"HS256": only RS256/],
      ['truncated', valid.slice(0, -12), /signature does not match|not base64url/],
      ['re-encoded', `${header}.${Buffer.from(JSON.stringify(JSON.parse(Buffer.from(payload, 'base64url')), null, 1)).toString('base64url')}.${signature}`, /signature does not match/],
      ['another team\'s key, same kid', accessToken(team, STRANGER, good), /signature does not match/],
      ['nobody in it', accessToken(team, K1, { email: '' }), /names nobody/],
      ['two parts', `${header}.${payload}`, /not three parts/],
    ];
    for (const [what, token, message] of cases) {
      const body = await assertError(await get(edge, '/reservations', as(token)), 401, 'access_denied');
      assert.match(body.error.message, message, what);
      for (const part of token.split('.').filter((p) => p.length > 8)) assert.ok(!body.error.message.includes(part), `${what}: the token is never repeated`);
    }
    const none = await assertError(await get(edge, '/reservations'), 401, 'access_denied');
    assert.match(none.error.message, /no Cf-Access-Jwt-Assertion header/);
    const bearerOnly = await assertError(await get(edge, '/reservations', { authorization: `Bearer ${API_TOKEN}` }), 401, 'access_denied');
    assert.match(bearerOnly.error.message, /sign in through Cloudflare Access/, 'under access alone the token is no way in');
  });

  test('a key the team adds is picked up without a redeploy', async () => {
    team.keys = [K1, K2];
    const fresh = accessToken(team, K2, { email: 'ana@example.com' });
    await until(async () => (await get(edge, '/reservations', as(fresh))).status === 200, { what: 'the new key to be fetched', timeoutMs: 15_000 });
  });

  test('keys that cannot be read are 503 naming them: nothing is let in, the token is no fallback', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const dark = await ownWorker(bindings({ ACCESS_TEAM_DOMAIN: closed, OPERATOR_AUTH: 'access' }));
    const body = await assertError(await get(dark, '/reservations', { ...as(accessToken(team, K1, { email: 'ana@example.com', iss: closed })), authorization: `Bearer ${API_TOKEN}` }), 503, 'access_unavailable');
    assert.match(body.error.message, new RegExp(`${closed.replace(/\./g, '\\.')}/cdn-cgi/access/certs`));
    await dark.dispose();
  });

  test('access,token: either way in, a token that is there is checked, and the bearer is the operator token', async () => {
    const both = await ownWorker(bindings({ OPERATOR_AUTH: 'access,token' }));
    const me = await (await get(both, '/me', { authorization: `Bearer ${API_TOKEN}` })).json();
    assert.deepEqual(me, { actor: 'operator token', via: 'token' });
    const bad = accessToken(team, K1, { email: 'ana@example.com', aud: ['other'] });
    await assertError(await get(both, '/reservations', { ...as(bad), authorization: `Bearer ${API_TOKEN}` }), 401, 'access_denied');
    assert.equal((await get(both, '/reservations', as(accessToken(team, K1, { email: 'ana@example.com' })))).status, 200);
    await both.dispose();
  });

  test('a bad OPERATOR_AUTH stops the operator routes with 503 naming it, and nothing else', async () => {
    const wrong = await ownWorker(bindings({ OPERATOR_AUTH: 'jwt' }));
    const body = await assertError(await get(wrong, '/reservations', { authorization: `Bearer ${API_TOKEN}` }), 503, 'invalid_configuration');
    assert.match(body.error.message, /OPERATOR_AUTH/);
    assert.equal((await signedPost(wrong.fetch, '/assignment_callback', assignmentParams())).status, 200);
    await wrong.dispose();
  });
});

describe('the CLI through Access, with a service token', () => {
  test('list and accept go through a stand-in for Access, and the worker records the service token', async () => {
    const clientId = 'abc123.access';
    const clientSecret = 'a-service-token-secret';
    const proxy = await startAccessProxy(edge.url, team, K1, { clientId, clientSecret });
    const params = assignmentParams();
    await signedPost(edge.fetch, '/assignment_callback', params);
    const env = cliEnv({ workerUrl: proxy, taskrouterUrl: fake.url, RESERVATIONS_API_TOKEN: undefined, CF_ACCESS_CLIENT_ID: clientId, CF_ACCESS_CLIENT_SECRET: clientSecret });
    delete env.RESERVATIONS_API_TOKEN;
    const listed = await runCli(['list', '--status', 'pending', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(JSON.parse(listed.stdout).some((r) => r.reservation_sid === params.ReservationSid));
    const accepted = await runCli(['accept', params.ReservationSid], env);
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
    const shown = await (await get(edge, `/reservations/${params.ReservationSid}`, as(accessToken(team, K1, { email: 'ana@example.com' })))).json();
    assert.deepEqual([shown.status, shown.decided_by], ['accepted', `service token ${clientId}`]);
    const shownByCli = await runCli(['show', params.ReservationSid], env);
    assert.match(shownByCli.stdout, new RegExp(`Status +accepted \\(set by operator, service token ${clientId.replace('.', '\\.')} at `));
    const without = await runCli(['list'], { ...env, CF_ACCESS_CLIENT_SECRET: 'wrong' });
    assert.notEqual(without.code, 0, 'Access refused it');
    const help = await runCli(['--help'], {});
    assert.match(help.stdout, /CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET/);
  });
});

describe('the console\'s socket behind Access', () => {
  test('a page of another origin cannot open it with Access\'s sign-in; the worker\'s own pages and programs can', async () => {
    const { default: WebSocket } = await import('ws');
    const ana = accessToken(team, K1, { email: 'ana@example.com' });
    const open = (origin) => new Promise((resolve) => {
      const headers = { 'cf-access-jwt-assertion': ana, ...(origin && { origin }) };
      const socket = new WebSocket(`${edge.url.replace('http', 'ws')}/live`, ['taskrouter-edge.v1'], { headers });
      socket.once('open', () => {
        socket.close();
        resolve(101);
      });
      socket.once('unexpected-response', (request, response) => resolve(response.statusCode));
      socket.once('error', () => resolve(0));
    });
    assert.equal(await open('https://evil.example.com'), 403);
    assert.equal(await open(edge.url), 101, 'its own page');
    assert.equal(await open(undefined), 101, 'a program sends no Origin');
  });
});
