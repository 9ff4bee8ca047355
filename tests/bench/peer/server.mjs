// The peer for the benchmarks: what users would otherwise run. graphql-ws's
// server on ws, executing with graphql-js, subscriptions served from an
// in-memory PubSub (async iterators, as in graphql-subscriptions). To get
// the same events as herald-edge, the PubSub is fed from the Herald broker
// through the Node binding: one subscription per topic in use.
//
//   node server.mjs --port 8081 --schema examples/chat/schema.graphql
//
// The broker's egress: $HERALD_SUB_ENDPOINT (default tcp://127.0.0.1:7401).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/lib/use/ws';
import { WebSocketServer } from 'ws';
import herald from 'herald';

const { values: args } = parseArgs({
  options: { port: { type: 'string', default: '8081' }, schema: { type: 'string' } },
});
const schema = buildSchema(readFileSync(args.schema, 'utf8'));

// An in-memory PubSub: topic -> set of queues, one per subscription.
class PubSub {
  constructor(onFirst, onLast) {
    this.topics = new Map();
    this.onFirst = onFirst;
    this.onLast = onLast;
  }

  publish(topic, value) {
    for (const q of this.topics.get(topic) ?? []) q.push(value);
  }

  iterator(topic) {
    let queue = [];
    let wake = null;
    const q = { push: (v) => { queue.push(v); wake?.(); wake = null; } };
    if (!this.topics.has(topic)) {
      this.topics.set(topic, new Set());
      this.onFirst(topic);
    }
    this.topics.get(topic).add(q);
    const done = () => {
      const set = this.topics.get(topic);
      if (set?.delete(q) && set.size === 0) {
        this.topics.delete(topic);
        this.onLast(topic);
      }
    };
    return {
      next: async () => {
        while (queue.length === 0) await new Promise((r) => { wake = r; });
        return { done: false, value: queue.shift() };
      },
      return: async () => { done(); queue = []; return { done: true, value: undefined }; },
      [Symbol.asyncIterator]() { return this; },
    };
  }
}

const upstream = new herald.Subscriber();
const pubsub = new PubSub((t) => upstream.subscribe(t), (t) => upstream.unsubscribe(t));
(async () => {
  for await (const { topic, event } of upstream) {
    const field = topic.startsWith('chat.') ? 'messageAdded' : 'tick';
    pubsub.publish(topic, { [field]: event });
  }
})();

const rootValue = {
  messageAdded: ({ channel }) => pubsub.iterator(`chat.${channel}`),
  tick: ({ symbol }) => pubsub.iterator(`ticker.${symbol}`),
};

const wss = new WebSocketServer({ port: Number(args.port), host: '127.0.0.1', path: '/graphql' });
useServer({ schema, roots: { subscription: rootValue } }, wss);
// With --port 0 the system picks the port: log the real one.
wss.on('listening', () => console.error(`peer listening on http://127.0.0.1:${wss.address().port}/graphql`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    wss.close();
    upstream.close();
    process.exit(0);
  });
}
