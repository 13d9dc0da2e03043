// Everything a test file starts (Miniflare, Prism, fake servers) is stopped when the file ends,
// whether its tests passed, failed, or a `before` threw, and also when the runner kills the file
// (SIGTERM, on the first failure of the run) or the process exits some other way.
import { after } from 'node:test';

const stops = [];
const kills = new Set();

/** Registers `stop` (async) to run once the file's tests are over, newest first. */
export function onStop(stop) {
  stops.push(stop);
}

/** Registers a child process to kill synchronously if the process ends before `onStop` ran. */
export function killOnExit(child) {
  kills.add(child);
  child.once('exit', () => kills.delete(child));
}

async function stopAll() {
  while (stops.length > 0) {
    const stop = stops.pop();
    try {
      await stop();
    } catch (error) {
      console.error(`stopping a test server failed: ${error?.stack ?? error}`);
    }
  }
}

function killAll() {
  for (const child of kills) child.kill('SIGKILL');
  kills.clear();
}

// Under node's test runner only: the benchmark reuses these helpers and stops what it starts.
if (process.env.NODE_TEST_CONTEXT) after(stopAll);
process.once('exit', killAll);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    killAll();
    // Miniflare's own exit hook stops workerd on exit.
    process.exit(1);
  });
}
