// The assignment callback written the way a JavaScript developer would write it on Workers, doing
// the same work as the Rust worker does for a typical callback, so that the two compare like for
// like:
// - reads its configuration once per `env` (both tokens trimmed, the TTL, the reservation
//   timeout, ASSIGNMENT_INSTRUCTION parsed), as the Rust worker does once per isolate;
// - the same checks: content type, a body under 128 KiB (read at once when its length is declared,
//   as a capped stream otherwise), X-Twilio-Signature
//   with WebCrypto's HMAC-SHA1 against the URL as seen, without its port and with the default
//   port (the Rust worker also tries the legacy querystring and unescaped spellings, which are
//   the same strings for these URLs and cost it nothing more), SIDs;
// - asks the hub once (the Rust worker's own `Hub` Durable Object, bound as `HUB`:
//   `{"ask":"callback"}` with the reservation's card, a SHA-256 digest of the parameters and no
//   settling instruction), waiting at most 2 s; then writes the record once, under
//   `at:{inverted ms}:{WR}` with its summary as metadata, when the hub says it is new (or when
//   the hub could not be asked), expiring a TTL after arrival;
// - attributes kept as the text sent; the summary and the card built from their members;
// - the instruction policy (here: none, `{}`), and one JSON log line per request with the KV
//   operations it made.
// What remains different: the Rust worker also serves the operator API, events and the console
// from the same bundle, parses attributes without turning numbers into doubles, and hands a
// callback the hub missed over again later (here it is only logged).
const SID = { ReservationSid: /^WR[0-9a-fA-F]{32}$/, TaskSid: /^WT[0-9a-fA-F]{32}$/, WorkspaceSid: /^WS[0-9a-fA-F]{32}$/ };
const MAX_BODY = 128 * 1024;
const INVERTED = 9_999_999_999_999;
const HUB_TIMEOUT_MS = 2000;
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

const byPair = ([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0);

function paramsPayload(params) {
  return [...params].sort(byPair).reduce((payload, [key, value]) => payload + key + value, '');
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

/** The parameters' digest the hub keeps: SHA-256 over the sorted pairs, 16 bytes in hex. */
async function digest(params) {
  const text = [...params].sort(byPair).map(([key, value]) => `${key}\0${value}\0`).join('');
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  return [...hash.slice(0, 16)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
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

/** `text` to at most `limit` characters, control characters made spaces, `…` where it was cut. */
function clipped(text, limit) {
  const chars = [...text.replace(/\p{Cc}/gu, ' ')];
  return chars.length > limit ? `${chars.slice(0, limit - 1).join('')}…` : chars.join('');
}

const shown = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

/** The task attributes' members in key order, or null when they are not a JSON object. */
function members(text) {
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return Object.keys(parsed).sort().map((k) => [k, parsed[k]]);
  } catch {
    // Kept as the text sent.
  }
  return null;
}

/** The card the hub keeps and the consoles show (core/src/hub/card.rs, core/src/models/summary.rs). */
function card(form, taskMembers, now, settings) {
  let contact;
  try {
    contact = JSON.parse(form.WorkerAttributes ?? 'null')?.contact_uri;
  } catch {
    // No agent but the SID.
  }
  const agent = form.WorkerName || (typeof contact === 'string' ? contact : undefined);
  const queue = form.TaskQueueName ? clipped(form.TaskQueueName, 24) : form.TaskQueueSid;
  const priority = /^\s*-?\d+\s*$/.test(form.TaskPriority ?? '') ? Number(form.TaskPriority) : undefined;
  const age = /^\s*\d+\s*$/.test(form.TaskAge ?? '') ? Number(form.TaskAge) : undefined;
  const task = taskMembers ? taskMembers.map(([k, v]) => `${k}=${shown(v)}`).join(', ') : (form.TaskAttributes ?? '');
  return {
    summary: {
      reservation_sid: form.ReservationSid, task_sid: form.TaskSid, workspace_sid: form.WorkspaceSid,
      worker_sid: form.WorkerSid || undefined, workflow_sid: form.WorkflowSid || undefined,
      status: 'pending', received_at: now, status_updated_at: now, task: clipped(task, 80),
      agent: agent ? clipped(agent, 24) : undefined, queue, priority, task_age_seconds: age,
    },
    timeout_seconds: settings.timeout,
    attributes: (taskMembers ?? []).slice(0, 12).map(([k, v]) => [clipped(k, 60), clipped(shown(v), 60)]),
  };
}

/** The hub's reply to one question, or an Error when it failed or took over 2 s. */
async function askHub(env, question) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the hub did not answer within ${HUB_TIMEOUT_MS} ms`)), HUB_TIMEOUT_MS);
  });
  const exchange = (async () => {
    const stub = env.HUB.get(env.HUB.idFromName('hub'));
    const response = await stub.fetch('https://hub/ledger', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(question) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`the hub answered ${response.status}: ${text}`);
    return JSON.parse(text);
  })();
  try {
    return await Promise.race([exchange, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function assignmentCallback(request, env, log) {
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
  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const ask = { ask: 'callback', card: card(form, members(form.TaskAttributes), now, settings), digest: await digest(params), settles: null };
  let held = ask.card;
  let write = true;
  try {
    const reply = await askHub(env, ask);
    if (reply.reply !== 'recorded') throw new Error(`unexpected answer ${reply.reply}`);
    held = reply.card;
    write = reply.write_record;
  } catch (failure) {
    log.hub = 'untold';
    log.error = failure.message;
  }
  if (write) {
    const { summary } = held;
    const record = {
      reservation_sid: form.ReservationSid,
      task_sid: form.TaskSid,
      workspace_sid: form.WorkspaceSid,
      worker_sid: form.WorkerSid,
      workflow_sid: form.WorkflowSid,
      task_attributes: form.TaskAttributes ?? null,
      worker_attributes: form.WorkerAttributes ?? null,
      parameters: form,
      received_at: summary.received_at,
      status: summary.status,
      status_updated_at: summary.status_updated_at,
      status_source: summary.status === 'pending' ? 'callback' : 'event',
      answered: { instruction: settings.instruction?.instruction ?? null },
    };
    const receivedMs = Date.parse(summary.received_at);
    const timeKey = `at:${String(INVERTED - receivedMs).padStart(13, '0')}:${record.reservation_sid}`;
    const expiration = Math.max(Math.floor(receivedMs / 1000) + settings.ttl, Math.floor(nowMs / 1000) + 60);
    kv.writes += 1;
    await env.RESERVATIONS.put(timeKey, JSON.stringify(record), { metadata: summary, expiration });
  }
  log.outcome = write ? 'stored' : 'unchanged';
  log.kv = kv;
  return json(200, settings.instruction ?? {});
}

export default {
  async fetch(request, env) {
    const started = Date.now();
    const { pathname } = new URL(request.url);
    const log = { method: request.method, route: pathname, status: 0, outcome: 'unanswered' };
    let response;
    if (pathname !== '/assignment_callback') response = error(404, 'not_found', 'no such route');
    else if (request.method !== 'POST') response = error(405, 'method_not_allowed', 'use POST');
    else response = await assignmentCallback(request, env, log);
    log.status = response.status;
    log.duration_ms = Date.now() - started;
    console.log(JSON.stringify(log));
    return response;
  },
};
