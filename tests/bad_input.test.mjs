// Every bad input gets its documented status and a JSON error naming the problem; nothing is
// stored, and the worker keeps answering (no panic).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { assertError, operatorPostStatus } from './support/http.mjs';
import { assignmentParams, BASE, signedPost } from './support/twilio.mjs';
import { storedKeys, worker, workerOutput } from './support/worker.mjs';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const LIMIT = 128 * 1024;

function without(name) {
  const params = assignmentParams();
  delete params[name];
  return params;
}

const CASES = [
  { name: 'empty body', status: 400, code: 'malformed_body', send: (w) => w(`${BASE}/assignment_callback`, { method: 'POST', headers: { ...FORM, 'x-twilio-signature': 'x' }, body: '' }) },
  {
    name: 'JSON body',
    status: 415,
    code: 'unsupported_media_type',
    send: (w) => w(`${BASE}/assignment_callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(assignmentParams()) }),
  },
  { name: 'no content type', status: 415, code: 'unsupported_media_type', send: (w) => w(`${BASE}/assignment_callback`, { method: 'POST', body: new Uint8Array([1, 2]) }) },
  { name: 'malformed percent-encoding', status: 400, code: 'malformed_body', message: /percent-encoding/, send: (w) => w(`${BASE}/assignment_callback`, { method: 'POST', headers: FORM, body: 'ReservationSid=WR%zz&TaskSid=%4' }) },
  { name: 'bytes that are not UTF-8', status: 400, code: 'malformed_body', send: (w) => w(`${BASE}/assignment_callback`, { method: 'POST', headers: FORM, body: 'TaskAttributes=%FF%FE' }) },
  ...['ReservationSid', 'TaskSid', 'WorkspaceSid'].map((name) => ({
    name: `missing ${name}`,
    status: 400,
    code: 'missing_parameter',
    message: new RegExp(name),
    send: (w) => signedPost(w, '/assignment_callback', without(name)),
  })),
  ...[
    ['ReservationSid', 'WR123'],
    ['ReservationSid', `WT${'a'.repeat(32)}`],
    ['TaskSid', `WT${'g'.repeat(32)}`],
    ['WorkspaceSid', `WS${'a'.repeat(33)}`],
  ].map(([name, value]) => ({
    name: `${name} of the wrong shape (${value})`,
    status: 400,
    code: 'invalid_sid',
    message: new RegExp(`${name} must be`),
    send: (w) => signedPost(w, '/assignment_callback', assignmentParams({ [name]: value })),
  })),
  {
    name: `a body over the ${LIMIT}-byte limit`,
    status: 413,
    code: 'body_too_large',
    send: (w) => signedPost(w, '/assignment_callback', assignmentParams({ TaskAttributes: JSON.stringify({ note: 'x'.repeat(LIMIT) }) })),
  },
  { name: 'GET on the callback', status: 405, code: 'method_not_allowed', allow: 'POST', send: (w) => w(`${BASE}/assignment_callback`) },
  { name: 'POST on the listing', status: 405, code: 'method_not_allowed', allow: 'GET', send: (w) => w(`${BASE}/reservations`, { method: 'POST', headers: FORM, body: 'a=b' }) },
  { name: 'an unknown route', status: 404, code: 'not_found', send: (w) => w(`${BASE}/nothing/here`) },
  {
    name: 'a status that does not exist',
    status: 400,
    code: 'unknown_status',
    message: /"finished"/,
    send: (w) => operatorPostStatus(w, `WR${'a'.repeat(32)}`, '{"status":"finished"}'),
  },
  {
    name: 'a status update that is not JSON',
    status: 400,
    code: 'invalid_json',
    send: (w) => operatorPostStatus(w, `WR${'a'.repeat(32)}`, '{"status":'),
  },
  {
    name: 'a status update with extra fields',
    status: 400,
    code: 'invalid_json',
    message: /unknown field `force`, expected `status`/,
    send: (w) => operatorPostStatus(w, `WR${'a'.repeat(32)}`, '{"status":"accepted","force":true}'),
  },
  {
    name: 'a status update whose status is not text',
    status: 400,
    code: 'invalid_json',
    message: /field `status`: invalid type: integer `5`, expected a string/,
    send: (w) => operatorPostStatus(w, `WR${'a'.repeat(32)}`, '{"status":5}'),
  },
  {
    name: 'a status update that names its status twice',
    status: 400,
    code: 'invalid_json',
    message: /duplicate field `status`/,
    send: (w) => operatorPostStatus(w, `WR${'a'.repeat(32)}`, '{"status":"accepted","status":"rejected"}'),
  },
];

describe('bad input', () => {
  for (const { name, status, code, message, allow, send } of CASES) {
    test(`${name} → ${status} ${code}`, async () => {
      const body = await assertError(await send(await worker('badInput')), status, code);
      if (message) assert.match(body.error.message, message);
      if (allow) assert.equal((await send(await worker('badInput'))).headers.get('allow'), allow);
    });
  }

  after(async () => {
    assert.deepEqual(await storedKeys('badInput'), [], 'no bad input stored anything');
    const fetchWorker = await worker('badInput');
    const response = await signedPost(fetchWorker, '/assignment_callback', assignmentParams());
    assert.equal(response.status, 200, 'the worker still answers after every bad input');
    assert.ok(!workerOutput.some((line) => /panicked|RuntimeError|unreachable/.test(line)), workerOutput.join('\n'));
  });
});
