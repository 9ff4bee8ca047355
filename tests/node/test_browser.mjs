// The chat page end to end in a real browser (Debian's chromium, driven by
// playwright-core): two browser contexts open the page served by the edge;
// a message sent from one, through the Python example server's mutation,
// appears in both; after a reload the page's new subscription receives the
// next message. Screenshots go to $HERALD_BUILD_DIR/artifacts/.
//
// Served over https by an edge with --tls-cert, the page subscribes over
// wss:// and shows what is sent.
//
// The page's own hint, the `herald pub` command it suggests, run as written,
// shows its message on the page; an event the schema cannot render (one
// without the non-null `channel`) shows its GraphQL error as text.
//
// It also measures the time from sending a mutation to the message showing
// in the other browser, over 50 messages, and prints the median (not an
// assertion: machines differ).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  BUILD, ROOT, freePort, launchBrowser, metrics, pythonEnv, startBroker, startEdge, waitFor,
  waitMetric,
} from './harness.mjs';

const ARTIFACTS = path.join(BUILD, 'artifacts');
const CHANNEL = 'e2e';

let broker, edge, server, serverUrl, browser;

before(async () => {
  broker = await startBroker();
  edge = await startEdge(broker, ['--static', path.join(BUILD, 'examples', 'chat', 'www')]);
  const port = await freePort();
  serverUrl = `http://127.0.0.1:${port}/graphql`;
  server = spawn('/usr/bin/python3', [path.join(ROOT, 'examples', 'python-server', 'server.py'), '--port', String(port)], {
    stdio: 'inherit',
    env: pythonEnv({ HERALD_PUB_ENDPOINT: broker.ingress }),
  });
  await waitFor(async () => {
    try {
      return (await fetch(serverUrl, { method: 'OPTIONS' })).status === 204;
    } catch {
      return false;
    }
  }, 'the example server');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  assert.equal(await edge.stop(), 0);
  assert.equal(await broker.stop(), 0);
});

async function openChat() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err));
  await page.goto(`${edge.http}/?channel=${CHANNEL}&mutation=${encodeURIComponent(serverUrl)}`);
  await page.locator('#status', { hasText: 'live' }).waitFor();
  return page;
}

const texts = (page) => page.locator('#messages .text').allTextContents();

test('a message sent in one browser appears in both, and after a reload', async () => {
  const a = await openChat();
  const b = await openChat();
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 2);

  await a.fill('#author', 'alice');
  await a.fill('#text', 'hello from alice');
  await a.click('#send-form button');
  for (const page of [a, b]) {
    await page.locator('#messages .text', { hasText: 'hello from alice' }).waitFor();
  }
  assert.deepEqual(await texts(b), ['hello from alice']);
  assert.equal(await b.locator('#messages strong').first().textContent(), 'alice');

  await b.reload();
  await b.locator('#status', { hasText: 'live' }).waitFor();
  // The old subscription went with the old page; the new one is in place.
  await waitMetric(edge, 'herald_edge_connections', (v) => v === 2);
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 2);
  await a.fill('#text', 'after the reload');
  await a.click('#send-form button');
  await b.locator('#messages .text', { hasText: 'after the reload' }).waitFor();
  assert.deepEqual(await texts(b), ['after the reload']);

  mkdirSync(ARTIFACTS, { recursive: true });
  await a.screenshot({ path: path.join(ARTIFACTS, 'chat-sender.png') });
  await b.screenshot({ path: path.join(ARTIFACTS, 'chat-receiver.png') });
  console.log(`screenshots: ${path.join(ARTIFACTS, 'chat-sender.png')}, chat-receiver.png`);
  await a.context().close();
  await b.context().close();
});

test("the page's hint command shows on the page, and GraphQL errors show as text", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${edge.http}/?channel=hint`);
  await page.locator('#status', { hasText: 'live' }).waitFor();
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 1);
  const hint = await page.locator('#empty code').textContent();
  assert.match(hint, /^build\/libclient\/herald pub chat\.hint '/);
  // Run it as written, with this build's herald and this test's broker.
  const command = hint.replace(/^build\/libclient\/herald/, path.join(BUILD, 'libclient', 'herald'));
  const env = { ...process.env, LD_PRELOAD: '', HERALD_PUB_ENDPOINT: broker.ingress };
  execFileSync('/bin/sh', ['-c', command], { cwd: ROOT, env, stdio: 'inherit' });
  await page.locator('#messages .text', { hasText: 'hello' }).waitFor();
  assert.deepEqual(await texts(page), ['hello']);
  assert.equal(await page.locator('#errors').isHidden(), true);
  // The edge renders an event without `channel` as an error: the page says so.
  execFileSync(path.join(BUILD, 'libclient', 'herald'),
    ['pub', 'chat.hint', '{"id":"2","text":"no channel","author":{"name":"me"}}'], { env, stdio: 'inherit' });
  await page.locator('#errors', { hasText: 'GraphQL error' }).waitFor();
  assert.match(await page.locator('#errors').textContent(), /channel/);
  await context.close();
});

test('over https the page subscribes with wss:// and shows what is sent', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-tls-'));
  const cert = path.join(dir, 'edge.crt');
  const key = path.join(dir, 'edge.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const tlsEdge = await startEdge(broker, ['--static', path.join(BUILD, 'examples', 'chat', 'www'),
    '--tls-cert', cert, '--tls-key', key]);
  try {
    // The certificate is self-signed: this context trusts it.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.goto(`${tlsEdge.http}/?channel=tls&mutation=${encodeURIComponent(serverUrl)}`);
    await page.locator('#status', { hasText: 'live' }).waitFor();
    assert.deepEqual(sockets, [`wss://127.0.0.1:${tlsEdge.port}/graphql`]);
    // Send until one shows: the edge subscribes at the broker as the page
    // subscribes, and a message sent before that is not for this page.
    await page.fill('#author', 'tls');
    let shown = false;
    for (let n = 0; n < 20 && !shown; n++) {
      await page.fill('#text', `over wss ${n}`);
      await page.click('#send-form button');
      shown = await page.locator('#messages .text', { hasText: 'over wss' }).first()
        .waitFor({ timeout: 1000 }).then(() => true, () => false);
    }
    assert.ok(shown, 'no message showed on the https page');
    await context.close();
  } finally {
    assert.equal(await tlsEdge.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('time from mutation to browser, over 50 messages', async () => {
  const page = await openChat();
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 1);
  // The page notes when each message's element appears.
  await page.evaluate(() => {
    window.seen = {};
    new MutationObserver((records) => {
      const now = performance.timeOrigin + performance.now();
      for (const r of records) for (const n of r.addedNodes) if (n.dataset) window.seen[n.dataset.id] = now;
    }).observe(document.getElementById('messages'), { childList: true });
  });
  const send = async (text) => {
    const res = await fetch(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($t: String!) { sendMessage(channel: "e2e", text: $t, author: "bench") { id } }',
        variables: { t: text },
      }),
    });
    return (await res.json()).data.sendMessage.id;
  };
  const shownAt = async (id, timeout) =>
    (await page.waitForFunction((key) => window.seen[key], id, { timeout })).jsonValue();
  // Send until one shows: the edge subscribes at the broker as the page
  // subscribes (the metric above counts the page's side only), and a
  // message sent before that is not for this page.
  let live = false;
  for (let n = 0; n < 20 && !live; n++) {
    live = await shownAt(await send(`warm-up ${n}`), 1000).then(() => true, () => false);
  }
  assert.ok(live, 'no warm-up message showed');
  const latencies = [];
  for (let i = 0; i < 50; i++) {
    const sent = performance.timeOrigin + performance.now();
    const id = await send(`latency ${i}`);
    const shown = await shownAt(id, 30000).catch(async (err) => {
      throw new Error(`message ${i} never showed (${err.message}); edge: ` +
                      JSON.stringify(await metrics(edge)));
    });
    latencies.push(shown - sent);
  }
  latencies.sort((x, y) => x - y);
  const median = (latencies[24] + latencies[25]) / 2;
  console.log(`mutation -> browser over 50 messages: median ${median.toFixed(1)} ms, ` +
              `p90 ${latencies[44].toFixed(1)} ms, max ${latencies[49].toFixed(1)} ms`);
  assert.equal(latencies.length, 50);
  await page.context().close();
});
