// Runs the built `reservations` binary with a clean environment: only what a test gives it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { killOnExit } from './lifecycle.mjs';
import { API_TOKEN, AUTH_TOKEN } from './worker.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(root, 'target/debug/reservations');
export const ACCOUNT_SID = `AC${'0'.repeat(31)}1`;

export function cliEnv({ workerUrl, taskrouterUrl, ...rest } = {}) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  if (workerUrl) Object.assign(env, { RESERVATIONS_URL: workerUrl, RESERVATIONS_API_TOKEN: API_TOKEN });
  if (taskrouterUrl) Object.assign(env, { TWILIO_TASKROUTER_URL: taskrouterUrl });
  Object.assign(env, { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN }, rest);
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}

/** Starts the CLI; `done` resolves to { code, stdout, stderr }. */
export function startCli(args, env) {
  const child = spawn(CLI, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stdout: () => stdout };
}

export function runCli(args, env) {
  return startCli(args, env).done;
}
