// The Node binding over CURVE, run by tests/integration/test_curve.py
// against a broker it started with --curve-secret:
//   node curve_client.mjs INGRESS EGRESS BROKER_CERT PUB_SECRET SUB_SECRET
// A missing certificate is a HeraldError KEY; with the right keys an event
// goes through; a subscriber whose key the broker does not know is
// refused. Prints "ok" and exits 0, or throws.

import assert from 'node:assert/strict';
import herald from '../../bindings/node/index.js';

const { Publisher, Subscriber, HeraldError, ErrorCode } = herald;
const [ingress, egress, server, pubCert, subCert] = process.argv.slice(2);

assert.throws(() => new Publisher(ingress, { curveServer: server, curveCert: '/nonexistent_secret' }),
  (err) => err instanceof HeraldError && err.code === ErrorCode.KEY && /nonexistent/.test(err.message));
assert.throws(() => new Subscriber(egress, [], { curveServer: server }),
  (err) => err instanceof HeraldError && err.code === ErrorCode.KEY);

const sub = new Subscriber(egress, ['curve.node'], { curveServer: server, curveCert: subCert });
await sub.ready(5000);
assert.equal(sub.connected, true);
assert.equal(sub.refused, false);
const pub = new Publisher(ingress, { curveServer: server, curveCert: pubCert });
pub.publish('curve.node', { from: 'node' });
pub.close();
for await (const { topic, event } of sub) {
  assert.equal(topic, 'curve.node');
  assert.deepEqual(event, { from: 'node' });
  break;
}
sub.close();

// The publisher's key is not allowed on the subscribing side.
const wrong = new Subscriber(egress, ['curve.node'], { curveServer: server, curveCert: pubCert });
const deadline = Date.now() + 10000;
while (!wrong.refused && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
assert.equal(wrong.refused, true);
assert.equal(wrong.connected, false);
wrong.close();
console.log('ok');
