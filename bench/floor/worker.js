// The floor: a worker that receives the request and answers `{}`. No check, no store: the
// runtime's own limit. (It reads the body: answering before it would make workerd reset the
// connection, which measures nothing useful.)
export default {
  async fetch(request) {
    await request.arrayBuffer();
    return new Response('{}', { headers: { 'content-type': 'application/json' } });
  },
};
