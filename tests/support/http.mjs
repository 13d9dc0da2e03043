// Small assertions about the worker's answers.
import assert from 'node:assert/strict';

import { API_TOKEN } from './worker.mjs';

/** Asserts an error answer of the documented shape and returns its body. */
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

/** A stored reservation's status, as the operator API reports it. */
export async function statusOf(fetchWorker, reservationSid) {
  const response = await operatorGet(fetchWorker, `/reservations/${reservationSid}`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).status;
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

/** Every reservation a reader sees in the listing (`query` without cursor), following every page. */
export async function listAll(fetchWorker, query = 'status=all') {
  const listed = [];
  let cursor = null;
  for (let pages = 0; ; pages += 1) {
    assert.ok(pages < 1000, 'the listing keeps giving cursors');
    const response = await operatorGet(fetchWorker, `/reservations?${query}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(response.status, 200, await response.clone().text());
    const page = await response.json();
    listed.push(...page.reservations);
    cursor = page.cursor;
    if (!cursor) return listed;
  }
}
