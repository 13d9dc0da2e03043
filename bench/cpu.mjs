// CPU per request, the figure Workers bills: workerd's own CPU time (utime + stime of the workerd
// process, from /proc/<pid>/stat) before and after N requests at a fixed concurrency, divided by
// N. Each worker runs alone in its own Miniflare; the bodies are the benchmark's signed,
// realistic callbacks. Two paths:
// - `stored`: a signed callback, stored in KV (read, parse, HMAC, KV reads and writes, 200);
// - `refused`: the same callback with a wrong signature (read, parse, HMAC, 403: no KV), which
//   compares the two languages' own work with nothing else in the way.
// Rounds are interleaved across workers; each figure is the median of the rounds, with its range.
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';
import { Miniflare } from 'miniflare';

import { freePort } from '../tests/support/prism.mjs';
import { AUTH_TOKEN, signedCallbacks } from './requests.mjs';
import { cell, spread, withinRounds } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_CPU_REQUESTS ?? 3000);
const CONNECTIONS = 16;
const SECOND_LOOK_MS = 3000;
const TICK_MS = 1000 / Number(execSync('getconf CLK_TCK').toString().trim());

export const CPU_WORKERS = {
  rust: { scriptPath: path.join(root, 'build/index.js'), modulesRoot: path.join(root, 'build'), modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }] },
  'baseline-js': { scriptPath: path.join(root, 'bench/baseline-js/worker.js') },
  'kv-floor': { scriptPath: path.join(root, 'bench/kv-floor/worker.js') },
  floor: { scriptPath: path.join(root, 'bench/floor/worker.js') },
  // What workers-rs and wasm-bindgen cost before any project code: read the body, answer `{}`.
  'rust-floor': { scriptPath: path.join(root, 'bench/rust-floor/build/index.js'), modulesRoot: path.join(root, 'bench/rust-floor/build'), modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }] },
};
const ALL_PATHS = { stored: ['rust', 'baseline-js', 'kv-floor'], refused: ['rust', 'baseline-js', 'floor', 'rust-floor'] };
// BENCH_CPU_PATHS=refused measures one path only, while working on it.
const PATHS = Object.fromEntries(Object.entries(ALL_PATHS).filter(([name]) => (process.env.BENCH_CPU_PATHS ?? name).split(',').includes(name)));

const log = (...args) => console.error('bench:', ...args);

/** The workerd process serving `port`. */
export function workerdPid(port) {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('workerd') && cmdline.includes(`127.0.0.1:${port}`)) return Number(pid);
    } catch {
      // Ended while being read.
    }
  }
  throw new Error(`no workerd serves port ${port}`);
}

/** utime + stime of a process, in ms. */
export function workerdCpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** `count` signed callbacks from `requests`, in turn, at CONNECTIONS connections (autocannon's result). */
export async function sendCallbacks(url, requests, count) {
  let next = 0;
  const result = await autocannon({
    url, connections: CONNECTIONS, amount: count, pipelining: 1,
    requests: [{
      method: 'POST',
      path: '/assignment_callback',
      setupRequest: (request) => {
        const { body, signature } = requests[next++ % requests.length];
        return { ...request, body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } };
      },
    }],
  });
  return result;
}

/** One of `CPU_WORKERS` alone in its own Miniflare, on a free port; `options` are added. */
export async function startWorker(name, options = {}) {
  const port = await freePort();
  const mf = new Miniflare({
    modules: true, ...CPU_WORKERS[name], host: '127.0.0.1', port, cf: false, compatibilityDate: '2026-04-01',
    kvNamespaces: ['RESERVATIONS'], bindings: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: 'bench-operator-token' },
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
    ...options,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { mf, url, port };
}

async function oneRound(name, pathName) {
  const { mf, url, port } = await startWorker(name);
  try {
    const pid = workerdPid(port);
    const requests = signedCallbacks(`${url}/assignment_callback`, REQUESTS + 300, { forged: pathName === 'refused' });
    await sendCallbacks(url, requests.slice(REQUESTS), 300);
    const before = workerdCpuMs(pid);
    const result = await sendCallbacks(url, requests.slice(0, REQUESTS), REQUESTS);
    // Both workers look at a new reservation again 1.1 s and 2.5 s after answering, in
    // `waitUntil`; that CPU is billed to the request too, so it is waited for.
    if (pathName === 'stored') await new Promise((resolve) => setTimeout(resolve, SECOND_LOOK_MS));
    const perRequest = (workerdCpuMs(pid) - before) / REQUESTS;
    const expected = pathName === 'refused' && !name.endsWith('floor') ? 403 : 200;
    const answered = expected === 200 ? result['2xx'] : result.non2xx;
    // Under load, Miniflare's local KV loses a few requests for every worker that stores (seen:
    // 13 to 33 of 3,000, answered by neither a status nor an error); more than 2% means
    // something else is wrong.
    if (answered < REQUESTS * 0.98) throw new Error(`${name} ${pathName}: ${answered} of ${REQUESTS} answered ${expected}: ${JSON.stringify(result.statusCodeStats)}, errors ${result.errors}, timeouts ${result.timeouts}`);
    if (answered !== REQUESTS) log(`${name} ${pathName}: ${REQUESTS - answered} of ${REQUESTS} not answered ${expected}: ${JSON.stringify(result.statusCodeStats)}, errors ${result.errors}, timeouts ${result.timeouts}`);
    return perRequest;
  } finally {
    await mf.dispose();
  }
}

export async function cpu() {
  const samples = {};
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [pathName, names] of Object.entries(PATHS)) {
      const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
      for (const name of order) {
        const ms = await oneRound(name, pathName);
        ((samples[pathName] ??= {})[name] ??= []).push(ms);
        log(`cpu ${pathName} ${name} round ${round + 1}: ${ms.toFixed(3)} ms/request`);
      }
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([pathName, byName]) => {
    const figures = Object.fromEntries(Object.entries(byName).map(([name, values]) => [name, spread(values)]));
    figures.rust_minus_baseline = withinRounds(byName.rust, byName['baseline-js']);
    return [pathName, figures];
  }));
}

export function cpuTable(results) {
  const rows = [
    ['signed callback, stored in KV', results.stored, 'kv-floor'],
    ['callback with a wrong signature (no KV, 403)', results.refused, 'floor'],
  ].filter(([, r]) => r).map(([label, r, floor]) => `| ${label} | ${cell(r.rust)} | ${cell(r['baseline-js'])} | ${cell(r.rust_minus_baseline)} | ${cell(r[floor])} | ${cell(r['rust-floor'])} |`);
  return [
    `| workerd CPU ms per request (median of ${ROUNDS} rounds of ${REQUESTS}, range) | rust | baseline-js | rust − baseline-js, within each round | floor of the path | rust-floor |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await cpu();
  console.log(JSON.stringify(results, null, 2));
  console.log(cpuTable(results));
}
