// Prism serving Twilio's own OpenAPI description of TaskRouter (tests/fixtures/twilio, from the
// npm package @twilio-alpha/mcp): it answers like TaskRouter and refuses (422) any request the
// spec does not allow. One per description and test file that asks for it, on a free port, stopped when the file
// ends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { killOnExit, onStop } from './lifecycle.mjs';
import { until } from './wait.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// TEST_OPENAPI replaces the description only to prove that a Prism that cannot start fails the
// run at once (tests/harness.test.mjs).
export const SPEC = process.env.TEST_OPENAPI ?? path.join(root, 'tests/fixtures/twilio/twilio_taskrouter_v1.json');
/** Twilio's description of Events v1 (Event Streams' Sinks and Subscriptions). */
export const EVENTS_SPEC = path.join(root, 'tests/fixtures/twilio/twilio_events_v1.json');

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const prisms = new Map();

async function start(spec) {
  const port = await freePort();
  const child = spawn(path.join(root, 'node_modules/.bin/prism'), ['mock', '-h', '127.0.0.1', '-p', String(port), spec], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill();
  });
  onStop(stop);
  const log = [];
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Prism did not start within 60 s:\n${log.join('')}`)), 60_000);
    const read = (chunk) => {
      log.push(chunk.toString());
      if (log.join('').includes('Prism is listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Prism exited (${code}) before it was ready:\n${log.join('')}`));
    });
  });
  await ready;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Prism's log since `mark`. */
    logSince: (mark) => log.join('').slice(mark),
    mark: () => log.join('').length,
    stop,
  };
}

/** Prism serving `spec` (TaskRouter's by default), started once per test file. */
export function startedPrism(spec = SPEC) {
  if (!prisms.has(spec)) prisms.set(spec, start(spec));
  return prisms.get(spec);
}

/**
 * The requests Prism received in `log` and whether each passed Twilio's spec:
 * [{ method, path, valid }].
 */
export function prismRequests(log) {
  const requests = [];
  for (const line of log.split('\n')) {
    const received = line.match(/\[HTTP SERVER\] (\w+) (\S+) .*Request received/);
    if (received) requests.push({ method: received[1].toUpperCase(), path: received[2], valid: undefined });
    const current = requests[requests.length - 1];
    if (current && /\[VALIDATOR\].*passed the validation rules/.test(line)) current.valid ??= true;
    // Prism also checks Twilio's own example responses; only the request's violations count.
    const requestViolation = /\[VALIDATOR\].*(did not pass|✖)/.test(line) && !/Violation: response\./.test(line);
    if (current && requestViolation) current.valid = false;
  }
  return requests;
}

/**
 * Runs `program` (an async function that makes requests of `prism`) and returns what it
 * resolved to, with `requests`: what Prism saw meanwhile, each one asserted valid by Twilio's
 * spec. Prism logs its verdict on a request after answering it, so this waits for every verdict.
 */
export async function watchedByPrism(prism, program) {
  const mark = prism.mark();
  const result = await program();
  const requests = await until(() => {
    const seen = prismRequests(prism.logSince(mark));
    return seen.every((request) => request.valid !== undefined) && seen;
  }, { what: 'Prism to log its verdict on every request' });
  for (const request of requests) assert.equal(request.valid, true, `Prism refused ${request.method} ${request.path}:\n${prism.logSince(mark)}`);
  return { ...result, requests };
}
