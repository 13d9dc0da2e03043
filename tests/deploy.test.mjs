// Deployable, checked offline: `wrangler deploy --dry-run` builds and bundles the worker with the
// committed wrangler.toml, as `wrangler deploy` would, without uploading. A configuration wrangler
// refuses, or a bundle over the Workers size limit, fails here instead of at the first deploy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { killOnExit, onStop } from './support/lifecycle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Workers' limit on a script's compressed size: 3 MB on the Free plan (10 MB on paid plans).
const FREE_PLAN_GZIP_LIMIT_KIB = 3 * 1024;

function wranglerDryRun(outdir) {
  const child = spawn(path.join(root, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('wrangler deploy --dry-run', () => {
  test('the committed wrangler.toml builds a bundle within the Workers size limits', async () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'taskrouter-edge-dry-run-'));
    onStop(() => rmSync(outdir, { recursive: true, force: true }));
    const { code, output } = await wranglerDryRun(outdir);
    assert.equal(code, 0, output);
    assert.match(output, /--dry-run: exiting now/, output);
    const sizes = output.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
    assert.ok(sizes, `wrangler reports the bundle's size:\n${output}`);
    const gzipKiB = Number(sizes[2]);
    assert.ok(gzipKiB > 50, `a real bundle, not an empty one (${gzipKiB} KiB)`);
    assert.ok(gzipKiB <= FREE_PLAN_GZIP_LIMIT_KIB, `${gzipKiB} KiB gzipped is over the ${FREE_PLAN_GZIP_LIMIT_KIB} KiB limit`);
    const written = readdirSync(outdir);
    assert.ok(written.some((name) => name.endsWith('.wasm')), `the bundle holds the wasm module: ${written}`);
    const total = written.reduce((sum, name) => sum + statSync(path.join(outdir, name)).size, 0);
    assert.ok(total > 0);
  });
});
