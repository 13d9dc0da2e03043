// Workers KV as a map in the worker's own isolate (Miniflare's `wrappedBindings`), so that each
// KV call is a plain JavaScript call and no KV service spends CPU in the same workerd: what is
// measured is the worker's own work. It answers what the workers and the hub ask of it as Workers
// KV does: text or bytes in; text, `arrayBuffer` or `json` out (a type given as a string or as
// `{ type }`); null for an absent key. Keys are not listed: the hub's one import at its first
// start finds nothing to import.
const values = new Map();
const decoder = new TextDecoder();
// The worst callback's records are about 250 KiB each: past this many characters the oldest
// values go, which no callback reads again (each writes its own record once).
const KEPT_CHARACTERS = 80_000_000;
let kept = 0;

const text = (value) => (typeof value === 'string' ? value : decoder.decode(value));

export default function () {
  return {
    async get(key, options) {
      const type = typeof options === 'string' ? options : options?.type ?? 'text';
      const value = values.get(key);
      if (value === undefined) return null;
      if (type === 'arrayBuffer') return new TextEncoder().encode(text(value)).buffer;
      return type === 'json' ? JSON.parse(text(value)) : text(value);
    },
    async getWithMetadata(key, options) {
      return { value: await this.get(key, options), metadata: null };
    },
    async put(key, value) {
      this.delete(key);
      values.set(key, value);
      kept += value.length ?? value.byteLength;
      while (kept > KEPT_CHARACTERS) this.delete(values.keys().next().value);
    },
    delete(key) {
      const value = values.get(key);
      if (value !== undefined) kept -= value.length ?? value.byteLength;
      values.delete(key);
      return Promise.resolve();
    },
    async list() {
      return { keys: [], list_complete: true };
    },
  };
}
