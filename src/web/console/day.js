// The day at a glance, drawn by the page itself: counts by outcome, the time to accept, a chart
// of the outcomes per 10 minutes (SVG made with DOM calls, no framework), and the reservations
// that settled lately. Everything is written as text: attributes and names come from callers.
'use strict';

const Day = (() => {
  const OUTCOMES = ['accepted', 'rejected', 'timeout', 'canceled', 'rescinded', 'failed', 'completed'];
  const RECENT_KEPT = 20;
  const SVG = 'http://www.w3.org/2000/svg';
  const BAR_MS = 10 * 60 * 1000;
  let recent = [];
  /** The day as last drawn: the snapshot's, with each move since applied. */
  let current = null;

  const $ = (id) => document.getElementById(id);

  function seconds(ms) {
    if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
    return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  }

  function counts(day) {
    const list = $('counts');
    list.replaceChildren(...OUTCOMES.map((outcome) => {
      const item = document.createElement('li');
      item.className = `count ${outcome}`;
      item.dataset.outcome = outcome;
      const number = document.createElement('strong');
      number.textContent = String(day.counts[outcome] ?? 0);
      item.append(number, ` ${outcome}`);
      return item;
    }));
    // Not an outcome: reservations TaskRouter timed out without an event saying so.
    const expired = document.createElement('li');
    expired.className = 'count expired';
    expired.dataset.outcome = 'expired';
    const number = document.createElement('strong');
    number.textContent = String(day.expired ?? 0);
    expired.append(number, ' expired without an event');
    list.append(expired);
    $('accept-times').textContent = day.accept_median_ms === undefined
      ? 'Time to accept: nothing accepted yet.'
      : `Time to accept: median ${seconds(day.accept_median_ms)}, 90th percentile ${seconds(day.accept_p90_ms)}.`;
  }

  function chart(day) {
    const svg = $('chart');
    const width = 2;
    const height = 60;
    svg.setAttribute('viewBox', `0 0 ${day.buckets.length * width} ${height}`);
    const highest = Math.max(1, ...day.buckets.map((bucket) => Object.values(bucket).reduce((a, b) => a + b, 0)));
    const bars = [];
    day.buckets.forEach((bucket, i) => {
      let top = height;
      for (const outcome of OUTCOMES) {
        const count = bucket[outcome] ?? 0;
        if (!count) continue;
        const barHeight = (count / highest) * height;
        top -= barHeight;
        const rect = document.createElementNS(SVG, 'rect');
        rect.setAttribute('x', String(i * width));
        rect.setAttribute('y', String(top));
        rect.setAttribute('width', String(width * 0.9));
        rect.setAttribute('height', String(barHeight));
        rect.setAttribute('class', `bar ${outcome}`);
        bars.push(rect);
      }
    });
    svg.replaceChildren(svg.querySelector('title'), ...bars);
    svg.dataset.bars = String(bars.length);
    axis(day, highest);
  }

  /** The time under the chart: five marks from the window's start to now, and the tallest bar. */
  function axis(day, highest) {
    const from = Date.parse(day.buckets_from);
    const span = day.buckets.length * BAR_MS;
    const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const marks = [0, 1, 2, 3].map((quarter) => clock(from + (span * quarter) / 4));
    const labels = [...marks, `now · tallest bar ${highest}`].map((text) => {
      const label = document.createElement('span');
      label.textContent = text;
      return label;
    });
    $('chart-axis').replaceChildren(...labels);
  }

  function recentList(describe) {
    const list = $('recent');
    list.replaceChildren(...recent.map((card) => {
      const item = document.createElement('li');
      item.dataset.sid = card.summary.reservation_sid;
      item.className = `settled ${card.summary.status}`;
      const { status, received_at: received, status_updated_at: updated } = card.summary;
      const time = new Date(updated).toLocaleTimeString();
      const by = card.decided_by ? ` by ${card.decided_by}` : '';
      const after = Math.max(0, Math.round((Date.parse(updated) - Date.parse(received)) / 1000));
      item.textContent = `${describe(card)} · ${status}${by} ${after} s after it arrived, at ${time}`;
      return item;
    }));
    $('no-recent').hidden = recent.length > 0;
  }

  return {
    /** Shows the day's numbers (from the hub's snapshot: counts, percentiles and bars). */
    show(day) {
      if (!day) return;
      current = { ...day, buckets: day.buckets.map((bucket) => ({ ...bucket })) };
      $('day').hidden = false;
      counts(current);
      chart(current);
    },
    /**
     * Applies what one change moved (the hub's totals, and the one bar it added to), sliding the
     * window when that bar is past the last one drawn.
     */
    moved(move) {
      if (!move || !current) return;
      const from = Date.parse(current.buckets_from);
      let index = Math.floor((Date.parse(move.bucket_from) - from) / BAR_MS);
      if (index < 0) return;
      while (index >= current.buckets.length) {
        current.buckets.shift();
        current.buckets.push({});
        current.buckets_from = new Date(Date.parse(current.buckets_from) + BAR_MS).toISOString();
        index -= 1;
      }
      current.buckets[index] = { ...move.bucket };
      current.since = move.since;
      current.counts = move.counts;
      current.accept_median_ms = move.accept_median_ms;
      current.accept_p90_ms = move.accept_p90_ms;
      current.expired = move.expired;
      counts(current);
      chart(current);
    },
    /** A pending row reached its timeout here: counted at once, until the hub's next count. */
    expiredHere() {
      if (!current) return;
      current.expired = (current.expired ?? 0) + 1;
      counts(current);
    },
    /** Replaces the recently settled list. */
    settled(cards, describe) {
      recent = cards.slice(0, RECENT_KEPT);
      recentList(describe);
    },
    /** Puts a card that left pending at the top of the recently settled list. */
    add(card, describe) {
      recent = [card, ...recent.filter((other) => other.summary.reservation_sid !== card.summary.reservation_sid)].slice(0, RECENT_KEPT);
      recentList(describe);
    },
  };
})();
