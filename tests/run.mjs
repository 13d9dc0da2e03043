// `node tests/run.mjs [files…]`: runs the test files one at a time (each in its own process,
// with its own Miniflare and servers) and ends the run at the first failure, so a broken suite
// is reported in seconds rather than after every other suite. Prints node's spec report and its
// summary lines; exits non-zero on any failure.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = process.argv.length > 2
  ? process.argv.slice(2).map((file) => path.resolve(file))
  : readdirSync(here).filter((name) => name.endsWith('.test.mjs')).sort().map((name) => path.join(here, name));

// Well above a normal run (about 4 minutes on 2 cores): a safety net, not a schedule.
const RUN_LIMIT_MS = Number(process.env.TEST_RUN_LIMIT_MS ?? 25 * 60_000);
// No single test may hang the run.
const TEST_LIMIT_MS = 180_000;

const controller = new AbortController();
let failed = false;
const limit = setTimeout(() => {
  console.error(`tests: the run took longer than ${RUN_LIMIT_MS / 1000} s; stopping it`);
  failed = true;
  controller.abort();
}, RUN_LIMIT_MS);
limit.unref();

const stream = run({ files, concurrency: 1, timeout: TEST_LIMIT_MS, signal: controller.signal });
stream.on('test:fail', (event) => {
  failed = true;
  process.exitCode = 1;
  // A test cancelled because its suite's `before` failed is followed by the suite's own failure,
  // which carries the reason: stop on that one, so the report shows why.
  const kind = event.details?.error?.failureType;
  if (kind !== 'testAborted' && kind !== 'cancelledByParent') controller.abort();
});
stream.compose(spec).pipe(process.stdout);
stream.on('end', () => {
  clearTimeout(limit);
  process.exitCode = failed ? 1 : 0;
});
