// What Prism cannot do: Twilio's error answers. A local server that answers TaskRouter's
// reservation URLs the way Twilio does when things go wrong, in Twilio's error format.
import { createServer } from 'node:http';

import { onStop } from './lifecycle.mjs';

function twilioError(status, code, message) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function reservationJson(path, status) {
  const [, workspace, task, reservation] = path.match(/Workspaces\/(WS\w+)\/Tasks\/(WT\w+)\/Reservations\/(WR\w+)/) ?? [];
  return {
    account_sid: `AC${'a'.repeat(32)}`,
    sid: reservation,
    task_sid: task,
    workspace_sid: workspace,
    worker_sid: `WK${'b'.repeat(32)}`,
    worker_name: 'Alice',
    reservation_status: status,
    date_created: '2026-11-21T09:00:00Z',
    date_updated: '2026-11-21T09:02:00Z',
    url: `https://taskrouter.twilio.com${path}`,
    links: {},
  };
}

/**
 * Behaviours, chosen per reservation SID with `fake.behave(sid, name)`:
 * - unauthorized: 401 Authenticate (wrong credentials)
 * - not_found: 404 (unknown reservation)
 * - no_longer_pending: POST 400 "not in expected state [pending]"; GET says it timed out
 * - already_accepted: POST 400 "not in expected state [pending]"; GET says it is accepted
 * - rate_limited: 429 twice, then 200
 * - unavailable: 503 on every request
 * - lost_answer: the first POST is applied, then answered 503; GET tells what was applied
 * - dropped: the first POST is applied, then the connection is dropped without an answer
 * - failed_unapplied: the first POST fails with 500 and is not applied; later ones succeed
 * Anything else answers 200 after `delayMs`, like Twilio accepting the update.
 *
 * Workspaces and Workflows answer GET with what `setWorkspace`/`setWorkflow` gave them (empty by
 * default) and take POSTed fields as Twilio does.
 */
export async function startFakeTwilio({ delayMs = 0 } = {}) {
  const behaviours = new Map();
  const applied = new Map();
  const workspaces = new Map();
  const workflows = new Map();
  const requests = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const path = req.url.split('?')[0];
      const sid = path.match(/Reservations\/(WR\w+)/)?.[1];
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push({ method: req.method, path, sid, form, authorization: req.headers.authorization });
      const attempts = requests.filter((r) => r.sid === sid && r.method === req.method).length;
      const answer = (status, json) => {
        inFlight -= 1;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const workflow = path.match(/^\/v1\/Workspaces\/(WS\w+)\/Workflows\/(WW\w+)$/);
      if (workflow) {
        const state = { assignment_callback_url: null, fallback_assignment_callback_url: null, task_reservation_timeout: 120, ...workflows.get(workflow[2]) };
        if (req.method === 'POST') {
          if ('AssignmentCallbackUrl' in form) state.assignment_callback_url = form.AssignmentCallbackUrl;
          workflows.set(workflow[2], state);
        }
        return answer(200, { sid: workflow[2], workspace_sid: workflow[1], ...state });
      }
      const workspace = path.match(/^\/v1\/Workspaces\/(WS\w+)$/);
      if (workspace) {
        const state = { event_callback_url: '', events_filter: null, ...workspaces.get(workspace[1]) };
        if (req.method === 'POST') {
          if ('EventCallbackUrl' in form) state.event_callback_url = form.EventCallbackUrl;
          if ('EventsFilter' in form) state.events_filter = form.EventsFilter;
          workspaces.set(workspace[1], state);
        }
        return answer(200, { sid: workspace[1], ...state });
      }
      const apply = () => applied.set(sid, form.ReservationStatus);
      const current = () => reservationJson(path, applied.get(sid) ?? 'pending');
      const notPending = () => answer(400, twilioError(400, 20001, `Reservation ${sid} not in expected state [pending] and cannot be updated to [${form.ReservationStatus}]`));
      switch (behaviours.get(sid)) {
        case 'unauthorized':
          return answer(401, twilioError(401, 20003, 'Authenticate'));
        case 'not_found':
          return answer(404, twilioError(404, 20404, `The requested resource ${path} was not found`));
        case 'no_longer_pending':
          return req.method === 'GET' ? answer(200, reservationJson(path, 'timeout')) : notPending();
        case 'already_accepted':
          return req.method === 'GET' ? answer(200, reservationJson(path, 'accepted')) : notPending();
        case 'rate_limited':
          return attempts <= 2 ? answer(429, twilioError(429, 20429, 'Too Many Requests')) : answer(200, reservationJson(path, form.ReservationStatus));
        case 'unavailable':
          return answer(503, twilioError(503, 20503, 'Service Unavailable'));
        case 'lost_answer':
          if (req.method === 'GET') return answer(200, current());
          apply();
          return answer(503, twilioError(503, 20503, 'Service Unavailable'));
        case 'dropped':
          if (req.method === 'GET') return answer(200, current());
          apply();
          inFlight -= 1;
          return req.socket.destroy();
        case 'failed_unapplied':
          if (req.method === 'GET') return answer(200, current());
          if (attempts === 1) return answer(500, twilioError(500, 20500, 'Internal Server Error'));
          apply();
          return answer(200, current());
        default:
          if (req.method === 'POST') apply();
          return answer(200, current());
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  onStop(stop);
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    behave: (sid, behaviour) => behaviours.set(sid, behaviour),
    setWorkspace: (sid, state) => workspaces.set(sid, state),
    setWorkflow: (sid, state) => workflows.set(sid, state),
    workspace: (sid) => workspaces.get(sid),
    workflow: (sid) => workflows.get(sid),
    requests,
    requestsFor: (sid) => requests.filter((r) => r.sid === sid),
    requestsTo: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    maxInFlight: () => maxInFlight,
    stop,
  };
}
