// A GraphQL server for the chat example, on graphql-js and node:http alone.
// Its sendMessage mutation publishes the new message through the herald
// Node binding; herald-edge delivers it to every subscribed browser. Its
// login mutation signs a token for the edge with jose, and sendDirect
// publishes to one user's private channel.
//
//   node server.mjs [--port 4000] [--jwt-secret FILE] [--token-ttl S]
//
// --jwt-secret (or $HERALD_JWT_SECRET_FILE) names the HMAC secret that
// herald-edge gets with --jwt-secret; without it login is refused.
// --token-ttl is the tokens' lifetime in seconds (600).
//
// The broker's ingress comes from $HERALD_PUB_ENDPOINT (default
// tcp://127.0.0.1:7400). POST /graphql takes {query, variables,
// operationName}, as any GraphQL-over-HTTP client sends it.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { buildSchema, graphql } from 'graphql';
import { SignJWT } from 'jose';
import herald from 'herald';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '4000' },
    'jwt-secret': { type: 'string', default: process.env.HERALD_JWT_SECRET_FILE },
    'token-ttl': { type: 'string', default: '600' },
  },
});
const schemaPath = new URL('../chat/schema.graphql', import.meta.url);
const schema = buildSchema(readFileSync(schemaPath, 'utf8'));

function fail(message) {
  console.error(`server.mjs: ${message}`);
  process.exit(1);
}

// The secret as herald-edge reads it: the file's bytes, less one trailing
// newline; like the edge, it wants 32 bytes at least.
function readSecret(file) {
  let data;
  try {
    data = readFileSync(file);
  } catch (err) {
    fail(`--jwt-secret ${file}: ${err.message}`);
  }
  const cut = data.subarray(-2).toString() === '\r\n' ? 2 : data.subarray(-1).toString() === '\n' ? 1 : 0;
  data = new Uint8Array(data.subarray(0, data.length - cut));
  if (data.length < 32)
    fail(`--jwt-secret ${file}: ${data.length} bytes; herald-edge wants 32 at least (openssl rand -hex 32)`);
  return data;
}

const secret = args['jwt-secret'] ? readSecret(args['jwt-secret']) : null;
const tokenTtl = Number(args['token-ttl']);
if (!Number.isInteger(tokenTtl) || tokenTtl < 1) fail('--token-ttl must be a whole number of seconds, 1 or more');
const NO_SECRET = 'login is off: this server has no JWT secret. Start it with --jwt-secret FILE ' +
                  '(or HERALD_JWT_SECRET_FILE=FILE), the file herald-edge gets with --jwt-secret';

// A user name becomes a topic segment (dm.NAME): no dots, no wildcards.
function checkName(what, name) {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new Error(`${what} must be 1 to 32 letters, digits, '_' or '-'`);
  return name;
}

// One publisher for the whole process: it is cheap to share.
const publisher = new herald.Publisher();
const channels = new Set();
let nextId = 1;

const newMessage = (channel, text, author) => ({
  id: `n${nextId++}`,
  channel,
  text,
  author: { name: author },
  sentAt: new Date().toISOString(),
});

const rootValue = {
  channels: () => [...channels],
  sendMessage: ({ channel, text, author }) => {
    const message = newMessage(channel, text, author);
    channels.add(channel);
    // The topic matches the schema's @topic(name: "chat.{channel}").
    publisher.publish(`chat.${channel}`, message);
    return message;
  },
  // Only the edge's clients whose token has sub = to subscribe to it,
  // through @topic(name: "dm.{jwt.sub}"). (This example trusts author as
  // given; a real server takes it from its caller's own session.)
  sendDirect: ({ to, text, author }) => {
    const topic = `dm.${checkName('to', to)}`;
    const message = newMessage(topic, text, author);
    publisher.publish(topic, message);
    return message;
  },
  // A token for the edge: sub is the name, and its topics claim allows the
  // public channels and the user's own private one.
  login: ({ name }) => {
    if (!secret) throw new Error(NO_SECRET);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ topics: ['chat.*', `dm.${checkName('name', name)}`] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(name)
      .setIssuedAt(now)
      .setExpirationTime(now + tokenTtl)
      .sign(secret);
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
