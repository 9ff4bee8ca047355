// graphql-ws's createClient (npm) against the real edge: events published
// from Python arrive; complete works; several subscriptions share a socket;
// after the edge restarts, the client retries, resubscribes and receives.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { collector, metrics, pythonPublisher, startBroker, startEdge, waitMetric } from './harness.mjs';

const QUERY = `
  subscription OnMessage($channel: String!, $withAuthor: Boolean!) {
    latest: messageAdded(channel: $channel) {
      ...Fields
      author @include(if: $withAuthor) { name }
    }
  }
  fragment Fields on Message { id body: text __typename }
`;

let broker, edge, pub;

before(async () => {
  broker = await startBroker();
  edge = await startEdge(broker);
  pub = pythonPublisher(broker);
});

after(async () => {
  await pub.close();
  assert.equal(await edge.stop(), 0);
  assert.equal(await broker.stop(), 0);
});

function client(url, options = {}) {
  return createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, ...options });
}

test('receives events published from Python, with variables, aliases and fragments', async () => {
  const c = client(edge.url);
  const got = collector();
  const stop = c.subscribe({ query: QUERY, variables: { channel: 'node', withAuthor: true } }, got.sink);
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 1);
  await pub.publish('chat.node', { id: '1', channel: 'node', text: 'from python', author: { name: 'py' } });
  const [result] = await got.take(1);
  assert.deepEqual(result, {
    data: { latest: { id: '1', body: 'from python', __typename: 'Message', author: { name: 'py' } } },
  });
  stop();
  await c.dispose();
});

test('completing a subscription stops it and releases the topic', async () => {
  const c = client(edge.url);
  const got = collector();
  const stop = c.subscribe({ query: QUERY, variables: { channel: 'done', withAuthor: false } }, got.sink);
  await waitMetric(edge, 'herald_edge_topics', (v) => v === 1);
  await pub.publish('chat.done', { id: '1', text: 'one' });
  assert.deepEqual((await got.take(1))[0].data.latest, { id: '1', body: 'one', __typename: 'Message' });
  stop();
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 0);
  await waitMetric(edge, 'herald_edge_topics', (v) => v === 0);
  await pub.publish('chat.done', { id: '2', text: 'two' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(got.items.length, 0);
  await c.dispose();
});

test('several subscriptions on one socket', async () => {
  const before = (await metrics(edge)).herald_edge_connections_total;
  const c = client(edge.url);
  const channels = ['a', 'b', 'c'];
  const sinks = channels.map(() => collector());
  const stops = channels.map((ch, i) =>
    c.subscribe({ query: QUERY, variables: { channel: ch, withAuthor: false } }, sinks[i].sink));
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 3);
  for (const ch of channels) await pub.publish(`chat.${ch}`, { id: ch, text: `to ${ch}` });
  for (const [i, ch] of channels.entries()) {
    const [r] = await sinks[i].take(1);
    assert.equal(r.data.latest.body, `to ${ch}`);
  }
  const m = await metrics(edge);
  assert.equal(m.herald_edge_connections_total - before, 1, 'one socket for all three');
  assert.equal(m.herald_edge_topics, 3);
  stops.forEach((s) => s());
  await c.dispose();
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 0);
});

test('after the edge restarts, the client retries, resubscribes and receives again', async () => {
  const port = edge.port;
  const c = client(edge.url, {
    retryAttempts: 20,
    retryWait: async () => new Promise((r) => setTimeout(r, 200)),
    shouldRetry: () => true,
  });
  const got = collector();
  const stop = c.subscribe({ query: QUERY, variables: { channel: 'restart', withAuthor: false } }, got.sink);
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 1);
  await pub.publish('chat.restart', { id: 'before', text: 'before' });
  assert.equal((await got.take(1))[0].data.latest.id, 'before');

  assert.equal(await edge.stop(), 0);
  edge = await startEdge(broker, [], port);
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 1, 20000);
  await pub.publish('chat.restart', { id: 'after', text: 'after' });
  const [r] = await got.take(1, 20000);
  assert.equal(r.data.latest.id, 'after');
  stop();
  await c.dispose();
});
