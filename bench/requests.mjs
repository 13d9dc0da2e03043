// The benchmark's realistic assignment callback: TaskRouter's parameters with fresh SIDs and
// JSON attributes, signed the way Twilio signs them (with `token`; another token forges it).
import { createHmac, randomBytes } from 'node:crypto';

export const AUTH_TOKEN = 'bench-auth-token';

const sid = (prefix) => prefix + randomBytes(16).toString('hex');

/** `{ body, signature, reservation }` for a callback to `url`. */
export function signedCallback(url, token = AUTH_TOKEN) {
  const params = {
    AccountSid: sid('AC'), WorkspaceSid: sid('WS'), WorkflowSid: sid('WW'), TaskQueueSid: sid('WQ'), TaskSid: sid('WT'),
    TaskAttributes: JSON.stringify({ type: 'support', from: '+14155550100', language: 'en', selected_product: 'billing', customer: { id: 'C-123456', tier: 'gold' } }),
    TaskAge: '4', TaskPriority: '0', WorkerSid: sid('WK'),
    WorkerAttributes: JSON.stringify({ skills: ['support', 'billing'], languages: ['en', 'es'], contact_uri: 'client:alice' }),
    ReservationSid: sid('WR'),
  };
  const payload = Object.keys(params).sort().reduce((text, key) => text + key + params[key], url);
  const signature = createHmac('sha1', token).update(payload).digest('base64');
  return { body: new URLSearchParams(params).toString(), signature, reservation: params.ReservationSid };
}

/** `count` callbacks to `url`, forged (signed with another token) when asked. */
export function signedCallbacks(url, count, { forged = false } = {}) {
  return Array.from({ length: count }, () => signedCallback(url, forged ? 'not-the-token' : AUTH_TOKEN));
}
