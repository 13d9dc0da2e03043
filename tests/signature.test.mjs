// Only Twilio gets in: X-Twilio-Signature is checked against the URL the worker sees (or
// PUBLIC_URL), with requests signed by the official `twilio` package.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import twilio from 'twilio';

import { assertError } from './support/http.mjs';
import { assignmentParams, BASE, formBody, signedPost, unsignedPost } from './support/twilio.mjs';
import { AUTH_TOKEN, kvOf, PUBLIC_URL, worker } from './support/worker.mjs';

async function assertNotStored(configuration, params) {
  const value = await (await kvOf(configuration)).get(`reservation:${params.ReservationSid}`);
  assert.equal(value, null, 'nothing may be stored');
}

describe('X-Twilio-Signature', () => {
  test('a correctly signed callback is stored', async () => {
    const params = assignmentParams();
    const response = await signedPost(await worker('main'), '/assignment_callback', params);
    assert.equal(response.status, 200);
    assert.notEqual(await (await kvOf('main')).get(`reservation:${params.ReservationSid}`), null);
  });

  test('a callback without a signature is refused with 403', async () => {
    const fetchWorker = await worker('main');
    const params = assignmentParams();
    const response = await unsignedPost(fetchWorker, '/assignment_callback', params);
    await assertError(response, 403, 'missing_signature');
    await assertNotStored('main', params);
  });

  const forgeries = {
    'signed with another auth token': () => ({ token: 'not-the-auth-token' }),
    'with one parameter changed after signing': (params) => ({ sent: { ...params, TaskPriority: '100' } }),
    'signed for another URL': () => ({ signedUrl: `${BASE}/somewhere_else` }),
    'signed for another host': () => ({ signedUrl: 'https://attacker.example/assignment_callback' }),
  };
  for (const [name, forge] of Object.entries(forgeries)) {
    test(`a callback ${name} is refused with 403 and not stored`, async () => {
      const params = assignmentParams();
      const response = await signedPost(await worker('main'), '/assignment_callback', params, forge(params));
      await assertError(response, 403, 'invalid_signature');
      await assertNotStored('main', params);
    });
  }

  test('a signature made over the URL with its default port written out is accepted', async () => {
    const params = assignmentParams();
    const response = await signedPost(await worker('main'), '/assignment_callback', params, {
      signedUrl: 'http://localhost:80/assignment_callback',
    });
    assert.equal(response.status, 200, await response.clone().text());
  });

  test('behind a tunnel, PUBLIC_URL is the URL that must have been signed', async () => {
    const fetchWorker = await worker('publicUrl');
    const params = assignmentParams();
    const forPublic = await signedPost(fetchWorker, '/assignment_callback?source=tunnel', params, {
      signedUrl: `${PUBLIC_URL}/assignment_callback?source=tunnel`,
    });
    assert.equal(forPublic.status, 200, await forPublic.clone().text());

    const other = assignmentParams();
    const forSeenUrl = await signedPost(fetchWorker, '/assignment_callback', other);
    await assertError(forSeenUrl, 403, 'invalid_signature');
    await assertNotStored('publicUrl', other);
  });

  test('without TWILIO_AUTH_TOKEN the callback answers 503 naming it, and stores nothing', async () => {
    const params = assignmentParams();
    const response = await signedPost(await worker('unconfigured'), '/assignment_callback', params);
    const body = await assertError(response, 503, 'not_configured');
    assert.match(body.error.message, /TWILIO_AUTH_TOKEN/);
    await assertNotStored('unconfigured', params);
  });

  test('ALLOW_UNSIGNED_CALLBACKS = "true" lets an unsigned callback in when no token is set', async () => {
    const fetchWorker = await worker('unsignedAllowed');
    const params = assignmentParams();
    const response = await unsignedPost(fetchWorker, '/assignment_callback', params);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{}');
    assert.notEqual(await (await kvOf('unsignedAllowed')).get(`reservation:${params.ReservationSid}`), null);
  });
});

// The differential test: Twilio's own validator (`validateRequest` of the official `twilio`
// package) is the oracle. For each URL a Workflow could be configured with, and each signature
// Twilio (or a forger) could send, the worker must let the request in exactly when the validator
// accepts that signature for that URL.
const ORIGINS = [
  'https://taskrouter.example.com',
  'https://taskrouter.example.com:443',
  'https://taskrouter.example.com:8443',
  'http://taskrouter.example.com',
  'http://taskrouter.example.com:80',
  'http://taskrouter.example.com:8080',
];
const QUERIES = ['', "?name=O'Brien", '?q=a b', '?q=a%20b', '?q=a+b', '?t=~!*()', '?', '?k=2&k=1&j=3', '?n=café', '?n=caf%C3%A9'];

/** The URL without its port, or with the scheme's default one: the forms Twilio may sign. */
function portVariants(url) {
  const [, scheme, host, port, rest] = url.match(/^(https?:\/\/)([^/:?]+)(:\d+)?(.*)$/);
  const standard = scheme === 'https://' ? ':443' : ':80';
  return [`${scheme}${host}${rest}`, `${scheme}${host}${port ?? standard}${rest}`];
}

/** Signatures for `url` and `params`: the ones Twilio may send, then forgeries. */
function candidateSignatures(url, params) {
  const sign = (token, signedUrl, signedParams = params) => twilio.getExpectedTwilioSignature(token, signedUrl, signedParams);
  const [scheme, rest] = url.split('://');
  return [
    ['as configured', sign(AUTH_TOKEN, url)],
    ...portVariants(url).map((variant, i) => [i === 0 ? 'without the port' : 'with the default port', sign(AUTH_TOKEN, variant)]),
    ['as a WHATWG parser writes it', sign(AUTH_TOKEN, new URL(url).toString())],
    ['with another token', sign('not-the-auth-token', url)],
    ['for another path', sign(AUTH_TOKEN, url.replace('/assignment_callback', '/events'))],
    ['for another query', sign(AUTH_TOKEN, `${url}${url.includes('?') ? '&' : '?'}extra=1`)],
    ['for another scheme', sign(AUTH_TOKEN, `${scheme === 'https' ? 'http' : 'https'}://${rest}`)],
    ['for another host', sign(AUTH_TOKEN, url.replace('taskrouter.example.com', 'attacker.example.com'))],
    ['for other parameters', sign(AUTH_TOKEN, url, { ...params, TaskPriority: '100' })],
  ];
}

describe('X-Twilio-Signature, judged by Twilio\'s own validator', () => {
  test(`the worker and twilio.validateRequest agree on every signature for ${ORIGINS.length * QUERIES.length} URLs`, async () => {
    const fetchWorker = await worker('main');
    const disagreements = [];
    let accepted = 0;
    let refused = 0;
    for (const origin of ORIGINS) {
      for (const query of QUERIES) {
        const url = `${origin}/assignment_callback${query}`;
        const params = assignmentParams();
        for (const [form, signature] of candidateSignatures(url, params)) {
          const oracle = twilio.validateRequest(AUTH_TOKEN, signature, url, params);
          const response = await fetchWorker(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
            body: formBody(params),
          });
          await response.arrayBuffer();
          const verdict = response.status === 200;
          if (response.status !== 200 && response.status !== 403) disagreements.push(`${url} (${form}): answered ${response.status}`);
          if (verdict !== oracle) disagreements.push(`${url} (${form}): worker ${verdict ? 'accepts' : 'refuses'}, validateRequest ${oracle ? 'accepts' : 'refuses'}`);
          if (oracle) accepted += 1;
          else refused += 1;
        }
      }
    }
    assert.deepEqual(disagreements, []);
    assert.ok(accepted > 200 && refused > 200, `the matrix has both verdicts (${accepted} accepted, ${refused} refused)`);
  });
});
