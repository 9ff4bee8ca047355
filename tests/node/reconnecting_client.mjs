// A graphql-ws client (npm) that retries, as applications configure it:
// node reconnecting_client.mjs URL CHANNEL. It subscribes to messageAdded
// on CHANNEL and prints one line per thing that happens, for the test that
// drives it (tests/integration/test_edge_workers.py):
//   connected            a socket is up and acknowledged
//   closed CODE          the socket closed (then it retries)
//   event ID             an event arrived
// SIGTERM disposes of the client and exits 0.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, channel] = process.argv.slice(2);
const say = (line) => process.stdout.write(`${line}\n`);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 1000,
  retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
  shouldRetry: () => true,
  on: {
    connected: () => say('connected'),
    closed: (event) => say(`closed ${event.code}`),
  },
});

client.subscribe(
  { query: 'subscription ($c: String!) { messageAdded(channel: $c) { id } }', variables: { c: channel } },
  {
    next: (result) => say(`event ${result.data.messageAdded.id}`),
    error: (error) => say(`error ${JSON.stringify(error)}`),
    complete: () => say('complete'),
  },
);

process.on('SIGTERM', async () => {
  await client.dispose();
  process.exit(0);
});
