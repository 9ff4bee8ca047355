// trivial.mjs: the cheapest graphql-transport-ws server we can write, to
// find herald-loadgen's own ceiling. It answers connection_init and
// subscribe like a real server, then streams `next` messages of the chat
// schema to every subscription as fast as the socket takes them: frames
// are stamped into a prebuilt batch (sequence number and send time), with
// no GraphQL, no broker and one write per batch. Whatever rate the load
// generator reads from it is the most it can measure.
//
//   node tests/bench/trivial.mjs --port 0 [--batch 256] [--payload 100]
//   build/tests/bench/herald-loadgen --url ws://127.0.0.1:PORT/graphql --hold 4
//
// It logs "listening on http://127.0.0.1:PORT" to stderr once it is ready.

import { createHash } from 'node:crypto';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '8082' },
    batch: { type: 'string', default: '256' },
    payload: { type: 'string', default: '100' },
  },
});
const BATCH = Number(args.batch);
const SEQ_DIGITS = 12;          // fixed widths, so that a batch is stamped in place
const TIME_DIGITS = 19;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(text) {
  const body = Buffer.from(text);
  if (body.length < 126) return Buffer.concat([Buffer.from([0x81, body.length]), body]);
  const head = Buffer.from([0x81, 126, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

// A batch template for one subscription, with where to stamp each frame.
function template(id) {
  const pad = 'x'.repeat(Math.max(1, Number(args.payload) - 24));
  const seqMark = '#'.repeat(SEQ_DIGITS);
  const timeMark = '@'.repeat(TIME_DIGITS);
  const one = frame(JSON.stringify({
    id, type: 'next',
    payload: { data: { messageAdded: { id: seqMark, text: `${timeMark} ${pad}` } } },
  }));
  const seqAt = one.indexOf(seqMark);
  const timeAt = one.indexOf(timeMark);
  return { buf: Buffer.concat(Array(BATCH).fill(one)), size: one.length, seqAt, timeAt };
}

function stream(sock, id) {
  const t = template(id);
  const seq = Buffer.alloc(SEQ_DIGITS, '0');   // a decimal counter, kept as digits
  const pump = () => {
    if (sock.destroyed) return;
    const out = Buffer.from(t.buf);
    const now = Buffer.from(process.hrtime.bigint().toString().padStart(TIME_DIGITS, '0'));
    for (let i = 0, at = 0; i < BATCH; i++, at += t.size) {
      for (let k = 0; k < SEQ_DIGITS; k++) out[at + t.seqAt + k] = seq[k];
      for (let k = 0; k < TIME_DIGITS; k++) out[at + t.timeAt + k] = now[k];
      for (let k = SEQ_DIGITS - 1; k >= 0 && ++seq[k] > 0x39; k--) seq[k] = 0x30;
    }
    // One batch per turn of the event loop, so that other sockets (and
    // new connections) get their turn.
    if (sock.write(out)) setImmediate(pump);
    else sock.once('drain', pump);
  };
  pump();
}

const waiting = [];
let startTimer = null;

// Reads the client's masked frames and answers the protocol's messages.
function onMessage(sock, text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    sock.destroy();
    return;
  }
  if (msg.type === 'connection_init') sock.write(frame('{"type":"connection_ack"}'));
  else if (msg.type === 'ping') sock.write(frame('{"type":"pong"}'));
  else if (msg.type === 'subscribe') {
    // Streams start together, once subscribing has been quiet for half a
    // second: streaming to the first would starve the handshakes of the rest.
    waiting.push(() => stream(sock, msg.id));
    clearTimeout(startTimer);
    startTimer = setTimeout(() => waiting.splice(0).forEach((start) => start()), 500);
  }
}

function onFrames(sock, state) {
  for (;;) {
    const b = state.buf;
    if (b.length < 2) return;
    const opcode = b[0] & 0x0f;
    let len = b[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return;
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      sock.destroy();           // no client message of ours is that large
      return;
    }
    if (b.length < at + 4 + len) return;
    const mask = b.subarray(at, at + 4);
    const body = Buffer.from(b.subarray(at + 4, at + 4 + len));
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
    state.buf = b.subarray(at + 4 + len);
    if (opcode === 0x1) onMessage(sock, body.toString());
    else if (opcode === 0x8) sock.destroy();
  }
}

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('error', () => sock.destroy());
  const state = { buf: Buffer.alloc(0), open: false };
  sock.on('data', (data) => {
    state.buf = Buffer.concat([state.buf, data]);
    if (!state.open) {
      const end = state.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = state.buf.subarray(0, end).toString('latin1');
      state.buf = state.buf.subarray(end + 4);
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head);
      if (!key || !/graphql-transport-ws/i.test(head)) {
        sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const accept = createHash('sha1').update(key[1] + WS_GUID).digest('base64');
      sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
        + `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`);
      state.open = true;
    }
    onFrames(sock, state);
  });
});
server.listen(Number(args.port), '127.0.0.1', () => {
  console.error(`listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
