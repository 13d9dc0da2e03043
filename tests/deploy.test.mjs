// Deployable, checked offline: `npm run deploy` (scripts/deploy.mjs) with the real wrangler and
// `--dry-run` builds and bundles the worker with the committed wrangler.toml (its KV id set), as
// `wrangler deploy` would, without uploading. A configuration wrangler refuses (the hub's Durable
// Object and its migration among it), or a bundle over the Workers size limit, fails here instead
// of at the first deploy. A stand-in plays what needs Cloudflare's API (listing secrets,
// uploading) for the rest of the preflight.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { killOnExit, onStop } from './support/lifecycle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Workers' limit on a script's compressed size: 3 MB on the Free plan (10 MB on paid plans).
const FREE_PLAN_GZIP_LIMIT_KIB = 3 * 1024;

/** Runs scripts/deploy.mjs with `args` and `env`; resolves to { code, output }. */
function deployScript(args, env = {}) {
  const child = spawn(process.execPath, [path.join(root, 'scripts/deploy.mjs'), ...args], {
    cwd: root,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** A temporary directory, removed when the file ends. */
function scratch() {
  const dir = mkdtempSync(path.join(tmpdir(), 'taskrouter-edge-deploy-'));
  onStop(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** wrangler.toml as committed, with a real-looking KV id, beside the committed one (so its paths hold). */
function configWithNamespace() {
  const file = path.join(root, `wrangler.deploy-test-${process.pid}.toml`);
  const toml = readFileSync(path.join(root, 'wrangler.toml'), 'utf8').replace('00000000000000000000000000000000', '0123456789abcdef0123456789abcdef');
  writeFileSync(file, toml);
  onStop(() => rmSync(file, { force: true }));
  return file;
}

/**
 * A stand-in for wrangler's calls to Cloudflare's API: `secret list` answers `secrets`, `deploy`
 * answers as wrangler does after an upload. Every call is written to calls.log.
 */
function standInWrangler(secrets) {
  const dir = scratch();
  const bin = path.join(dir, 'wrangler');
  writeFileSync(bin, `#!/usr/bin/env node
const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(path.join(dir, 'calls.log'))}, process.argv.slice(2).join(' ') + '\\n');
if (process.argv[2] === 'secret') console.log(JSON.stringify(${JSON.stringify(secrets)}));
if (process.argv[2] === 'deploy') console.log('Uploaded taskrouter-edge (3.21 sec)\\nDeployed taskrouter-edge triggers (0.52 sec)\\n  https://taskrouter-edge.example-team.workers.dev\\nCurrent Version ID: 0000');
`);
  chmodSync(bin, 0o755);
  return { bin, calls: () => readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n') };
}

/** A home directory where `wrangler login` has, or has not, left its OAuth token. */
function home({ loggedIn }) {
  const dir = scratch();
  if (loggedIn) {
    const config = path.join(dir, '.config/.wrangler/config');
    mkdirSync(config, { recursive: true });
    writeFileSync(path.join(config, 'default.toml'), 'oauth_token = "x"\nexpiration_time = "2099-01-01T00:00:00.000Z"\n');
  }
  return { HOME: dir, XDG_CONFIG_HOME: '', CLOUDFLARE_API_TOKEN: '', CF_API_TOKEN: '', CLOUDFLARE_API_KEY: '' };
}

describe('npm run deploy', () => {
  test('not signed in to Cloudflare: stops at once, names `npx wrangler login`, and calls no wrangler', async () => {
    const wrangler = standInWrangler([]);
    const started = Date.now();
    const { code, output } = await deployScript(['--config', configWithNamespace()], { TASKROUTER_EDGE_WRANGLER: wrangler.bin, ...home({ loggedIn: false }) });
    assert.equal(code, 1, output);
    assert.match(output, /wrangler is not signed in to Cloudflare/);
    assert.match(output, /npx wrangler login/);
    assert.match(output, /Nothing was built or deployed/);
    assert.throws(() => wrangler.calls(), 'wrangler was never called');
    console.log(`# deploy while signed out stops in ${Date.now() - started} ms`);

    const signedIn = await deployScript(['--config', configWithNamespace()], { TASKROUTER_EDGE_WRANGLER: wrangler.bin, ...home({ loggedIn: true }) });
    assert.equal(signedIn.code, 0, signedIn.output);
    const withToken = await deployScript(['--config', configWithNamespace()], { TASKROUTER_EDGE_WRANGLER: wrangler.bin, ...home({ loggedIn: false }), CLOUDFLARE_API_TOKEN: 'token' });
    assert.equal(withToken.code, 0, withToken.output);
  });

  test('refuses the placeholder KV id, names the command that creates the namespace, and deploys nothing', async () => {
    const wrangler = standInWrangler([]);
    const { code, output } = await deployScript([], { TASKROUTER_EDGE_WRANGLER: wrangler.bin, CLOUDFLARE_API_TOKEN: 'token' });
    assert.equal(code, 1, output);
    assert.match(output, /no KV namespace for RESERVATIONS yet \(its id is the placeholder\)/);
    assert.match(output, /npx wrangler kv namespace create RESERVATIONS/);
    assert.match(output, /Nothing was deployed/);
    assert.throws(() => wrangler.calls(), 'wrangler was never called');
  });

  test('names the missing secrets, deploys, and prints the two URLs and the connect line', async () => {
    const wrangler = standInWrangler([{ name: 'TWILIO_AUTH_TOKEN', type: 'secret_text' }]);
    const config = configWithNamespace();
    const { code, output } = await deployScript(['--config', config], { TASKROUTER_EDGE_WRANGLER: wrangler.bin, CLOUDFLARE_API_TOKEN: 'token' });
    assert.equal(code, 0, output);
    assert.match(output, /the secret RESERVATIONS_API_TOKEN is not set.*npx wrangler secret put RESERVATIONS_API_TOKEN/);
    assert.doesNotMatch(output, /the secret TWILIO_AUTH_TOKEN is not set/);
    assert.match(output, /Assignment Callback URL \(the Workflow\): +https:\/\/taskrouter-edge\.example-team\.workers\.dev\/assignment_callback/);
    assert.match(output, /Event Callback URL \(the Workspace\): +https:\/\/taskrouter-edge\.example-team\.workers\.dev\/events/);
    assert.match(output, /reservations connect --workspace WS… --workflow WW… --url https:\/\/taskrouter-edge\.example-team\.workers\.dev --events/);
    assert.deepEqual(wrangler.calls().map((call) => call.split(' ').slice(0, 2).join(' ')), ['secret list', 'deploy --config']);
  });

  test('with the real wrangler, offline: the secrets cannot be listed; the dry run bundles within the size limits', async () => {
    const config = configWithNamespace();
    const outdir = scratch();
    const { code, output } = await deployScript(['--config', config, '--dry-run', '--outdir', outdir]);
    assert.equal(code, 0, output);
    assert.match(output, /could not list the secrets of taskrouter-edge \(wrangler: .*CLOUDFLARE_API_TOKEN/);
    assert.match(output, /npx wrangler secret put TWILIO_AUTH_TOKEN/);
    assert.match(output, /--dry-run: exiting now/);
    assert.doesNotMatch(output, /Give TaskRouter these two URLs/);
    assert.match(output, /env\.HUB \(Hub\) +Durable Object/, 'the hub is bound');
    const sizes = output.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
    assert.ok(sizes, `wrangler reports the bundle's size:\n${output}`);
    const gzipKiB = Number(sizes[2]);
    assert.ok(gzipKiB > 50, `a real bundle, not an empty one (${gzipKiB} KiB)`);
    assert.ok(gzipKiB <= FREE_PLAN_GZIP_LIMIT_KIB, `${gzipKiB} KiB gzipped is over the ${FREE_PLAN_GZIP_LIMIT_KIB} KiB limit`);
    const written = readdirSync(outdir);
    assert.ok(written.some((name) => name.endsWith('.wasm')), `the bundle holds the wasm module: ${written}`);
    assert.ok(written.reduce((sum, name) => sum + statSync(path.join(outdir, name)).size, 0) > 0);
  });
});
