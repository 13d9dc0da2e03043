// One Miniflare per test file, serving the built worker (build/) under several configurations.
// A file asks for a configuration by name; the Miniflare starts on first use and is disposed of
// when the file ends, pass or fail (support/lifecycle.mjs).
import { Miniflare } from './miniflare.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { onStop } from './lifecycle.mjs';
import { checked, checkingProxy } from './openapi.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The built worker; TEST_WORKER_SCRIPT replaces it only to prove that a worker that does not
// start fails the run at once (tests/harness.test.mjs).
const SCRIPT = process.env.TEST_WORKER_SCRIPT ?? path.join(root, 'build/index.js');
/** Miniflare's options for the built worker, whatever its bindings. */
const BUILT_WORKER = {
  modules: true,
  scriptPath: SCRIPT,
  modulesRoot: path.dirname(SCRIPT),
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
  compatibilityDate: '2026-11-17',
};
/** The live hub, as wrangler.toml declares it: a SQLite-backed Durable Object of the worker's own. */
export const HUB = { HUB: { className: 'Hub', useSQLite: true } };

export const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
/** Two SharedKeys a Webhook Rule may sign with, as during a rotation: id → secret. */
export const SHARED_KEYS = {
  webhooks_sharedkey_01jd4a7bq1example0000000000a: 'shared-key-secret-a-5f2c9e1d7b3a',
  webhooks_sharedkey_01jd4a7bq1example0000000000b: 'shared-key-secret-b-8e4d2c6a0f1b',
};
export const API_TOKEN = 'test-operator-token-fedcba9876543210';
export const PUBLIC_URL = 'https://taskrouter.example.com';
export const ACTIVITY_SID = `WA${'1'.repeat(32)}`;
export const VIP_WORKFLOW_SID = `WW${'2'.repeat(32)}`;
export const SLOW_WORKFLOW_SID = `WW${'3'.repeat(32)}`;

/** ASSIGNMENT_INSTRUCTION rules with every instruction shape, for the instructions suite. */
export const INSTRUCTION_RULES = [
  { when: { 'task.vip': true }, answer: { instruction: 'accept' } },
  { when: { 'task.kind': 'reject' }, answer: { instruction: 'reject', activity_sid: ACTIVITY_SID } },
  {
    when: { 'task.type': 'voice', 'task.language': { in: ['en', 'es'] } },
    answer: {
      instruction: 'dequeue', from: '+14155550100', to: '{{worker.contact_uri}}', post_work_activity_sid: ACTIVITY_SID,
      record: 'record-from-answer', timeout: 20, status_callback_url: 'https://example.com/status', status_callback_events: 'initiated,completed',
    },
  },
  { when: { 'task.kind': 'call' }, answer: { instruction: 'call', from: '{{task.from}}', url: 'https://example.com/agent?task={{callback.TaskSid}}', accept: true, timeout: 30 } },
  { when: { 'task.kind': 'redirect' }, answer: { instruction: 'redirect', call_sid: '{{task.call_sid}}', url: 'https://example.com/hold', accept: true } },
  {
    when: { 'task.kind': 'conference', 'task.from': { present: true } },
    answer: { instruction: 'conference', from: '{{task.from}}', post_work_activity_sid: ACTIVITY_SID, record: true, end_conference_on_exit: true },
  },
  { when: { 'task.kind': 'later' }, answer: {} },
  { when: { 'task.kind': 'inject' }, answer: { instruction: 'call', from: '+14155550100', url: 'https://example.com/agent?n={{task.name}}' } },
  { when: { 'task.kind': 'dequeue-plain' }, answer: { instruction: 'dequeue', to: '{{worker.contact_uri}}' } },
  { when: { workflow_sid: VIP_WORKFLOW_SID }, answer: { instruction: 'accept' } },
];

/** Each worker configuration the suites use: its variables, and its own KV namespace. */
const CONFIGURATIONS = {
  // First: Miniflare's HTTP address serves it, for the CLI and other real HTTP clients.
  cli: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, TWILIO_WEBHOOK_SHARED_KEYS: JSON.stringify(SHARED_KEYS) },
  main: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, RESERVATION_TTL_SECONDS: '3600' },
  listing: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN },
  load: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN },
  badInput: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN },
  publicUrl: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, PUBLIC_URL },
  unsignedAllowed: { ALLOW_UNSIGNED_CALLBACKS: 'true', RESERVATIONS_API_TOKEN: API_TOKEN },
  unconfigured: {},
  // Signed by Webhook Rules with SharedKeys, and by the Auth Token.
  sharedKeys: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, TWILIO_WEBHOOK_SHARED_KEYS: JSON.stringify(SHARED_KEYS) },
  // SharedKeys only: no Auth Token.
  sharedKeysOnly: { RESERVATIONS_API_TOKEN: API_TOKEN, TWILIO_WEBHOOK_SHARED_KEYS: `  ${JSON.stringify(SHARED_KEYS)}\n` },
  // A value that is not the JSON object it must be.
  badSharedKeys: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, TWILIO_WEBHOOK_SHARED_KEYS: '{"webhooks_sharedkey_a": "do-not-echo-me",}' },
  badTtl: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, RESERVATION_TTL_SECONDS: 'a day' },
  shortTimeout: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, RESERVATION_TIMEOUT_SECONDS: '1' },
  instructions: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, ASSIGNMENT_INSTRUCTION: JSON.stringify(INSTRUCTION_RULES) },
  acceptAll: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, ASSIGNMENT_INSTRUCTION: '{"instruction":"accept"}' },
  // As wrangler passes a TOML table: an object, not text.
  acceptAllObject: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, ASSIGNMENT_INSTRUCTION: { instruction: 'accept' } },
  unknownInstruction: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, ASSIGNMENT_INSTRUCTION: '{"instruction":"transfer"}' },
  missingField: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, ASSIGNMENT_INSTRUCTION: '[{"answer":{"instruction":"call","from":"+14155550100"}}]' },
  notJson: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, ASSIGNMENT_INSTRUCTION: 'accept' },
  conferenceWithoutFrom: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, ASSIGNMENT_INSTRUCTION: '{"instruction":"conference","to":"client:alice"}' },
  unknownField: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN, ASSIGNMENT_INSTRUCTION: '{"instruction":"dequeue","form":"+14155550100"}' },
  // Secrets as a paste may leave them: a trailing newline, surrounding spaces.
  paddedSecrets: { TWILIO_AUTH_TOKEN: `${AUTH_TOKEN}\n`, RESERVATIONS_API_TOKEN: ` ${API_TOKEN} \r\n` },
  // One Workflow keeps its reservations pending for 600 s; every other one for 1 s.
  workflowTimeouts: {
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    RESERVATIONS_API_TOKEN: API_TOKEN,
    RESERVATION_TIMEOUT_SECONDS: '1',
    WORKFLOW_TIMEOUTS: JSON.stringify({ [SLOW_WORKFLOW_SID]: 600 }),
  },
};

/** Everything this file's workers printed, one entry per line, for log assertions. */
export const workerOutput = [];

let miniflare;

function start() {
  const capture = (stream) => {
    let pending = '';
    stream.on('data', (chunk) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop();
      workerOutput.push(...lines.filter((line) => line.trim() !== ''));
    });
  };
  return new Miniflare({
    host: '127.0.0.1',
    port: 0,
    cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      capture(stdout);
      capture(stderr);
    },
    workers: Object.entries(CONFIGURATIONS).map(([name, bindings]) => ({
      name,
      ...BUILT_WORKER,
      kvNamespaces: { RESERVATIONS: `kv-${name}` },
      durableObjects: HUB,
      bindings,
    })),
  });
}

export async function miniflareInstance() {
  if (!miniflare) {
    miniflare = start();
    onStop(dispose);
  }
  await miniflare.ready;
  return miniflare;
}

/** The HTTP address of the first configuration (`cli`), as a base URL without a slash. */
export async function httpUrl() {
  const url = await (await miniflareInstance()).ready;
  return url.toString().replace(/\/$/, '');
}

let proxy;

/**
 * The `cli` configuration's HTTP address behind a proxy that checks every answer against
 * openapi.json, for programs (the CLI, the examples): `{ url, violations }`. A suite asserts
 * `violations` empty after each test.
 */
export async function checkedHttpUrl() {
  proxy ??= httpUrl().then(checkingProxy);
  return proxy;
}

/** A `fetch` into the named worker configuration; every answer is checked against openapi.json. */
export async function worker(name) {
  const mf = await miniflareInstance();
  const instance = await mf.getWorker(name);
  return checked((url, init) => instance.fetch(url, init));
}

export async function kvOf(name) {
  return (await miniflareInstance()).getKVNamespace('RESERVATIONS', name);
}

/** Every key the named configuration stored (with `prefix`, those starting with it). */
export async function storedKeys(name, prefix = '') {
  const kv = await kvOf(name);
  const keys = [];
  let cursor;
  do {
    const page = await kv.list({ prefix, cursor });
    keys.push(...page.keys);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return keys;
}

/**
 * A reservation as the store holds it (docs/store.md): one `at:{inverted ms}:{WR}` key holding
 * the record as TaskRouter delivered it (`value`, parsed, and `text`, exactly as stored), its
 * summary (`metadata`) and its expiry. `null` when nothing is stored; an error when the
 * reservation has more than one key.
 */
export async function storedRecord(name, reservationSid) {
  const kv = await kvOf(name);
  const found = (await storedKeys(name, 'at:')).filter((k) => k.name.endsWith(`:${reservationSid}`));
  if (found.length === 0) return null;
  if (found.length > 1) throw new Error(`${reservationSid} has ${found.length} keys: ${found.map((k) => k.name).join(', ')}`);
  const [listed] = found;
  const { value: text, metadata } = await kv.getWithMetadata(listed.name, 'text');
  return { key: listed.name, text, value: JSON.parse(text), metadata, expiration: listed.expiration };
}

/** Whether anything at all is stored for the reservation, under any key. */
export async function anythingStored(name, reservationSid) {
  return (await storedKeys(name)).some((k) => k.name.includes(reservationSid));
}

async function dispose() {
  const running = miniflare;
  miniflare = undefined;
  if (running) await running.dispose();
}

/**
 * A worker of its own, on its own port, with `bindings` (for tests that need a variable only
 * known at run time, such as a mock's URL) and any other Miniflare `options` (such as
 * persistence, or `workers` beside it). Stopped with the file. `fetch` reaches it in-process (as
 * `http://localhost/…`, the URL tests sign), each answer checked against openapi.json; `url` over HTTP (for a browser); `output` holds
 * every line it printed; `restart()` restarts its runtime (closing every socket, keeping what
 * persists); `kv()` is its KV namespace.
 */
export async function ownWorker(bindings, { worker: extra = {}, workers = [], ...options } = {}) {
  const output = [];
  const capture = (stream) => {
    let pending = '';
    stream.on('data', (chunk) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop();
      output.push(...lines.filter((line) => line.trim() !== ''));
    });
  };
  const settings = {
    ...options,
    host: '127.0.0.1',
    port: 0,
    cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      capture(stdout);
      capture(stderr);
    },
    workers: [
      { name: 'edge', ...BUILT_WORKER, kvNamespaces: ['RESERVATIONS'], durableObjects: HUB, bindings, ...extra },
      ...workers,
    ],
  };
  const mf = new Miniflare(settings);
  let disposed;
  const dispose = () => (disposed ??= mf.dispose());
  onStop(dispose);
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const port = new URL(url).port;
  return {
    url,
    output,
    fetch: checked((target, init) => mf.dispatchFetch(target, init)),
    /** Its KV namespace (a promise), to read or write as another program (an earlier version) would. */
    kv: () => mf.getKVNamespace('RESERVATIONS', 'edge'),
    /** Restarts its runtime, with `changes` to the worker's options (such as its bindings). */
    restart: async (changes = {}) => {
      settings.workers[0] = { ...settings.workers[0], ...changes };
      await mf.setOptions({ ...settings, port: Number(port) });
    },
    dispose,
  };
}
