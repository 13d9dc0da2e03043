// Only Twilio gets in: X-Twilio-Signature is checked against the URL the worker sees (or
// PUBLIC_URL), with requests signed by the official `twilio` package.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import twilio from 'twilio';

import { assertError } from './support/http.mjs';
import { assignmentParams, BASE, formBody, signedPost, unsignedPost } from './support/twilio.mjs';
import { AUTH_TOKEN, anythingStored, PUBLIC_URL, SHARED_KEYS, storedRecord, worker } from './support/worker.mjs';

async function assertNotStored(configuration, params) {
  assert.equal(await anythingStored(configuration, params.ReservationSid), false, 'nothing may be stored');
}

describe('X-Twilio-Signature', () => {
  test('a correctly signed callback is stored', async () => {
    const params = assignmentParams();
    const response = await signedPost(await worker('main'), '/assignment_callback', params);
    assert.equal(response.status, 200);
    assert.notEqual(await storedRecord('main', params.ReservationSid), null);
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
    assert.notEqual(await storedRecord('unsignedAllowed', params.ReservationSid), null);
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

/**
 * Signatures for `url` and `params` with `secret` by `algorithm`: the URL spellings Twilio may
 * sign, then forgeries of the URL or the parameters. `another` adds one made with another secret.
 */
function candidateSignatures(url, params, { secret = AUTH_TOKEN, algorithm = 'HMAC_SHA1', another = true } = {}) {
  const sign = (token, signedUrl, signedParams = params) => twilio.getExpectedTwilioSignature(token, signedUrl, signedParams, algorithm);
  const [scheme, rest] = url.split('://');
  return [
    ['as configured', sign(secret, url)],
    ...portVariants(url).map((variant, i) => [i === 0 ? 'without the port' : 'with the default port', sign(secret, variant)]),
    ['as a WHATWG parser writes it', sign(secret, new URL(url).toString())],
    ...(another ? [['with another token', sign('not-the-auth-token', url)]] : []),
    ['for another path', sign(secret, url.replace('/assignment_callback', '/events'))],
    ['for another query', sign(secret, `${url}${url.includes('?') ? '&' : '?'}extra=1`)],
    ['for another scheme', sign(secret, `${scheme === 'https' ? 'http' : 'https'}://${rest}`)],
    ['for another host', sign(secret, url.replace('taskrouter.example.com', 'attacker.example.com'))],
    ['for other parameters', sign(secret, url, { ...params, TaskPriority: '100' })],
  ];
}

const [KEY_A, KEY_B] = Object.keys(SHARED_KEYS);

/** The secret twilio-node would be handed for a key id: `undefined` for one not configured. */
const secretFor = (keyId) => (keyId === undefined ? AUTH_TOKEN : SHARED_KEYS[keyId]);

/**
 * Who signs, as the worker is told by `X-Twilio-Webhooks-Signature-Settings` (`header`, absent
 * for the Auth Token), and with what the signature is really made (`secret`, `algorithm`).
 * The first rows are the ways Twilio signs; the rest are forgeries.
 */
const SIGNERS = [
  { name: 'the Auth Token, HMAC-SHA1', secret: AUTH_TOKEN, algorithm: 'HMAC_SHA1' },
  { name: 'key A, HMAC-SHA256', header: `key=${KEY_A},algorithm=HMAC_SHA256`, secret: SHARED_KEYS[KEY_A], algorithm: 'HMAC_SHA256' },
  { name: 'key B, HMAC-SHA1 named', header: `key=${KEY_B},algorithm=HMAC_SHA1`, secret: SHARED_KEYS[KEY_B], algorithm: 'HMAC_SHA1' },
  { name: 'key B, HMAC-SHA1 by default', header: `key=${KEY_B}`, secret: SHARED_KEYS[KEY_B], algorithm: 'HMAC_SHA1' },
  { name: 'key A, the algorithm in lower case', header: ` key = ${KEY_A} , algorithm = hmac_sha256 `, secret: SHARED_KEYS[KEY_A], algorithm: 'HMAC_SHA256' },
  { name: 'an unknown algorithm', header: `key=${KEY_A},algorithm=HMAC_SHA512`, secret: SHARED_KEYS[KEY_A], algorithm: 'HMAC_SHA256' },
  { name: 'an unknown key id', header: 'key=webhooks_sharedkey_unknown,algorithm=HMAC_SHA256', secret: SHARED_KEYS[KEY_A], algorithm: 'HMAC_SHA256' },
  { name: 'key A\'s secret labelled key B', header: `key=${KEY_B},algorithm=HMAC_SHA256`, secret: SHARED_KEYS[KEY_A], algorithm: 'HMAC_SHA256' },
  { name: 'the Auth Token\'s signature sent as key A', header: `key=${KEY_A},algorithm=HMAC_SHA1`, secret: AUTH_TOKEN, algorithm: 'HMAC_SHA1' },
  { name: 'an HMAC-SHA1 signature under an HMAC-SHA256 header', header: `key=${KEY_A},algorithm=HMAC_SHA256`, secret: SHARED_KEYS[KEY_A], algorithm: 'HMAC_SHA1' },
];

/** The key id a settings header names, read as the worker must read it (the first `key=` part with a value). */
function keyIdOf(header) {
  if (header === undefined) return undefined;
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === 'key' && part.slice(at + 1).trim()) return part.slice(at + 1).trim();
  }
  return null;
}

/** Twilio's validator, as a server using twilio-node 6.3.1 would call it for this header. */
function oracle(signature, url, params, header) {
  const secret = secretFor(keyIdOf(header));
  if (!secret) return false;
  return twilio.validateRequest(secret, signature, url, params, twilio.getSignatureAlgorithm(header));
}

describe('X-Twilio-Signature, judged by Twilio\'s own validator', () => {
  test(`the worker and twilio.validateRequest agree on every signature and signer for ${ORIGINS.length * QUERIES.length} URLs`, async () => {
    const fetchWorker = await worker('sharedKeys');
    const disagreements = [];
    const verdicts = new Map(SIGNERS.map(({ name }) => [name, { accepted: 0, refused: 0 }]));
    const quietly = console.warn;
    // twilio-node warns on the console for an unknown algorithm; the verdict is what counts.
    console.warn = () => {};
    try {
      for (const origin of ORIGINS) {
        for (const query of QUERIES) {
          const url = `${origin}/assignment_callback${query}`;
          const params = assignmentParams();
          // The Auth Token and the two keys as Twilio uses them (SHA-1 and SHA-256) meet every
          // spelling and forgery of the URL; the other signers, the spellings Twilio may sign.
          const attempts = SIGNERS.flatMap((signer, i) => {
            const all = candidateSignatures(url, params, { secret: signer.secret, algorithm: signer.algorithm, another: i === 0 });
            return (i < 3 ? all : all.slice(0, 4)).map(([form, signature]) => [signer, form, signature]);
          });
          for (const [signer, form, signature] of attempts) {
            const expected = oracle(signature, url, params, signer.header);
            const response = await fetchWorker(url, {
              method: 'POST',
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'x-twilio-signature': signature,
                ...(signer.header === undefined ? {} : { 'x-twilio-webhooks-signature-settings': signer.header }),
              },
              body: formBody(params),
            });
            await response.arrayBuffer();
            const verdict = response.status === 200;
            if (response.status !== 200 && response.status !== 403) disagreements.push(`${url} (${signer.name}, ${form}): answered ${response.status}`);
            if (verdict !== expected) disagreements.push(`${url} (${signer.name}, ${form}): worker ${verdict ? 'accepts' : 'refuses'}, validateRequest ${expected ? 'accepts' : 'refuses'}`);
            verdicts.get(signer.name)[expected ? 'accepted' : 'refused'] += 1;
          }
        }
      }
    } finally {
      console.warn = quietly;
    }
    assert.deepEqual(disagreements, []);
    const counts = Object.fromEntries(verdicts);
    for (const signer of SIGNERS.slice(0, 5)) assert.ok(counts[signer.name].accepted > 100, `${signer.name}: ${JSON.stringify(counts[signer.name])}`);
    for (const signer of SIGNERS.slice(5)) assert.equal(counts[signer.name].accepted, 0, `${signer.name} is a forgery: ${JSON.stringify(counts[signer.name])}`);
    for (const signer of SIGNERS.slice(0, 3)) assert.ok(counts[signer.name].refused > 200, `${signer.name}: its forgeries are refused`);
  });
});
