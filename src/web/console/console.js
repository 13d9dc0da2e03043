// The operator console: pending reservations pushed live from the worker's hub over a WebSocket,
// accepted or rejected at the edge, and the day at a glance (day.js). It polls the operator API
// only when a WebSocket cannot be opened at all. Everything shown is written with textContent:
// task attributes come from whoever created the task, and are hostile.
'use strict';

const TOKEN_KEY = 'taskrouter-edge:operator-token';
const ANNOUNCE_KEY = 'taskrouter-edge:announce';
const PROTOCOL = 'taskrouter-edge.v1';
const POLL_MS = 2000;
const ENDED_KEPT_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
const SHOWN_ATTRIBUTES = 3;

const $ = (id) => document.getElementById(id);
const rows = new Map(); // sid → { card, node, state: 'pending' | 'busy' | 'done' | 'ended', missed }
const connection = { socket: null, attempt: 0, timer: null, polling: false, everLive: false, skewMs: 0, unconfigured: false };
/** Behind Cloudflare Access, the page is signed in by Access (its cookie): no token to paste. */
let viaAccess = false;
let audio = null;

class HttpError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `the worker answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...options,
      headers: { ...(token() && { authorization: `Bearer ${token()}` }), ...(options.body ? { 'content-type': 'application/json' } : {}) },
      cache: 'no-store',
      // Access's cookie goes with the page's own requests; without Access, nothing but the token.
      credentials: viaAccess ? 'same-origin' : 'omit',
    });
  } catch (error) {
    throw new HttpError(0, { error: { message: `cannot reach the worker (${error.message})` } });
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new HttpError(response.status, body);
  return body;
}

/**
 * Text as it may be shown: bidi controls and the other invisible format characters (Unicode Cf,
 * but ZWNJ and ZWJ, which scripts and emoji need) are written out visibly, as ⟨U+202E⟩. A name
 * holding U+202E would otherwise read backwards, and could pass for another.
 */
const FORMAT = /(?![\u200C\u200D])\p{Cf}/gu;
const visible = (text) => String(text ?? '').replace(FORMAT, (c) => `⟨U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);

function say(id, text) {
  $(id).textContent = visible(text);
  $(id).hidden = !text;
}

function status(text, kind) {
  $('connection').textContent = text;
  $('connection').className = kind ?? '';
}

/** The token as a WebSocket subprotocol: `bearer.` and the token in unpadded base64url. */
function bearerProtocol() {
  const bytes = new TextEncoder().encode(token());
  const base64 = btoa(String.fromCharCode(...bytes));
  return `bearer.${base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`;
}

// ---- what a row shows ----

const describe = (card) => visible(card.summary.agent || (card.summary.worker_sid ? `worker ${card.summary.worker_sid}` : 'no worker'));
const deadline = (card) => card.expiresAt ?? Date.parse(card.summary.received_at) + card.timeout_seconds * 1000 - connection.skewMs;

function clock(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** The attributes that tell pending rows apart: keys whose values differ between them. */
function telling() {
  const pending = [...rows.values()].filter((row) => row.state === 'pending' || row.state === 'busy');
  const values = new Map();
  for (const row of pending) {
    for (const [key, value] of row.card.attributes ?? []) {
      if (!values.has(key)) values.set(key, new Set());
      values.get(key).add(value);
    }
  }
  return new Set([...values].filter(([key, seen]) => seen.size > 1 || pending.some((row) => !row.card.attributes?.some(([k]) => k === key))).map(([key]) => key));
}

function attributesLine(card, keys) {
  const attributes = card.attributes ?? [];
  if (attributes.length === 0) return visible(card.summary.task || '(no task attributes)');
  const first = [...attributes.filter(([key]) => keys.has(key)), ...attributes.filter(([key]) => !keys.has(key))];
  return visible(first.slice(0, SHOWN_ATTRIBUTES).map(([key, value]) => `${key}: ${value}`).join(' · '));
}

function fill(row, keys) {
  const { card, node } = row;
  node.querySelector('.agent').textContent = describe(card);
  node.querySelector('.task').textContent = attributesLine(card, keys);
  meta(row);
  const badge = node.querySelector('.badge');
  badge.hidden = !row.missed;
  badge.textContent = row.missed ? 'arrived while reconnecting' : '';
}

/** The row's queue, priority, the task's age now, and its SID. */
function meta(row) {
  const summary = row.card.summary;
  const age = (summary.task_age_seconds ?? 0) + (Date.now() + connection.skewMs - Date.parse(summary.received_at)) / 1000;
  const parts = [
    summary.queue && `queue ${summary.queue}`,
    summary.priority !== undefined && `priority ${summary.priority}`,
    `age ${clock(age)}`,
    summary.reservation_sid,
  ];
  row.node.querySelector('.meta').textContent = visible(parts.filter(Boolean).join(' · '));
}

function refreshRows() {
  const keys = telling();
  for (const row of rows.values()) fill(row, keys);
  const waiting = [...rows.values()].filter((row) => row.state === 'pending' || row.state === 'busy').length;
  // A worker that cannot list (not configured) has not said "nothing pending": no count then.
  $('waiting').textContent = connection.unconfigured ? 'Reservations' : `${waiting} waiting`;
  document.title = waiting ? `(${waiting}) Reservations · taskrouter-edge` : 'Reservations · taskrouter-edge';
  $('empty').hidden = waiting > 0 || connection.unconfigured;
}

function tick() {
  const now = Date.now();
  for (const row of rows.values()) {
    if (row.state !== 'pending' && row.state !== 'busy') continue;
    const left = deadline(row.card) - now;
    const countdown = row.node.querySelector('.countdown');
    countdown.textContent = left > 0 ? `${clock(left / 1000)} left` : 'expired';
    countdown.classList.toggle('soon', left < 15_000);
    meta(row);
    if (left <= 0) {
      end(row, 'Expired: TaskRouter has timed it out.');
      Channels.expired(row.card);
      Day.expiredHere();
    }
  }
}

function enable(row, enabled) {
  for (const button of row.node.querySelectorAll('button')) button.disabled = !enabled;
}

function outcome(row, text, kind = '') {
  const node = row.node.querySelector('.outcome');
  node.textContent = visible(text);
  node.className = `outcome ${kind}`;
}

function end(row, message, kind = '') {
  if (row.state === 'ended' || row.state === 'done') return outcome(row, message, kind);
  row.state = 'ended';
  row.node.classList.add('done');
  enable(row, false);
  row.node.querySelector('.activity').hidden = true;
  row.node.querySelector('.countdown').textContent = '';
  outcome(row, message, kind);
  setTimeout(() => {
    row.node.remove();
    rows.delete(row.card.summary.reservation_sid);
    refreshRows();
  }, ENDED_KEPT_MS);
  refreshRows();
}

function newRow(card) {
  const node = $('row').content.firstElementChild.cloneNode(true);
  const row = { card, node, state: 'pending', missed: false };
  node.dataset.sid = card.summary.reservation_sid;
  node.querySelector('.accept').addEventListener('click', () => decide(row, 'accept'));
  node.querySelector('.reject').addEventListener('click', () => decide(row, 'reject'));
  rows.set(card.summary.reservation_sid, row);
  // Newest first: a row goes before the first one that arrived earlier.
  const later = [...$('reservations').children].find((other) => Date.parse(rows.get(other.dataset.sid)?.card.summary.received_at) < Date.parse(card.summary.received_at));
  $('reservations').insertBefore(node, later ?? null);
  return row;
}

/** Applies one reservation as the hub (or a listing) reports it; whether it was new and pending. */
function apply(card) {
  const sid = card.summary.reservation_sid;
  const row = rows.get(sid);
  if (card.summary.status === 'pending') {
    if (row) {
      row.card = card;
      return false;
    }
    if (deadline(card) <= Date.now()) return false;
    newRow(card);
    return true;
  }
  // A row this page decided, or already ended, keeps what it says.
  if (row && (row.state === 'pending' || row.state === 'busy')) end(row, `${card.summary.status[0].toUpperCase()}${card.summary.status.slice(1)}.`, card.summary.status === 'accepted' ? 'ok' : '');
  Day.add(card, describe);
  return false;
}

function announce(card) {
  if (!$('announce').checked) return;
  $('announcer').textContent = `New reservation for ${describe(card)}${card.summary.queue ? `, queue ${visible(card.summary.queue)}` : ''}.`;
  document.body.dataset.announced = String(Number(document.body.dataset.announced ?? 0) + 1);
  try {
    audio ??= new AudioContext();
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    volume.gain.value = 0.08;
    tone.frequency.value = 880;
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
  } catch {
    // No sound here: the live region still says it.
  }
}

// ---- live: the hub's WebSocket ----

function onSnapshot(message) {
  connection.unconfigured = false;
  const reconnected = connection.everLive;
  const pending = new Set(message.pending.map((card) => card.summary.reservation_sid));
  const arrived = message.pending.filter((card) => apply(card));
  const settled = [];
  for (const row of rows.values()) {
    if ((row.state === 'pending' || row.state === 'busy') && !pending.has(row.card.summary.reservation_sid)) {
      const now = message.recent.find((card) => card.summary.reservation_sid === row.card.summary.reservation_sid);
      settled.push(now?.summary.status ?? 'gone');
      end(row, now ? `${now.summary.status[0].toUpperCase()}${now.summary.status.slice(1)} while reconnecting.` : 'No longer pending: it was answered, canceled or timed out.');
    }
  }
  Day.settled(message.recent, describe);
  Day.show(message.day);
  if (reconnected) {
    for (const card of arrived) rows.get(card.summary.reservation_sid).missed = true;
    const parts = [];
    if (arrived.length) parts.push(`${arrived.length} arrived`);
    const byStatus = settled.reduce((all, status) => ({ ...all, [status]: (all[status] ?? 0) + 1 }), {});
    for (const [state, count] of Object.entries(byStatus)) parts.push(`${count} ${state === 'gone' ? 'no longer pending' : state}`);
    say('missed', parts.length ? `While reconnecting: ${parts.join(', ')}.` : 'Reconnected: nothing was missed.');
  }
  connection.everLive = true;
  refreshRows();
  tick();
}

function onMessage(message) {
  connection.skewMs = Date.parse(message.now) - Date.now();
  if (message.type === 'snapshot') return onSnapshot(message);
  if (message.type !== 'change') return;
  if (apply(message.card)) announce(message.card);
  Day.moved(message.day_moved);
  refreshRows();
  tick();
}

function liveUrl() {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/live`;
}

function connect() {
  clearTimeout(connection.timer);
  if (!token() && !viaAccess) return;
  let socket;
  try {
    socket = new WebSocket(liveUrl(), viaAccess ? [PROTOCOL] : [PROTOCOL, bearerProtocol()]);
  } catch (error) {
    return startPolling(`this browser cannot open a WebSocket (${error.message})`);
  }
  connection.socket = socket;
  let opened = false;
  status(connection.everLive ? 'Reconnecting…' : 'Connecting…', 'reconnecting');
  socket.addEventListener('open', () => {
    opened = true;
    connection.attempt = 0;
    say('problem', '');
    status('Live', 'live');
  });
  socket.addEventListener('message', (event) => onMessage(JSON.parse(event.data)));
  socket.addEventListener('close', () => {
    if (connection.socket !== socket) return;
    connection.socket = null;
    if (opened) return reconnectLater();
    whyNotOpened();
  });
}

/** Whether the worker refused for its own configuration (a secret unset, a variable that does not parse). */
const unconfigured = (error) => ['not_configured', 'invalid_configuration'].includes(error.body?.error?.code);

/** The worker cannot list until it is configured: say so, show no count, and keep asking. */
function notConfigured(error) {
  connection.unconfigured = true;
  say('problem', `The worker cannot show reservations yet: ${error.message}. Nothing is listed here until it can; this is not "nothing pending".`);
  refreshRows();
  return reconnectLater();
}

/** The socket never opened: ask the worker why, with the same token, over plain HTTP. */
async function whyNotOpened() {
  try {
    await api('/live');
    reconnectLater();
  } catch (error) {
    if (error.status === 401) return signIn('The worker refused this operator token (401). Check RESERVATIONS_API_TOKEN and enter it again.');
    if (unconfigured(error)) return notConfigured(error);
    if (error.status === 426) return reconnectLater();
    if (error.status === 0) {
      say('problem', `${error.message}.`);
      return reconnectLater();
    }
    if (error.body?.error?.code === 'hub_unavailable') {
      // Nothing can be listed or decided here without the hub: say so, and keep trying.
      say('problem', `The hub is not available, so reservations cannot be shown or decided here; decide in Twilio's console meanwhile. (${error.message})`);
      return reconnectLater();
    }
    startPolling(error.message);
  }
}

function reconnectLater() {
  const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** connection.attempt) * (0.75 + Math.random() / 2);
  connection.attempt += 1;
  status(`Reconnecting in ${Math.ceil(delay / 1000)} s…`, 'reconnecting');
  connection.timer = setTimeout(connect, delay);
}

// ---- the fallback: polling the operator API ----

function startPolling(reason) {
  connection.polling = true;
  say('problem', `Live updates are off (${reason}): checking every ${POLL_MS / 1000} s instead.`);
  poll();
}

async function poll() {
  clearTimeout(connection.timer);
  try {
    const page = await api('/reservations?status=pending&limit=100');
    const now = Date.now();
    const listed = new Set();
    for (const summary of page.reservations) {
      listed.add(summary.reservation_sid);
      apply({ summary, attributes: [], expiresAt: now + (summary.expires_in_ms ?? 0) });
    }
    for (const row of rows.values()) {
      if (row.state === 'pending' && !listed.has(row.card.summary.reservation_sid)) end(row, 'No longer pending: it was answered, canceled or timed out.');
    }
    connection.unconfigured = false;
    status(`Checked at ${new Date().toLocaleTimeString()}`, 'polling');
    refreshRows();
    tick();
  } catch (error) {
    if (error.status === 401) return signIn('The worker refused this operator token (401). Check RESERVATIONS_API_TOKEN and enter it again.');
    if (unconfigured(error)) {
      connection.polling = false;
      return notConfigured(error);
    }
    status('Connection problem', 'reconnecting');
  }
  connection.timer = document.hidden ? null : setTimeout(poll, POLL_MS);
}

// ---- decisions ----

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
  outcome(row, 'Asking Twilio…');
  try {
    const answer = await api(`/reservations/${encodeURIComponent(row.card.summary.reservation_sid)}/${decision}`, { method: 'POST', body: JSON.stringify(body) });
    end(row, answer.message, answer.recorded ? 'ok' : 'bad');
    row.state = 'done';
  } catch (error) {
    if (error.status === 401) return signIn('The worker refused the operator token (401). Enter it again.');
    const code = error.body?.error?.code;
    if (code === 'no_longer_pending') {
      end(row, `No longer pending: Twilio says it is ${error.body.error.twilio_status}. ${error.message}`, 'bad');
      row.state = 'done';
      return;
    }
    if (code === 'already_decided') {
      end(row, `Already ${error.body.error.settled.status}: ${error.message}`, 'bad');
      return;
    }
    if (code === 'twilio_outcome_unknown') return keepOwnDecision(row, decision, error.body.error.until, error.message);
    row.state = 'pending';
    enable(row, true);
    if (code === 'decision_in_flight') {
      const claim = error.body.error.in_flight;
      const own = row.ownUntil && Date.now() < row.ownUntil;
      const who = own ? `Your ${claim.decision}` : `A ${claim.decision} (${claim.owner === 'edge' ? 'from a console' : `by ${claim.owner}`})`;
      outcome(row, `${who} is still being decided, its outcome unknown: try again after ${timeOfDay(claim.until)}.`, 'bad');
      return;
    }
    outcome(row, `Not done: ${error.message}`, 'bad');
  }
}

/**
 * Twilio's answer to this page's own decision was lost, and reading it back failed too: the
 * decision stays this page's until the reservation's own timeout (`until`), then it can be
 * tried again if the reservation is still pending.
 */
function keepOwnDecision(row, decision, until, message) {
  const at = Date.parse(until);
  row.ownUntil = at;
  row.state = 'pending';
  outcome(row, `Your ${decision}: its outcome is unknown (${message}). It stays yours until ${timeOfDay(until)}; try again then if it is still pending, or look in Twilio's console.`, 'bad');
  setTimeout(() => { if (row.state === 'pending') enable(row, true); }, Math.max(0, at - Date.now()));
}

/** A time of day, as the operator's clock shows it. */
function timeOfDay(when) {
  return new Date(when).toLocaleTimeString();
}

async function offerActivities(row) {
  const label = row.node.querySelector('.activity');
  const select = label.querySelector('select');
  select.replaceChildren(new Option("Keep the worker's activity", ''));
  label.hidden = false;
  row.node.querySelector('.reject').textContent = 'Confirm reject';
  select.focus();
  try {
    const { activities } = await api(`/activities?reservation_sid=${encodeURIComponent(row.card.summary.reservation_sid)}`);
    for (const activity of activities) select.add(new Option(`${activity.friendly_name}${activity.available ? ' (available)' : ''}`, activity.sid));
  } catch (error) {
    if (error.status === 401) return signIn('The worker refused the operator token (401). Enter it again.');
    outcome(row, `Could not load the Workspace's activities: ${error.message}`, 'bad');
  }
}

// ---- signing in and out ----

function signIn(message) {
  if (viaAccess) {
    // Access signed the page in; it signs it in again.
    say('problem', `Cloudflare Access refused this page (${message || 'signed out'}). Reload it to sign in again.`);
    status('Not signed in');
    return;
  }
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(connection.timer);
  const socket = connection.socket;
  connection.socket = null;
  socket?.close();
  for (const id of ['board', 'day', 'sign-out', 'announce-toggle']) $(id).hidden = true;
  $('sign-in').hidden = false;
  say('problem', message);
  status('Not signed in');
  $('token').focus();
}

function open() {
  $('sign-in').hidden = true;
  for (const id of ['board', 'sign-out', 'announce-toggle']) $(id).hidden = false;
  refreshRows();
  connect();
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
  $('announce').checked = localStorage.getItem(ANNOUNCE_KEY) !== 'off';
  $('announce').addEventListener('change', () => localStorage.setItem(ANNOUNCE_KEY, $('announce').checked ? 'on' : 'off'));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && connection.polling && token()) poll();
  });
  setInterval(tick, 250);
  Channels.watch();
  signedInBy().then((me) => {
    if (me?.via === 'access') {
      viaAccess = true;
      $('who-name').textContent = `Signed in as ${me.actor}`;
      $('who').hidden = false;
      $('access-sign-out').href = me.sign_out;
      return open();
    }
    if (token()) open();
    else signIn('');
  });
});

/**
 * Who Access signed in, when the worker sits behind Access (its `/health` says so): `GET /me`
 * with Access's cookie. Without Access, nobody: the page asks for the token.
 */
async function signedInBy() {
  try {
    const health = await (await fetch('/health', { cache: 'no-store', credentials: 'omit' })).json();
    if (!health.operator_auth?.split(',').includes('access')) return null;
    const response = await fetch('/me', { cache: 'no-store', credentials: 'same-origin' });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}
