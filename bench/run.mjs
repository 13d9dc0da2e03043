// `npm run bench`: measures, in one run on one workerd, the release worker against a JavaScript
// baseline and a floor; listing; the bundle and start-up; and the CLI's --all-pending. Writes
// bench/results.json, bench/latency.svg and the README's results table (between its markers).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import autocannon from 'autocannon';
import { Miniflare } from 'miniflare';

import { freePort, startedPrism } from '../tests/support/prism.mjs';
import { boundary, boundaryTable } from './boundary.mjs';
import { latencyChart } from './chart.mjs';
import { cpu, cpuTable } from './cpu.mjs';
import { jsonShare, jsonShareTable } from './json-share.mjs';
import { AUTH_TOKEN, signedCallback } from './requests.mjs';
import { scale, scaleTable } from './scale.mjs';
import { median } from './stats.mjs';
import { warmup, warmupTable } from './warmup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = [1, 16, 64];
const LISTING_SIZES = [100, 1000, 10000];
const CLI_RESERVATIONS = 200;
const API_TOKEN = 'bench-operator-token';
const COMPATIBILITY_DATE = '2026-04-01';

const log = (...args) => console.error('bench:', ...args);
const sid = (prefix) => prefix + randomBytes(16).toString('hex');
const round = (value, digits = 2) => Number(value.toFixed(digits));

// The worker scripts measured, all on the same workerd.
const WORKERS = {
  rust: { modules: true, scriptPath: path.join(root, 'build/index.js'), modulesRoot: path.join(root, 'build'), modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }] },
  'baseline-js': { modules: true, scriptPath: path.join(root, 'bench/baseline-js/worker.js') },
  'kv-floor': { modules: true, scriptPath: path.join(root, 'bench/kv-floor/worker.js') },
  floor: { modules: true, scriptPath: path.join(root, 'bench/floor/worker.js') },
};

async function startWorker(name) {
  const mf = new Miniflare({
    ...WORKERS[name],
    host: '127.0.0.1',
    port: await freePort(),
    cf: false,
    compatibilityDate: COMPATIBILITY_DATE,
    kvNamespaces: ['RESERVATIONS'],
    bindings: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: API_TOKEN },
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { mf, url };
}

async function load(url, connections, { seconds = SECONDS, requests }) {
  const result = await autocannon({ url, connections, duration: seconds, requests, pipelining: 1 });
  if (result.errors || result.non2xx || result.timeouts) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} answers that were not 2xx`);
  }
  return {
    requests_per_second: round(result['2xx'] / (result.duration || seconds), 0),
    latency_p50_ms: result.latency.p50,
    latency_p99_ms: result.latency.p99,
    latency_mean_ms: round(result.latency.average),
    total: result.requests.total,
    non_2xx: result.non2xx,
    errors: result.errors,
  };
}

function callbackRequests(url, count) {
  const bodies = Array.from({ length: count }, () => signedCallback(`${url}/assignment_callback`));
  let next = 0;
  return [{
    method: 'POST',
    path: '/assignment_callback',
    setupRequest: (request) => {
      const { body, signature } = bodies[next++ % bodies.length];
      return { ...request, body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } };
    },
  }];
}

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

/** The median of repeated runs, field by field. */
function medianRun(runs) {
  const fields = ['requests_per_second', 'latency_p50_ms', 'latency_p99_ms', 'latency_mean_ms'];
  return Object.fromEntries([
    ...fields.map((field) => [field, median(runs.map((run) => run[field]))]),
    ['runs', runs.map((run) => run.requests_per_second)],
  ]);
}

async function callbackThroughput() {
  const names = Object.keys(WORKERS);
  const runs = Object.fromEntries(names.map((name) => [name, Object.fromEntries(CONCURRENCY.map((c) => [c, []]))]));
  // Interleaved (each repeat visits every worker in a rotated order) so that a slow moment of
  // the machine does not land on one worker only.
  for (let repeat = 0; repeat < REPEATS; repeat += 1) {
    for (const connections of CONCURRENCY) {
      for (const name of [...names.slice(repeat % names.length), ...names.slice(0, repeat % names.length)]) {
        const { mf, url } = await startWorker(name);
        const requests = callbackRequests(url, 60_000);
        await load(url, connections, { seconds: 1, requests });
        const run = await load(url, connections, { requests });
        runs[name][connections].push(run);
        log(`callback ${name} c=${connections} run ${repeat + 1}:`, JSON.stringify(run));
        await mf.dispose();
      }
    }
  }
  const results = Object.fromEntries(names.map((name) => [name, Object.fromEntries(CONCURRENCY.map((c) => [c, medianRun(runs[name][c])]))]));
  for (const name of Object.keys(results)) {
    for (const connections of CONCURRENCY) {
      const entry = results[name][connections];
      const floor = results.floor?.[connections].requests_per_second;
      const kvFloor = results['kv-floor']?.[connections].requests_per_second;
      if (floor) entry.throughput_vs_floor = round(entry.requests_per_second / floor);
      if (kvFloor) entry.throughput_vs_kv_floor = round(entry.requests_per_second / kvFloor);
    }
  }
  return results;
}

/** Sends `count` signed callbacks, `limit` at a time. */
async function seed(url, count, limit = 32) {
  const sent = [];
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < count) {
      next += 1;
      const callback = signedCallback(`${url}/assignment_callback`);
      const response = await fetch(`${url}/assignment_callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': callback.signature },
        body: callback.body,
      });
      if (response.status !== 200) throw new Error(`seeding got ${response.status}: ${await response.text()}`);
      sent.push(callback.reservation);
    }
  }));
  return sent;
}

async function listing() {
  const results = {};
  for (const size of LISTING_SIZES) {
    const { mf, url } = await startWorker('rust');
    await seed(url, size);
    const requests = [{ method: 'GET', path: '/reservations?status=pending', headers: { authorization: `Bearer ${API_TOKEN}` } }];
    await load(url, 1, { seconds: 1, requests });
    results[size] = await load(url, 1, { seconds: Math.max(3, SECONDS), requests });
    log(`listing ${size}:`, JSON.stringify(results[size]));
    await mf.dispose();
  }
  return results;
}

async function bundle() {
  const wasm = readFileSync(path.join(root, 'build/index_bg.wasm'));
  const glue = readFileSync(path.join(root, 'build/index.js'));
  const starts = [];
  for (let run = 0; run < 5; run += 1) {
    const started = performance.now();
    const { mf, url } = await startWorker('rust');
    const ready = performance.now();
    const response = await fetch(`${url}/health`);
    await response.text();
    const answered = performance.now();
    starts.push({ ready_ms: ready - started, first_answer_ms: answered - ready, total_ms: answered - started });
    await mf.dispose();
  }
  return {
    wasm_bytes: wasm.length,
    wasm_gzip_bytes: gzipSync(wasm, { level: 9 }).length,
    js_glue_bytes: glue.length,
    runtime_ready_ms: round(median(starts.map((s) => s.ready_ms)), 1),
    first_answer_after_ready_ms: round(median(starts.map((s) => s.first_answer_ms)), 1),
    start_to_first_answer_ms: round(median(starts.map((s) => s.total_ms)), 1),
  };
}

function runCli(args, env) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(path.join(root, 'target/release/reservations'), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output, seconds: (performance.now() - started) / 1000 }));
  });
}

async function cli() {
  const prism = await startedPrism();
  const results = {};
  const variants = {
    'accept --all-pending (8 in flight)': async (env) => runCli(['accept', '--all-pending'], env),
    'accept --all-pending --concurrency 1': async (env) => runCli(['accept', '--all-pending', '--concurrency', '1'], env),
    'a loop of `reservations accept WR…`, one at a time': async (env, reservations) => {
      const started = performance.now();
      for (const reservation of reservations) {
        const run = await runCli(['accept', reservation], env);
        if (run.code !== 0) return run;
      }
      return { code: 0, seconds: (performance.now() - started) / 1000 };
    },
  };
  for (const [name, variant] of Object.entries(variants)) {
    const { mf, url } = await startWorker('rust');
    const reservations = await seed(url, CLI_RESERVATIONS);
    const env = {
      PATH: process.env.PATH, RESERVATIONS_URL: url, RESERVATIONS_API_TOKEN: API_TOKEN,
      TWILIO_ACCOUNT_SID: sid('AC'), TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_TASKROUTER_URL: prism.url,
    };
    const run = await variant(env, reservations);
    if (run.code !== 0) throw new Error(`${name} failed:\n${run.output}`);
    results[name] = { reservations: CLI_RESERVATIONS, seconds: round(run.seconds), per_second: round(CLI_RESERVATIONS / run.seconds, 1) };
    log(`cli ${name}:`, JSON.stringify(results[name]));
    await mf.dispose();
  }
  await prism.stop();
  return results;
}

/** The pure core's hot path on the host (benches/hot_path.rs), nanoseconds per operation. */
function hotPath() {
  const run = spawnSync('cargo', ['bench', '--quiet', '--bench', 'hot_path'], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`cargo bench failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

function versionOf(command, args = ['--version']) {
  return spawnSync(command, args, { encoding: 'utf8' }).stdout.trim().split('\n')[0];
}

function machine() {
  const pkg = (name) => JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  return {
    date: new Date().toISOString().slice(0, 10),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: round(os.totalmem() / 2 ** 30, 0),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    workerd: versionOf(path.join(root, 'node_modules/.bin/workerd')),
    miniflare: pkg('miniflare'),
    autocannon: pkg('autocannon'),
    rustc: versionOf('rustc'),
    worker_crate: '0.8.7',
    seconds_per_point: SECONDS,
    repeats: REPEATS,
  };
}

function markdown(results) {
  const { machine: m, callback, listing: list, bundle: b, cli: c, hot_path: hot } = results;
  const lines = [
    `Measured ${m.date} on ${m.cpu} (${m.cores} cores, ${m.memory_gib} GiB), ${m.os}; Node ${m.node}, ${m.workerd} (Miniflare ${m.miniflare}), ${m.rustc}, autocannon ${m.autocannon}. Callback points: median of ${m.repeats} interleaved runs of ${m.seconds_per_point} s each. Raw data: \`bench/results.json\`.`,
    '',
    '| signed `POST /assignment_callback` | concurrency | requests/s | p50 ms | p99 ms | vs floor | vs kv-floor |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const name of Object.keys(callback)) {
    for (const connections of CONCURRENCY) {
      const r = callback[name][connections];
      lines.push(`| ${name} | ${connections} | ${r.requests_per_second} | ${r.latency_p50_ms} | ${r.latency_p99_ms} | ${r.throughput_vs_floor}× | ${r.throughput_vs_kv_floor}× |`);
    }
  }
  lines.push('', '| `GET /reservations?status=pending` | p50 ms | p99 ms | mean ms |', '| --- | --- | --- | --- |');
  for (const size of LISTING_SIZES) lines.push(`| ${size} stored | ${list[size].latency_p50_ms} | ${list[size].latency_p99_ms} | ${list[size].latency_mean_ms} |`);
  if (results.cpu) lines.push('', cpuTable(results.cpu));
  if (results.warmup) lines.push('', warmupTable(results.warmup));
  if (results.boundary) lines.push('', boundaryTable(results.boundary));
  if (results.scale) lines.push('', scaleTable(results.scale));
  lines.push(
    '',
    '| bundle | value |',
    '| --- | --- |',
    `| wasm | ${(b.wasm_bytes / 1024).toFixed(1)} KiB raw, **${(b.wasm_gzip_bytes / 1024).toFixed(1)} KiB gzipped** |`,
    `| JS glue | ${(b.js_glue_bytes / 1024).toFixed(1)} KiB |`,
    `| runtime start to ready (median of 5) | ${b.runtime_ready_ms} ms |`,
    `| first answer after ready | ${b.first_answer_after_ready_ms} ms |`,
    '',
    ...(results.json_share ? [jsonShareTable(results.json_share), ''] : []),
    `| CLI, ${CLI_RESERVATIONS} pending reservations against Prism | seconds | reservations/s |`,
    '| --- | --- | --- |',
  );
  for (const [name, r] of Object.entries(c)) lines.push(`| ${name} | ${r.seconds} | ${r.per_second} |`);
  lines.push('', `| pure hot path on the host (${hot.body_bytes}-byte callback) | ns per call |`, '| --- | --- |');
  for (const [name, ns] of Object.entries(hot)) if (name !== 'body_bytes') lines.push(`| ${name.replace(/_/g, ' ')} | ${ns} |`);
  lines.push('', '![latency against concurrency](bench/latency.svg)');
  return lines.join('\n');
}

// BENCH_ONLY=callback (or listing, bundle, cli) runs one section and writes nothing: for
// profiling iterations. BENCH_WORKERS=rust,baseline-js limits the callback section's workers.
const only = process.env.BENCH_ONLY;
if (process.env.BENCH_WORKERS) {
  for (const name of Object.keys(WORKERS)) if (!process.env.BENCH_WORKERS.split(',').includes(name)) delete WORKERS[name];
}
if (only) {
  const sections = { callback: callbackThroughput, cpu, warmup, boundary, listing, scale, bundle, json_share: jsonShare, cli, hot_path: hotPath };
  console.log(JSON.stringify(await sections[only](), null, 2));
  process.exit(0);
}

const results = { machine: machine() };
log('machine:', JSON.stringify(results.machine));
results.callback = await callbackThroughput();
results.cpu = await cpu();
results.warmup = await warmup();
results.boundary = await boundary();
results.listing = await listing();
results.scale = await scale();
results.bundle = await bundle();
log('bundle:', JSON.stringify(results.bundle));
results.json_share = jsonShare();
results.cli = await cli();
results.hot_path = hotPath();
log('hot path:', JSON.stringify(results.hot_path));

writeFileSync(path.join(root, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(path.join(root, 'bench/latency.svg'), latencyChart(results.callback, CONCURRENCY));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const table = markdown(results);
writeFileSync(
  path.join(root, 'README.md'),
  readme.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${table}\n<!-- bench:end -->`),
);
console.log(table);
