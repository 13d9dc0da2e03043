// The floor: a worker that receives the request and answers `{}`. No check, no store: the
// runtime's own limit. (It reads the body: answering before it would make workerd reset the
// connection, which measures nothing useful.)
//
// With `?awaits=N` it first awaits N already-resolved promises, as bench/rust-floor does, so
// bench/boundary.mjs can compare what one await costs in each language.
export default {
  async fetch(request) {
    const asked = request.url.indexOf('awaits=');
    const awaits = asked < 0 ? 0 : parseInt(request.url.slice(asked + 7), 10);
    for (let i = 0; i < awaits; i += 1) await Promise.resolve(null);
    await request.arrayBuffer();
    return new Response('{}', { headers: { 'content-type': 'application/json' } });
  },
};
