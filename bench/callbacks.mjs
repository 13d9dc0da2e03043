// The benchmark's assignment callbacks, signed the way Twilio signs them (with `token`; another
// token forges them):
// - typical: TaskRouter's parameters with small JSON attributes, as the quickstart sends;
// - worst: task attributes of 3,000 members, one in ten an object of its own, about 100 KiB once
//   form-encoded (TaskRouter's callback stays under the worker's 128 KiB limit), read by the 20
//   rules of `WORST_RULES`, which walk into them and match nothing until the last.
import { createHmac, randomBytes } from 'node:crypto';

export const AUTH_TOKEN = 'bench-auth-token';

const sid = (prefix) => prefix + randomBytes(16).toString('hex');

const TYPICAL_TASK = { type: 'support', from: '+14155550100', language: 'en', selected_product: 'billing', customer: { id: 'C-123456', tier: 'gold' } };

/** 3,000 members: `f0000` … `f2999`; every tenth an object with a tier, an id and tags. */
export function worstTask() {
  const task = {};
  for (let i = 0; i < 3000; i += 1) {
    const name = `f${String(i).padStart(4, '0')}`;
    task[name] = i % 10 === 0 ? { tier: i % 20 === 0 ? 'gold' : 'silver', id: 1_000_000 + i, tags: ['a', 'b'] } : `v${i}`;
  }
  return task;
}

/**
 * Twenty rules over the worst task: each tests two or three paths, one of them inside a nested
 * member, spread over the whole object, so every rule reads the attributes; only the last
 * matches (its answer is `{}`, so the answer is the same as without rules).
 */
export const WORST_RULES = Array.from({ length: 20 }, (_, rule) => {
  const at = (offset) => `f${String((rule * 150 + offset) % 3000).padStart(4, '0')}`;
  const last = rule === 19;
  return {
    when: {
      [`task.${at(0)}.tier`]: last ? 'gold' : 'platinum',
      [`task.${at(77)}`]: { in: last ? [`v${(rule * 150 + 77) % 3000}`] : ['nowhere', 'else'] },
      [`task.${at(140)}.tags`]: { present: true },
    },
    answer: {},
  };
});

function signed(url, params, token) {
  const payload = Object.keys(params).sort().reduce((text, key) => text + key + params[key], url);
  const signature = createHmac('sha1', token).update(payload).digest('base64');
  return { body: new URLSearchParams(params).toString(), signature, reservation: params.ReservationSid };
}

/** `{ body, signature, reservation }` for a callback to `url` with these task attributes. */
export function signedCallback(url, { token = AUTH_TOKEN, task = TYPICAL_TASK } = {}) {
  const params = {
    AccountSid: sid('AC'), WorkspaceSid: sid('WS'), WorkflowSid: sid('WW'), TaskQueueSid: sid('WQ'), TaskSid: sid('WT'),
    TaskAttributes: typeof task === 'string' ? task : JSON.stringify(task),
    TaskAge: '4', TaskPriority: '0', WorkerSid: sid('WK'),
    WorkerAttributes: JSON.stringify({ skills: ['support', 'billing'], languages: ['en', 'es'], contact_uri: 'client:alice' }),
    ReservationSid: sid('WR'),
  };
  return signed(url, params, token);
}

/** `count` callbacks to `url`; `task` replaces the typical attributes. */
export function signedCallbacks(url, count, { task } = {}) {
  const text = task && JSON.stringify(task);
  return Array.from({ length: count }, () => signedCallback(url, { task: text }));
}
