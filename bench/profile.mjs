// Where a worker's CPU goes: V8's CPU profiler, driven over workerd's inspector port (the
// DevTools protocol's Profiler.start/stop), while the worker answers N requests. Prints the
// functions with the most self time, in µs per request.
//
//   node bench/profile.mjs [rust|baseline-js] [refused|stored]
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';

import { devtools, workerTarget } from '../tests/support/devtools.mjs';
import { freePort } from '../tests/support/prism.mjs';
import { startWorker } from './cpu.mjs';
import { signedCallbacks } from './requests.mjs';

const REQUESTS = Number(process.env.BENCH_PROFILE_REQUESTS ?? 3000);
const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 15);

/** Self time per function, in µs per request, most first. */
function selfTimes(profile, requests) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map();
  profile.samples.forEach((nodeId, i) => {
    const { callFrame } = byId.get(nodeId);
    const where = callFrame.url ? `${path.basename(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const name = `${callFrame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...totals].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, us_per_request: Number((us / requests).toFixed(1)) }));
}

export async function profileWorker(name, pathName) {
  const inspectorPort = await freePort();
  const { mf, url } = await startWorker(name, { inspectorPort });
  try {
    const session = await devtools(await workerTarget(inspectorPort));
    const requests = signedCallbacks(`${url}/assignment_callback`, REQUESTS, { forged: pathName === 'refused' });
    const load = (amount) => {
      let next = 0;
      return autocannon({
        url, connections: 16, amount, pipelining: 1,
        requests: [{ method: 'POST', path: '/assignment_callback', setupRequest: (request) => {
          const { body, signature } = requests[next++ % requests.length];
          return { ...request, body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } };
        } }],
      });
    };
    await load(300);
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: 100 });
    await session.send('Profiler.start');
    await load(REQUESTS);
    const { profile } = await session.send('Profiler.stop');
    session.close();
    return selfTimes(profile, REQUESTS);
  } finally {
    await mf.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name = 'rust', pathName = 'refused'] = process.argv.slice(2);
  const top = (await profileWorker(name, pathName)).slice(0, TOP);
  console.log(`| ${name}, ${pathName}: self time | µs per request |\n| --- | --- |`);
  for (const { name: fn, us_per_request: us } of top) console.log(`| \`${fn.replaceAll('|', '\\|')}\` | ${us} |`);
}
