// The worker's answers, held to its OpenAPI description (openapi.json). Every answer a test
// receives goes through `checkedAnswer`: its status must be one the description gives that
// method and path, its content type one that answer has, and its body must match the schema
// (which forbids any field it does not name). Paths it does not describe must answer 404, and
// methods it does not describe 405, as its NotFound and MethodNotAllowed answers say. The
// schemas are JSON Schema 2020-12, checked by Ajv.
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { onStop } from './lifecycle.mjs';
import { tunnelUpgrade } from './tunnel.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DESCRIPTION = JSON.parse(readFileSync(path.join(root, 'openapi.json'), 'utf8'));
const ID = 'https://taskrouter-edge.invalid/openapi.json';

// The whole description is one schema document, so that `#/components/schemas/…` resolves;
// its OpenAPI-only keywords (`openapi`, `paths`, `x-…`) are not JSON Schema and are let be,
// and an answer's schema may narrow a `$ref` without repeating its type.
const ajv = new Ajv2020({ allErrors: true, strictSchema: false, strictTypes: false });
addFormats(ajv);
ajv.addSchema(DESCRIPTION, ID);

/** An answer that breaks the description, with what it broke. */
export class Violation extends Error {
  constructor(where, problem) {
    super(`${where}: ${problem} (openapi.json)`);
    this.name = 'OpenApiViolation';
  }
}

const escapePointer = (part) => part.replaceAll('~', '~0').replaceAll('/', '~1');

/** The described operation for a method and path: { template, operation } or what is missing. */
function operationFor(method, pathname) {
  for (const [template, item] of Object.entries(DESCRIPTION.paths)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (!pattern.test(pathname)) continue;
    const operation = item[method.toLowerCase()];
    const allowed = ['get', 'post'].filter((name) => item[name]).map((name) => name.toUpperCase());
    return { template, operation, allowed };
  }
  return { template: undefined };
}

/** The response object a reference names (`#/components/responses/…`), and its pointer. */
function follow(response, pointer) {
  if (!response?.$ref) return { response, pointer };
  const target = response.$ref.slice(1);
  const resolved = target.split('/').slice(1).reduce((node, part) => node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')], DESCRIPTION);
  return { response: resolved, pointer: target };
}

function validate(schemaPointer, value, where) {
  const check = ajv.getSchema(`${ID}#${schemaPointer}`);
  if (!check) throw new Violation(where, `no schema at ${schemaPointer}`);
  if (!check(value)) {
    const problems = check.errors.map((error) => `${error.instancePath || '(body)'} ${error.message} ${JSON.stringify(error.params)}`);
    throw new Violation(where, `the body does not match ${schemaPointer}:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(value).slice(0, 2000)}`);
  }
}

/**
 * Checks one answer (status, headers, body text) to `method` on `url` against the description;
 * throws a `Violation` saying what is not described.
 */
export function checkAnswer(method, url, { status, headers, body }) {
  const pathname = new URL(url, 'http://localhost').pathname;
  const where = `${method} ${pathname} → ${status}`;
  const found = operationFor(method, pathname);
  let response;
  let pointer;
  if (!found.template) {
    if (status !== 404) throw new Violation(where, 'this path is not described, so it must answer 404');
    ({ response, pointer } = follow({ $ref: '#/components/responses/NotFound' }));
  } else if (!found.operation) {
    if (status !== 405) throw new Violation(where, `${method} is not described for ${found.template}, so it must answer 405`);
    if (headers.get('allow') !== found.allowed.join(', ')) {
      throw new Violation(where, `Allow is ${JSON.stringify(headers.get('allow'))}; the description allows ${found.allowed.join(', ')}`);
    }
    ({ response, pointer } = follow({ $ref: '#/components/responses/MethodNotAllowed' }));
  } else {
    const base = `/paths/${escapePointer(found.template)}/${method.toLowerCase()}/responses/${status}`;
    const described = found.operation.responses[String(status)];
    if (!described) {
      throw new Violation(where, `${status} is not an answer ${method} ${found.template} has (it has ${Object.keys(found.operation.responses).join(', ')})`);
    }
    ({ response, pointer } = follow(described, base));
  }

  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = headers.get(name);
    if (header.required && value === null) throw new Violation(where, `the ${name} header is missing`);
    if (value !== null && header.schema) validate(`${pointer}/headers/${escapePointer(name)}/schema`, value, `${where} ${name}`);
  }
  if (!response.content) {
    if (body) throw new Violation(where, `this answer has no body, yet ${body.length} bytes came`);
    return;
  }
  const type = (headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!response.content[type]) {
    throw new Violation(where, `content type ${JSON.stringify(type)} is not described (only ${Object.keys(response.content).join(', ')})`);
  }
  let value = body;
  if (type === 'application/json') {
    try {
      value = JSON.parse(body);
    } catch {
      throw new Violation(where, `the body is not JSON: ${body.slice(0, 200)}`);
    }
  }
  validate(`${pointer}/content/${escapePointer(type)}/schema`, value, where);
}

/** Checks one message of `GET /live`'s WebSocket (text) against `LiveMessage`. */
export function checkLiveMessage(text) {
  validate('/components/schemas/LiveMessage', JSON.parse(text), 'a /live message');
}

/**
 * `fetchWorker` with every answer checked: resolves to the answer unread, or rejects with the
 * `Violation`.
 */
export function checked(fetchWorker) {
  return async (target, init = {}) => {
    const response = await fetchWorker(target, init);
    const method = (init.method ?? target.method ?? 'GET').toUpperCase();
    const url = typeof target === 'string' ? target : target.url;
    const body = response.body ? await response.clone().text() : '';
    checkAnswer(method, url, { status: response.status, headers: response.headers, body });
    return response;
  };
}

/** An answer's body as text, decoded when it came compressed. */
function decoded(bytes, encoding) {
  if (encoding === 'gzip') return zlib.gunzipSync(bytes).toString('utf8');
  if (encoding === 'br') return zlib.brotliDecompressSync(bytes).toString('utf8');
  if (encoding === 'deflate') return zlib.inflateSync(bytes).toString('utf8');
  return bytes.toString('utf8');
}

/**
 * A proxy in front of the worker's HTTP address, for clients that are programs (the CLI, the
 * examples): it passes every request on as it came (its Host too, so that signatures over the
 * URL the client used still hold) and every answer back as it came, and keeps each violation of
 * the description in `violations`, for the test to assert none.
 */
export async function checkingProxy(target, { upgrades = true } = {}) {
  const { hostname, port } = new URL(target);
  const violations = [];
  const tunnels = new Set();
  const server = createServer((req, res) => {
    const upstream = request({ hostname, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks = [];
      answer.on('data', (chunk) => chunks.push(chunk));
      answer.on('end', () => {
        const bytes = Buffer.concat(chunks);
        try {
          const headers = new Headers(Object.entries(answer.headers).map(([name, value]) => [name, [value].flat().join(', ')]));
          checkAnswer(req.method, req.url, { status: answer.statusCode, headers, body: decoded(bytes, headers.get('content-encoding')) });
        } catch (violation) {
          violations.push(violation);
        }
        res.writeHead(answer.statusCode, answer.headers);
        res.end(bytes);
      });
    });
    upstream.on('error', (error) => {
      violations.push(error);
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`the checking proxy could not reach the worker: ${error.message}`);
    });
    req.pipe(upstream);
  });
  // A WebSocket upgrade (`/live`) is tunnelled to the worker as it came, both ways; without
  // `upgrades`, it is refused as a proxy that does not carry WebSockets would.
  server.on('upgrade', (req, client, head) => {
    if (!upgrades) {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    tunnelUpgrade(req, client, head, { hostname, port }, req.headers, tunnels);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  onStop(() => new Promise((resolve) => {
    for (const socket of tunnels) socket.destroy();
    server.closeAllConnections();
    server.close(resolve);
  }));
  return { url: `http://127.0.0.1:${server.address().port}`, violations };
}
