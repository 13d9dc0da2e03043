// What a new isolate costs before it is warm: workerd CPU per request over consecutive windows of
// one isolate's first requests (the first 20, the next 80, …) at up to 16 connections, on both
// paths of `bench/cpu.mjs`, for the Rust worker and the baseline. A Rust worker's first requests
// pay for V8 compiling its wasm (each function when first called, again when it runs hot) on top
// of the work itself; a JavaScript worker compiles only the little it runs. `bench/cpu.mjs`
// measures after 300 requests of warm-up; this shows what those and the next thousands cost.
// Median of ROUNDS interleaved rounds, each on a new Miniflare. On the stored path the second
// looks (in `waitUntil`) of one window's requests partly fall in the next.
//
//   node bench/warmup.mjs
import { sendCallbacks, startWorker, workerdCpuMs, workerdPid } from './cpu.mjs';
import { signedCallbacks } from './requests.mjs';
import { cell, spread, withinRounds } from './stats.mjs';

const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 5);
/** Window edges, in requests since the isolate started, per path. */
const EDGES = { refused: [0, 20, 100, 300, 1000, 3000], stored: [0, 20, 100, 300, 1000] };
const NAMES = ['rust', 'baseline-js'];

const log = (...args) => console.error('bench:', ...args);

async function oneRound(name, pathName) {
  const edges = EDGES[pathName];
  const { mf, url, port } = await startWorker(name);
  try {
    const pid = workerdPid(port);
    const requests = signedCallbacks(`${url}/assignment_callback`, edges.at(-1), { forged: pathName === 'refused' });
    const perWindow = [];
    for (let i = 1; i < edges.length; i += 1) {
      const count = edges[i] - edges[i - 1];
      const before = workerdCpuMs(pid);
      const result = await sendCallbacks(url, requests.slice(edges[i - 1], edges[i]), count);
      // As in bench/cpu.mjs: Miniflare's local KV leaves a few stored requests unanswered.
      const answered = pathName === 'refused' ? result.non2xx : result['2xx'];
      if (answered < count * 0.98) throw new Error(`${name} ${pathName}: ${JSON.stringify(result.statusCodeStats)} in window ${i}`);
      perWindow.push((workerdCpuMs(pid) - before) / count);
    }
    return perWindow;
  } finally {
    await mf.dispose();
  }
}

function summarize(edges, samples) {
  const windows = edges.slice(1).map((end, i) => {
    const byName = Object.fromEntries(NAMES.map((name) => [name, samples[name].map((round) => round[i])]));
    return {
      requests: `${edges[i] + 1}–${end}`,
      ...Object.fromEntries(NAMES.map((name) => [name, spread(byName[name])])),
      rust_minus_baseline: withinRounds(byName.rust, byName['baseline-js']),
    };
  });
  // CPU over all the windows, in ms: each worker's median per request times the window's size.
  const total = (name) => Number(windows.reduce((sum, w, i) => sum + w[name].median_ms * (edges[i + 1] - edges[i]), 0).toFixed(0));
  return { windows, total_ms: Object.fromEntries(NAMES.map((name) => [name, total(name)])) };
}

export async function warmup() {
  const results = { rounds: ROUNDS };
  for (const pathName of Object.keys(EDGES)) {
    const samples = Object.fromEntries(NAMES.map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const name of round % 2 ? [...NAMES].reverse() : NAMES) {
        const perWindow = await oneRound(name, pathName);
        samples[name].push(perWindow);
        log(`warmup ${pathName} ${name} round ${round + 1}: ${perWindow.map((ms) => ms.toFixed(3)).join(' ')} ms/request`);
      }
    }
    results[pathName] = summarize(EDGES[pathName], samples);
  }
  return results;
}

export function warmupTable(results) {
  const rows = Object.keys(EDGES).flatMap((pathName) => [
    ...results[pathName].windows.map((w) => `| ${pathName}, requests ${w.requests} | ${cell(w.rust)} | ${cell(w['baseline-js'])} | ${cell(w.rust_minus_baseline)} |`),
    `| ${pathName}, all ${EDGES[pathName].at(-1)}: CPU in all, ms | ${results[pathName].total_ms.rust} | ${results[pathName].total_ms['baseline-js']} | |`,
  ]);
  return [
    `| a new isolate's first requests, workerd CPU ms per request (median of ${results.rounds} rounds, range) | rust | baseline-js | rust − baseline-js, within each round |`,
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const results = await warmup();
  console.log(JSON.stringify(results, null, 2));
  console.log(warmupTable(results));
}
