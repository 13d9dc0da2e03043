// Accept taskrouter-edge's pending reservations with Twilio's helper library (npm install twilio):
// `node accept.mjs [--sid WR…]…` (--sid: only this reservation).
import { parseArgs } from 'node:util';

import twilio from 'twilio';

const HELP = `Usage: node accept.mjs [--sid WR…]…

Accepts the worker's pending reservations at TaskRouter (--sid: only this one; repeatable).
Set RESERVATIONS_URL, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, and RESERVATIONS_API_TOKEN;
behind Cloudflare Access, an Access service token's CF_ACCESS_CLIENT_ID and
CF_ACCESS_CLIENT_SECRET, sent on every request to the worker (as CF-Access-Client-Id and
CF-Access-Client-Secret).`;

let values;
try {
  ({ values } = parseArgs({ options: { sid: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } }));
} catch (error) {
  // node's own words ("Unknown option '--x'"), then how to call it: no stack trace.
  console.error(`accept.mjs: ${error.message}\n\n${HELP}`);
  process.exit(2);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const only = values.sid;
const env = process.env;
const unset = ['RESERVATIONS_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'].filter((name) => !env[name]);
if (!env.RESERVATIONS_API_TOKEN && !env.CF_ACCESS_CLIENT_ID) unset.push('RESERVATIONS_API_TOKEN (or CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET)');
if (unset.length) {
  console.error(`accept.mjs: set ${unset.join(', ')}`);
  process.exit(2);
}
const base = env.RESERVATIONS_URL.replace(/\/$/, '');
const headers = {
  'content-type': 'application/json',
  ...(env.RESERVATIONS_API_TOKEN && { authorization: `Bearer ${env.RESERVATIONS_API_TOKEN}` }),
  // An Access service token, for a worker behind Access.
  ...(env.CF_ACCESS_CLIENT_ID && { 'cf-access-client-id': env.CF_ACCESS_CLIENT_ID, 'cf-access-client-secret': env.CF_ACCESS_CLIENT_SECRET ?? '' }),
};
const client = twilio(env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN);
if (env.TWILIO_TASKROUTER_URL) client.taskrouter.baseUrl = env.TWILIO_TASKROUTER_URL; // a mock server

async function* pending() {
  for (let cursor = ''; cursor !== null;) { // the last page's cursor is null
    const query = new URLSearchParams({ status: 'pending', limit: '1000', ...(cursor && { cursor }) });
    const answer = await fetch(`${base}/reservations?${query}`, { headers });
    if (answer.status !== 200) throw new Error(`the worker answered ${answer.status}: ${await answer.text()}`);
    const page = await answer.json();
    yield* page.reservations;
    cursor = page.cursor;
  }
}

const post = (url, body) => fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });

// No connection was ever made (DNS failure, connection refused): nothing reached TaskRouter.
const UNSENT = ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED'];

/** Whether the reservation is now accepted, and what to say. */
async function accept(summary) {
  const url = `${base}/reservations/${summary.reservation_sid}`;
  const claim = await post(`${url}/claim`, { decision: 'accept', owner: 'accept.mjs' }); // one decision each
  if (claim.status === 409) { // decided, or being decided, by the console or another script
    const { error } = await claim.json();
    return [error.settled?.status === 'accepted', error.message];
  }
  if (claim.status !== 200) { // no claim (no hub, unknown reservation): Twilio is not asked
    return [false, `not claimed (${claim.status}): ${(await claim.json()).error.message}`];
  }
  const { token, until } = await claim.json(); // the claim is this script's own
  const reservation = client.taskrouter.v1.workspaces(summary.workspace_sid).tasks(summary.task_sid).reservations(summary.reservation_sid);
  let status = 'accepted';
  try {
    await reservation.update({ reservationStatus: 'accepted' });
  } catch (refused) {
    // 400 (often: no longer pending), 5xx or no answer: Twilio's own record says what happened.
    status = 'pending';
    if (UNSENT.includes(refused.code)) { // nothing reached TaskRouter: give the decision back at once
      await post(`${url}/release`, { claim_token: token });
      return [false, `TaskRouter could not be reached, nothing was sent: ${refused.message}`];
    }
    if (refused.status === undefined || refused.status === 400 || refused.status >= 500) {
      try { // never sent again blindly
        status = (await reservation.fetch()).reservationStatus;
      } catch (error) { // the claim stays ours until the reservation times out
        return [false, `outcome unknown (${refused.message}); reading it back failed too (${error.message}); yours until ${until}`];
      }
    }
    if (status === 'pending') { // nothing changed: let others decide
      await post(`${url}/release`, { claim_token: token });
      return [false, `Twilio refused: ${refused.message}`];
    }
  }
  const settled = await post(`${url}/status`, { status, claim_token: token }); // settles the claim
  const recorded = [200, 409].includes(settled.status); // 409: it knew better
  const said = status === 'accepted' ? 'accepted' : `no longer pending: Twilio says it is ${status}`;
  return [status === 'accepted' && recorded, said + (recorded ? '' : ' (not recorded in the worker)')];
}

const chosen = [];
for await (const summary of pending()) if (!only || only.includes(summary.reservation_sid)) chosen.push(summary);
const missing = [...new Set(only)].filter((sid) => !chosen.some((summary) => summary.reservation_sid === sid));
for (const sid of missing) console.log(`✗ ${sid}  not pending in the worker`);
let failed = missing.length;
for (const summary of chosen) {
  const [accepted, said] = await accept(summary);
  console.log(`${accepted ? '✓' : '✗'} ${summary.reservation_sid}  ${said}`);
  if (!accepted) failed += 1;
}
process.exitCode = failed ? 1 : 0;
