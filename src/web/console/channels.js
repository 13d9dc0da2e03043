// Where the page's statuses come from, and a plain warning when they stop coming: when each of
// TaskRouter's event channels last delivered and what the hub's last catch-up found, as /health
// reports them (public, no secret in it). When reservations pass their timeout with no event
// saying what became of them, and no event has arrived for longer than that, the page says so and
// names the likely cause.
'use strict';

const Channels = (() => {
  const CHECK_MS = 30_000;
  /** How long a reservation that expired unexplained keeps the warning up. */
  const KEPT_MS = 60 * 60 * 1000;
  const $ = (id) => document.getElementById(id);
  /** /health's `events` and the catch-up's period, as last read. */
  let heard = null;
  let catchUpSeconds = null;
  /** A check asked for by rows that expired together: one /health read for all of them. */
  let soon = null;
  /**
   * Reservations that passed their timeout on this page with no event about them: sid →
   * { timeoutMs, at }. A catch-up that later corrects one does not take it off: events are still
   * not arriving. An event on any channel newer than its timeout does.
   */
  const unexplained = new Map();

  function duration(ms) {
    const seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds < 90) return `${seconds} s`;
    if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
    return `${Math.round(seconds / 3600)} h`;
  }

  const ago = (iso) => (iso ? `${duration(Date.now() - Date.parse(iso))} ago` : 'never');

  /** The newest event on any channel TaskRouter pushes to, in ms (0: none yet). */
  function lastEvent() {
    return Math.max(0, ...[heard?.event_callback, heard?.event_streams].filter(Boolean).map(Date.parse));
  }

  function catchUpLine() {
    if (catchUpSeconds === null) return 'catch-up off';
    const run = heard?.catch_up;
    if (!run) return `catch-up every ${catchUpSeconds} s, none yet`;
    const failed = run.errors?.length ? `, ${run.errors.length} failed` : '';
    return `catch-up ${ago(run.at)}: ${run.events_read} events read, ${run.corrected} corrected${failed}`;
  }

  function draw() {
    $('channels').hidden = !heard;
    if (!heard) return;
    $('channels').textContent = `Events: Event Callback URL ${ago(heard.event_callback)} · Event Streams ${ago(heard.event_streams)} · ${catchUpLine()}`;
    const last = lastEvent();
    const silentFor = Date.now() - last;
    for (const [sid, { at }] of unexplained) if (Date.now() - at > KEPT_MS) unexplained.delete(sid);
    const stranded = [...unexplained.values()].filter(({ timeoutMs }) => silentFor > timeoutMs).length;
    $('silent').hidden = stranded === 0;
    if (!stranded) return;
    const quiet = last ? `No event from TaskRouter has arrived for ${duration(silentFor)}` : 'No event from TaskRouter has arrived on any channel';
    const meanwhile = catchUpSeconds === null
      ? 'Catching up from TaskRouter is off here (CATCH_UP_SECONDS=off, or no credentials for its REST API), so these statuses stay as they are.'
      : `Meanwhile the hub reads TaskRouter every ${catchUpSeconds} s and corrects what it missed.`;
    $('silent').textContent = `${quiet}, and ${stranded} reservation${stranded === 1 ? '' : 's'} passed ${stranded === 1 ? 'its' : 'their'} timeout with nothing said of ${stranded === 1 ? 'it' : 'them'}. `
      + 'The Workspace\'s Event Callback URL most likely points to another system, or to nothing: send it here with `reservations connect --events --replace-event-callback`, or add this worker as an Event Streams sink with `reservations connect --event-streams`. '
      + meanwhile;
  }

  async function check() {
    try {
      const health = await (await fetch('/health', { cache: 'no-store', credentials: 'omit' })).json();
      heard = health.events ?? null;
      catchUpSeconds = health.configuration?.CATCH_UP_SECONDS ?? null;
    } catch {
      heard = null;
    }
    draw();
  }

  return {
    /** Starts reading /health now and every 30 s. */
    watch() {
      check();
      setInterval(check, CHECK_MS);
    },
    /** A reservation passed its timeout on the page and no event said what became of it. */
    expired(card) {
      unexplained.set(card.summary.reservation_sid, { timeoutMs: card.timeout_seconds * 1000, at: Date.now() });
      soon ??= setTimeout(() => {
        soon = null;
        check();
      }, 0);
    },
  };
})();
