// CPU per request, the figure Workers bills and limits (10 ms per request on the Free plan):
// workerd's CPU time around N callbacks, divided by N. KV is a map in each worker's own isolate,
// so Miniflare's KV service (a few ms of the same workerd's CPU per callback, and noisier than
// the workers' difference) is out of the figure. Each comparison runs in rounds: its workers
// start together, warm up, then take turns, a batch at a time, so the machine's drift within a
// round falls on all of them alike; a ratio is taken within each round, then summarised as a
// median with its range. Each callback asks the hub once before it is answered (the Rust
// worker's own hub; the baseline binds the same one), so the hub's work is in every figure but
// the floor's.
//
// - typical: the Rust worker against the JavaScript baseline, on the quickstart's callback;
// - worst: the Rust worker with 20 rules against itself without, on the worst realistic callback,
//   with the baseline beside them.
// Each also runs the floor, a worker that only reads the body: what workerd spends before any
// worker's own work (Miniflare's proxying of the request among it), which Cloudflare does not bill.
import { signedCallbacks, worstTask } from './callbacks.mjs';
import { spread } from './stats.mjs';
import { cpuMs, sendCallbacks, startWorker } from './workerd.mjs';

const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 5);
// Between the warm-up and the reading, and after the last batch: long enough for what the last
// answers left running (a log line, the hub's storage) to land before workerd's CPU is read.
const QUIET_MS = 250;

export const COMPARISONS = {
  typical: { workers: ['rust', 'baseline-js', 'floor'], requests: 1500, warmUp: 300, batches: 5, task: undefined },
  worst: { workers: ['rust-rules', 'rust', 'baseline-js', 'floor'], requests: 300, warmUp: 60, batches: 5, task: worstTask() },
};

const log = (...args) => console.error('bench:', ...args);
const settle = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));
const rotated = (items, by) => [...items.slice(by % items.length), ...items.slice(0, by % items.length)];

/** One round of a comparison: each worker's CPU ms per callback. */
async function oneRound({ workers: names, requests, warmUp, batches, task }, round) {
  const workers = [];
  try {
    for (const name of rotated(names, round)) {
      const worker = { name, ...(await startWorker(name)) };
      worker.callbacks = signedCallbacks(`${worker.url}/assignment_callback`, requests + warmUp, { task });
      await sendCallbacks(worker.url, worker.callbacks.slice(requests));
      workers.push(worker);
    }
    await settle();
    for (const worker of workers) worker.before = cpuMs(worker.pid);
    const perBatch = requests / batches;
    for (let batch = 0; batch < batches; batch += 1) {
      for (const worker of rotated(workers, batch)) await sendCallbacks(worker.url, worker.callbacks.slice(batch * perBatch, (batch + 1) * perBatch));
    }
    await settle();
    return Object.fromEntries(workers.map((worker) => [worker.name, (cpuMs(worker.pid) - worker.before) / requests]));
  } finally {
    await Promise.all(workers.map(({ mf }) => mf.dispose()));
  }
}

/** Each comparison's figures: every worker's ms per callback, and the ratio of the first to the second. */
export async function cpu() {
  const results = {};
  for (const [name, comparison] of Object.entries(COMPARISONS)) {
    const samples = Object.fromEntries(comparison.workers.map((worker) => [worker, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      const figures = await oneRound(comparison, round);
      for (const [worker, ms] of Object.entries(figures)) samples[worker].push(ms);
      log(`cpu ${name} round ${round + 1}: ${Object.entries(figures).map(([worker, ms]) => `${worker} ${ms.toFixed(3)}`).join(', ')} ms per callback`);
    }
    const [first, second] = comparison.workers;
    const lessFloor = (values) => values.map((value, round) => value - samples.floor[round]);
    results[name] = {
      requests: comparison.requests,
      ...Object.fromEntries(Object.entries(samples).map(([worker, values]) => [worker, spread(values)])),
      // Each worker's own work: its CPU less the floor's, within each round.
      less_floor: Object.fromEntries(Object.entries(samples).filter(([worker]) => worker !== 'floor').map(([worker, values]) => [worker, spread(lessFloor(values))])),
      ratio: spread(samples[first].map((value, round) => value / samples[second][round]), 'x'),
    };
  }
  return { rounds: ROUNDS, ...results };
}
