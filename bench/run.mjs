// `npm run bench`: the worker against Cloudflare's limits, measured in one run on one workerd,
// written to docs/benchmarks.md (between its results markers) and to the README's performance
// table. See docs/benchmarks.md for the method.
//
// - size: the gzipped upload `wrangler deploy --dry-run` reports, against the Free plan's 3 MB;
// - CPU per callback (bench/cpu.mjs): the typical callback against the JavaScript baseline, and
//   the worst realistic callback with and without 20 rules, against the Free plan's 10 ms;
// - a new isolate's first request (bench/first-request.mjs);
// - what a reservation costs over its life (callback, accepted, wrapup, completed, the task
//   completed) in KV and in the hub's requests and rows, with a live console and listings
//   (bench/console-cost.mjs), and what the Free plan's 1,000 KV writes a day make of it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { accessCost } from './access.mjs';
import { consoleCost } from './console-cost.mjs';
import { cpu } from './cpu.mjs';
import { firstRequest } from './first-request.mjs';
import { cell } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (...args) => console.error('bench:', ...args);

/** What wrangler would upload: `{ total_kib, gzip_kib }`. */
function bundleSize() {
  const outdir = path.join(os.tmpdir(), `taskrouter-edge-bench-${process.pid}`);
  const run = spawnSync(path.join(root, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: root, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
  });
  const sizes = `${run.stdout}${run.stderr}`.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
  if (!sizes) throw new Error(`wrangler did not report the bundle's size:\n${run.stdout}${run.stderr}`);
  return { total_kib: Number(sizes[1]), gzip_kib: Number(sizes[2]) };
}

/** Replaces what lies between `<!-- name -->` and `<!-- /name -->` in `file`. */
function replaceBetween(file, name, text) {
  const content = readFileSync(file, 'utf8');
  const pattern = new RegExp(`(<!-- ${name} -->\\n)[\\s\\S]*?(<!-- /${name} -->)`);
  if (!pattern.test(content)) throw new Error(`${file} has no <!-- ${name} --> markers`);
  writeFileSync(file, content.replace(pattern, `$1${text}\n$2`));
}

const ratio = (figure) => `${figure.median_x.toFixed(2)}× (${figure.min_x.toFixed(2)}–${figure.max_x.toFixed(2)})`;
const verdict = (ok) => (ok ? 'within' : '**over**');

/** Reservations a day within the Free plan's 1,000 KV writes a day. */
const capacity = (writesPerReservation) => (writesPerReservation > 0 ? Math.floor(1000 / writesPerReservation) : 'unbounded');

function tables(results) {
  const { size, cpu: c, first, console: k } = results;
  const worstOwn = c.worst.less_floor['rust-rules'];
  const firstOwn = first.rust.less_floor;
  const budgets = [
    '| budget | measured: the worker\'s own CPU (workerd in all) | |',
    '| --- | --- | --- |',
    `| gzipped upload ≤ 400 KiB (Free plan: 3 MB) | ${size.gzip_kib} KiB | ${verdict(size.gzip_kib <= 400)} |`,
    `| worst callback, with 20 rules, ≤ 5 ms CPU (Free plan: 10 ms) | ${cell(worstOwn)} ms (${cell(c.worst['rust-rules'])}) | ${verdict(worstOwn.median_ms <= 5)} |`,
    `| the 20 rules add ≤ 25 % to the worst callback | ${ratio(c.worst.ratio)} | ${verdict(c.worst.ratio.median_x <= 1.25)} |`,
    `| a new isolate's first request < 10 ms CPU | ${cell(firstOwn)} ms (${cell(first.rust.cpu)}) | ${verdict(firstOwn.median_ms < 10)} |`,
    `| typical callback, Rust ÷ JavaScript baseline (no target; doubling is a regression) | ${ratio(c.typical.ratio)} | |`,
  ];
  const detail = [
    `| workerd CPU ms, median (range) of ${c.rounds} rounds | Rust | Rust, 20 rules | JavaScript baseline | floor |`,
    '| --- | --- | --- | --- | --- |',
    `| typical callback | ${cell(c.typical.rust)} | | ${cell(c.typical['baseline-js'])} | ${cell(c.typical.floor)} |`,
    `| worst callback | ${cell(c.worst.rust)} | ${cell(c.worst['rust-rules'])} | ${cell(c.worst['baseline-js'])} | ${cell(c.worst.floor)} |`,
    `| a new isolate's first callback | ${cell(first.rust.cpu)} | | ${cell(first['baseline-js'].cpu)} | ${cell(first.floor.cpu)} |`,
    '',
    `| ${k.callbacks} reservations from callback to \`task.completed\` (5 requests each), one console open ${k.minutes} minutes, ${k.listings} listings, ${k.reads} reads | measured |`,
    '| --- | --- |',
    `| per reservation: KV writes / reads / lists | ${k.kv.writes_per_reservation} / ${k.kv.reads_per_reservation} / ${k.kv.lists_per_reservation} |`,
    `| KV lists for all listings, reads and the console (a page polling once a second: ${Math.round(60 * k.minutes)}) | ${k.kv.listings_and_console.lists} |`,
    `| the hub's one import, at its first start: KV lists / reads | ${k.kv.import.lists} / ${k.kv.import.reads} |`,
    `| per reservation: hub requests / SQLite rows written / rows read | ${k.hub.requests_per_reservation} / ${k.hub.rows_written_per_reservation} / ${k.hub.rows_read_per_reservation} |`,
    `| hub connections / hub requests, in all | ${k.hub.connections} / ${k.hub.requests} |`,
    `| messages pushed to the console | ${k.messages_pushed} |`,
    `| Free plan: reservations a day within KV's 1,000 writes a day / KV lists per listing | ${capacity(k.kv.writes_per_reservation)} / ${k.kv.lists_per_listing} |`,
  ];
  const a = results.access;
  detail.push(
    '',
    `| \`GET /me\`, workerd CPU ms per request, median (range) of ${a.rounds} rounds of ${a.requests} | measured |`,
    '| --- | --- |',
    `| with a valid Cloudflare Access JWT (keys cached; WebCrypto checks the signature) | ${cell(a.access)} |`,
    `| with the bearer token | ${cell(a.token)} |`,
    `| the JWT's check, within each round | ${cell(a.verification)} |`,
  );
  return { budgets: budgets.join('\n'), detail: detail.join('\n') };
}

const results = { measured_at: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}` };
log('bundle size');
results.size = bundleSize();
log('CPU per callback');
results.cpu = await cpu();
log('first request');
results.first = await firstRequest();
log('a live console');
results.console = await consoleCost();
log('an Access-verified request');
results.access = await accessCost();
const { budgets, detail } = tables(results);
replaceBetween(path.join(root, 'docs/benchmarks.md'), 'results', [
  `Measured ${results.measured_at.slice(0, 10)} on ${results.machine}, KV in the worker's isolate.`,
  '', budgets, '', detail, '', '```json', JSON.stringify(results, null, 2), '```',
].join('\n'));
replaceBetween(path.join(root, 'README.md'), 'performance', budgets);
console.log(budgets);
