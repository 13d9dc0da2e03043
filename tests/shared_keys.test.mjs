// Webhooks a Webhook Rule signs with a SharedKey (Twilio's Webhooks configuration API): the
// secrets come from TWILIO_WEBHOOK_SHARED_KEYS, the key and the algorithm from
// X-Twilio-Webhooks-Signature-Settings, and the Auth Token is never tried under that header.
// Signatures are made by the official `twilio` package (6.3.1); tests/signature.test.mjs holds
// the worker to its validator over every URL.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import twilio from 'twilio';

import { assertError, operatorGet } from './support/http.mjs';
import { assignmentParams, eventParams, sentSignatures, signedPost } from './support/twilio.mjs';
import { until } from './support/wait.mjs';
import { AUTH_TOKEN, SHARED_KEYS, anythingStored, storedKeys, worker, workerOutput } from './support/worker.mjs';

const [KEY_A, KEY_B] = Object.keys(SHARED_KEYS);
const keyA = { id: KEY_A, secret: SHARED_KEYS[KEY_A], algorithm: twilio.HMAC_SHA256 };
const keyB = { id: KEY_B, secret: SHARED_KEYS[KEY_B], algorithm: twilio.HMAC_SHA1 };

async function assertNotStored(configuration, params) {
  assert.equal(await anythingStored(configuration, params.ReservationSid), false, 'nothing may be stored');
}

/** The request log lines about `reservationSid`, parsed. */
function linesAbout(reservationSid) {
  return workerOutput.filter((line) => line.includes(reservationSid) && line.includes('"route"')).map((line) => JSON.parse(line));
}

describe('SharedKey signatures', () => {
  test('a callback and an event signed with a SharedKey are let in; a wrong secret for the key is refused', async () => {
    const fetchWorker = await worker('sharedKeys');
    const params = assignmentParams();
    assert.equal((await signedPost(fetchWorker, '/assignment_callback', params, { sharedKey: keyA })).status, 200);
    assert.equal((await signedPost(fetchWorker, '/events', eventParams('reservation.accepted', params), { sharedKey: keyB })).status, 204);
    assert.equal((await (await operatorGet(fetchWorker, `/reservations/${params.ReservationSid}`)).json()).status, 'accepted');

    const forged = assignmentParams();
    const response = await signedPost(fetchWorker, '/assignment_callback', forged, { sharedKey: { ...keyA, secret: 'not-the-secret' } });
    const body = await assertError(response, 403, 'invalid_signature');
    assert.match(body.error.message, new RegExp(`${KEY_A} \\(HMAC_SHA256\\)`));
    await assertNotStored('sharedKeys', forged);
  });

  test('under the settings header the Auth Token is never tried, even when it signed the request', async () => {
    const params = assignmentParams();
    const response = await signedPost(await worker('sharedKeys'), '/assignment_callback', params, {
      headers: { 'x-twilio-webhooks-signature-settings': `key=${KEY_A},algorithm=HMAC_SHA1` },
    });
    await assertError(response, 403, 'invalid_signature');
    await assertNotStored('sharedKeys', params);
  });

  test('an algorithm other than HMAC_SHA1 or HMAC_SHA256 is refused with its own code', async () => {
    const params = assignmentParams();
    const response = await signedPost(await worker('sharedKeys'), '/assignment_callback', params, {
      sharedKey: keyA,
      headers: { 'x-twilio-webhooks-signature-settings': `key=${KEY_A},algorithm=HMAC_SHA512` },
    });
    const body = await assertError(response, 403, 'unsupported_signature_algorithm');
    assert.match(body.error.message, /HMAC_SHA512/);
    await assertNotStored('sharedKeys', params);
  });

  test('a key id the worker does not hold is refused, naming the id', async () => {
    const params = assignmentParams();
    const response = await signedPost(await worker('sharedKeys'), '/assignment_callback', params, {
      sharedKey: { ...keyA, id: 'webhooks_sharedkey_rotated_away' },
    });
    const body = await assertError(response, 403, 'unknown_signing_key');
    assert.match(body.error.message, /webhooks_sharedkey_rotated_away.*TWILIO_WEBHOOK_SHARED_KEYS/);
    await assertNotStored('sharedKeys', params);
  });

  test('with no SharedKey configured, a signed-with-a-key request answers 503 naming the variable', async () => {
    for (const configuration of ['main', 'unsignedAllowed']) {
      const params = assignmentParams();
      const response = await signedPost(await worker(configuration), '/assignment_callback', params, { sharedKey: keyA });
      const body = await assertError(response, 503, 'not_configured');
      assert.match(body.error.message, /TWILIO_WEBHOOK_SHARED_KEYS is not set/);
      await assertNotStored(configuration, params);
    }
  });

  test('SharedKeys without an Auth Token: keyed requests pass, a request without the header answers 503', async () => {
    const fetchWorker = await worker('sharedKeysOnly');
    assert.equal((await signedPost(fetchWorker, '/assignment_callback', assignmentParams(), { sharedKey: keyB })).status, 200);
    const plain = await signedPost(fetchWorker, '/assignment_callback', assignmentParams());
    const body = await assertError(plain, 503, 'not_configured');
    assert.match(body.error.message, /TWILIO_AUTH_TOKEN/);
  });

  test('a malformed TWILIO_WEBHOOK_SHARED_KEYS makes every Twilio route answer 503 naming it, and never its value', async () => {
    const fetchWorker = await worker('badSharedKeys');
    const params = assignmentParams();
    for (const [path, options] of [['/assignment_callback', {}], ['/assignment_callback', { sharedKey: keyA }], ['/events', {}]]) {
      const sent = path === '/events' ? eventParams('reservation.accepted', params) : params;
      const body = await assertError(await signedPost(fetchWorker, path, sent, options), 503, 'invalid_configuration');
      assert.match(body.error.message, /TWILIO_WEBHOOK_SHARED_KEYS is not a JSON object/);
      assert.doesNotMatch(JSON.stringify(body), /do-not-echo-me/);
    }
    await assertNotStored('badSharedKeys', params);
    assert.equal((await operatorGet(fetchWorker, '/reservations')).status, 200, 'the operator API keeps working');
    const health = await (await fetchWorker('http://localhost/health')).json();
    assert.match(health.configuration.TWILIO_WEBHOOK_SHARED_KEYS.problem, /TWILIO_WEBHOOK_SHARED_KEYS/);
    assert.doesNotMatch(JSON.stringify(health), /do-not-echo-me/);
  });

  test('/health lists the configured key ids and never a secret', async () => {
    const health = await (await (await worker('sharedKeys'))('http://localhost/health')).json();
    assert.deepEqual(health.configuration.TWILIO_WEBHOOK_SHARED_KEYS, [KEY_A, KEY_B]);
    for (const secret of [...Object.values(SHARED_KEYS), AUTH_TOKEN]) assert.doesNotMatch(JSON.stringify(health), new RegExp(secret));
    const without = await (await (await worker('main'))('http://localhost/health')).json();
    assert.equal(without.configuration.TWILIO_WEBHOOK_SHARED_KEYS, 'missing');
  });
});

describe('retries and rotation', () => {
  test('one reservation delivered three times, signed with key A, key B, then the Auth Token, is stored once and answered the same', async () => {
    const fetchWorker = await worker('sharedKeys');
    const params = assignmentParams();
    const answers = [];
    for (const options of [{ sharedKey: keyA }, { sharedKey: keyB }, {}]) {
      const response = await signedPost(fetchWorker, '/assignment_callback', params, options);
      answers.push([response.status, response.headers.get('content-type'), await response.text()]);
    }
    assert.deepEqual(answers, Array(3).fill([200, 'application/json', '{}']));
    const shown = await (await operatorGet(fetchWorker, `/reservations/${params.ReservationSid}`)).json();
    assert.equal(shown.status, 'pending');
    // Written once: the hub knew the second and third deliveries, with the same parameters.
    const keys = (await storedKeys('sharedKeys', 'at:')).filter((key) => key.name.endsWith(params.ReservationSid));
    assert.equal(keys.length, 1);
  });

  test('each request\'s log line names the key and algorithm that let it in or refused it, never a secret', async () => {
    const fetchWorker = await worker('sharedKeys');
    const accepted = assignmentParams();
    const refused = assignmentParams();
    const byToken = assignmentParams();
    await signedPost(fetchWorker, '/assignment_callback', accepted, { sharedKey: keyA });
    await signedPost(fetchWorker, '/assignment_callback', refused, { sharedKey: { ...keyB, secret: 'wrong' } });
    await signedPost(fetchWorker, '/assignment_callback', byToken);
    const lineOf = (params) => until(() => linesAbout(params.ReservationSid).find((line) => 'duration_ms' in line), { what: 'the log line' });
    assert.deepEqual([(await lineOf(accepted)).status, (await lineOf(accepted)).signed_with], [200, { key: KEY_A, algorithm: 'HMAC_SHA256' }]);
    const refusedLine = await until(() => workerOutput.map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return null;
      }
    }).find((line) => line?.outcome === 'invalid_signature' && line.signed_with?.key === KEY_B), { what: 'the refused request\'s line' });
    assert.deepEqual(refusedLine.signed_with, { key: KEY_B, algorithm: 'HMAC_SHA1' });
    assert.deepEqual((await lineOf(byToken)).signed_with, { key: 'TWILIO_AUTH_TOKEN', algorithm: 'HMAC_SHA1' });
    const everything = workerOutput.join('\n');
    for (const secret of [...Object.values(SHARED_KEYS), AUTH_TOKEN, ...sentSignatures]) assert.ok(!everything.includes(secret), 'no secret or signature is logged');
  });
});
