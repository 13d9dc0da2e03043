// The crate reads top-down: no file's code depends, through any chain of `use` and paths, on a
// file that depends back on it. Test modules (`#[cfg(test)] mod tests`, at the end of a file) may
// use anything and are left out. A name a `mod.rs` re-exports (`pub use child::Name`) counts as
// the child's, where it is defined.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function rustFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return rustFiles(file);
    return file.endsWith('.rs') ? [file] : [];
  });
}

/** `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (an `as` rename dropped). */
function expand(tree) {
  const open = tree.indexOf('{');
  if (open < 0) return [tree.replace(/\bas\b.*$/, '').replace(/::self$/, '').trim()];
  const prefix = tree.slice(0, open);
  const parts = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < tree.length; i += 1) {
    if (tree[i] === '{') depth += 1;
    else if (tree[i] === '}' && --depth === 0) {
      parts.push(tree.slice(start, i));
      break;
    } else if (tree[i] === ',' && depth === 1) {
      parts.push(tree.slice(start, i));
      start = i + 1;
    }
  }
  return parts.map((part) => part.trim()).filter(Boolean).flatMap((part) => expand(prefix + part));
}

/** The import graph of one crate's `src`: file → the files its code names. */
export function importGraph(src) {
  const files = rustFiles(src);
  const isModRoot = (file) => /(^|\/)(mod|lib|main)\.rs$/.test(file);
  const modulePath = (file) => {
    const parts = path.relative(src, file).replace(/\.rs$/, '').split(path.sep);
    if (isModRoot(file)) parts.pop();
    return parts;
  };
  const byModule = new Map(files.map((file) => [modulePath(file).join('::'), file]));
  const code = new Map(files.map((file) => {
    const text = readFileSync(file, 'utf8');
    const tests = text.search(/#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod tests\b/);
    return [file, (tests < 0 ? text : text.slice(0, tests)).replace(/\/\/.*$/gm, '')];
  }));
  // `pub use child::{A, B}` in a module root: where each re-exported name is defined.
  const reexports = new Map();
  for (const file of files.filter(isModRoot)) {
    for (const [, tree] of code.get(file).matchAll(/\bpub use\s+([^;]+);/g)) {
      for (const used of expand(tree.replace(/\s+/g, ''))) {
        const segments = used.split('::');
        const name = segments.at(-1);
        const child = byModule.get([...modulePath(file), ...segments.slice(0, -1)].join('::'));
        if (child) reexports.set(`${file}#${name}`, child);
      }
    }
  }
  /** The file a path names: the longest module prefix, then through a re-export. */
  const resolve = (segments) => {
    for (let n = segments.length; n > 0; n -= 1) {
      const file = byModule.get(segments.slice(0, n).join('::'));
      if (!file) continue;
      const item = segments[n];
      return (item && reexports.get(`${file}#${item}`)) ?? file;
    }
    return null;
  };
  const graph = new Map();
  for (const file of files) {
    const here = modulePath(file);
    const parent = here.slice(0, -1);
    const paths = [];
    for (const [, tree] of code.get(file).matchAll(/\buse\s+([^;]+);/g)) paths.push(...expand(tree.replace(/\s+/g, '')));
    for (const [whole] of code.get(file).matchAll(/\b(?:crate|super)(?:::\w+)+/g)) paths.push(whole);
    const targets = new Set();
    for (const used of paths) {
      let segments = used.split('::');
      let base;
      if (segments[0] === 'crate') base = [];
      else if (segments[0] === 'super') base = parent;
      else if (segments[0] === 'self') base = here;
      else if (isModRoot(file) && byModule.has([...here, segments[0]].join('::'))) base = here;
      else continue;
      segments = segments[0] === 'crate' || segments[0] === 'self' ? segments.slice(1) : segments[0] === 'super' ? segments.slice(1) : segments;
      while (segments[0] === 'super') {
        base = base.slice(0, -1);
        segments = segments.slice(1);
      }
      const target = resolve([...base, ...segments]);
      if (target && target !== file) targets.add(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every strongly connected set of more than one file (Tarjan). */
export function cycles(graph) {
  let index = 0;
  const state = new Map();
  const stack = [];
  const found = [];
  const visit = (file) => {
    state.set(file, { index, low: index, onStack: true });
    index += 1;
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!state.has(next)) {
        visit(next);
        state.get(file).low = Math.min(state.get(file).low, state.get(next).low);
      } else if (state.get(next).onStack) {
        state.get(file).low = Math.min(state.get(file).low, state.get(next).index);
      }
    }
    if (state.get(file).low === state.get(file).index) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        state.get(member).onStack = false;
        component.push(member);
      } while (member !== file);
      if (component.length > 1) found.push(component);
    }
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('the crate reads top-down', () => {
  for (const crate of ['core/src', 'src', 'cli/src']) {
    test(`no import cycle between the files of ${crate}`, () => {
      const graph = importGraph(path.join(root, crate));
      assert.ok(graph.size > 5, `${graph.size} files read`);
      const found = cycles(graph).map((files) => files.map((file) => path.relative(root, file)).sort().join(' ↔ '));
      assert.deepEqual(found, []);
    });
  }

  test('the check finds a cycle when there is one', () => {
    const graph = new Map([
      ['a.rs', new Set(['b.rs'])],
      ['b.rs', new Set(['c.rs'])],
      ['c.rs', new Set(['a.rs'])],
      ['d.rs', new Set(['a.rs'])],
    ]);
    assert.deepEqual(cycles(graph).map((files) => files.sort()), [['a.rs', 'b.rs', 'c.rs']]);
    assert.deepEqual(expand('crate::a::{b, c::{d, e as f}, self}'), ['crate::a::b', 'crate::a::c::d', 'crate::a::c::e', 'crate::a']);
  });
});
