// The Node binding with a list of brokers: two real brokers, a Publisher
// and a Subscriber given arrays of endpoints; each event arrives once,
// pub.stats() has Python's shape, and when one broker is killed (kill -9)
// publishing goes on through the other and the loss is counted.

import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import { test } from 'node:test';
import herald from '../../bindings/node/index.js';
import { startBroker } from './harness.mjs';

const { Publisher, Subscriber, HeraldError, ErrorCode } = herald;
const TOPICS = Array.from({ length: 10 }, (_, i) => `room.${i}`);

// docs/wire.md, "Several brokers": FNV-1a 64 of the topic, modulo n.
function owner(topic, n = 2) {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(topic, 'utf8')) h = ((h ^ BigInt(byte)) * 0x100000001b3n) % 2n ** 64n;
  return Number(h % BigInt(n));
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// A broker on four consecutive ports below the ephemeral range, so that a
// publisher finds its egress at its ingress port + 1.
async function brokerBlock(taken) {
  const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
  for (;;) {
    const base = Math.max(1024, low - 12000) + Math.floor(Math.random() * 11990);
    if ([0, 1, 2, 3].some((k) => taken.has(base + k))) continue;
    const free = await Promise.all([0, 1, 2, 3].map((k) => portFree(base + k)));
    if (!free.every(Boolean)) continue;
    [0, 1, 2, 3].forEach((k) => taken.add(base + k));
    const ep = (k) => `tcp://127.0.0.1:${base + k}`;
    return startBroker({ ingress: ep(0), egress: ep(1), xsub: ep(2), stats: ep(3) });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Counts what a subscriber receives, by event number. A next() that is
// still waiting when a wait ends is kept for the next wait, so that no
// event is taken and then dropped.
function collector(sub) {
  const counts = new Map();
  let pending = null;
  return {
    counts,
    async wait(ms) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        pending ||= sub.next();
        const item = await Promise.race([pending, sleep(deadline - Date.now()).then(() => null)]);
        if (!item) continue;
        pending = null;
        if (item.done) return counts;
        const i = item.value.event.i;
        counts.set(i, (counts.get(i) || 0) + 1);
      }
      return counts;
    },
  };
}

test('a list of brokers: each event once, and kill -9 of one', async () => {
  const taken = new Set();
  const a = await brokerBlock(taken);
  const b = await brokerBlock(taken);
  const sub = new Subscriber([a.egress, b.egress], TOPICS);
  const pub = new Publisher([a.ingress, b.ingress]);
  try {
    await sub.ready();
    assert.deepEqual(sub.stats().brokers.map((x) => [x.endpoint, x.up]), [[a.egress, true], [b.egress, true]]);
    const got = collector(sub);
    for (let i = 0; i < 200; i++) pub.publish(TOPICS[i % 10], { i });
    const first = await got.wait(2500);
    assert.equal(first.size, 200);
    assert.ok([...first.values()].every((n) => n === 1), 'an event arrived twice');
    const stats = pub.stats();
    assert.deepEqual(Object.keys(stats).sort(), ['brokers', 'confirmed', 'failovers', 'lost', 'rerouted', 'sent']);
    assert.deepEqual(stats.brokers.map((x) => x.endpoint), [a.ingress, b.ingress]);
    const expect = [0, 1].map((k) => Array.from({ length: 200 }, (_, i) => i).filter((i) => owner(TOPICS[i % 10]) === k).length);
    assert.deepEqual(stats.brokers.map((x) => x.sent), expect);
    assert.equal(stats.lost, 0);

    // kill -9 of broker a, mid-stream.
    a.proc.kill('SIGKILL');
    for (let i = 200; i < 600; i++) {
      pub.publish(TOPICS[i % 10], { i });
      await sleep(1);
    }
    const second = await got.wait(2000);
    const after = pub.stats();
    const missed = Array.from({ length: 400 }, (_, k) => 200 + k).filter((i) => !second.has(i));
    console.log(`kill -9 of one broker: the subscriber missed ${missed.length} of 400 events `
                + `(${missed.slice(0, 10).join(', ')}); `
                + `pub.stats(): ${JSON.stringify(after)}`);
    assert.ok([...second.values()].every((n) => n === 1), 'an event arrived twice');
    assert.equal(after.failovers, 1);
    assert.equal(after.brokers[0].up, false);
    assert.ok(after.rerouted > 0);
    assert.ok(after.lost >= missed.length, `lost ${after.lost} < missed ${missed.length}`);
    // a's topics resumed through b.
    assert.ok([...second.keys()].some((i) => i >= 500 && owner(TOPICS[i % 10]) === 0));
    try {
      pub.close();
      assert.equal(after.lost, 0);
    } catch (err) {
      assert.ok(err instanceof HeraldError && err.code === ErrorCode.UNSENT, err);
      assert.match(err.message, /counted lost when a broker's link dropped/);
    }
  } finally {
    sub.close();
    await a.stop();
    assert.equal(await b.stop(), 0);
  }
});

test('a list of brokers: bad lists are refused', () => {
  assert.throws(() => new Publisher([]), (e) => e.code === ErrorCode.ENDPOINT);
  assert.throws(() => new Publisher(['tcp://127.0.0.1:1', 'tcp://127.0.0.1:1']), (e) => e.code === ErrorCode.ENDPOINT);
  assert.throws(() => new Subscriber(['tcp://127.0.0.1:1', '']), (e) => e.code === ErrorCode.ENDPOINT);
  assert.throws(() => new Publisher(['tcp://127.0.0.1:1', 'tcp://127.0.0.1:3'], { heartbeat: 0 }), (e) => e.code === ErrorCode.INVALID);
});
