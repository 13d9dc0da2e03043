// TaskRouter-shaped requests, signed with Twilio's official helper library.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';

import { AUTH_TOKEN } from './worker.mjs';

export const BASE = 'http://localhost';

export function sid(prefix) {
  return prefix + randomBytes(16).toString('hex');
}

/** The parameters TaskRouter sends to an Assignment Callback URL, with fresh SIDs. */
export function assignmentParams(overrides = {}) {
  return {
    AccountSid: sid('AC'),
    WorkspaceSid: sid('WS'),
    WorkflowSid: sid('WW'),
    TaskQueueSid: sid('WQ'),
    TaskSid: sid('WT'),
    TaskAttributes: JSON.stringify({ type: 'support', from: '+14155550100', language: 'en', vip: false }),
    TaskAge: '4',
    TaskPriority: '0',
    WorkerSid: sid('WK'),
    WorkerAttributes: JSON.stringify({ skills: ['support'], languages: ['en'], contact_uri: 'client:alice' }),
    ReservationSid: sid('WR'),
    ...overrides,
  };
}

/**
 * The parameters TaskRouter sends to a Workspace's EventCallbackUrl for `eventType`, about the
 * reservation (or task) described by `assignment` (the parameters of its assignment callback).
 */
export function eventParams(eventType, assignment, overrides = {}) {
  const [resourceType] = eventType.split('.');
  const now = Date.now();
  const common = {
    EventType: eventType,
    AccountSid: assignment.AccountSid,
    WorkspaceSid: assignment.WorkspaceSid,
    WorkspaceName: 'Support',
    EventDescription: `${resourceType} event ${eventType}`,
    ResourceType: resourceType,
    ResourceSid: resourceType === 'reservation' ? assignment.ReservationSid : assignment.TaskSid,
    Sid: sid('EV'),
    Timestamp: String(Math.floor(now / 1000)),
    TimestampMs: String(now),
    EventDate: new Date(now).toISOString(),
    EventDateMs: String(now),
    TaskSid: assignment.TaskSid,
    TaskAttributes: assignment.TaskAttributes,
    TaskAge: '7',
    TaskPriority: '0',
    TaskAssignmentStatus: 'reserved',
    TaskQueueSid: assignment.TaskQueueSid,
    TaskQueueName: 'Everyone',
    WorkflowSid: assignment.WorkflowSid,
    WorkflowName: 'Default Fifo Workflow',
    TaskChannelUniqueName: 'voice',
    TaskVersion: '3',
  };
  const worker = {
    WorkerSid: assignment.WorkerSid,
    WorkerName: assignment.WorkerName ?? 'Alice',
    WorkerAttributes: assignment.WorkerAttributes,
    WorkerActivityName: 'Available',
  };
  const reservation = resourceType === 'reservation' ? { ReservationSid: assignment.ReservationSid, ...worker } : {};
  const reasons = {
    'task.canceled': { TaskCanceledReason: 'Task TTL Exceeded', TaskAssignmentStatus: 'canceled' },
    'task.completed': { TaskCompletedReason: 'call ended', TaskAssignmentStatus: 'completed' },
    'task.deleted': { TaskAssignmentStatus: 'canceled' },
  };
  return { ...common, ...reservation, ...(reasons[eventType] ?? {}), ...overrides };
}

/** Every signature `signedPost` sent, so tests can check none is ever logged. */
export const sentSignatures = [];

/** A form body; an array value becomes a repeated key. */
export function formBody(params) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of [].concat(value)) body.append(key, item);
  }
  return body.toString();
}

/** POSTs `params` form-encoded to `path` without any signature. */
export function unsignedPost(fetchWorker, path, params) {
  return fetchWorker(BASE + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody(params),
  });
}

/**
 * POSTs `params` form-encoded to `path`, signed as Twilio would sign it: with the Auth Token, or
 * with `sharedKey` (`{ id, secret, algorithm }`) as a Webhook Rule signs.
 * `signedUrl` and `token` let a test sign for another URL or with another token; `sent` sends
 * other parameters than the ones signed.
 */
export function signedPost(fetchWorker, path, params, { token = AUTH_TOKEN, signedUrl, sent = params, headers = {}, sharedKey } = {}) {
  const target = BASE + path;
  const signature = sharedKey
    ? twilio.getExpectedTwilioSignature(sharedKey.secret, signedUrl ?? target, params, sharedKey.algorithm ?? twilio.HMAC_SHA256)
    : twilio.getExpectedTwilioSignature(token, signedUrl ?? target, params);
  sentSignatures.push(signature);
  const settings = sharedKey ? { 'x-twilio-webhooks-signature-settings': `key=${sharedKey.id},algorithm=${sharedKey.algorithm ?? twilio.HMAC_SHA256}` } : {};
  return fetchWorker(target, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      ...settings,
      ...headers,
    },
    body: formBody(sent),
  });
}

/** Stores a reservation by a signed assignment callback (asserting `200`); returns its parameters. */
export async function storedCallback(fetchWorker, params = assignmentParams()) {
  const response = await signedPost(fetchWorker, '/assignment_callback', params);
  assert.equal(response.status, 200, await response.clone().text());
  return params;
}
