// What Prism cannot do for Events v1: remember. Sinks, Subscriptions and their subscribed types
// kept as Twilio keeps them, so that running `connect --event-streams` twice, or `--remove`, can
// be seen to change nothing the second time. Every request is recorded (with its body) to be
// put to Prism serving Twilio's own description afterwards.
import { createServer } from 'node:http';

import { onStop } from './lifecycle.mjs';

const hex = (n) => n.toString(16).padStart(32, '0');

export async function startFakeEventStreams() {
  const sinks = new Map();
  const subscriptions = new Map();
  const requests = [];
  let next = 1;

  const page = (key, items, url) => ({ [key]: items, meta: { page: 0, page_size: 1000, key, url, first_page_url: url, previous_page_url: null, next_page_url: null } });
  const sinkJson = (sink) => ({ ...sink, url: `https://events.twilio.com/v1/Sinks/${sink.sid}`, links: {} });

  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url, 'http://fake');
      const form = new URLSearchParams(body);
      requests.push({ method: req.method, path: url.pathname, query: url.search, body, authorization: req.headers.authorization, contentType: req.headers['content-type'] });
      const answer = (status, json) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(json === undefined ? '' : JSON.stringify(json));
      };
      const route = `${req.method} ${url.pathname}`;
      let match;
      if (route === 'GET /v1/Sinks') return answer(200, page('sinks', [...sinks.values()].map(sinkJson), req.url));
      if (route === 'POST /v1/Sinks') {
        const sink = { sid: `DG${hex(next++)}`, description: form.get('Description'), sink_type: form.get('SinkType'), sink_configuration: JSON.parse(form.get('SinkConfiguration')), status: 'active' };
        sinks.set(sink.sid, sink);
        return answer(201, sinkJson(sink));
      }
      if ((match = route.match(/^DELETE \/v1\/Sinks\/(DG\w+)$/))) {
        if ([...subscriptions.values()].some((s) => s.sink_sid === match[1])) return answer(400, { code: 20001, message: 'Sink has subscriptions', status: 400 });
        return sinks.delete(match[1]) ? answer(204) : answer(404, { code: 20404, message: 'not found', status: 404 });
      }
      if (route === 'GET /v1/Subscriptions') {
        const of = url.searchParams.get('SinkSid');
        const listed = [...subscriptions.values()].filter((s) => !of || s.sink_sid === of).map(({ types, ...s }) => s);
        return answer(200, page('subscriptions', listed, req.url));
      }
      if (route === 'POST /v1/Subscriptions') {
        if (!sinks.has(form.get('SinkSid'))) return answer(400, { code: 20001, message: 'Sink must be active', status: 400 });
        const types = form.getAll('Types').map((text) => JSON.parse(text));
        const subscription = { sid: `DF${hex(next++)}`, sink_sid: form.get('SinkSid'), description: form.get('Description'), types };
        subscriptions.set(subscription.sid, subscription);
        const { types: _, ...shown } = subscription;
        return answer(201, shown);
      }
      if ((match = route.match(/^DELETE \/v1\/Subscriptions\/(DF\w+)$/))) {
        return subscriptions.delete(match[1]) ? answer(204) : answer(404, { code: 20404, message: 'not found', status: 404 });
      }
      if ((match = route.match(/^(GET|POST) \/v1\/Subscriptions\/(DF\w+)\/SubscribedEvents$/))) {
        const subscription = subscriptions.get(match[2]);
        if (!subscription) return answer(404, { code: 20404, message: 'not found', status: 404 });
        if (match[1] === 'GET') return answer(200, page('types', subscription.types, req.url));
        const added = { type: form.get('Type'), schema_version: Number(form.get('SchemaVersion') ?? 1) };
        subscription.types.push(added);
        return answer(201, { ...added, subscription_sid: subscription.sid });
      }
      return answer(404, { code: 20404, message: `no route ${route}`, status: 404 });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  onStop(() => new Promise((resolve) => server.close(resolve)));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    sinks,
    subscriptions,
    requests,
    /** Requests since `mark` (a length of `requests`), as "METHOD /path". */
    since: (mark) => requests.slice(mark).map((r) => `${r.method} ${r.path}`),
  };
}
