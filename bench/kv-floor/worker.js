// The store's floor: receive the callback, read and write its KV key with metadata and TTL,
// answer `{}`. No checks. What any worker that stores each reservation pays to KV.
export default {
  async fetch(request, env) {
    const params = new URLSearchParams(await request.text());
    const key = `reservation:${params.get('ReservationSid')}`;
    await env.RESERVATIONS.get(key);
    await env.RESERVATIONS.put(key, JSON.stringify(Object.fromEntries(params)), {
      metadata: { status: 'pending', received_at: new Date().toISOString() },
      expirationTtl: 86400,
    });
    return new Response('{}', { headers: { 'content-type': 'application/json' } });
  },
};
