// What one `await` on a runtime promise costs in each language, in workerd CPU: the floors
// (bench/floor in JavaScript, bench/rust-floor with workers-rs) answer the same request after N
// awaits of an already-resolved promise; the cost of one await is the difference between
// N = AWAITS and N = 0, divided by AWAITS. In Rust each await is wasm-bindgen's `JsFuture` (two
// closures made and registered for finalization, a `then` on the promise) and a wake through
// js-sys's executor, which schedules its run with the global `queueMicrotask`; in JavaScript
// it is V8's own await. The project's worker awaits once per KV operation and body read.
//
//   node bench/boundary.mjs
import { startWorker, workerdCpuMs, workerdPid } from './cpu.mjs';
import { cell, spread } from './stats.mjs';

const AWAITS = 100;
const REQUESTS = Number(process.env.BENCH_BOUNDARY_REQUESTS ?? 600);
const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 5);
const CONCURRENCY = 8;

async function cpuPerRequest(url, pid, awaits) {
  const before = workerdCpuMs(pid);
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, lane) => {
    for (let i = lane; i < REQUESTS; i += CONCURRENCY) {
      const response = await fetch(`${url}/?awaits=${awaits}`, { method: 'POST', body: 'x' });
      if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
      await response.arrayBuffer();
    }
  }));
  return (workerdCpuMs(pid) - before) / REQUESTS;
}

/** µs of workerd CPU per await, for each floor: median of ROUNDS rounds, with the range. */
export async function boundary() {
  const perAwait = { 'rust-floor': [], floor: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const name of round % 2 ? ['floor', 'rust-floor'] : ['rust-floor', 'floor']) {
      const { mf, url, port } = await startWorker(name);
      try {
        const pid = workerdPid(port);
        await cpuPerRequest(url, pid, AWAITS);
        const none = await cpuPerRequest(url, pid, 0);
        const many = await cpuPerRequest(url, pid, AWAITS);
        perAwait[name].push(((many - none) / AWAITS) * 1000);
      } finally {
        await mf.dispose();
      }
    }
  }
  return { awaits: AWAITS, requests: REQUESTS, rust: spread(perAwait['rust-floor'], 'us', 2), javascript: spread(perAwait.floor, 'us', 2) };
}

export function boundaryTable(results) {
  return [
    `| workerd CPU µs per await of a resolved promise (median of ${ROUNDS} rounds, range) | rust (workers-rs) | javascript |`,
    '| --- | --- | --- |',
    `| one await, from ${results.awaits} awaits per request over ${results.requests} requests | ${cell(results.rust, 'us')} | ${cell(results.javascript, 'us')} |`,
  ].join('\n');
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const results = await boundary();
  console.log(JSON.stringify(results, null, 2));
  console.log(boundaryTable(results));
}
