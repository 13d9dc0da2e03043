// What every measurement needs: a worker alone in its own Miniflare (its own workerd), with KV as
// a map in its own isolate (bench/memory-kv), and that workerd's CPU time.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';
import { Miniflare } from 'miniflare';

import { freePort } from '../tests/support/prism.mjs';
import { AUTH_TOKEN, WORST_RULES } from './callbacks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = process.env.BENCH_BUILD ?? path.join(root, 'build');
const RUST = { scriptPath: path.join(BUILD, 'index.js'), modulesRoot: BUILD, modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }] };

/**
 * The workers measured: the Rust worker as built, and with the worst callback's rules; the
 * JavaScript baseline; and the floor, which only reads the body.
 */
export const WORKERS = {
  rust: { ...RUST, bindings: {} },
  'rust-rules': { ...RUST, bindings: { ASSIGNMENT_INSTRUCTION: JSON.stringify(WORST_RULES) } },
  'baseline-js': { scriptPath: path.join(root, 'bench/baseline-js/worker.js'), bindings: {} },
  floor: { scriptPath: path.join(root, 'bench/floor/worker.js'), bindings: {} },
};

/** One of `WORKERS` in a Miniflare of its own on a free port: `{ mf, url, pid }`. */
export async function startWorker(name) {
  const port = await freePort();
  const { bindings, ...script } = WORKERS[name];
  const mf = new Miniflare({
    host: '127.0.0.1', port, cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
    workers: [
      {
        name, modules: true, ...script, compatibilityDate: '2026-04-01',
        bindings: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, RESERVATIONS_API_TOKEN: 'bench-operator-token', ...bindings },
        wrappedBindings: { RESERVATIONS: 'memory-kv' },
      },
      { name: 'memory-kv', modules: true, scriptPath: path.join(root, 'bench/memory-kv/kv.mjs') },
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
