// `npm run deploy`: checks what `wrangler deploy` does not, deploys, then prints what to give
// TaskRouter.
//
// 0. Wrangler can sign in to Cloudflare: `CLOUDFLARE_API_TOKEN` (or an API key and email) is set,
//    or `wrangler login` left its OAuth token where wrangler keeps it. Otherwise `wrangler deploy`
//    would build for a while and then fail; this stops at once and names `npx wrangler login`.
//    Skipped for `--dry-run`, which needs no account.
// 1. The RESERVATIONS KV namespace has a real id (wrangler accepts the placeholder without a word,
//    and the deployed worker then has no store): refused otherwise, naming the command that
//    creates one.
// 2. The secrets the worker needs are set (`wrangler secret list`): the missing ones are named,
//    with the command that sets each. The deploy goes on: the worker fails closed (503) until they
//    are set.
// 3. `wrangler deploy`, then the Assignment Callback URL, the Event Callback URL, and the
//    `reservations connect` line that sets both.
//
//   node scripts/deploy.mjs [--config wrangler.toml] [any other wrangler deploy flags]
//
// TASKROUTER_EDGE_WRANGLER names the wrangler to run (tests give a stand-in for the network part).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PLACEHOLDER_ID = '00000000000000000000000000000000';
/** The secrets without which the worker answers 503, and what each is. */
const REQUIRED_SECRETS = {
  TWILIO_AUTH_TOKEN: 'checks X-Twilio-Signature (or set TWILIO_WEBHOOK_SHARED_KEYS for SharedKey signing)',
  RESERVATIONS_API_TOKEN: 'the operator token of the console, the CLI and the API',
};

const args = process.argv.slice(2);
const configIndex = args.indexOf('--config');
const configPath = path.resolve(configIndex >= 0 ? args[configIndex + 1] : path.join(root, 'wrangler.toml'));
const wranglerBin = process.env.TASKROUTER_EDGE_WRANGLER ?? path.join(root, 'node_modules/.bin/wrangler');
const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false' };

const say = (line = '') => console.log(line);
function fail(message) {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

/** The `id` of the `[[kv_namespaces]]` entry whose binding is RESERVATIONS. */
function reservationsNamespaceId(toml) {
  for (const block of toml.split(/^\s*\[\[kv_namespaces\]\]\s*$/m).slice(1)) {
    const table = block.split(/^\s*\[/m)[0];
    if (/^\s*binding\s*=\s*"RESERVATIONS"\s*$/m.test(table)) return table.match(/^\s*id\s*=\s*"([^"]*)"\s*$/m)?.[1] ?? null;
  }
  return null;
}

/**
 * Whether wrangler has a way to sign in: the variables it reads, or the OAuth token `wrangler
 * login` writes to `<its config directory>/config/default.toml` (`~/.wrangler` when that exists,
 * else `$XDG_CONFIG_HOME/.wrangler`, or `~/Library/Preferences/.wrangler` on macOS).
 */
function signedIn() {
  const env = process.env;
  if (env.CLOUDFLARE_API_TOKEN || env.CF_API_TOKEN || (env.CLOUDFLARE_API_KEY && env.CLOUDFLARE_EMAIL)) return true;
  if (process.platform === 'win32') return true; // not checked there: wrangler will say
  const home = os.homedir();
  const configDirs = [
    path.join(home, '.wrangler'),
    process.platform === 'darwin' ? path.join(home, 'Library/Preferences/.wrangler') : path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), '.wrangler'),
  ];
  return configDirs.some((dir) => {
    const file = path.join(dir, 'config/default.toml');
    return existsSync(file) && /^\s*(oauth_token|api_token)\s*=/m.test(readFileSync(file, 'utf8'));
  });
}

if (!args.includes('--dry-run') && !signedIn()) {
  fail([
    'wrangler is not signed in to Cloudflare. Sign in once, then deploy again:',
    '',
    '    npx wrangler login',
    '',
    '(In CI, set CLOUDFLARE_API_TOKEN instead.) Nothing was built or deployed.',
  ].join('\n'));
}

if (!existsSync(configPath)) fail(`${configPath} does not exist`);
const toml = readFileSync(configPath, 'utf8');
const namespaceId = reservationsNamespaceId(toml);
if (!namespaceId || namespaceId === PLACEHOLDER_ID) {
  fail([
    `${path.basename(configPath)} has no KV namespace for RESERVATIONS yet (its id is ${namespaceId ? 'the placeholder' : 'missing'}).`,
    'Create one, then put the id it prints in the [[kv_namespaces]] entry of wrangler.toml:',
    '',
    '    npx wrangler kv namespace create RESERVATIONS',
    '',
    'Nothing was deployed.',
  ].join('\n'));
}

const workerName = toml.match(/^\s*name\s*=\s*"([^"]+)"\s*$/m)?.[1] ?? 'taskrouter-edge';
const listed = spawnSync(wranglerBin, ['secret', 'list', '--format', 'json', '--config', configPath], { encoding: 'utf8', env: wranglerEnv });
let present = null;
try {
  present = new Set(JSON.parse(listed.stdout).map((secret) => secret.name));
} catch {
  // A Worker that was never deployed has no secrets to list.
}
if (present === null) {
  // Without colours, the first line that says what went wrong.
  const said = `${listed.stderr ?? ''}${listed.stdout ?? ''}`.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((line) => line.trim()).find((line) => /error|not|fail/i.test(line));
  say(`deploy: could not list the secrets of ${workerName}${said ? ` (wrangler: ${said})` : ''}. If they are not set yet, set them after this deploy:`);
  for (const [name, what] of Object.entries(REQUIRED_SECRETS)) say(`    npx wrangler secret put ${name}    # ${what}`);
} else {
  const missing = Object.keys(REQUIRED_SECRETS).filter((name) => !present.has(name));
  for (const name of missing) say(`deploy: the secret ${name} is not set; until it is, the worker answers 503. Set it: npx wrangler secret put ${name}    # ${REQUIRED_SECRETS[name]}`);
  if (missing.length === 0) say(`deploy: ${Object.keys(REQUIRED_SECRETS).join(' and ')} are set`);
}

const deployArgs = ['deploy', ...(configIndex >= 0 ? [] : ['--config', configPath]), ...args];
const child = spawn(wranglerBin, deployArgs, { env: wranglerEnv, stdio: ['inherit', 'pipe', 'inherit'] });
let output = '';
child.stdout.on('data', (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
const code = await new Promise((resolve) => child.on('close', resolve));
if (code !== 0) fail(`wrangler deploy failed (exit ${code})`);
if (args.includes('--dry-run')) process.exit(0);

const url = output.match(/https:\/\/[a-z0-9.-]+\.workers\.dev\b/i)?.[0];
if (!url) fail('wrangler deployed but printed no workers.dev URL: give TaskRouter your route\'s URL, followed by /assignment_callback and /events');
say();
say('Give TaskRouter these two URLs:');
say(`  Assignment Callback URL (the Workflow):  ${url}/assignment_callback`);
say(`  Event Callback URL (the Workspace):      ${url}/events`);
say();
say('or let the CLI set both (with TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in the environment):');
say(`  reservations connect --workspace WS… --workflow WW… --url ${url} --events`);
