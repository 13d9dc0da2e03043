// The test run itself: a suite that cannot start ends the whole run non-zero within a minute,
// and leaves no server behind. Each case runs tests/run.mjs on one file, with the thing that
// suite needs broken on purpose, and looks for any process still carrying the run's mark.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { killOnExit } from './support/lifecycle.mjs';
import { until } from './support/wait.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FAILURE_LIMIT_MS = 60_000;

/** The PIDs of live processes whose environment holds `mark`. */
function processesMarked(mark) {
  const found = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state === 'Z') continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(mark)) found.push(pid);
    } catch {
      // The process ended while being read.
    }
  }
  return found;
}

/** Runs tests/run.mjs on `file` with `env` added; resolves to { code, output, ms }. */
function runBroken(file, env) {
  const started = Date.now();
  // Without NODE_TEST_CONTEXT, which makes node refuse to start a run from inside a test file.
  const { NODE_TEST_CONTEXT, ...outer } = process.env;
  const child = spawn(process.execPath, [path.join(root, 'tests/run.mjs'), path.join(root, 'tests', file)], {
    cwd: root,
    env: { ...outer, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), FAILURE_LIMIT_MS + 5_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, output, ms: Date.now() - started });
  }));
}

async function assertEndsAtOnce(file, broken, reason) {
  const mark = `TASKROUTER_EDGE_TEST_MARK=${randomUUID()}`;
  const [name, value] = mark.split('=');
  const { code, output, ms } = await runBroken(file, { ...broken, [name]: value });
  assert.notEqual(code, 0, `the run must fail:\n${output}`);
  assert.ok(ms < FAILURE_LIMIT_MS, `the run took ${ms} ms to end:\n${output}`);
  assert.match(output, reason, output);
  assert.match(output, /^✖ /m, output);
  await until(() => processesMarked(mark).length === 0, {
    timeoutMs: 5_000,
    what: `every process the broken run started to end (left: ${processesMarked(mark).join(', ')})`,
  });
}

describe('a failing suite ends the run', () => {
  test('Prism cannot read the OpenAPI description: the CLI suite fails, the run ends, nothing is left running', async () => {
    await assertEndsAtOnce('cli.test.mjs', { TEST_OPENAPI: path.join(root, 'tests/fixtures/twilio/missing.json') }, /Prism exited/);
  });

  test('Miniflare is given a script that does not start: the run ends, nothing is left running', async () => {
    await assertEndsAtOnce('events.test.mjs', { TEST_WORKER_SCRIPT: path.join(root, 'tests/fixtures/bad-worker.js') }, /bad-worker\.js|SyntaxError|Unexpected/);
  });
});
