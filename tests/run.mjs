// `node tests/run.mjs [files…]`: runs the test files one at a time, each in its own process with
// its own Miniflare and servers, and stops after the first file with a failure, so a broken suite
// is reported in seconds rather than after every other suite. Prints node's spec report, then
// the summary of the whole run; exits non-zero on any failure.
//
// A failing file is not killed mid-run: node's runner can spin forever on the half-written
// report of a child killed mid-message (seen about one time in twenty). The file ends on its own
// instead, quickly: a suite whose `before` fails skips its tests, every test has a time limit,
// and every file stops its servers when it ends (tests/support/lifecycle.mjs).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = process.argv.length > 2
  ? process.argv.slice(2).map((file) => path.resolve(file))
  : readdirSync(here).filter((name) => name.endsWith('.test.mjs')).sort().map((name) => path.join(here, name));

// No single test may hang a file (the slowest test takes about 25 s).
const TEST_LIMIT_MS = 50_000;
// A file that has not ended in this long is stopped, with everything it started: a safety net.
const FILE_LIMIT_MS = Number(process.env.TEST_FILE_LIMIT_MS ?? 5 * 60_000);

/** Every live process below this one (Linux /proc), to stop what a stuck file left running. */
function descendants() {
  const parentOf = new Map();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      parentOf.set(Number(pid), Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]));
    } catch {
      // Ended while being read.
    }
  }
  const found = [];
  for (let frontier = [process.pid]; frontier.length > 0;) {
    frontier = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([pid]) => pid);
    found.push(...frontier);
  }
  return found;
}

const totals = { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };

/** Runs one file; resolves to whether it passed. */
function runFile(file) {
  return new Promise((resolve) => {
    let failed = false;
    const failuresBefore = totals.fail;
    const watchdog = setTimeout(() => {
      const left = descendants();
      console.error(`tests: ${path.basename(file)} did not end within ${FILE_LIMIT_MS / 1000} s; stopping ${left.length} processes`);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      resolve(false);
    }, FILE_LIMIT_MS);
    const stream = run({ files: [file], concurrency: 1, timeout: TEST_LIMIT_MS });
    stream.on('test:pass', (event) => count(event, 'pass'));
    stream.on('test:fail', (event) => {
      failed = true;
      count(event, 'fail');
    });
    stream.compose(spec).on('data', (chunk) => {
      // Each file's own summary would repeat below; the run's summary comes last.
      const text = chunk.toString().replace(/^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) .*\n/gm, '');
      process.stdout.write(text);
    });
    stream.on('end', () => {
      clearTimeout(watchdog);
      // A file that failed on its own (it did not load, or threw outside any test) has no failed
      // test to count: count the file.
      if (failed && totals.fail === failuresBefore) totals.fail += 1;
      resolve(!failed);
    });
  });
}

/**
 * Counts a result as node's summary does (tests and suites apart, the file itself not at all),
 * except that a suite that failed on its own (its `before` threw) counts as a failure: node's
 * summary would show it only as cancelled tests.
 */
function count(event, result) {
  const { details, nesting, skip, todo } = event;
  if (nesting === 0 && event.name === event.file) return;
  const cancelled = details?.error?.failureType === 'cancelledByParent';
  if (details?.type === 'suite') {
    totals.suites += 1;
    if (result === 'fail' && !cancelled) totals.fail += 1;
    return;
  }
  totals.tests += 1;
  if (skip) totals.skipped += 1;
  else if (todo) totals.todo += 1;
  else if (result === 'pass') totals.pass += 1;
  else if (cancelled) totals.cancelled += 1;
  else totals.fail += 1;
}

const started = Date.now();
let passed = true;
for (const file of files) {
  if (!(await runFile(file))) {
    passed = false;
    const rest = files.length - files.indexOf(file) - 1;
    if (rest > 0) console.log(`\n✖ ${path.relative(process.cwd(), file)} failed: the ${rest} files after it were not run`);
    break;
  }
}
for (const [name, value] of Object.entries(totals)) console.log(`ℹ ${name} ${value}`);
console.log(`ℹ duration_ms ${Date.now() - started}`);
process.exit(passed && totals.fail === 0 ? 0 : 1);
