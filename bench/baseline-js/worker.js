// The assignment callback written the way a JavaScript developer would write it on Workers, doing
// the same work as the Rust worker, so that the two compare like for like:
// - reads its configuration once per `env` (both tokens trimmed, the TTL, the reservation
//   timeout, ASSIGNMENT_INSTRUCTION parsed), as the Rust worker does once per isolate;
// - the same checks: content type, a body under 128 KiB (read at once when its length is declared,
//   as a capped stream otherwise), X-Twilio-Signature
//   with WebCrypto's HMAC-SHA1 against the URL as seen, without its port and with the default
//   port (the Rust worker also tries the legacy querystring and unescaped spellings, which are
//   the same strings for these URLs and cost it nothing more), SIDs;
// - the same store layout and KV operations: two reads (the reservation's pointer, the task's
//   record) and, for a new reservation, three writes (the record with its summary as metadata,
//   the pointer, the task's record), all expiring a TTL after arrival;
// - attributes kept as the text sent; the summary built from their members;
// - the instruction policy (here: none, `{}`), and one JSON log line per request with the KV
//   operations it made;
// - the same second look at a new reservation, in `waitUntil`: 1.1 s later its task's record is
//   read again (and the reservation put back if a racing write dropped it), 2.5 s later its
//   pointer (and the losing key deleted if another callback won).
// What remains different: the Rust worker also serves the operator API and events from the same
// bundle, and parses attributes without turning numbers into doubles.
const SID = { ReservationSid: /^WR[0-9a-fA-F]{32}$/, TaskSid: /^WT[0-9a-fA-F]{32}$/, WorkspaceSid: /^WS[0-9a-fA-F]{32}$/ };
const MAX_BODY = 128 * 1024;
const INVERTED = 9_999_999_999_999;
const encoder = new TextEncoder();
const keys = new Map();

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const error = (status, code, message) => json(status, { error: { code, message } });

const configs = new WeakMap();

function config(env) {
  if (!configs.has(env)) configs.set(env, readConfig(env));
  return configs.get(env);
}

function readConfig(env) {
  const instruction = env.ASSIGNMENT_INSTRUCTION ? JSON.parse(env.ASSIGNMENT_INSTRUCTION) : null;
  return {
    authToken: env.TWILIO_AUTH_TOKEN?.trim() || null,
    apiToken: env.RESERVATIONS_API_TOKEN?.trim() || null,
    ttl: Number(env.RESERVATION_TTL_SECONDS ?? 86400),
    timeout: Number(env.RESERVATION_TIMEOUT_SECONDS ?? 120),
    instruction,
  };
}

async function hmacKey(token) {
  if (!keys.has(token)) keys.set(token, crypto.subtle.importKey('raw', encoder.encode(token), { name: 'HMAC', hash: 'SHA-1' }, false, ['verify']));
  return keys.get(token);
}

function paramsPayload(params) {
  const pairs = [...params].sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.reduce((payload, [key, value]) => payload + key + value, '');
}

function base64ToBytes(text) {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

async function signatureValid(token, signature, url, params) {
  const key = await hmacKey(token);
  const [, scheme, host, port = '', rest] = url.match(/^(https?:\/\/)([^/:?#]+)(:\d+)?(.*)$/) ?? [];
  const candidates = new Set([url, `${scheme}${host}${rest}`, `${scheme}${host}${port || (scheme === 'https://' ? ':443' : ':80')}${rest}`]);
  const suffix = paramsPayload(params);
  const claimed = base64ToBytes(signature);
  for (const candidate of candidates) {
    if (await crypto.subtle.verify('HMAC', key, claimed, encoder.encode(candidate + suffix))) return true;
  }
  return false;
}

async function readBody(request) {
  // A declared length was checked before: read at once, as the Rust worker does.
  if (request.headers.has('content-length')) return new TextDecoder('utf-8', { fatal: true }).decode(await request.arrayBuffer());
  const reader = request.body?.getReader();
  if (!reader) return '';
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

function summarize(text) {
  if (text === undefined) return '';
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.keys(parsed).sort().map((k) => `${k}=${typeof parsed[k] === 'string' ? parsed[k] : JSON.stringify(parsed[k])}`).join(', ').slice(0, 80);
    }
  } catch {
    // Kept as the text sent.
  }
  return text.slice(0, 80);
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Rust worker's `confirm` for a new reservation (see `src/flows/events.rs`). */
async function secondLook(env, record, timeKey, ttl) {
  await pause(1100);
  const taskKey = `task:${record.task_sid}`;
  const task = (await env.RESERVATIONS.get(taskKey, 'json')) ?? { ended: null, reservations: [] };
  if (!task.reservations.includes(record.reservation_sid)) {
    task.reservations.push(record.reservation_sid);
    await env.RESERVATIONS.put(taskKey, JSON.stringify(task), { expiration: Math.floor(Date.now() / 1000) + ttl });
  }
  await pause(1400);
  const pointer = await env.RESERVATIONS.get(`reservation:${record.reservation_sid}`);
  if (pointer && pointer !== timeKey) await env.RESERVATIONS.delete(timeKey);
}

async function assignmentCallback(request, env, ctx, log) {
  const settings = config(env);
  if (!settings.authToken) return error(503, 'not_configured', 'TWILIO_AUTH_TOKEN is not set');
  if (!(request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) return error(415, 'unsupported_media_type', 'form bodies only');
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY) return error(413, 'body_too_large', 'body over the limit');
  const body = await readBody(request);
  if (body === null) return error(413, 'body_too_large', 'body over the limit');
  if (body === '') return error(400, 'malformed_body', 'empty body');
  const params = [...new URLSearchParams(body)];
  const signature = request.headers.get('x-twilio-signature');
  if (!signature) return error(403, 'missing_signature', 'X-Twilio-Signature is missing');
  if (!(await signatureValid(settings.authToken, signature, request.url, params))) return error(403, 'invalid_signature', 'X-Twilio-Signature does not match');
  const form = Object.fromEntries(params);
  for (const [name, shape] of Object.entries(SID)) {
    if (!form[name]) return error(400, 'missing_parameter', `the ${name} parameter is missing`);
    if (!shape.test(form[name])) return error(400, 'invalid_sid', `${name} is malformed`);
  }
  log.reservation_sid = form.ReservationSid;
  const kv = { reads: 0, writes: 0, lists: 0 };
  const pointerKey = `reservation:${form.ReservationSid}`;
  kv.reads += 2;
  const pointer = await env.RESERVATIONS.get(pointerKey);
  const task = (await env.RESERVATIONS.get(`task:${form.TaskSid}`, 'json')) ?? { ended: null, reservations: [] };
  const ended = task.ended;
  let existing = null;
  if (pointer) {
    kv.reads += 1;
    existing = await env.RESERVATIONS.get(pointer, 'json');
  }
  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const receivedMs = existing ? Date.parse(existing.received_at) : nowMs;
  const record = {
    reservation_sid: form.ReservationSid,
    task_sid: form.TaskSid,
    workspace_sid: form.WorkspaceSid,
    worker_sid: form.WorkerSid,
    workflow_sid: form.WorkflowSid,
    task_attributes: form.TaskAttributes ?? null,
    worker_attributes: form.WorkerAttributes ?? null,
    parameters: form,
    received_at: existing?.received_at ?? now,
    status: existing?.status ?? (ended ? 'canceled' : 'pending'),
    status_updated_at: existing?.status_updated_at ?? now,
    status_source: existing?.status_source ?? 'callback',
    answered: { instruction: settings.instruction?.instruction ?? null },
  };
  const metadata = {
    reservation_sid: record.reservation_sid, task_sid: record.task_sid, workspace_sid: record.workspace_sid, worker_sid: record.worker_sid,
    workflow_sid: record.workflow_sid, status: record.status, received_at: record.received_at, status_updated_at: record.status_updated_at,
    task: summarize(form.TaskAttributes),
  };
  const timeKey = `at:${String(INVERTED - receivedMs).padStart(13, '0')}:${record.reservation_sid}`;
  const expiration = Math.max(Math.floor(receivedMs / 1000) + settings.ttl, Math.floor(nowMs / 1000) + 60);
  kv.writes += 1;
  await env.RESERVATIONS.put(timeKey, JSON.stringify(record), { metadata, expiration });
  if (!pointer) {
    kv.writes += 2;
    await env.RESERVATIONS.put(pointerKey, timeKey, { expiration });
    task.reservations.push(record.reservation_sid);
    await env.RESERVATIONS.put(`task:${record.task_sid}`, JSON.stringify(task), { expiration: Math.floor(nowMs / 1000) + settings.ttl });
    ctx.waitUntil(secondLook(env, record, timeKey, settings.ttl));
  }
  log.outcome = 'stored';
  log.kv = kv;
  return json(200, settings.instruction ?? {});
}

export default {
  async fetch(request, env, ctx) {
    const started = Date.now();
    const { pathname } = new URL(request.url);
    const log = { method: request.method, route: pathname, status: 0, outcome: 'unanswered' };
    let response;
    if (pathname !== '/assignment_callback') response = error(404, 'not_found', 'no such route');
    else if (request.method !== 'POST') response = error(405, 'method_not_allowed', 'use POST');
    else response = await assignmentCallback(request, env, ctx, log);
    log.status = response.status;
    log.duration_ms = Date.now() - started;
    console.log(JSON.stringify(log));
    return response;
  },
};
