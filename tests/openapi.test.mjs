// The worker's OpenAPI description (openapi.json): served as committed, linted by Redocly's
// strict rules, and able to catch an answer that strays from it. Every other suite's answers
// are checked against it (support/openapi.mjs); this suite shows that the check can fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

import { operatorGet } from './support/http.mjs';
import { DESCRIPTION, Violation, checkAnswer } from './support/openapi.mjs';
import { assignmentParams, signedPost } from './support/twilio.mjs';
import { worker } from './support/worker.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** An answer as `checkAnswer` takes it. */
function answer(status, body, headers = { 'content-type': 'application/json' }) {
  return { status, headers: new Headers(headers), body: typeof body === 'string' ? body : JSON.stringify(body) };
}

function redoclyLint(dir) {
  return spawnSync(path.join(root, 'node_modules/.bin/redocly'), ['lint', 'openapi.json', '--format=stylish'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    timeout: 120_000,
  });
}

describe('the OpenAPI description', () => {
  test('GET /openapi.json serves it as committed, to anyone, and /health points to it', async () => {
    const edge = await worker('main');
    const served = await edge('http://localhost/openapi.json');
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'application/json');
    assert.equal(await served.text(), readFileSync(path.join(root, 'openapi.json'), 'utf8'));
    const health = await (await edge('http://localhost/health')).json();
    assert.equal(health.openapi, '/openapi.json');
    assert.equal(health.version, DESCRIPTION.info.version);
  });

  test('it describes every way in: the operator\'s bearer token or Cloudflare Access\'s JWT, and TaskRouter\'s signature', () => {
    const schemes = DESCRIPTION.components.securitySchemes;
    assert.deepEqual({ type: schemes.operatorToken.type, scheme: schemes.operatorToken.scheme }, { type: 'http', scheme: 'bearer' });
    assert.deepEqual({ type: schemes.cloudflareAccess.type, in: schemes.cloudflareAccess.in, name: schemes.cloudflareAccess.name }, { type: 'apiKey', in: 'header', name: 'Cf-Access-Jwt-Assertion' });
    assert.deepEqual({ type: schemes.twilioSignature.type, in: schemes.twilioSignature.in, name: schemes.twilioSignature.name }, { type: 'apiKey', in: 'header', name: 'X-Twilio-Signature' });
    for (const [template, item] of Object.entries(DESCRIPTION.paths)) {
      for (const [method, operation] of Object.entries(item).filter(([name]) => ['get', 'post'].includes(name))) {
        const wanted = ['/assignment_callback', '/events', '/event-streams'].includes(template) ? [{ twilioSignature: [] }]
          : /^\/(reservations|activities|live|me)/.test(template) ? [{ operatorToken: [] }, { cloudflareAccess: [] }] : [];
        assert.deepEqual(operation.security, wanted, `${method} ${template}`);
      }
    }
  });

  test('every described operation, asked without credentials, answers as described; other methods 405', async () => {
    const edge = await worker('main');
    const sid = assignmentParams().ReservationSid;
    for (const [template, item] of Object.entries(DESCRIPTION.paths)) {
      const url = `http://localhost${template.replace('{ReservationSid}', sid)}`;
      for (const method of ['get', 'post']) {
        const init = method === 'post' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' } : {};
        // `worker()` checks each answer and rejects on a violation.
        const response = await edge(url, init);
        if (!item[method]) assert.equal(response.status, 405, `${method} ${template}`);
        // What the description says needs the operator's token is refused without it.
        const security = item[method]?.security ?? DESCRIPTION.security ?? [];
        if (security.some((scheme) => 'operatorToken' in scheme)) assert.equal(response.status, 401, `${method} ${template} without a token`);
      }
    }
  });

  describe('the check every suite relies on refuses an answer the description does not have', () => {
    let record;
    test('a real answer passes', async () => {
      const edge = await worker('main');
      const params = assignmentParams();
      assert.equal((await signedPost(edge, '/assignment_callback', params)).status, 200);
      record = await (await operatorGet(edge, `/reservations/${params.ReservationSid}`)).json();
      checkAnswer('GET', `/reservations/${record.reservation_sid}`, answer(200, record));
    });

    const cases = [
      ['a field the schema does not name', () => ['GET', `/reservations/${record.reservation_sid}`, answer(200, { ...record, secret: 'x' })], /must NOT have additional properties/],
      ['a field of the wrong type', () => ['GET', `/reservations/${record.reservation_sid}`, answer(200, { ...record, status: 'lost' })], /does not match/],
      ['a status the operation does not have', () => ['GET', `/reservations/${record.reservation_sid}`, answer(418, record)], /418 is not an answer/],
      ['a content type the answer does not have', () => ['GET', '/reservations', answer(200, '{"reservations":[],"cursor":null}', { 'content-type': 'text/plain' })], /content type "text\/plain"/],
      ['an error code its status does not carry', () => ['GET', '/reservations', answer(401, { error: { code: 'store_unavailable', message: 'the store is unavailable' } })], /does not match/],
      ['an answer on a path not described', () => ['GET', '/reservations/', answer(200, {})], /must answer 404/],
      ['a 405 whose Allow names another method', () => ['PUT', '/health', answer(405, { error: { code: 'method_not_allowed', message: 'PUT is not allowed here: use GET' } }, { 'content-type': 'application/json', allow: 'POST' })], /Allow is "POST"/],
      ['a body on an answer that has none', () => ['POST', '/events', answer(204, '{}')], /has no body/],
      ['a WebSocket answer with another subprotocol', () => ['GET', '/live', answer(101, '', { 'sec-websocket-protocol': 'bearer.abc' })], /Sec-WebSocket-Protocol/],
    ];
    for (const [what, build, message] of cases) {
      test(what, () => {
        assert.throws(() => checkAnswer(...build()), (error) => error instanceof Violation && message.test(error.message));
      });
    }
  });

  test('Redocly\'s strict rules pass it, and fail a description with a mistake', () => {
    const passed = redoclyLint(root);
    assert.equal(passed.status, 0, passed.stdout + passed.stderr);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-lint-'));
    try {
      copyFileSync(path.join(root, 'redocly.yaml'), path.join(dir, 'redocly.yaml'));
      copyFileSync(path.join(root, '.redocly.lint-ignore.yaml'), path.join(dir, '.redocly.lint-ignore.yaml'));
      const broken = structuredClone(DESCRIPTION);
      broken.paths['/reservations'].get.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/NoSuchSchema' };
      writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(broken, null, 2));
      const failed = redoclyLint(dir);
      assert.notEqual(failed.status, 0, failed.stdout);
      assert.match(failed.stdout + failed.stderr, /no-unresolved-refs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
