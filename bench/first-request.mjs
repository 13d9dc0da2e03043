// A new isolate's first request: workerd's CPU for the first callback a freshly started worker
// answers, which pays for V8 compiling the code it runs on top of the work itself. Each sample
// is a new Miniflare; the Rust worker, the baseline and the floor (a worker that only reads the
// body: a new isolate's first request in Miniflare costs this much before any worker's own work)
// take turns. The Rust worker's hub is in the same workerd (for the baseline, the Rust worker's
// hub beside it), new with each Miniflare: its first start (its tables, its import of the newest
// keys) falls in that first callback, for both.
import { signedCallbacks } from './callbacks.mjs';
import { spread } from './stats.mjs';
import { cpuMs, startWorker } from './workerd.mjs';

const SAMPLES = Number(process.env.BENCH_FIRST_SAMPLES ?? 7);
const NAMES = ['rust', 'baseline-js', 'floor'];
const QUIET_MS = 500;

const log = (...args) => console.error('bench:', ...args);

async function sample(name) {
  const { mf, url, pid } = await startWorker(name);
  try {
    // Whatever workerd does right after starting is not the request's.
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const before = cpuMs(pid);
    const started = performance.now();
    const [{ body, signature }] = signedCallbacks(`${url}/assignment_callback`, 1);
    const response = await fetch(`${url}/assignment_callback`, {
      method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    });
    if (response.status !== 200) throw new Error(`${name}: the first callback was answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
    return { cpu: cpuMs(pid) - before, wall: performance.now() - started };
  } finally {
    await mf.dispose();
  }
}

export async function firstRequest() {
  const samples = Object.fromEntries(NAMES.map((name) => [name, { cpu: [], wall: [] }]));
  for (let i = 0; i < SAMPLES; i += 1) {
    for (const name of [...NAMES.slice(i % NAMES.length), ...NAMES.slice(0, i % NAMES.length)]) {
      const { cpu, wall } = await sample(name);
      samples[name].cpu.push(cpu);
      samples[name].wall.push(wall);
      log(`first request ${name} sample ${i + 1}: ${cpu.toFixed(1)} ms CPU, ${wall.toFixed(1)} ms`);
    }
  }
  const lessFloor = (name) => samples[name].cpu.map((cpu, i) => cpu - samples.floor.cpu[i]);
  return Object.fromEntries(NAMES.map((name) => [name, {
    cpu: spread(samples[name].cpu, 'ms', 1),
    // The worker's own: its CPU less the floor's in the same turn.
    ...(name === 'floor' ? {} : { less_floor: spread(lessFloor(name), 'ms', 1) }),
    wall: spread(samples[name].wall, 'ms', 1),
  }]));
}
