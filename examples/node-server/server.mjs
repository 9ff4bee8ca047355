// A GraphQL server for the chat example, on graphql-js and node:http alone.
// Its sendMessage mutation publishes the new message through the herald
// Node binding; herald-edge delivers it to every subscribed browser.
//
//   node server.mjs [--port 4000]
//
// The broker's ingress comes from $HERALD_PUB_ENDPOINT (default
// tcp://127.0.0.1:7400). POST /graphql takes {query, variables,
// operationName}, as any GraphQL-over-HTTP client sends it.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { buildSchema, graphql } from 'graphql';
import herald from 'herald';

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '4000' } } });
const schemaPath = new URL('../chat/schema.graphql', import.meta.url);
const schema = buildSchema(readFileSync(schemaPath, 'utf8'));

// One publisher for the whole process: it is cheap to share.
const publisher = new herald.Publisher();
const channels = new Set();
let nextId = 1;

const rootValue = {
  channels: () => [...channels],
  sendMessage: ({ channel, text, author }) => {
    const message = {
      id: `n${nextId++}`,
      channel,
      text,
      author: { name: author },
      sentAt: new Date().toISOString(),
    };
    channels.add(channel);
    // The topic matches the schema's @topic(name: "chat.{channel}").
    publisher.publish(`chat.${channel}`, message);
    return message;
  },
};

function send(res, status, body) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'access-control-allow-origin': '*',        // the chat page is served by the edge
    'access-control-allow-headers': 'content-type',
  });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  if (req.method === 'OPTIONS') return send(res, 204, {});
  if (req.url !== '/graphql' || req.method !== 'POST') {
    return send(res, 404, { errors: [{ message: 'POST your GraphQL to /graphql' }] });
  }
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 1 << 20) return send(res, 413, { errors: [{ message: 'request too large' }] });
  }
  let request;
  try {
    request = JSON.parse(body);
  } catch {
    return send(res, 400, { errors: [{ message: 'the body must be JSON' }] });
  }
  const result = await graphql({
    schema,
    source: String(request.query ?? ''),
    rootValue,
    variableValues: request.variables,
    operationName: request.operationName,
  });
  send(res, 200, result);
});

server.listen(Number(args.port), '127.0.0.1', () => {
  console.error(`node example server: http://127.0.0.1:${server.address().port}/graphql`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    publisher.close();
  });
}
