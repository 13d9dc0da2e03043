// Only Twilio gets in: X-Twilio-Signature is checked against the URL the worker sees (or
// PUBLIC_URL), with requests signed by the official `twilio` package.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { assertError } from './support/http.mjs';
import { assignmentParams, BASE, signedPost, unsignedPost } from './support/twilio.mjs';
import { kvOf, PUBLIC_URL, worker } from './support/worker.mjs';

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
