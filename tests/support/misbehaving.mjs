// A local server written to misbehave, for the CLI's tests: it answers each request with
// whatever the test's handler says, and counts the requests.
import { createServer } from 'node:http';

import { onStop } from './lifecycle.mjs';

/** Starts a server whose answers come from `handle(req, res, n)` (n counts requests from 1). */
export async function startMisbehaving(handle) {
  let count = 0;
  const server = createServer((req, res) => {
    count += 1;
    const n = count;
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      req.body = body;
      handle(req, res, n);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  onStop(stop);
  return { url: `http://127.0.0.1:${server.address().port}`, requests: () => count, stop };
}

export function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof value === 'string' ? value : JSON.stringify(value));
}
