// Authentication with real clients: tokens signed by npm's jose (HS256
// with a secret, RS256 with a key made by openssl here), given in
// connectionParams to graphql-ws, Apollo Client and subscriptions-transport-ws.
//
// - At the token's exp the edge closes 4403; each client reconnects on its
//   own, its connectionParams function runs again and brings a fresh
//   token, and the subscription goes on.
// - Herald's refresh extension (examples/auth/refresh.mjs): a ping with a
//   fresh token before exp keeps the same socket open.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { SignJWT, importPKCS8 } from 'jose';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions/index.js';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import { ROOT, collector, metrics, pythonPublisher, startBroker, startEdge, waitFor } from './harness.mjs';

const { createRefreshingClient } = await import(path.join(ROOT, 'examples', 'auth', 'refresh.mjs'));

const QUERY = 'subscription($c: String!) { messageAdded(channel: $c) { id text } }';
const dir = mkdtempSync(path.join(tmpdir(), 'herald-auth-'));
const secretFile = path.join(dir, 'jwt.key');
writeFileSync(secretFile, execFileSync('openssl', ['rand', '-hex', '32']));
const secret = new TextEncoder().encode(readFileSync(secretFile, 'utf8').trim());
execFileSync('openssl', ['genrsa', '-out', path.join(dir, 'rsa.pem'), '2048']);
execFileSync('openssl', ['pkey', '-in', path.join(dir, 'rsa.pem'), '-pubout', '-out', path.join(dir, 'rsa.pub.pem')]);
const rsa = await importPKCS8(readFileSync(path.join(dir, 'rsa.pem'), 'utf8'), 'RS256');

let broker, edge, pub;
const minted = { count: 0 };

// A token for alice that may read the chat channels, valid for ttl seconds.
async function mint(ttl, alg = 'HS256') {
  minted.count++;
  return new SignJWT({ topics: ['chat.*'] })
    .setProtectedHeader({ alg })
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .sign(alg === 'HS256' ? secret : rsa);
}

before(async () => {
  broker = await startBroker();
  edge = await startEdge(broker, ['--jwt-secret', secretFile, '--jwt-key', path.join(dir, 'rsa.pub.pem')]);
  pub = pythonPublisher(broker);
});
after(async () => {
  await pub.close();
  assert.equal(await edge.stop(), 0);
  assert.equal(await broker.stop(), 0);
});

// Publishes to chat.CHANNEL until the collector has a result, and
// returns it: after a reconnect the subscription comes back a moment later.
async function delivered(channel, got, text) {
  return waitFor(async () => {
    await pub.publish(`chat.${channel}`, { id: '1', text });
    await new Promise((r) => setTimeout(r, 100));
    const hit = got.items.find((r) => r.data?.messageAdded?.text === text);
    got.items.length = 0;
    return hit;
  }, `"${text}" on chat.${channel}`, 15000);
}

const closes = async () => (await metrics(edge))['herald_edge_closes_total{code="4403"}'] ?? 0;

test('graphql-ws reconnects at exp with a fresh token from connectionParams', async () => {
  const closed = [];
  const client = createClient({
    url: edge.url,
    webSocketImpl: WebSocket,
    retryAttempts: 10,
    retryWait: () => new Promise((r) => setTimeout(r, 100)),
    connectionParams: async () => ({ token: await mint(2) }),
    on: { closed: (e) => closed.push(e.code) },
  });
  const got = collector();
  const before = minted.count;
  const stop = client.subscribe({ query: QUERY, variables: { c: 'expiry' } }, got.sink);
  await delivered('expiry', got, 'first');
  await waitFor(() => closed.includes(4403), 'the close at exp', 10000);
  await delivered('expiry', got, 'after the reconnect');
  assert.ok(minted.count - before >= 2, 'connectionParams ran again');
  stop();
  await client.dispose();
});

test('a ping with a fresh token keeps the socket open past exp', async () => {
  const m0 = await metrics(edge);
  const closed = [];
  const client = createRefreshingClient(createClient, {
    url: edge.url,
    webSocketImpl: WebSocket,
    getToken: () => mint(3),
    refreshBeforeMs: 2000,
    on: { closed: (e) => closed.push(e.code) },
  });
  const got = collector();
  const stop = client.subscribe({ query: QUERY, variables: { c: 'refresh' } }, got.sink);
  await delivered('refresh', got, 'first');
  await new Promise((r) => setTimeout(r, 5000));
  await delivered('refresh', got, 'five seconds on');
  const m = await metrics(edge);
  assert.deepEqual(closed, []);
  assert.equal(m.herald_edge_connections_total - m0.herald_edge_connections_total, 1);
  assert.ok(m['herald_edge_auth_refresh_total{result="ok"}'] - (m0['herald_edge_auth_refresh_total{result="ok"}'] ?? 0) >= 2);
  assert.equal(m.herald_edge_tokens_expired_total, m0.herald_edge_tokens_expired_total);
  stop();
  await client.dispose();
});

test('Apollo Client (GraphQLWsLink) with an RS256 token, across the close at exp', async () => {
  const wsClient = createClient({
    url: edge.url,
    webSocketImpl: WebSocket,
    retryAttempts: 10,
    retryWait: () => new Promise((r) => setTimeout(r, 100)),
    connectionParams: async () => ({ authToken: await mint(2, 'RS256') }),
  });
  const apollo = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
  const got = collector();
  const closesBefore = await closes();
  const sub = apollo.subscribe({ query: gql(QUERY), variables: { c: 'apollo' } })
    .subscribe({ next: got.sink.next, error: got.sink.error });
  await delivered('apollo', got, 'first');
  await waitFor(async () => (await closes()) > closesBefore, 'the close at exp', 10000);
  await delivered('apollo', got, 'after the reconnect');
  assert.ok(!got.items.some((r) => r.error), 'no error reached the app');
  sub.unsubscribe();
  await wsClient.dispose();
  apollo.stop();
});

test('subscriptions-transport-ws: a refused token, then a good one across exp', async () => {
  const bad = new SubscriptionClient(edge.url, {
    reconnect: false, connectionParams: { authToken: 'not-a-token' },
    connectionCallback: () => {},
  }, WebSocket);
  const refusal = await new Promise((resolve) => {
    bad.connectionCallback = resolve;
  });
  assert.deepEqual(refusal, { message: 'Forbidden' });
  bad.close();

  const client = new SubscriptionClient(edge.url, {
    reconnect: true,
    connectionParams: async () => ({ authToken: await mint(2) }),
  }, WebSocket);
  const got = collector();
  const sub = client.request({ query: QUERY, variables: { c: 'legacy' } })
    .subscribe({ next: got.sink.next, error: got.sink.error });
  const closesBefore = await closes();
  await delivered('legacy', got, 'first');
  await waitFor(async () => (await closes()) > closesBefore, 'the close at exp', 10000);
  await delivered('legacy', got, 'after the reconnect');
  sub.unsubscribe();
  client.close();
});
