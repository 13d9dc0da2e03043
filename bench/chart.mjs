// An SVG line chart of callback latency (p50 solid, p99 dashed, log scale) against concurrency,
// one colour per worker, drawn from the benchmark's own results. `node bench/chart.mjs` redraws
// bench/latency.svg from bench/results.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const COLOURS = { rust: '#d9480f', 'baseline-js': '#1c7ed6', 'kv-floor': '#2f9e44', floor: '#868e96' };
const WIDTH = 640;
const HEIGHT = 380;
const PAD = { left: 60, right: 150, top: 40, bottom: 50 };

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function latencyChart(callback, concurrency) {
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const values = Object.values(callback).flatMap((byConcurrency) => concurrency.flatMap((c) => [byConcurrency[c].latency_p50_ms, byConcurrency[c].latency_p99_ms]));
  // Log scale from 0.5 ms (a 0 ms median sits on the bottom line) to the next power of ten.
  const bottom = Math.log10(0.5);
  const top = Math.ceil(Math.log10(Math.max(1, ...values)));
  const x = (index) => PAD.left + (concurrency.length === 1 ? plotWidth / 2 : (index * plotWidth) / (concurrency.length - 1));
  const y = (ms) => PAD.top + plotHeight - ((Math.log10(Math.max(ms, 0.5)) - bottom) / (top - bottom)) * plotHeight;

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14">Signed assignment callback latency against concurrency</text>`,
  ];
  for (let power = 0; power <= top; power += 1) {
    const ms = 10 ** power;
    parts.push(`<line x1="${PAD.left}" x2="${PAD.left + plotWidth}" y1="${y(ms)}" y2="${y(ms)}" stroke="#e9ecef"/>`);
    parts.push(`<text x="${PAD.left - 8}" y="${y(ms) + 4}" text-anchor="end">${ms}</text>`);
  }
  concurrency.forEach((c, index) => parts.push(`<text x="${x(index)}" y="${PAD.top + plotHeight + 20}" text-anchor="middle">${c}</text>`));
  parts.push(`<text x="${PAD.left + plotWidth / 2}" y="${HEIGHT - 10}" text-anchor="middle">concurrent connections</text>`);
  parts.push(`<text transform="translate(16 ${PAD.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">latency (ms, log scale)</text>`);

  let legend = PAD.top;
  for (const [name, byConcurrency] of Object.entries(callback)) {
    const colour = COLOURS[name] ?? '#000';
    for (const [key, dash] of [['latency_p50_ms', ''], ['latency_p99_ms', ' stroke-dasharray="6 4"']]) {
      const points = concurrency.map((c, index) => `${x(index)},${y(byConcurrency[c][key])}`).join(' ');
      parts.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
      concurrency.forEach((c, index) => parts.push(`<circle cx="${x(index)}" cy="${y(byConcurrency[c][key])}" r="3" fill="${colour}"/>`));
    }
    parts.push(`<line x1="${WIDTH - PAD.right + 15}" x2="${WIDTH - PAD.right + 40}" y1="${legend}" y2="${legend}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${WIDTH - PAD.right + 46}" y="${legend + 4}">${escape(name)}</text>`);
    legend += 20;
  }
  parts.push(`<text x="${WIDTH - PAD.right + 15}" y="${legend + 10}" fill="#495057">solid: p50</text>`);
  parts.push(`<text x="${WIDTH - PAD.right + 15}" y="${legend + 26}" fill="#495057">dashed: p99</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = JSON.parse(readFileSync(new URL('results.json', import.meta.url), 'utf8'));
  const concurrency = Object.keys(Object.values(results.callback)[0]).map(Number);
  writeFileSync(new URL('latency.svg', import.meta.url), latencyChart(results.callback, concurrency));
}
