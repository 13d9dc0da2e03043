// The operator console: pending reservations, live, accepted or rejected at the edge.
// Everything shown comes from the operator API with the bearer token, and is written with
// textContent only: task attributes come from whoever created the task, and are hostile.
'use strict';

const TOKEN_KEY = 'taskrouter-edge:operator-token';
// Each poll is one KV list (see the README's free-plan arithmetic), so a hidden tab does not poll.
const POLL_MS = 1000;
const ENDED_KEPT_MS = 30_000;

const $ = (id) => document.getElementById(id);
const rows = new Map(); // sid → { node, deadline, state: 'pending' | 'busy' | 'done' | 'ended' }
let timer = null;

class HttpError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `the worker answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...options,
      headers: { authorization: `Bearer ${token()}`, ...(options.body ? { 'content-type': 'application/json' } : {}) },
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (error) {
    throw new HttpError(0, { error: { message: `cannot reach the worker (${error.message})` } });
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new HttpError(response.status, body);
  return body;
}

function say(id, text) {
  const node = $(id);
  node.textContent = text ?? '';
  node.hidden = !text;
}

function signIn(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(timer);
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  say('problem', message);
  $('connection').textContent = 'Not signed in';
  $('token').focus();
}

function countdownText(ms) {
  if (ms <= 0) return 'expired';
  const seconds = Math.ceil(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} left`;
}

function tick() {
  const now = performance.now();
  for (const row of rows.values()) {
    if (row.state !== 'pending' && row.state !== 'busy') continue;
    const left = row.deadline - now;
    const node = row.node.querySelector('.countdown');
    node.textContent = countdownText(left);
    node.classList.toggle('soon', left < 15_000);
    if (left <= 0) end(row, 'Expired: TaskRouter has timed it out.');
  }
}

function end(row, message, kind = '') {
  row.state = row.state === 'done' ? 'done' : 'ended';
  row.node.classList.add('done');
  enable(row, false);
  row.node.querySelector('.activity').hidden = true;
  row.node.querySelector('.countdown').textContent = '';
  outcome(row, message, kind);
  setTimeout(() => {
    row.node.remove();
    rows.delete(row.sid);
    showEmpty();
  }, ENDED_KEPT_MS);
}

function showEmpty() {
  $('empty').hidden = [...rows.values()].some((row) => row.state !== 'ended');
}

function enable(row, enabled) {
  for (const button of row.node.querySelectorAll('button')) button.disabled = !enabled;
}

function outcome(row, text, kind) {
  const node = row.node.querySelector('.outcome');
  node.textContent = text;
  node.className = `outcome ${kind}`;
}

async function decide(row, decision) {
  const body = {};
  if (decision === 'reject') {
    const label = row.node.querySelector('.activity');
    if (label.hidden) return offerActivities(row);
    const chosen = label.querySelector('select').value;
    if (chosen) body.activity_sid = chosen;
  }
  row.state = 'busy';
  enable(row, false);
  outcome(row, 'Asking Twilio…', '');
  try {
    const answer = await api(`/reservations/${encodeURIComponent(row.sid)}/${decision}`, { method: 'POST', body: JSON.stringify(body) });
    row.state = 'done';
    end(row, answer.message, answer.recorded ? 'ok' : 'bad');
  } catch (error) {
    if (error.status === 401) return signIn('The worker refused the operator token (401). Enter it again.');
    if (error.body?.error?.code === 'no_longer_pending') {
      row.state = 'done';
      return end(row, `No longer pending: Twilio says it is ${error.body.error.twilio_status}. ${error.message}`, 'bad');
    }
    row.state = 'pending';
    enable(row, true);
    outcome(row, `Not done: ${error.message}`, 'bad');
  }
}

async function offerActivities(row) {
  const label = row.node.querySelector('.activity');
  const select = label.querySelector('select');
  select.replaceChildren(new Option("Keep the worker's activity", ''));
  label.hidden = false;
  row.node.querySelector('.reject').textContent = 'Confirm reject';
  select.focus();
  try {
    const { activities } = await api(`/activities?reservation_sid=${encodeURIComponent(row.sid)}`);
    for (const activity of activities) select.add(new Option(`${activity.friendly_name}${activity.available ? ' (available)' : ''}`, activity.sid));
  } catch (error) {
    if (error.status === 401) return signIn('The worker refused the operator token (401). Enter it again.');
    outcome(row, `Could not load the Workspace's activities: ${error.message}`, 'bad');
  }
}

function newRow(summary) {
  const node = $('row').content.firstElementChild.cloneNode(true);
  const row = { sid: summary.reservation_sid, node, state: 'pending', deadline: 0 };
  node.dataset.sid = row.sid;
  node.querySelector('.task').textContent = summary.task || '(no task attributes)';
  node.querySelector('.worker').textContent = summary.worker_sid ? `worker ${summary.worker_sid}` : 'no worker';
  node.querySelector('.sid').textContent = summary.reservation_sid;
  node.querySelector('.accept').addEventListener('click', () => decide(row, 'accept'));
  node.querySelector('.reject').addEventListener('click', () => decide(row, 'reject'));
  return row;
}

function render(page) {
  const list = $('reservations');
  const seen = new Set();
  let previous = null;
  for (const summary of page.reservations) {
    seen.add(summary.reservation_sid);
    let row = rows.get(summary.reservation_sid);
    if (!row) {
      row = newRow(summary);
      rows.set(row.sid, row);
      // Newest first: a new row goes after the one before it in the answer, or on top.
      if (previous) previous.node.after(row.node);
      else list.prepend(row.node);
    }
    if (row.state === 'pending') row.deadline = performance.now() + (summary.expires_in_ms ?? 0);
    previous = row;
  }
  for (const row of rows.values()) {
    if (!seen.has(row.sid) && row.state === 'pending') end(row, 'No longer pending: it was answered, canceled or timed out.');
  }
  tick();
  showEmpty();
}

async function poll() {
  try {
    render(await api('/reservations?status=pending&limit=100'));
    say('problem', '');
    $('connection').textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (error.status === 401) return signIn('The worker refused this operator token (401). Check RESERVATIONS_API_TOKEN and enter it again.');
    say('problem', error.status === 0 ? `${error.message}. Retrying every second.` : `The worker answered ${error.status}: ${error.message}`);
    $('connection').textContent = 'Connection problem';
  }
  schedule();
}

function schedule() {
  clearTimeout(timer);
  timer = document.hidden ? null : setTimeout(poll, POLL_MS);
}

function open() {
  $('sign-in').hidden = true;
  $('board').hidden = false;
  $('sign-out').hidden = false;
  clearTimeout(timer);
  poll();
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    $('token').value = '';
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    open();
  });
  $('sign-out').addEventListener('click', () => signIn(''));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && token() && !$('board').hidden) {
      clearTimeout(timer);
      poll();
    }
  });
  setInterval(tick, 250);
  if (token()) open();
  else signIn('');
});
