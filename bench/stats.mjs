// The benchmark's summary statistics: a figure is the median of its rounds (the upper middle of
// an even count), shown with its range.
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The median, range and rounds of `values`, in `unit` (`ms`, `us`), to `digits` decimals. */
export function spread(values, unit = 'ms', digits = 3) {
  const fixed = (value) => Number(value.toFixed(digits));
  return { [`median_${unit}`]: fixed(median(values)), [`min_${unit}`]: fixed(Math.min(...values)), [`max_${unit}`]: fixed(Math.max(...values)), rounds: values.map(fixed) };
}

/** A figure of `spread` in a table cell: `median (min–max)`, or `—` when it was not measured. */
export const cell = (figure, unit = 'ms') => (figure ? `${figure[`median_${unit}`]} (${figure[`min_${unit}`]}–${figure[`max_${unit}`]})` : '—');

/**
 * The difference of two workers measured in the same rounds, round by round: the machine's load
 * drifts between rounds more than two workers differ, so the difference is taken within each
 * round and summarised like any figure (a median below zero: `a` spent less in most rounds).
 */
export const withinRounds = (a, b) => spread(a.map((value, round) => value - b[round]));
