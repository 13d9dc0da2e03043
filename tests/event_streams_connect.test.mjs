// `reservations connect --event-streams`: a webhook Sink for the worker's /event-streams and a
// Subscription to the TaskRouter events it uses. A stateful fake of Events v1 (Prism forgets)
// shows that a second run, and a second `--remove`, change nothing, and that another consumer's
// Sink is never touched. Every request it answered is then put to Prism serving Twilio's Events v1
// description, except the Subscription's creation: its `Types` is an array, which Twilio's form
// repeats (`Types=…&Types=…`) and Prism cannot read from a form. That body is compared with what
// twilio-node sends for the same Subscription instead.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import twilio from 'twilio';

import { ACCOUNT_SID, cliEnv, runCli } from './support/cli.mjs';
import { startFakeEventStreams } from './support/fake_event_streams.mjs';
import { EVENTS_SPEC, startedPrism, watchedByPrism } from './support/prism.mjs';
import { sid } from './support/twilio.mjs';

const WORKER = 'https://Edge.Example.com/';
const DESTINATION = 'https://edge.example.com/event-streams';
// The types the worker acts on: what its Subscription must name (core/src/twilio/event.rs).
const TYPES = [
  'reservation.accepted', 'reservation.rejected', 'reservation.timeout', 'reservation.canceled', 'reservation.rescinded',
  'reservation.wrapup', 'reservation.completed', 'reservation.failed',
  'task.canceled', 'task.completed', 'task.deleted', 'task.system-deleted',
].map((name) => `com.twilio.taskrouter.${name}`);

/** The form twilio-node sends to create the worker's Subscription, as [name, value] pairs. */
async function twilioNodeForm(sinkSid) {
  let sent;
  const httpClient = {
    request: async (options) => {
      sent = options;
      return { statusCode: 201, body: JSON.stringify({ sid: `DF${'0'.repeat(32)}` }), headers: {} };
    },
  };
  const client = twilio(ACCOUNT_SID, 'token', { httpClient });
  await client.events.v1.subscriptions.create({
    description: 'taskrouter-edge: TaskRouter reservation and task events',
    sinkSid,
    types: TYPES.map((type) => ({ type, schema_version: 1 })),
  });
  assert.equal(sent.headers['Content-Type'], 'application/x-www-form-urlencoded');
  // twilio-node's RequestClient writes arrays as repeated names (qs, arrayFormat "repeat").
  return Object.entries(sent.data).flatMap(([name, value]) => (Array.isArray(value) ? value.map((one) => [name, one]) : [[name, value]]));
}

describe('connect --event-streams', () => {
  let events;
  let taskrouter;
  before(async () => {
    events = await startedPrism(EVENTS_SPEC);
    taskrouter = await startedPrism();
  });

  test('made once, reused after: a second run changes nothing, a missing type is added, another Sink is left alone', async () => {
    const fake = await startFakeEventStreams();
    const env = cliEnv({ TWILIO_EVENTS_URL: fake.url, TWILIO_TASKROUTER_URL: taskrouter.url });
    const theirs = { sid: `DG${'f'.repeat(32)}`, description: 'CRM', sink_type: 'webhook', sink_configuration: { destination: 'https://crm.example.com/events', method: 'POST' }, status: 'active' };
    fake.sinks.set(theirs.sid, theirs);
    fake.subscriptions.set(`DF${'f'.repeat(32)}`, { sid: `DF${'f'.repeat(32)}`, sink_sid: theirs.sid, types: [{ type: TYPES[0], schema_version: 1 }] });

    const first = await runCli(['connect', '--event-streams', '--url', WORKER], env);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /✓ Event Streams Sink DG\w{32} sends to https:\/\/edge\.example\.com\/event-streams \(created\)/);
    assert.match(first.stdout, /Event Callback URLs were not touched/);
    const ours = [...fake.sinks.values()].find((sink) => sink.sink_configuration.destination === DESTINATION);
    assert.deepEqual(ours.sink_configuration, { destination: DESTINATION, method: 'POST', batch_events: true });
    const subscription = [...fake.subscriptions.values()].find((s) => s.sink_sid === ours.sid);
    assert.deepEqual(subscription.types, TYPES.map((type) => ({ type, schema_version: 1 })));

    let mark = fake.requests.length;
    const second = await runCli(['connect', '--event-streams', '--url', WORKER], env);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.deepEqual(fake.since(mark).filter((r) => !r.startsWith('GET')), [], 'a second run only reads');
    assert.match(second.stdout, /\(already there, reused\)[\s\S]*already names every event the worker uses; nothing changed/);
    assert.equal(fake.sinks.size, 2);

    subscription.types = subscription.types.filter(({ type }) => !type.endsWith('task.deleted'));
    mark = fake.requests.length;
    const mended = await runCli(['connect', '--event-streams', '--url', WORKER, '--json'], env);
    assert.equal(mended.code, 0, mended.stderr);
    assert.deepEqual(JSON.parse(mended.stdout).types_added, ['com.twilio.taskrouter.task.deleted']);
    assert.deepEqual(fake.since(mark).filter((r) => !r.startsWith('GET')), [`POST /v1/Subscriptions/${subscription.sid}/SubscribedEvents`]);

    mark = fake.requests.length;
    const removed = await runCli(['connect', '--event-streams', '--remove', '--url', WORKER], env);
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.deepEqual(fake.since(mark).filter((r) => !r.startsWith('GET')), [`DELETE /v1/Subscriptions/${subscription.sid}`, `DELETE /v1/Sinks/${ours.sid}`]);
    assert.deepEqual([...fake.sinks.keys()], [theirs.sid], 'the other consumer\'s Sink stays');
    assert.equal(fake.subscriptions.size, 1);

    mark = fake.requests.length;
    const again = await runCli(['connect', '--event-streams', '--remove', '--url', WORKER], env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /No Event Streams Sink sends to https:\/\/edge\.example\.com\/event-streams; nothing changed/);
    assert.deepEqual(fake.since(mark), ['GET /v1/Sinks']);

    // Every request the fake answered is one Twilio's description allows.
    const creation = fake.requests.find((r) => r.method === 'POST' && r.path === '/v1/Subscriptions');
    assert.deepEqual([...new URLSearchParams(creation.body)], await twilioNodeForm(ours.sid));
    await watchedByPrism(events, async () => {
      for (const request of fake.requests.filter((r) => r !== creation)) {
        const answered = await fetch(`${events.url}${request.path}${request.query}`, {
          method: request.method,
          headers: { authorization: request.authorization, ...(request.contentType ? { 'content-type': request.contentType } : {}) },
          body: request.method === 'GET' || request.method === 'DELETE' ? undefined : request.body,
        });
        assert.ok(answered.status < 300, `${request.method} ${request.path}${request.query}: ${answered.status} ${await answered.text()}`);
      }
      return {};
    });
  });

  test('with --workspace and --workflow it also sets the Assignment Callback URL, and leaves the Event Callback URL alone', async () => {
    const fake = await startFakeEventStreams();
    const workspace = sid('WS');
    const workflow = sid('WW');
    const env = cliEnv({ TWILIO_EVENTS_URL: fake.url, TWILIO_TASKROUTER_URL: taskrouter.url });
    const result = await watchedByPrism(taskrouter, () => runCli(['connect', '--workspace', workspace, '--workflow', workflow, '--event-streams', '--url', WORKER, '--json'], env));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(result.requests.map(({ method, path }) => `${method} ${path}`), [
      `GET /v1/Workspaces/${workspace}/Workflows/${workflow}`,
      `POST /v1/Workspaces/${workspace}/Workflows/${workflow}`,
    ], 'the Workspace (and its Event Callback URL) is neither read nor changed');
    const printed = JSON.parse(result.stdout);
    assert.equal(printed.assignment_callback_url, 'https://edge.example.com/assignment_callback');
    assert.equal(printed.event_callback_url, null);
    assert.equal(printed.event_streams.destination, DESTINATION);
    assert.equal(fake.sinks.size, 1);
  });

  test('--remove needs --event-streams, and --events and --event-streams are one or the other', async () => {
    const env = cliEnv({ TWILIO_EVENTS_URL: events.url });
    for (const args of [['--remove'], ['--event-streams', '--events'], ['--event-streams', '--remove', '--workspace', sid('WS'), '--workflow', sid('WW')]]) {
      const result = await runCli(['connect', '--url', WORKER, ...args], env);
      assert.equal(result.code, 2, `${args}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /cannot be used with|required/);
    }
  });
});
