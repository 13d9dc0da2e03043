// Small assertions about the worker's answers.
import assert from 'node:assert/strict';

import { API_TOKEN } from './worker.mjs';

/** Asserts a DESIGN.md error answer and returns its body. */
export async function assertError(response, status, code) {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text);
  assert.equal(body.error?.code, code, text);
  assert.ok(typeof body.error.message === 'string' && body.error.message.length > 10, text);
  return body;
}

export function operatorGet(fetchWorker, path, token = API_TOKEN) {
  return fetchWorker(`http://localhost${path}`, { headers: { authorization: `Bearer ${token}` } });
}

/** POSTs `body` as JSON text, as is, to a reservation's status route. */
export function operatorPostStatus(fetchWorker, reservationSid, body, token = API_TOKEN) {
  return fetchWorker(`http://localhost/reservations/${reservationSid}/status`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
}

export function operatorSetStatus(fetchWorker, reservationSid, status, token = API_TOKEN) {
  return operatorPostStatus(fetchWorker, reservationSid, JSON.stringify({ status }), token);
}
