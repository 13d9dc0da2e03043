// Accept taskrouter-edge's pending reservations with Twilio's Node helper library: claim each in
// the worker (so the console never decides it too), accept it at Twilio, and record Twilio's
// answer. Needs `npm install twilio`, RESERVATIONS_URL, RESERVATIONS_API_TOKEN,
// TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.
//
//   node accept.mjs [--sid WR… …]   (--sid: accept only this reservation; repeatable)
import { parseArgs } from 'node:util';

import twilio from 'twilio';

const only = parseArgs({ options: { sid: { type: 'string', multiple: true } } }).values.sid;
const base = process.env.RESERVATIONS_URL.replace(/\/$/, '');
const headers = { authorization: `Bearer ${process.env.RESERVATIONS_API_TOKEN}`, 'content-type': 'application/json' };
const client = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
// A stand-in for TaskRouter, such as a mock server.
if (process.env.TWILIO_TASKROUTER_URL) client.taskrouter.baseUrl = process.env.TWILIO_TASKROUTER_URL;

async function* pending() {
  for (let cursor = ''; cursor !== null;) { // the last page's cursor is null
    const answer = await fetch(`${base}/reservations?status=pending&limit=1000${cursor && `&cursor=${cursor}`}`, { headers });
    if (answer.status !== 200) throw new Error(`the worker answered ${answer.status}: ${await answer.text()}`);
    const page = await answer.json();
    yield* page.reservations;
    cursor = page.cursor;
  }
}

const tell = (sid, action, body) => fetch(`${base}/reservations/${sid}/${action}`, { method: 'POST', headers, body: JSON.stringify(body) });

const chosen = [];
for await (const summary of pending()) if (!only || only.includes(summary.reservation_sid)) chosen.push(summary);
const missing = (only ?? []).filter((sid) => !chosen.some((summary) => summary.reservation_sid === sid));
for (const sid of missing) console.log(`✗ ${sid}  not pending in the worker`);
let failed = missing.length;
for (const summary of chosen) {
  const sid = summary.reservation_sid;
  const claim = await tell(sid, 'claim', { decision: 'accept' });
  if (claim.status !== 200) { // 409: the console or another script decided, or is deciding
    console.log(`- ${sid}  ${(await claim.json()).error.message}`);
    continue;
  }
  const reservation = client.taskrouter.v1.workspaces(summary.workspace_sid).tasks(summary.task_sid).reservations(sid);
  let status = 'accepted';
  try {
    await reservation.update({ reservationStatus: 'accepted' });
  } catch (error) {
    // Twilio answers 400 to a reservation no longer pending: its record says what it is now.
    status = error.status === 400 ? (await reservation.fetch()).reservationStatus : 'pending';
    if (status === 'pending') {
      await tell(sid, 'release', { decision: 'accept' }); // nothing changed: let others decide
      console.log(`✗ ${sid}  Twilio refused: ${error.message}`);
      failed += 1;
      continue;
    }
  }
  const recorded = [200, 409].includes((await tell(sid, 'status', { status })).status); // 409: it knew better
  const said = status === 'accepted' ? 'accepted' : `no longer pending: Twilio says it is ${status}`;
  console.log(`${status === 'accepted' ? '✓' : '✗'} ${sid}  ${said}${recorded ? '' : ' (not recorded)'}`);
  if (status !== 'accepted' || !recorded) failed += 1;
}
process.exitCode = failed ? 1 : 0;
