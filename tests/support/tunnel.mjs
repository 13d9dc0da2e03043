// A WebSocket upgrade passed on by a test's proxy: the request written to the worker as it came
// (its headers as `headers` gives them), then the bytes both ways. Sockets are kept in `open`, so
// the proxy can end them when the file ends.
import { connect } from 'node:net';

export function tunnelUpgrade(req, client, head, { hostname, port }, headers, open) {
  const upstream = connect(Number(port), hostname, () => {
    const lines = Object.entries(headers).flatMap(([name, value]) => [value].flat().map((one) => `${name}: ${one}`));
    upstream.write([`${req.method} ${req.url} HTTP/1.1`, ...lines, '', ''].join('\r\n'));
    upstream.write(head);
    client.pipe(upstream).pipe(client);
  });
  for (const socket of [client, upstream]) {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
}
