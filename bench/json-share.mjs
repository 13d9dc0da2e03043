// How much of the gzipped wasm is JSON: the worker built by `scripts/build.sh` (worker-build,
// the release profile) three ways from a copy of the sources, and the gzipped size of each:
// - `as is`;
// - `without JSON reading`: every call of the worker's one reader (`json::parse`, `parse_bytes`,
//   `whole_value` in `src/json/`) replaced by a stub that fails, so no reading code is linked;
// - `without JSON`: the same, and every `serde_json::to_string`/`to_vec`/`to_value` by a stub
//   that writes nothing, so no `Serialize` is linked either.
// The two stubbed builds cannot answer a request; they are built only to be weighed, and what
// they weigh bounds what any JSON code, a library's or a hand-written one, may cost.
//
//   node bench/json-share.mjs
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (...args) => console.error('bench:', ...args);

const STUBS = `
/// bench/json-share.mjs: stand-ins that link no JSON code; never run.
pub mod json_share_stub {
    pub fn read<T>(_: impl Sized) -> Result<T, crate::json::Error> {
        Err(crate::json::Error::new("stub"))
    }
    pub fn raw(_: impl Sized) -> Result<&'static str, crate::json::Error> {
        Err(crate::json::Error::new("stub"))
    }
    pub fn text(_: impl Sized) -> Result<String, serde_json::Error> { Ok(String::new()) }
    pub fn bytes(_: impl Sized) -> Result<Vec<u8>, serde_json::Error> { Ok(Vec::new()) }
    pub fn value(_: impl Sized) -> Result<serde_json::Value, serde_json::Error> { Ok(serde_json::Value::Null) }
}
`;
const READING = [
  [/\b(crate::)?json::parse(_bytes)?\b/g, 'crate::json_share_stub::read'],
  [/\b(crate::)?json::whole_value\b/g, 'crate::json_share_stub::raw'],
];
const WRITING = [
  [/serde_json::to_string\(/g, 'crate::json_share_stub::text('],
  [/serde_json::to_vec\(/g, 'crate::json_share_stub::bytes('],
  [/serde_json::to_value\(/g, 'crate::json_share_stub::value('],
];
const VARIANTS = { 'as is': [], 'without JSON reading': READING, 'without JSON': [...READING, ...WRITING] };

/** Builds a copy of the worker with `replacements` applied to its sources; gzipped wasm bytes. */
function build(copy, replacements) {
  rmSync(path.join(copy, 'src'), { recursive: true, force: true });
  cpSync(path.join(root, 'src'), path.join(copy, 'src'), { recursive: true });
  let replaced = 0;
  const src = path.join(copy, 'src');
  for (const file of readdirSync(src, { recursive: true }).filter((name) => name.endsWith('.rs')).map((name) => path.join(src, name))) {
    let text = readFileSync(file, 'utf8');
    for (const [pattern, by] of replacements) text = text.replace(pattern, () => ((replaced += 1), by));
    writeFileSync(file, text);
  }
  if (replacements.length) writeFileSync(path.join(copy, 'src/lib.rs'), readFileSync(path.join(copy, 'src/lib.rs'), 'utf8') + STUBS);
  execFileSync('bash', ['scripts/build.sh'], { cwd: copy, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CARGO_TARGET_DIR: path.join(root, 'target/json-share') } });
  const wasm = readFileSync(path.join(copy, 'build/index_bg.wasm'));
  return { wasm_bytes: wasm.length, wasm_gzip_bytes: gzipSync(wasm, { level: 9 }).length, call_sites_replaced: replaced };
}

export function jsonShare() {
  const copy = mkdtempSync(path.join(os.tmpdir(), 'json-share-'));
  try {
    for (const file of ['Cargo.toml', 'Cargo.lock', 'wrangler.toml', 'scripts', 'cli', 'benches']) cpSync(path.join(root, file), path.join(copy, file), { recursive: true });
    symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
    mkdirSync(path.join(copy, 'build'));
    const results = {};
    for (const [name, replacements] of Object.entries(VARIANTS)) {
      results[name] = build(copy, replacements);
      log(`json share, ${name}:`, JSON.stringify(results[name]));
    }
    return results;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

export function jsonShareTable(results) {
  const asIs = results['as is'].wasm_gzip_bytes;
  return [
    '| the worker built (worker-build, release) | gzipped wasm | less than as is |',
    '| --- | --- | --- |',
    ...Object.entries(results).map(([name, r]) => `| ${name} | ${(r.wasm_gzip_bytes / 1024).toFixed(1)} KiB (${r.wasm_gzip_bytes}) | ${((asIs - r.wasm_gzip_bytes) / 1024).toFixed(1)} KiB |`),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = jsonShare();
  console.log(JSON.stringify(results, null, 2));
  console.log(jsonShareTable(results));
}
