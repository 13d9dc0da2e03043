// Cloudflare Access, played locally: a team's RSA key pairs, its JWKS served at
// `/cdn-cgi/access/certs` by a server on 127.0.0.1 (the team domain the worker is given), tokens
// signed as Access signs them (RS256, by node's crypto), and a stand-in for Access in front of the
// worker that turns a service token (`CF-Access-Client-Id`, `CF-Access-Client-Secret`) into a
// signed `Cf-Access-Jwt-Assertion`, as Access does.
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { createServer, request } from 'node:http';

import { onStop } from './lifecycle.mjs';
import { tunnelUpgrade } from './tunnel.mjs';

export const AUD = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

const encode = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An RSA key pair with its key id. */
export function keyPair(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** The team: a JWKS server whose keys a test may change (`team.keys`). */
export async function startTeam(keys) {
  const team = { keys, requests: 0 };
  const server = createServer((req, res) => {
    team.requests += 1;
    if (req.url !== '/cdn-cgi/access/certs') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: team.keys.map((key) => key.jwk), public_cert: {}, public_certs: [] }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  onStop(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  team.url = `http://127.0.0.1:${server.address().port}`;
  return team;
}

/** A token as Access signs it: `claims` over the defaults, by `key` (`header` may change `alg`, `kid`). */
export function accessToken(team, key, claims = {}, header = {}) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${encode({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...header })}.${encode({
    aud: [AUD], iss: team.url, exp: now + 600, nbf: now - 5, iat: now - 5, type: 'app', ...claims,
  })}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(key.privateKey).toString('base64url')}`;
}

/** An HS256 token whose secret is the RSA public key: the classic confusion. */
export function hs256WithPublicKey(team, key, claims) {
  const body = `${encode({ alg: 'HS256', kid: key.kid, typ: 'JWT' })}.${encode(claims)}`;
  return `${body}.${createHmac('sha256', JSON.stringify(key.jwk)).update(body).digest('base64url')}`;
}

/**
 * A stand-in for Access in front of `target`: a request with the service token `clientId` and
 * `clientSecret` goes on with a fresh JWT naming it (`common_name`) and without the secret;
 * anything else is refused 403, as Access refuses it.
 */
export async function startAccessProxy(target, team, key, { clientId, clientSecret }) {
  const { hostname, port } = new URL(target);
  const server = createServer((req, res) => {
    if (req.headers['cf-access-client-id'] !== clientId || req.headers['cf-access-client-secret'] !== clientSecret) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden: this stand-in for Access wants the service token');
      return;
    }
    const headers = { ...req.headers, 'cf-access-jwt-assertion': accessToken(team, key, { common_name: clientId, sub: '' }) };
    delete headers['cf-access-client-secret'];
    const upstream = request({ hostname, port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  onStop(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return `http://127.0.0.1:${server.address().port}`;
}

/**
 * A browser's session behind Access: every request to `target`, the WebSocket's upgrade among
 * them, goes on with a fresh JWT for `email`, as Access adds it for a signed-in person.
 */
export async function startSignedInProxy(target, team, key, email) {
  const { hostname, port } = new URL(target);
  const withToken = (headers) => ({ ...headers, 'cf-access-jwt-assertion': accessToken(team, key, { email }) });
  const sockets = new Set();
  const server = createServer((req, res) => {
    const upstream = request({ hostname, port, method: req.method, path: req.url, headers: withToken(req.headers) }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('upgrade', (req, client, head) => tunnelUpgrade(req, client, head, { hostname, port }, withToken(req.headers), sockets));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  onStop(() => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    server.close(resolve);
  }));
  return `http://127.0.0.1:${server.address().port}`;
}
