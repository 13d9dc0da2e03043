// Workers KV as a map in the worker's own isolate, for `bench/cpu.mjs`'s `memory` path: a wrapped
// binding (Miniflare's `wrappedBindings`), so each KV call is a plain JavaScript call and no KV
// service spends CPU in the same workerd. It answers as Workers KV does for what the two workers
// ask of it: bytes or text in; `arrayBuffer`, `json` or text out; null for an absent key.
const values = new Map();
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (value) => (typeof value === 'string' ? encoder.encode(value) : new Uint8Array(value));

export default function () {
  return {
    async get(key, type) {
      const value = values.get(key);
      if (value === undefined) return null;
      if (type === 'arrayBuffer') return value.slice().buffer;
      const text = decoder.decode(value);
      return type === 'json' ? JSON.parse(text) : text;
    },
    async put(key, value) {
      values.set(key, bytes(value));
    },
    async delete(key) {
      values.delete(key);
    },
    async list() {
      return { keys: [], list_complete: true };
    },
  };
}
