// CPU per request, the figure Workers bills: workerd's own CPU time (utime + stime of the workerd
// process, from /proc/<pid>/stat) before and after N requests at a fixed concurrency, divided by
// N. Each worker runs alone in its own Miniflare; the bodies are the benchmark's signed,
// realistic callbacks. Two paths:
// - `stored`: a signed callback, stored in KV (read, parse, HMAC, KV reads and writes, 200);
// - `refused`: the same callback with a wrong signature (read, parse, HMAC, 403: no KV), which
//   compares the two languages' own work with nothing else in the way;
// - `memory`: the stored path with KV as a map in the worker's own isolate (bench/memory-kv), so
//   that Miniflare's KV service, which spends 2 to 3 ms of the same workerd's CPU per callback
//   and varies by more than the two workers differ, is out of the figure: what remains is each
//   worker's own work for a stored callback, its KV calls and its second look included.
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
const WARM_UP = Number(process.env.BENCH_CPU_WARM_UP ?? 300);
// Turns per worker in a round (REQUESTS / BATCHES requests each).
const BATCHES = Number(process.env.BENCH_CPU_BATCHES ?? 10);
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
const ALL_PATHS = { stored: ['rust', 'baseline-js', 'kv-floor'], refused: ['rust', 'baseline-js', 'floor', 'rust-floor'], memory: ['rust', 'baseline-js'] };
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

/**
 * One of `CPU_WORKERS` alone in its own Miniflare, on a free port; `options` are added. With
 * `memoryKv`, its RESERVATIONS is bench/memory-kv in its own isolate instead of Miniflare's KV.
 */
export async function startWorker(name, options = {}, { memoryKv = false } = {}) {
  const port = await freePort();
  const worker = {
    modules: true, ...CPU_WORKERS[name], compatibilityDate: '2026-04-01',
    bindings: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: 'bench-operator-token' },
    ...(memoryKv ? { wrappedBindings: { RESERVATIONS: 'memory-kv' } } : { kvNamespaces: ['RESERVATIONS'] }),
  };
  const memory = { name: 'memory-kv', modules: true, scriptPath: path.join(root, 'bench/memory-kv/kv.mjs') };
  const mf = new Miniflare({
    host: '127.0.0.1', port, cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
    workers: memoryKv ? [worker, memory] : [worker],
    ...options,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { mf, url, port };
}

/** How each answer should read: a refused callback is a 403, except from a floor, which answers all. */
const expectedStatus = (name, pathName) => (pathName === 'refused' && !name.endsWith('floor') ? 403 : 200);

/**
 * One round of a path: each of its workers alone in its own Miniflare, all started at once and
 * warmed up, then sent their REQUESTS in BATCHES turns, taking turns in a rotating order. The
 * machine's load drifts within a round by more than two workers differ; taking turns every few
 * hundred requests puts that drift on every worker alike, where measuring one worker's 3,000 and
 * then the next's put it on whichever ran at the worse moment. Each worker's CPU is read before
 * its first turn and after its last (and, on the stored path, its last second looks), so what
 * its workerd spends while the others take their turns (its own second looks; idle, nearly
 * nothing) is counted too, for every worker alike.
 */
async function oneRound(names, pathName) {
  const workers = [];
  try {
    const memoryKv = pathName === 'memory';
    for (const name of names) workers.push({ name, ...(await startWorker(name, {}, { memoryKv })), answered: 0, statuses: {}, errors: 0 });
    for (const worker of workers) {
      worker.pid = workerdPid(worker.port);
      worker.requests = signedCallbacks(`${worker.url}/assignment_callback`, REQUESTS + WARM_UP, { forged: pathName === 'refused' });
      await sendCallbacks(worker.url, worker.requests.slice(REQUESTS), WARM_UP);
    }
    // The warm-up's second looks land before the measurement, not in it.
    if (pathName !== 'refused') await settle();
    for (const worker of workers) worker.before = workerdCpuMs(worker.pid);
    const perBatch = REQUESTS / BATCHES;
    for (let batch = 0; batch < BATCHES; batch += 1) {
      for (const worker of rotated(workers, batch)) {
        const result = await sendCallbacks(worker.url, worker.requests.slice(batch * perBatch, (batch + 1) * perBatch), perBatch);
        worker.answered += expectedStatus(worker.name, pathName) === 200 ? result['2xx'] : result.non2xx;
        worker.errors += result.errors + result.timeouts;
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) worker.statuses[code] = (worker.statuses[code] ?? 0) + count;
      }
    }
    // Both workers look at a new reservation again 1.1 s and 2.5 s after answering, in
    // `waitUntil`; that CPU is billed to the request too, so it is waited for.
    if (pathName !== 'refused') await settle();
    return Object.fromEntries(workers.map((worker) => {
      const { name, answered } = worker;
      const perRequest = (workerdCpuMs(worker.pid) - worker.before) / REQUESTS;
      const expected = expectedStatus(name, pathName);
      const detail = `${JSON.stringify(worker.statuses)}, errors or timeouts ${worker.errors}`;
      // Under load, Miniflare's local KV loses a few requests for every worker that stores (seen:
      // 13 to 33 of 3,000, answered by neither a status nor an error); more than 2% means
      // something else is wrong.
      if (answered < REQUESTS * 0.98) throw new Error(`${name} ${pathName}: ${answered} of ${REQUESTS} answered ${expected}: ${detail}`);
      if (answered !== REQUESTS) log(`${name} ${pathName}: ${REQUESTS - answered} of ${REQUESTS} not answered ${expected}: ${detail}`);
      return [name, perRequest];
    }));
  } finally {
    await Promise.all(workers.map(({ mf }) => mf.dispose()));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, SECOND_LOOK_MS));

/** `items`, starting at the `by`-th (modulo their count). */
const rotated = (items, by) => [...items.slice(by % items.length), ...items.slice(0, by % items.length)];

export async function cpu() {
  const samples = {};
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [pathName, names] of Object.entries(PATHS)) {
      const figures = await oneRound(rotated(names, round), pathName);
      for (const [name, ms] of Object.entries(figures)) {
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
    // No floor: a worker that only reads and writes the map would measure the map.
    ['signed callback, stored in a KV in the isolate (no KV service)', results.memory, null],
  ].filter(([, r]) => r).map(([label, r, floor]) => `| ${label} | ${cell(r.rust)} | ${cell(r['baseline-js'])} | ${cell(r.rust_minus_baseline)} | ${cell(floor && r[floor])} | ${cell(r['rust-floor'])} |`);
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
