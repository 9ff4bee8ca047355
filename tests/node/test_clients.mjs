// The client compatibility matrix: each real npm client subscribes to the
// edge with variables, fragments and aliases, receives published events,
// and unsubscribes; afterwards the edge has no subscription left and the
// upstream topic is released at the broker.
//
//   graphql-ws createClient
//   Apollo Client with GraphQLWsLink (graphql-ws underneath)
//   Apollo Client with the legacy WebSocketLink (subscriptions-transport-ws)
//   urql with subscriptionExchange over graphql-ws

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions/index.js';
import { WebSocketLink } from '@apollo/client/link/ws/index.js';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import { Client as UrqlClient, subscriptionExchange } from '@urql/core';
import { BUILD, collector, metrics, pythonPublisher, startBroker, startEdge, waitFor, waitMetric } from './harness.mjs';

const DOCUMENT = `
  subscription Watch($channel: String!, $long: Boolean!) {
    latest: messageAdded(channel: $channel) {
      ...Core
      content: text
      author @include(if: $long) { who: name }
    }
  }
  fragment Core on Message { id __typename }
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

function brokerSubscriptions() {
  const out = execFileSync(path.join(BUILD, 'libclient', 'herald'), ['stats', '-e', broker.stats],
                           { env: { ...process.env, LD_PRELOAD: '' } });
  return JSON.parse(out).subscriptions;
}

// Subscribes with `start(variables, sink)` (which returns a stop function),
// checks two events arrive as the document shapes them, then stops and
// checks that the edge and the broker let go.
async function exercise(name, start) {
  const channel = `matrix-${name}`;
  const got = collector();
  const stop = start({ channel, long: true }, got.sink);
  await waitMetric(edge, 'herald_edge_topics', (v) => v === 1);
  await waitFor(() => brokerSubscriptions() === 1, 'the broker to see the topic');
  await pub.publish(`chat.${channel}`, { id: '1', text: 'first', author: { name: name }, extra: 'ignored' });
  await pub.publish(`chat.${channel}`, { id: '2', text: 'second', author: null });
  const results = await got.take(2);
  assert.deepEqual(results.map((r) => r.data), [
    { latest: { id: '1', __typename: 'Message', content: 'first', author: { who: name, __typename: 'User' } } },
    { latest: { id: '2', __typename: 'Message', content: 'second', author: null } },
  ].map((d) => stripTypenames(d, results[0].data)));
  await stop();
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 0);
  await waitMetric(edge, 'herald_edge_topics', (v) => v === 0);
  await waitFor(() => brokerSubscriptions() === 0, 'the broker to release the topic');
  // Nothing more arrives after the stop.
  await pub.publish(`chat.${channel}`, { id: '3', text: 'late' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(got.items.length, 0);
}

// Apollo adds __typename to every selection set, other clients do not: the
// expected data follows what the client actually asked for.
function stripTypenames(expected, sample) {
  const apolloStyle = sample?.latest?.author && '__typename' in sample.latest.author;
  if (apolloStyle) return expected;
  const copy = JSON.parse(JSON.stringify(expected));
  if (copy.latest.author) delete copy.latest.author.__typename;
  return copy;
}

test('graphql-ws createClient', async () => {
  const client = createClient({ url: edge.url, webSocketImpl: WebSocket, retryAttempts: 0 });
  await exercise('graphql-ws', (variables, sink) => {
    const dispose = client.subscribe({ query: DOCUMENT, variables }, sink);
    return async () => dispose();
  });
  await client.dispose();
});

test('Apollo Client with GraphQLWsLink', async () => {
  const wsClient = createClient({ url: edge.url, webSocketImpl: WebSocket, retryAttempts: 0 });
  const apollo = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
  await exercise('apollo-graphql-ws', (variables, sink) => {
    const sub = apollo.subscribe({ query: gql(DOCUMENT), variables }).subscribe(sink);
    return async () => sub.unsubscribe();
  });
  apollo.stop();
  await wsClient.dispose();
});

test('Apollo Client with the legacy WebSocketLink (subscriptions-transport-ws)', async () => {
  const legacy = new SubscriptionClient(edge.url, { reconnect: false }, WebSocket);
  const apollo = new ApolloClient({ link: new WebSocketLink(legacy), cache: new InMemoryCache() });
  await exercise('apollo-legacy', (variables, sink) => {
    const sub = apollo.subscribe({ query: gql(DOCUMENT), variables }).subscribe(sink);
    return async () => sub.unsubscribe();
  });
  apollo.stop();
  legacy.close();
});

test('urql with subscriptionExchange over graphql-ws', async () => {
  const wsClient = createClient({ url: edge.url, webSocketImpl: WebSocket, retryAttempts: 0 });
  const urql = new UrqlClient({
    url: 'http://unused.invalid/graphql',
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: wsClient.subscribe({ ...request, query: request.query || '' }, sink) }),
        }),
      }),
    ],
  });
  await exercise('urql', (variables, sink) => {
    const { unsubscribe } = urql.subscription(DOCUMENT, variables).subscribe((result) => {
      if (result.error) sink.error(result.error);
      else sink.next({ data: result.data });
    });
    return async () => unsubscribe();
  });
  await wsClient.dispose();
});
