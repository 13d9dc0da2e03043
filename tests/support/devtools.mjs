// A DevTools-protocol session over workerd's inspector port (Miniflare's `inspectorPort`): the
// runtime test evaluates in the worker's isolate with it, the benchmark's profiler drives V8's
// CPU profiler with it.
import WebSocket from 'ws';

/** Connects to one inspector target; `send` answers a method's result, `events` collects the rest. */
export async function devtools(webSocketUrl) {
  const socket = new WebSocket(webSocketUrl);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let id = 0;
  const waiting = new Map();
  const events = [];
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.id === undefined) events.push(message);
    else waiting.get(message.id)?.(message);
  });
  return {
    send: (method, params = {}) => new Promise((resolve, reject) => {
      id += 1;
      waiting.set(id, (message) => (message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result)));
      socket.send(JSON.stringify({ id, method, params }));
    }),
    events,
    close: () => socket.close(),
  };
}

/** The inspector target of the project's worker: the unnamed user worker, beside Miniflare's own. */
export async function workerTarget(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.title.endsWith('core:user:'));
  if (!target) throw new Error(`no inspector target is the worker: ${targets.map((t) => t.title).join(', ')}`);
  return target.webSocketDebuggerUrl;
}
