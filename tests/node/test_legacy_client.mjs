// subscriptions-transport-ws's SubscriptionClient (npm), the legacy
// graphql-ws protocol, receives the same events from the real edge.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';
import { collector, pythonPublisher, startBroker, startEdge, waitMetric } from './harness.mjs';

let broker, edge, pub;

before(async () => {
  broker = await startBroker();
  edge = await startEdge(broker, ['--legacy-ka-ms', '500']);
  pub = pythonPublisher(broker);
});

after(async () => {
  await pub.close();
  assert.equal(await edge.stop(), 0);
  assert.equal(await broker.stop(), 0);
});

test('SubscriptionClient receives events and unsubscribes', async () => {
  const client = new SubscriptionClient(edge.url, { reconnect: false, timeout: 5000 }, WebSocket);
  const got = collector();
  const subscription = client.request({
    query: `subscription($c: String!) { messageAdded(channel: $c) { id text author { name } } }`,
    variables: { c: 'legacy' },
  }).subscribe(got.sink);
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 1);
  await pub.publish('chat.legacy', { id: '1', text: 'old protocol', author: { name: 'apollo' } });
  await pub.publish('chat.legacy', { id: '2', text: 'still works', author: null });
  const results = await got.take(2);
  assert.deepEqual(results.map((r) => r.data.messageAdded), [
    { id: '1', text: 'old protocol', author: { name: 'apollo' } },
    { id: '2', text: 'still works', author: null },
  ]);
  subscription.unsubscribe();
  await waitMetric(edge, 'herald_edge_topics', (v) => v === 0);
  client.close();
});

test('SubscriptionClient sees validation errors', async () => {
  const client = new SubscriptionClient(edge.url, { reconnect: false }, WebSocket);
  const got = collector();
  client.request({ query: 'subscription { messageAdded { id } }' }).subscribe(got.sink);
  const [r] = await got.take(1);
  const errors = r.errors ?? r.error;
  assert.ok(Array.isArray(errors) && /channel/.test(errors[0].message), JSON.stringify(r));
  client.close();
});
