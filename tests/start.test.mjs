// `npm start` and the build it runs, without starting wrangler: scripts/start.sh and
// scripts/build.sh are run in a scratch copy of the project's layout, with stand-ins for the
// tools they call, so nothing here rebuilds the worker or touches the checkout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(path.join(tmpdir(), 'taskrouter-edge-start-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A scratch project: the script under test, and empty stand-ins for what the build reads. */
function project(name) {
  const dir = path.join(scratch, name);
  for (const sub of ['scripts', 'src', 'core/src', 'build', 'bin']) mkdirSync(path.join(dir, sub), { recursive: true });
  for (const script of ['build.sh', 'start.sh']) copyFileSync(path.join(root, 'scripts', script), path.join(dir, 'scripts', script));
  for (const file of ['Cargo.toml', 'Cargo.lock', 'openapi.json', 'wrangler.toml', 'src/lib.rs', 'core/src/lib.rs']) writeFileSync(path.join(dir, file), '');
  copyFileSync(path.join(root, '.dev.vars.example'), path.join(dir, '.dev.vars.example'));
  writeFileSync(path.join(dir, 'scripts/setup.sh'), '#!/usr/bin/env bash\necho "setup: (stand-in)"\n');
  // npx: the stand-in for `npx wrangler dev`, which says how it was called and ends.
  writeFileSync(path.join(dir, 'bin/npx'), '#!/usr/bin/env bash\necho "npx $*"\n');
  chmodSync(path.join(dir, 'bin/npx'), 0o755);
  return dir;
}

const run = (dir, script, env = {}) => spawnSync('bash', [path.join(dir, 'scripts', script)], {
  encoding: 'utf8',
  env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, ...env },
});

/** Dates every input an hour back, and the build's output half an hour back. */
function built(dir) {
  const hourAgo = new Date(Date.now() - 3_600_000);
  const halfAnHourAgo = new Date(Date.now() - 1_800_000);
  for (const file of ['Cargo.toml', 'Cargo.lock', 'openapi.json', 'wrangler.toml', 'src/lib.rs', 'core/src/lib.rs', 'scripts/build.sh', 'src', 'core/src', 'core', 'scripts']) utimesSync(path.join(dir, file), hourAgo, hourAgo);
  for (const file of ['build/index_bg.wasm', 'build/index.js']) {
    writeFileSync(path.join(dir, file), 'built');
    utimesSync(path.join(dir, file), halfAnHourAgo, halfAnHourAgo);
  }
}

describe('npm start', () => {
  test('the build is skipped while build/ is newer than everything it is made from, and due once anything changes', () => {
    const dir = project('build');
    const due = run(dir, 'build.sh', { TASKROUTER_EDGE_BUILD_CHECK: '1' });
    assert.equal(due.status, 0, due.stderr);
    assert.match(due.stdout, /a build is due/, 'nothing built yet');

    built(dir);
    const again = run(dir, 'build.sh', { TASKROUTER_EDGE_BUILD_CHECK: '1' });
    assert.match(again.stdout, /build\/ is up to date .*not rebuilding/, 'the second run wrangler dev makes at start builds nothing');

    for (const changed of ['src/lib.rs', 'core/src/lib.rs', 'openapi.json', 'Cargo.lock']) {
      built(dir);
      writeFileSync(path.join(dir, changed), 'changed');
      const stale = run(dir, 'build.sh', { TASKROUTER_EDGE_BUILD_CHECK: '1' });
      assert.match(stale.stdout, /a build is due/, `${changed} changed`);
    }
  });

  test('the real checkout, as npm test built it, is not built again', () => {
    const checked = spawnSync('bash', [path.join(root, 'scripts/build.sh')], { encoding: 'utf8', env: { ...process.env, TASKROUTER_EDGE_BUILD_CHECK: '1' } });
    assert.equal(checked.status, 0, checked.stderr);
    assert.match(checked.stdout, /build\/ is up to date/);
  });

  test('start makes .dev.vars once, says that edits to it need a restart, and runs wrangler dev on 127.0.0.1:8787', () => {
    const dir = project('start');
    const first = run(dir, 'start.sh');
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /created \.dev\.vars from \.dev\.vars\.example/);
    assert.ok(existsSync(path.join(dir, '.dev.vars')));
    assert.match(first.stdout, /Changed \.dev\.vars\? wrangler dev reads it once: stop it \(Ctrl-C\) and run npm start again/);
    assert.match(first.stdout, /npx wrangler dev --ip 127\.0\.0\.1 --port 8787/);
    const second = run(dir, 'start.sh');
    assert.doesNotMatch(second.stdout, /created \.dev\.vars/, 'an existing .dev.vars is kept');
  });
});
