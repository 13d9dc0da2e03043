// The floor: what workerd spends on a callback before any worker's own work. It reads the body
// and answers `{}`, nothing else; the other workers' figures include this much too.
export default {
  async fetch(request) {
    await request.arrayBuffer();
    return new Response('{}', { headers: { 'content-type': 'application/json' } });
  },
};
