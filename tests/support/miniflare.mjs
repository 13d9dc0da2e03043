// Miniflare, as wrangler depends on it (5.x), driven with the options the suites and the bench
// were written in (Miniflare 4's), through Miniflare's own `convertV4MiniflareOptions`. Two
// things that converter refuses are done here: `modulesRules` (the built worker's wasm module
// becomes an explicit module beside its script) and `handleRuntimeStdio` (the runtime's log lines
// now arrive as structured logs, and are handed on as lines on two streams). Options the
// converter would drop without a word are refused instead: persistence is
// `resourcePersistencePath` now, and wrapped bindings are gone (use `miniflare-4`).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';

import { Miniflare as Miniflare5, convertV4MiniflareOptions } from 'miniflare';

export class Miniflare extends Miniflare5 {
  constructor(options) {
    super(convert(options));
  }

  setOptions(options) {
    return super.setOptions(convert(options));
  }
}

const DROPPED = ['kvPersist', 'durableObjectsPersist', 'wrappedBindings'];

function convert({ handleRuntimeStdio, ...options }) {
  for (const worker of options.workers ?? [options]) {
    const dropped = DROPPED.filter((name) => name in worker || name in options);
    if (dropped.length) throw new TypeError(`Miniflare 5 would ignore ${dropped.join(', ')}: see tests/support/miniflare.mjs`);
  }
  const converted = convertV4MiniflareOptions(
    options.workers ? { ...options, workers: options.workers.map(explicitModules) } : explicitModules(options),
  );
  if (handleRuntimeStdio) {
    const streams = { stdout: new PassThrough(), stderr: new PassThrough() };
    handleRuntimeStdio(streams.stdout, streams.stderr);
    converted.handleStructuredLogs = ({ level, message }) => {
      streams[level === 'error' || level === 'warn' ? 'stderr' : 'stdout'].write(`${message}\n`);
    };
  }
  return converted;
}

/** A worker given as a script with `modulesRules`: its script, and each wasm module beside it. */
function explicitModules(worker) {
  if (worker.modules !== true || !worker.modulesRules) return worker;
  const { modulesRules, scriptPath, ...rest } = worker;
  const root = worker.modulesRoot ?? path.dirname(scriptPath);
  const wasm = modulesRules.some((rule) => rule.type === 'CompiledWasm')
    ? readdirSync(root).filter((name) => name.endsWith('.wasm')).map((name) => ({ type: 'CompiledWasm', path: path.join(root, name) }))
    : [];
  return { ...rest, modules: [{ type: 'ESModule', path: scriptPath }, ...wasm] };
}
