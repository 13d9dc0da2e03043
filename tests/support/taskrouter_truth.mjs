// What Prism cannot do: remember. A TaskRouter that keeps the truth of one Workspace, for the
// catch-up: each reservation's status (the Reservation resource; a reservation it no longer has
// answers 404) and every event, served by the Events resource as TaskRouter pages it (StartDate,
// PageSize, PageToken, `meta.next_page_url`), and the Worker's and TaskQueue's `friendly_name`
// (one not set answers 404). While `unavailable` is set it answers 503.
import { createServer } from 'node:http';

import { onStop } from './lifecycle.mjs';
import { sid } from './twilio.mjs';

export async function startTaskRouterTruth() {
  const statuses = new Map();
  const names = new Map();
  const events = [];
  const requests = [];
  const state = { unavailable: false };
  let base;

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    requests.push({ method: req.method, path: url.pathname, query: url.search, authorization: req.headers.authorization });
    const answer = (status, json) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (state.unavailable) return answer(503, { code: 20500, message: 'Service unavailable', status: 503 });
    const listing = url.pathname.match(/^\/v1\/Workspaces\/(WS\w+)\/Events$/);
    if (listing && req.method === 'GET') {
      const since = Date.parse(url.searchParams.get('StartDate') ?? '1970-01-01T00:00:00Z');
      const size = Number(url.searchParams.get('PageSize') ?? 50);
      const offset = Number(url.searchParams.get('PageToken') ?? 0);
      // Newest first, as TaskRouter lists them.
      const found = events.filter((e) => e.workspace_sid === listing[1] && e.event_date_ms >= since).reverse();
      const page = found.slice(offset, offset + size);
      const next = offset + size < found.length
        ? `https://taskrouter.twilio.com${url.pathname}?PageSize=${size}&StartDate=${encodeURIComponent(url.searchParams.get('StartDate'))}&PageToken=${offset + size}`
        : null;
      return answer(200, { events: page, meta: { page_size: size, next_page_url: next, key: 'events' } });
    }
    const reservation = url.pathname.match(/^\/v1\/Workspaces\/(WS\w+)\/Tasks\/(WT\w+)\/Reservations\/(WR\w+)$/);
    if (reservation && req.method === 'GET') {
      const status = statuses.get(reservation[3]);
      if (!status) return answer(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      return answer(200, {
        sid: reservation[3], task_sid: reservation[2], workspace_sid: reservation[1], reservation_status: status,
        account_sid: sid('AC'), worker_sid: sid('WK'), worker_name: 'Alice', url: `${base}${url.pathname}`, links: {},
      });
    }
    const named = url.pathname.match(/^\/v1\/Workspaces\/(WS\w+)\/(Workers|TaskQueues)\/((?:WK|WQ)\w+)$/);
    if (named && req.method === 'GET' && names.has(named[3])) {
      return answer(200, { sid: named[3], workspace_sid: named[1], account_sid: sid('AC'), friendly_name: names.get(named[3]), url: `${base}${url.pathname}`, links: {} });
    }
    return answer(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  const stop = () => new Promise((resolve) => server.close(resolve));
  onStop(stop);
  return {
    url: base,
    requests,
    state,
    /** Sets what TaskRouter says of a reservation now; `null`: it no longer has it. */
    setStatus(reservationSid, status) {
      if (status === null) statuses.delete(reservationSid);
      else statuses.set(reservationSid, status);
    },
    /** Names a Worker (WK…) or a TaskQueue (WQ…), as its resource's `friendly_name`. */
    setName(resourceSid, name) {
      names.set(resourceSid, name);
    },
    /** Logs an event as TaskRouter's Events resource keeps it. */
    logEvent(eventType, assignment) {
      const [resourceType] = eventType.split('.');
      const now = Date.now();
      events.push({
        account_sid: assignment.AccountSid,
        workspace_sid: assignment.WorkspaceSid,
        sid: sid('EV'),
        event_type: eventType,
        event_date: new Date(now).toISOString(),
        event_date_ms: now,
        resource_type: resourceType,
        resource_sid: resourceType === 'reservation' ? assignment.ReservationSid : assignment.TaskSid,
        event_data: {
          task_sid: assignment.TaskSid,
          reservation_sid: resourceType === 'reservation' ? assignment.ReservationSid : undefined,
          worker_sid: assignment.WorkerSid,
          worker_name: 'Alice',
          task_queue_sid: assignment.TaskQueueSid,
          task_queue_name: 'Everyone',
        },
      });
    },
    stop,
  };
}
