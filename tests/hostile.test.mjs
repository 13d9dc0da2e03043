// Hostile input against the built worker: bodies capped while they stream, attributes kept
// exactly, placeholders that cannot inject, secrets pasted with whitespace, one meaning per path.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';

import { assertError, operatorGet, operatorSetStatus } from './support/http.mjs';
import { checkAnswer } from './support/openapi.mjs';
import { API_TOKEN, AUTH_TOKEN, httpUrl, storedRecord, worker } from './support/worker.mjs';
import { assignmentParams, eventParams, signedPost } from './support/twilio.mjs';

const MiB = 1024 * 1024;

/**
 * Sends a chunked body of `totalBytes` with no Content-Length to the worker's HTTP address,
 * `chunkBytes` every `everyMs`. Resolves to { status, body, ms, sentBytes } once the answer came.
 */
function slowChunkedUpload(path, { contentType, totalBytes, chunkBytes = 64 * 1024, everyMs = 20, headers = {} }) {
  return httpUrl().then((base) => new Promise((resolve, reject) => {
    const started = Date.now();
    let sent = 0;
    let timer;
    const req = request(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType, 'transfer-encoding': 'chunked', ...headers } }, (res) => {
      clearInterval(timer);
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        try {
          // As every other answer the suites receive: one the description has.
          checkAnswer('POST', path, { status: res.statusCode, headers: new Headers(res.headers), body });
        } catch (violation) {
          reject(violation);
          return;
        }
        resolve({ status: res.statusCode, body, ms: Date.now() - started, sentBytes: sent });
      });
    });
    req.on('error', (error) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    const chunk = Buffer.alloc(chunkBytes, 'a');
    req.write('TaskAttributes=');
    timer = setInterval(() => {
      if (sent >= totalBytes) {
        clearInterval(timer);
        req.end();
        return;
      }
      req.write(chunk);
      sent += chunk.length;
    }, everyMs);
  }));
}

describe('bodies are capped while they stream', () => {
  for (const [route, contentType, headers] of [
    ['/assignment_callback', 'application/x-www-form-urlencoded', {}],
    ['/events', 'application/x-www-form-urlencoded', {}],
    [`/reservations/WR${'a'.repeat(32)}/status`, 'application/json', { authorization: `Bearer ${API_TOKEN}` }],
  ]) {
    test(`a 20 MiB chunked upload to ${route}, sent slowly, hears 413 long before it could finish`, async () => {
      const totalBytes = 20 * MiB;
      // The worker is started and warm, so the time measured is the upload's alone.
      assert.equal((await fetch(`${await httpUrl()}/health`)).status, 200);
      // At 64 KiB every 20 ms the upload would take about 6.5 s.
      const result = await slowChunkedUpload(route, { contentType, totalBytes, headers });
      assert.equal(result.status, 413, result.body);
      assert.equal(JSON.parse(result.body).error.code, 'body_too_large');
      assert.ok(result.sentBytes < 2 * MiB, `the answer came after ${result.sentBytes} bytes of ${totalBytes}`);
      assert.ok(result.ms < 3000, `the answer took ${result.ms} ms`);
    });
  }
});

describe('attributes are kept exactly', () => {
  const EXACT = '{"big":9007199254740993,"u64max":18446744073709551615,"huge":123456789012345678901234567890,"float":0.1,"trail":1.50,"neg0":-0,"exp":1e400,"small":1.5E-7,"nested":{"id":9007199254740995}}';
  const LITERALS = ['9007199254740993', '18446744073709551615', '123456789012345678901234567890', '0.1', '1.50', '-0', '1e400', '1.5E-7', '9007199254740995'];

  async function assertExact(fetchWorker, reservationSid, when) {
    const text = await (await operatorGet(fetchWorker, `/reservations/${reservationSid}`)).text();
    const stored = (await storedRecord('main', reservationSid)).text;
    for (const literal of LITERALS) {
      assert.ok(text.includes(`:${literal}`), `${when}: the answer keeps ${literal}: ${text}`);
      assert.ok(stored.includes(`:${literal}`), `${when}: the store keeps ${literal}`);
    }
  }

  test('through callback, event, operator update and show, every number comes back as sent', async () => {
    const fetchWorker = await worker('main');
    const params = assignmentParams({ TaskAttributes: EXACT });
    assert.equal((await signedPost(fetchWorker, '/assignment_callback', params)).status, 200);
    await assertExact(fetchWorker, params.ReservationSid, 'after the callback');
    assert.equal((await signedPost(fetchWorker, '/events', eventParams('reservation.accepted', params))).status, 204);
    await assertExact(fetchWorker, params.ReservationSid, 'after an event');
    assert.equal((await operatorSetStatus(fetchWorker, params.ReservationSid, 'completed')).status, 200);
    await assertExact(fetchWorker, params.ReservationSid, 'after an operator update');
    const again = await signedPost(fetchWorker, '/assignment_callback', params);
    assert.equal(again.status, 200);
    await assertExact(fetchWorker, params.ReservationSid, 'after a repeated callback');
  });
});

describe('placeholders cannot inject', () => {
  test('a task name with &, = and # stays one query value of the call instruction\'s URL', async () => {
    const fetchWorker = await worker('instructions');
    const name = 'x&accept=false&url=https://evil.example/#';
    const params = assignmentParams({ TaskAttributes: JSON.stringify({ kind: 'inject', name }) });
    const response = await signedPost(fetchWorker, '/assignment_callback', params);
    const answer = await response.json();
    assert.equal(answer.url, `https://example.com/agent?n=${encodeURIComponent(name).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`);
    const url = new URL(answer.url);
    assert.deepEqual([...url.searchParams.keys()], ['n']);
    assert.equal(url.searchParams.get('n'), name);
    assert.equal(url.hash, '');
  });

  test('a phone-number or Call SID field whose value has the wrong shape: {} and the reason recorded', async () => {
    const fetchWorker = await worker('instructions');
    for (const [attributes, field] of [
      [{ kind: 'call', from: '+1415 555&url=https://evil.example' }, 'from'],
      [{ kind: 'redirect', call_sid: 'CA1&url=https://evil.example' }, 'call_sid'],
    ]) {
      const params = assignmentParams({ TaskAttributes: JSON.stringify(attributes) });
      const response = await signedPost(fetchWorker, '/assignment_callback', params);
      assert.equal(await response.text(), '{}');
      const stored = await (await operatorGet(fetchWorker, `/reservations/${params.ReservationSid}`)).json();
      assert.equal(stored.status, 'pending');
      assert.match(stored.answered.note, new RegExp(`not given: ${field} would be .* which is not`));
    }
  });
});

describe('secrets read cleanly', () => {
  test('tokens pasted with a trailing newline or spaces work, and /health says so', async () => {
    const fetchWorker = await worker('paddedSecrets');
    const params = assignmentParams();
    const response = await signedPost(fetchWorker, '/assignment_callback', params, { token: AUTH_TOKEN });
    assert.equal(response.status, 200, await response.text());
    assert.equal((await operatorGet(fetchWorker, '/reservations')).status, 200);
    const health = await (await fetchWorker('http://localhost/health')).json();
    assert.equal(health.configuration.ok, true);
  });
});

describe('paths are one thing each', () => {
  for (const path of ['//reservations', '///health', '//assignment_callback', '/reservations/', '/health/']) {
    test(`${path} answers 404`, async () => {
      const fetchWorker = await worker('main');
      const response = await fetchWorker(`http://localhost${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      await assertError(response, 404, 'not_found');
    });
  }
});
