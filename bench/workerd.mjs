// What every measurement needs: a worker alone in its own Miniflare (its own workerd), with KV as
// a map in its own isolate (bench/memory-kv), and that workerd's CPU time. The Rust worker binds
// its hub (the `Hub` SQLite Durable Object, a class of its own script) as deployed; the baseline
// binds the same hub from a copy of the Rust worker in the same Miniflare: each callback asks the
// hub once, and the hub's work (in the same workerd) is in both figures alike.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';
// Its KV is a map in each worker's own isolate, a wrapped binding, which only Miniflare 4 offers
// (docs/decisions): this bench runs on Miniflare 4's newest release and its workerd.
import { Miniflare } from 'miniflare-4';

import { freePort } from '../tests/support/prism.mjs';
import { AUTH_TOKEN, WORST_RULES } from './callbacks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = process.env.BENCH_BUILD ?? path.join(root, 'build');
const RUST = { scriptPath: path.join(BUILD, 'index.js'), modulesRoot: BUILD, modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }] };

const OWN_HUB = { HUB: { className: 'Hub', useSQLite: true } };
/** The Rust worker that lends its hub to a worker that has none of its own (the baseline). */
const HUB_SCRIPT = 'rust-hub';
const BINDINGS = { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: 'bench-operator-token' };
const MEMORY_KV = { RESERVATIONS: 'memory-kv' };

/**
 * The workers measured: the Rust worker as built, and with the worst callback's rules, each with
 * its hub; the JavaScript baseline, with the Rust worker's hub; and the floor, which only reads
 * the body.
 */
export const WORKERS = {
  rust: { ...RUST, bindings: {}, durableObjects: OWN_HUB },
  'rust-rules': { ...RUST, bindings: { ASSIGNMENT_INSTRUCTION: JSON.stringify(WORST_RULES) }, durableObjects: OWN_HUB },
  'baseline-js': {
    scriptPath: path.join(root, 'bench/baseline-js/worker.js'), bindings: {},
    durableObjects: { HUB: { className: 'Hub', scriptName: HUB_SCRIPT, useSQLite: true } },
  },
  floor: { scriptPath: path.join(root, 'bench/floor/worker.js'), bindings: {} },
};

/** One of `WORKERS` in a Miniflare of its own on a free port: `{ mf, url, pid }`. */
export async function startWorker(name) {
  const port = await freePort();
  const { bindings, ...script } = WORKERS[name];
  const lendsHub = script.durableObjects?.HUB?.scriptName === HUB_SCRIPT;
  const mf = new Miniflare({
    host: '127.0.0.1', port, cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
    workers: [
      { name, modules: true, ...script, compatibilityDate: '2026-07-30', bindings: { ...BINDINGS, ...bindings }, wrappedBindings: MEMORY_KV },
      { name: 'memory-kv', modules: true, scriptPath: path.join(root, 'bench/memory-kv/kv.mjs') },
      ...(lendsHub
        ? [{ name: HUB_SCRIPT, modules: true, ...RUST, compatibilityDate: '2026-07-30', bindings: BINDINGS, wrappedBindings: MEMORY_KV, durableObjects: OWN_HUB }]
        : []),
    ],
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { mf, url, pid: workerdPid(port) };
}

/** The workerd process serving `port`. */
function workerdPid(port) {
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

/**
 * The CPU time of a process, in ms: the time each of its threads has spent on a CPU
 * (`/proc/<pid>/task/<tid>/schedstat`, in ns), summed. Finer than `utime + stime`, which count in
 * ticks of 10 ms.
 */
export function cpuMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended while being read.
    }
  }
  return ns / 1e6;
}

/** Sends `callbacks` (from bench/callbacks.mjs) to `url` in turn at `connections`; throws unless all are answered 200. */
export async function sendCallbacks(url, callbacks, connections = 16) {
  let next = 0;
  const result = await autocannon({
    url, connections, amount: callbacks.length, pipelining: 1,
    requests: [{
      method: 'POST',
      path: '/assignment_callback',
      setupRequest: (request) => {
        const { body, signature } = callbacks[next++];
        return { ...request, body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } };
      },
    }],
  });
  if (result['2xx'] !== callbacks.length) {
    throw new Error(`${url}: ${result['2xx']} of ${callbacks.length} answered 200 (${JSON.stringify(result.statusCodeStats)}, ${result.errors} errors)`);
  }
  return result;
}
