// The assignment callback written the way a JavaScript developer would write it on Workers:
// the same checks (content type, size, X-Twilio-Signature with WebCrypto's HMAC-SHA1, SIDs) and
// the same KV read-merge-write with summary metadata and TTL, answering {}. The benchmark's
// reference point for the Rust worker.
const SID = { ReservationSid: /^WR[0-9a-fA-F]{32}$/, TaskSid: /^WT[0-9a-fA-F]{32}$/, WorkspaceSid: /^WS[0-9a-fA-F]{32}$/ };
const MAX_BODY = 128 * 1024;
const encoder = new TextEncoder();
let cachedKey;

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const error = (status, code, message) => json(status, { error: { code, message } });

async function hmacKey(token) {
  cachedKey ??= crypto.subtle.importKey('raw', encoder.encode(token), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign', 'verify']);
  return cachedKey;
}

function signingPayload(url, params) {
  const pairs = [...params].sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.reduce((payload, [key, value]) => payload + key + value, url);
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
  const withPort = url.replace(/^(https?):\/\/([^/:]+)(\/|$)/, (_, scheme, host, slash) => `${scheme}://${host}:${scheme === 'https' ? 443 : 80}${slash}`);
  for (const candidate of new Set([url, withPort])) {
    if (await crypto.subtle.verify('HMAC', key, base64ToBytes(signature), encoder.encode(signingPayload(candidate, params)))) return true;
  }
  return false;
}

function parseAttributes(text) {
  if (text === null) return null;
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : text;
  } catch {
    return text;
  }
}

async function assignmentCallback(request, env) {
  if (!env.TWILIO_AUTH_TOKEN) return error(503, 'not_configured', 'TWILIO_AUTH_TOKEN is not set');
  if (!(request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) return error(415, 'unsupported_media_type', 'form bodies only');
  const body = await request.text();
  if (body.length > MAX_BODY) return error(413, 'body_too_large', 'body over the limit');
  if (body === '') return error(400, 'malformed_body', 'empty body');
  const params = [...new URLSearchParams(body)];
  const signature = request.headers.get('x-twilio-signature');
  if (!signature) return error(403, 'missing_signature', 'X-Twilio-Signature is missing');
  if (!(await signatureValid(env.TWILIO_AUTH_TOKEN, signature, request.url, params))) return error(403, 'invalid_signature', 'X-Twilio-Signature does not match');
  const form = Object.fromEntries(params);
  for (const [name, shape] of Object.entries(SID)) {
    if (!form[name]) return error(400, 'missing_parameter', `the ${name} parameter is missing`);
    if (!shape.test(form[name])) return error(400, 'invalid_sid', `${name} is malformed`);
  }
  const key = `reservation:${form.ReservationSid}`;
  const now = new Date().toISOString();
  const existing = await env.RESERVATIONS.get(key, 'json');
  const record = {
    reservation_sid: form.ReservationSid,
    task_sid: form.TaskSid,
    workspace_sid: form.WorkspaceSid,
    worker_sid: form.WorkerSid,
    task_attributes: parseAttributes(form.TaskAttributes ?? null),
    worker_attributes: parseAttributes(form.WorkerAttributes ?? null),
    parameters: form,
    received_at: existing?.received_at ?? now,
    status: existing?.status ?? 'pending',
    status_updated_at: existing?.status_updated_at ?? now,
    status_source: existing?.status_source ?? 'callback',
  };
  const task = typeof record.task_attributes === 'object' && record.task_attributes
    ? Object.entries(record.task_attributes).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ').slice(0, 80)
    : String(record.task_attributes ?? '').slice(0, 80);
  const metadata = {
    reservation_sid: record.reservation_sid, task_sid: record.task_sid, workspace_sid: record.workspace_sid, worker_sid: record.worker_sid,
    status: record.status, received_at: record.received_at, status_updated_at: record.status_updated_at, task,
  };
  await env.RESERVATIONS.put(key, JSON.stringify(record), { metadata, expirationTtl: Number(env.RESERVATION_TTL_SECONDS ?? 86400) });
  return json(200, {});
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname !== '/assignment_callback') return error(404, 'not_found', 'no such route');
    if (request.method !== 'POST') return error(405, 'method_not_allowed', 'use POST');
    return assignmentCallback(request, env);
  },
};
