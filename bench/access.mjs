// What checking an Access JWT costs a request: `GET /me` with a valid token (the team's keys
// cached, the signature checked by WebCrypto, the claims by the worker) against `GET /me` with
// the bearer token, on one worker in its own workerd, taking turns in rounds.
import { createServer } from 'node:http';

import autocannon from 'autocannon';
import { Miniflare } from '../tests/support/miniflare.mjs';

import { AUD, accessToken, keyPair } from '../tests/support/access.mjs';
import { freePort } from '../tests/support/prism.mjs';
import { spread, withinRounds } from './stats.mjs';
import { WORKERS, cpuMs } from './workerd.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = 400;
const API_TOKEN = 'bench-operator-token';
const log = (...args) => console.error('bench:', ...args);

async function team(key) {
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] })));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

async function measure(url, pid, headers) {
  const before = cpuMs(pid);
  const result = await autocannon({ url: `${url}/me`, connections: 8, amount: REQUESTS, headers });
  if (result['2xx'] !== REQUESTS) throw new Error(`/me: ${result['2xx']} of ${REQUESTS} answered 200`);
  return (cpuMs(pid) - before) / REQUESTS;
}

export async function accessCost() {
  const key = keyPair('k1');
  const keys = await team(key);
  const { bindings, ...script } = WORKERS.rust;
  const port = await freePort();
  const mf = new Miniflare({
    host: '127.0.0.1', port, cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
    modules: true, ...script, compatibilityDate: '2026-11-17', kvNamespaces: ['RESERVATIONS'],
    bindings: { ...bindings, TWILIO_AUTH_TOKEN: 'bench', RESERVATIONS_API_TOKEN: API_TOKEN, ACCESS_TEAM_DOMAIN: keys.url, ACCESS_AUD: AUD, OPERATOR_AUTH: 'access,token' },
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const { readdirSync, readFileSync } = await import('node:fs');
  const pid = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).find((candidate) => {
    try {
      const cmdline = readFileSync(`/proc/${candidate}/cmdline`, 'utf8');
      return cmdline.includes('workerd') && cmdline.includes(`127.0.0.1:${port}`);
    } catch {
      return false;
    }
  });
  try {
    const jwt = { 'cf-access-jwt-assertion': accessToken({ url: keys.url }, key, { email: 'ana@example.com', exp: Math.floor(Date.now() / 1000) + 3600 }) };
    const bearer = { authorization: `Bearer ${API_TOKEN}` };
    await measure(url, pid, jwt);
    await measure(url, pid, bearer);
    const figures = { access: [], token: [] };
    for (let round = 1; round <= ROUNDS; round += 1) {
      const order = round % 2 ? ['access', 'token'] : ['token', 'access'];
      for (const way of order) figures[way].push(await measure(url, pid, way === 'access' ? jwt : bearer));
      log(`access round ${round}: access ${figures.access.at(-1).toFixed(3)}, token ${figures.token.at(-1).toFixed(3)} ms per request`);
    }
    return {
      rounds: ROUNDS,
      requests: REQUESTS,
      access: spread(figures.access),
      token: spread(figures.token),
      verification: withinRounds(figures.access, figures.token),
    };
  } finally {
    await mf.dispose();
    keys.server.close();
  }
}
