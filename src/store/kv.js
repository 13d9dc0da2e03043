// The worker's Workers KV calls (src/store/kv.rs). Each starts one KV operation (or a timer)
// and reports how it settled to `settled(slot, ok, value)`, one function the worker made once
// (src/store/settled.rs). Awaiting the promise from wasm with js-sys's `JsFuture` instead made
// two closures per await, registered each with a FinalizationRegistry and destroyed each with
// two more crossings; and `put`'s options crossed as JSON text to be parsed.

/** Reports how `start()`'s promise settles; a call that throws is reported as a rejection. */
function report(start, slot, settled) {
  let promise;
  try {
    promise = start();
  } catch (error) {
    promise = Promise.reject(error);
  }
  promise.then((value) => settled(slot, true, value), (error) => settled(slot, false, error));
}

/** The value's bytes, or null when the key is absent. */
export function kvGet(kv, key, slot, settled) {
  report(() => kv.get(key, 'arrayBuffer').then((value) => value && new Uint8Array(value)), slot, settled);
}

/** `value` is a view of the worker's memory: copied before the call returns. */
export function kvPut(kv, key, value, expiration, metadata, slot, settled) {
  const bytes = value.slice();
  const options = metadata === undefined ? { expiration } : { expiration, metadata: JSON.parse(metadata) };
  report(() => kv.put(key, bytes, options), slot, settled);
}

export function kvDelete(kv, key, slot, settled) {
  report(() => kv.delete(key), slot, settled);
}

/** The listing as JSON text, read by the worker's own JSON reader. */
export function kvList(kv, options, slot, settled) {
  report(() => kv.list(JSON.parse(options)).then((listing) => JSON.stringify(listing)), slot, settled);
}

export function sleep(ms, slot, settled) {
  setTimeout(() => settled(slot, true, undefined), ms);
}
