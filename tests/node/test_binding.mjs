// The Node binding (bindings/node, koffi over libherald) against the real
// broker: publish and subscribe, errors, close() telling whether everything
// was sent, surviving a broker restart, and close() leaving nothing that
// keeps the process alive.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import herald from '../../bindings/node/index.js';
import { ROOT, startBroker } from './harness.mjs';

const { Publisher, Subscriber, HeraldError, ErrorCode } = herald;

async function take(sub, n) {
  const out = [];
  for await (const item of sub) {
    out.push(item);
    if (out.length === n) break;
  }
  return out;
}

test('publishes and subscribes, in order, JSON and raw', async () => {
  const broker = await startBroker();
  try {
    const sub = new Subscriber(broker.egress, ['node.a', 'node.b']);
    const raw = new Subscriber(broker.egress, 'node.a', { raw: true });
    await sub.ready();
    await raw.ready();
    const pub = new Publisher(broker.ingress);
    for (let i = 0; i < 1000; i++) pub.publish(i % 2 ? 'node.b' : 'node.a', { i, text: 'héllo' });
    pub.publishRaw('node.a', Buffer.from([0x92, 0x01, 0xc3]));   // [1, true]
    const got = await take(sub, 1001);
    assert.deepEqual(got.slice(0, 3), [
      { topic: 'node.a', event: { i: 0, text: 'héllo' } },
      { topic: 'node.b', event: { i: 1, text: 'héllo' } },
      { topic: 'node.a', event: { i: 2, text: 'héllo' } },
    ]);
    assert.deepEqual(got.map((g) => g.event.i ?? 'raw').slice(-2), [999, 'raw']);
    assert.deepEqual(got[1000], { topic: 'node.a', event: [1, true] });
    const firstRaw = (await take(raw, 1))[0];
    assert.equal(firstRaw.topic, 'node.a');
    assert.ok(Buffer.isBuffer(firstRaw.event));
    // Exact topics, and unsubscribing.
    await sub.unsubscribe('node.b');
    await sub.subscribe('node.c');
    await sub.ready();
    pub.publish('node.b', 'gone');
    pub.publish('node.cc', 'prefix only');
    pub.publish('node.c', 'here');
    assert.deepEqual(await take(sub, 1), [{ topic: 'node.c', event: 'here' }]);
    pub.close();
    sub.close();
    raw.close();
    assert.deepEqual(await sub.next(), { done: true, value: undefined });
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('errors carry the C code and message', async () => {
  const pub = new Publisher('tcp://127.0.0.1:1', { linger: 0 });
  const expectError = (fn, code, fragment) => {
    assert.throws(fn, (err) => {
      assert.ok(err instanceof HeraldError);
      assert.equal(err.code, code);
      assert.equal(err.codeName, Object.keys(ErrorCode).find((k) => ErrorCode[k] === code));
      assert.match(err.message, fragment);
      return true;
    });
  };
  expectError(() => pub.publish('', 1), ErrorCode.TOPIC, /empty/);
  expectError(() => pub.publish('a\0b', 1), ErrorCode.TOPIC, /NUL/);
  expectError(() => pub.publish('x'.repeat(256), 1), ErrorCode.TOPIC, /255/);
  expectError(() => pub.publishJson('t', '{"a":'), ErrorCode.JSON, /line 1, column 5/);
  expectError(() => pub.publishRaw('t', Buffer.from([0xc1])), ErrorCode.MSGPACK, /0xc1/);
  expectError(() => pub.publish('t', 'x'.repeat(1 << 20)), ErrorCode.TOO_BIG, /limit is 1048576/);
  expectError(() => new Publisher('bogus://x'), ErrorCode.ENDPOINT, /bogus/);
  assert.throws(() => pub.publish('t', undefined), TypeError);
  pub.close();
  pub.close();
  expectError(() => pub.publish('t', 1), ErrorCode.INVALID, /closed/);
});

test('close() throws when messages were not sent, and not when they were', async () => {
  // Nothing listens on port 1: a broker that is not running.
  const lost = new Publisher('tcp://127.0.0.1:1', { linger: 200 });
  lost.publish('node.truth', 1);
  lost.publish('node.truth', 2);
  assert.throws(() => lost.close(), (err) => {
    assert.ok(err instanceof HeraldError);
    assert.equal(err.code, ErrorCode.UNSENT);
    assert.equal(err.codeName, 'UNSENT');
    assert.match(err.message, /2 messages not sent/);
    assert.match(err.message, /never connected/);
    return true;
  });
  lost.close();                   // closed already: nothing more to say
  new Publisher('tcp://127.0.0.1:1', { linger: 200 }).close();   // nothing published

  const broker = await startBroker();
  try {
    const sub = new Subscriber(broker.egress, ['node.truth']);
    await sub.ready();
    assert.equal(sub.connected, true);
    const pub = new Publisher(broker.ingress);
    pub.publish('node.truth', 'sent');
    pub.close();
    assert.deepEqual(await take(sub, 1), [{ topic: 'node.truth', event: 'sent' }]);
    sub.close();
    assert.equal(sub.connected, false);
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('survives a broker restart', async () => {
  let broker = await startBroker();
  const ports = {};
  for (const role of ['ingress', 'egress', 'xsub', 'stats']) ports[role] = broker[role];
  const sub = new Subscriber(broker.egress, ['node.restart']);
  const pub = new Publisher(broker.ingress);
  await sub.ready();
  pub.publish('node.restart', 'before');
  assert.deepEqual(await take(sub, 1), [{ topic: 'node.restart', event: 'before' }]);

  assert.equal(await broker.stop(), 0);
  broker = await startBroker(ports);
  // Publish until one arrives: what was in flight during the restart may
  // be lost, and neither client was restarted.
  let got = null;
  const pending = sub.next();
  pending.then((r) => { got = r.value; });
  const deadline = Date.now() + 20000;
  while (!got && Date.now() < deadline) {
    pub.publish('node.restart', 'after');
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.deepEqual(got, { topic: 'node.restart', event: 'after' });
  pub.close();
  sub.close();
  assert.equal(await broker.stop(), 0);
});

test('close() leaves nothing open: the process exits by itself', async () => {
  const broker = await startBroker();
  const script = `
    const herald = require(${JSON.stringify(path.join(ROOT, 'bindings', 'node'))});
    (async () => {
      const sub = new herald.Subscriber(process.argv[2], ['node.exit']);
      await sub.ready();
      const pub = new herald.Publisher(process.argv[1]);
      pub.publish('node.exit', { bye: true });
      for await (const { event } of sub) { console.log(JSON.stringify(event)); break; }
      pub.close();
      sub.close();
    })();`;
  const child = spawn(process.execPath, ['-e', script, broker.ingress, broker.egress],
                      { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(timer);
  assert.equal(signal, null, 'the process had to be killed: something kept it alive');
  assert.equal(code, 0);
  assert.equal(out.trim(), '{"bye":true}');
  assert.equal(await broker.stop(), 0);
});
