// The CLI keeps its promises to scripts, and trusts nothing the network sends: the built
// `reservations` binary against small servers written to misbehave, and against the real worker.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { afterEach, describe, test } from 'node:test';

import { CLI, cliEnv, runCli } from './support/cli.mjs';
import { json, startMisbehaving } from './support/misbehaving.mjs';
import { freePort } from './support/prism.mjs';
import { assignmentParams, sid, signedPost } from './support/twilio.mjs';
import { checkedHttpUrl, worker } from './support/worker.mjs';

const WORKSPACE = sid('WS');

function summary(reservationSid, extra = {}) {
  const now = new Date().toISOString();
  return {
    reservation_sid: reservationSid, task_sid: sid('WT'), workspace_sid: WORKSPACE, status: 'pending',
    received_at: now, status_updated_at: now, task: 'type=support', ...extra,
  };
}

function record(reservationSid, extra = {}) {
  return { ...summary(reservationSid), task_attributes: { type: 'support' }, worker_attributes: null, parameters: {}, status_source: 'callback', ...extra };
}

/** Every answer the CLI received from the worker was one openapi.json describes. */
afterEach(async () => {
  const { violations } = await checkedHttpUrl();
  assert.deepEqual(violations.splice(0).map(String), []);
});

describe('exit codes', () => {
  test('an unreachable worker exits 3 after retries, for list, show, accept, watch and simulate', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const env = cliEnv({ workerUrl: closed });
    for (const args of [['list'], ['show', sid('WR')], ['accept', sid('WR')], ['watch'], ['simulate']]) {
      const result = await runCli(args, env);
      assert.equal(result.code, 3, `${args[0]}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr + result.stdout, /could not reach the worker at http:\/\/127\.0\.0\.1:\d+.* after 4 attempts/, args[0]);
    }
  });

  test('wrong usage exits 2: a malformed URL, a bad --interval, an unknown --status', async () => {
    const cases = [
      [['list'], cliEnv({ workerUrl: 'not a url' })],
      [['list'], cliEnv({ workerUrl: 'ftp://example.com' })],
      [['simulate', '--url', 'example.com'], cliEnv({ workerUrl: 'http://127.0.0.1:9' })],
      [['accept', sid('WR')], cliEnv({ workerUrl: 'http://127.0.0.1:9', taskrouterUrl: 'taskrouter' })],
      [['connect', '--workspace', sid('WS'), '--workflow', sid('WW'), '--url', 'edge.example.com'], cliEnv({})],
      ...['0', '1e-12', '1e300', '-1', 'soon'].map((interval) => [['watch', '--interval', interval], cliEnv({ workerUrl: 'http://127.0.0.1:9' })]),
      [['list', '--status', 'bogus'], cliEnv({ workerUrl: 'http://127.0.0.1:9' })],
    ];
    for (const [args, env] of cases) {
      const result = await runCli(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.doesNotMatch(result.stderr, /panicked/);
    }
  });

  test('`reservations list | head -1` ends quietly, with or without --json', async () => {
    const fetchWorker = await worker('cli');
    for (let i = 0; i < 800; i += 1) assert.equal((await signedPost(fetchWorker, '/assignment_callback', assignmentParams())).status, 200);
    const env = cliEnv({ workerUrl: (await checkedHttpUrl()).url });
    for (const args of [['list'], ['list', '--json']]) {
      const child = spawn(CLI, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      // Read one chunk, then go away, as `head -1` does.
      await new Promise((resolve) => child.stdout.once('data', resolve));
      child.stdout.destroy();
      const [code, signal] = await new Promise((resolve) => child.once('exit', (c, s) => resolve([c, s])));
      assert.ok(code === 0 || signal === 'SIGPIPE' || code === 141, `${args.join(' ')} ended with ${code ?? signal}: ${stderr}`);
      assert.doesNotMatch(stderr, /panicked|Broken pipe/, args.join(' '));
    }
  });
});

describe('the CLI trusts nothing the network sends', () => {
  test('a worker that always gives a cursor: list stops on a repeated cursor, and after a bounded number of pages', async () => {
    for (const [name, cursorOf] of [['the same cursor', () => 'c2FtZQ'], ['a new cursor every time', (n) => `page${n}`]]) {
      const server = await startMisbehaving((req, res, n) => json(res, 200, { reservations: [summary(sid('WR'))], cursor: cursorOf(n) }));
      const result = await runCli(['list', '--json'], cliEnv({ workerUrl: server.url }));
      assert.equal(result.code, 1, `${name}: ${result.stderr}`);
      assert.match(result.stderr, /the worker's listing did not end/, name);
      assert.ok(server.requests() <= 1001, `${name}: ${server.requests()} requests`);
      await server.stop();
    }
  });

  test('a huge answer is refused past the size limit, not buffered', async () => {
    const server = await startMisbehaving((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, ' ');
      let sent = 0;
      const more = () => {
        while (sent < 64 && res.write(chunk)) sent += 1;
        if (sent < 64) res.once('drain', more);
        else res.end('{}');
      };
      res.on('error', () => {});
      more();
    });
    const result = await runCli(['list'], cliEnv({ workerUrl: server.url }));
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /answered more than 16 MiB; refusing to read it/);
  });

  test('a reply about another reservation than the one asked for is an error', async () => {
    const asked = sid('WR');
    const server = await startMisbehaving((req, res) => json(res, 200, record(sid('WR'))));
    const result = await runCli(['show', asked], cliEnv({ workerUrl: server.url }));
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`the worker answered about reservation WR\\w+, not ${asked}`));
  });

  test('simulate is ✓ only for 200 with a JSON object', async () => {
    for (const [status, body] of [[200, 'ok'], [204, ''], [200, '[]'], [202, '{}']]) {
      const server = await startMisbehaving((req, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(body);
      });
      const result = await runCli(['simulate'], cliEnv({ workerUrl: server.url }));
      assert.equal(result.code, 1, `${status} ${body}: ${result.stdout}`);
      assert.match(result.stdout, /✗/);
      assert.doesNotMatch(result.stdout, /✓/);
      await server.stop();
    }
  });

  test('show escapes control characters, so attributes cannot drive the terminal', async () => {
    const asked = sid('WR');
    const hostile = 'plain\u001b[31mRED\u0007\u009b2J';
    const server = await startMisbehaving((req, res) => json(res, 200, record(asked, { task_attributes: hostile, worker_attributes: { name: '\u001b]0;title\u0007' } })));
    const result = await runCli(['show', asked], cliEnv({ workerUrl: server.url }));
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /[\u001b\u0007\u009b]/);
    assert.match(result.stdout, /plain\\u\{1b\}\[31mRED\\u\{7\}\\u\{9b\}2J/);
  });

  test('a record the worker accepted, with attributes nested 126 deep, is shown', async () => {
    const fetchWorker = await worker('cli');
    for (const depth of [100, 126]) {
      const params = assignmentParams({ TaskAttributes: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` });
      assert.equal((await signedPost(fetchWorker, '/assignment_callback', params)).status, 200);
      const result = await runCli(['show', params.ReservationSid], cliEnv({ workerUrl: (await checkedHttpUrl()).url }));
      assert.equal(result.code, 0, `${depth}: ${result.stderr}`);
      assert.match(result.stdout, /Task attributes:/);
    }
  });
});
