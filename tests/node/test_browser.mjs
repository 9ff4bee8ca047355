// The chat page end to end in a real browser (Debian's chromium, driven by
// playwright-core): two browser contexts open the page served by the edge;
// a message sent from one, through the Python example server's mutation,
// appears in both; after a reload the page's new subscription receives the
// next message. Screenshots go to $HERALD_BUILD_DIR/artifacts/.
//
// The edge runs as scripts/run.sh starts it: --auth optional with the
// public channels chat.*, and an HMAC secret that the example server's
// login signs tokens with. A page that signs in shows its own private
// messages (sendDirect to it), not another user's, and keeps receiving the
// public channel; with short-lived tokens it refreshes them on the open
// socket (Herald's ping extension) instead of reconnecting.
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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  BUILD, ROOT, freePort, launchBrowser, metrics, pythonEnv, startBroker, startEdge, waitFor,
  waitMetric,
} from './harness.mjs';

const ARTIFACTS = path.join(BUILD, 'artifacts');
const CHANNEL = 'e2e';

// The edge's HMAC secret, as scripts/run.sh makes it.
const secretDir = mkdtempSync(path.join(os.tmpdir(), 'herald-browser-'));
const secretFile = path.join(secretDir, 'jwt.key');
writeFileSync(secretFile, execFileSync('openssl', ['rand', '-hex', '32']));

let broker, edge, server, serverUrl, browser;
const servers = [];

// Starts the Python example server (login signs with the edge's secret);
// resolves with its GraphQL URL.
async function startServer(args = []) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/graphql`;
  servers.push(spawn('/usr/bin/python3', [path.join(ROOT, 'examples', 'python-server', 'server.py'),
    '--port', String(port), '--jwt-secret', secretFile, ...args], {
    stdio: 'inherit',
    env: pythonEnv({ HERALD_PUB_ENDPOINT: broker.ingress }),
  }));
  await waitFor(async () => {
    try {
      return (await fetch(url, { method: 'OPTIONS' })).status === 204;
    } catch {
      return false;
    }
  }, 'the example server');
  return url;
}

before(async () => {
  broker = await startBroker();
  edge = await startEdge(broker, ['--static', path.join(BUILD, 'examples', 'chat', 'www'),
    '--auth', 'optional', '--public-topics', 'chat.*', '--jwt-secret', secretFile]);
  serverUrl = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.kill('SIGTERM');
  assert.equal(await edge.stop(), 0);
  assert.equal(await broker.stop(), 0);
  rmSync(secretDir, { recursive: true, force: true });
});

async function openChat(url = serverUrl) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err));
  await page.goto(`${edge.http}/?channel=${CHANNEL}&mutation=${encodeURIComponent(url)}`);
  await page.locator('#status', { hasText: 'live' }).waitFor();
  return page;
}

// Signs the page in as name, and waits until it is live with its token.
async function signIn(page, name) {
  await page.fill('#login-name', name);
  await page.click('#login-form button');
  await page.locator('#status', { hasText: `live · ${name}` }).waitFor();
}

// A GraphQL request to the example server, as any backend would send it.
async function post(query, variables, url = serverUrl) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}
const sendDirect = (to, text, url) => post(
  'mutation($to: String!, $t: String!) { sendDirect(to: $to, text: $t, author: "backend") { id } }',
  { to, t: text }, url);

// Sends until the page shows it: the edge subscribes at the broker as the
// page subscribes, and a message sent before that is not for this page.
async function sendUntilShown(page, list, send, text) {
  for (let n = 0; n < 20; n++) {
    await send(`${text} ${n}`);
    const shown = await page.locator(`${list} .text`, { hasText: text }).first()
      .waitFor({ timeout: 1000 }).then(() => true, () => false);
    if (shown) return;
  }
  assert.fail(`"${text}" never showed in ${list}`);
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

test('signed in, the page shows its own private messages, not another user\'s, and the public channel', async () => {
  const alice = await openChat();
  const bob = await openChat();
  const anonymous = await openChat();
  // Not signed in: no private channel.
  assert.equal(await anonymous.locator('#private').isHidden(), true);
  // A bad name is refused by login, and the page says why (submitted past
  // the form's own pattern check).
  await alice.fill('#login-name', 'no.dots');
  await alice.evaluate(() => document.getElementById('login-form')
    .dispatchEvent(new Event('submit', { cancelable: true })));
  await alice.locator('#errors', { hasText: 'sign-in failed: name must be' }).waitFor();
  await signIn(alice, 'alice');
  await signIn(bob, 'bob');
  assert.equal(await alice.locator('#whoami').textContent(), 'alice');
  // Each page: the channel, and signed in its private channel.
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 5);

  await sendUntilShown(bob, '#direct', (t) => sendDirect('bob', t), 'for bob');
  await sendUntilShown(alice, '#direct', (t) => sendDirect('alice', t), 'for alice');
  // Once both are subscribed, one message each, in the other order.
  await sendDirect('alice', 'only alice');
  await sendDirect('bob', 'only bob');
  await alice.locator('#direct .text', { hasText: 'only alice' }).waitFor();
  await bob.locator('#direct .text', { hasText: 'only bob' }).waitFor();
  await new Promise((r) => setTimeout(r, 300));
  const direct = (page) => page.locator('#direct .text').allTextContents();
  assert.ok((await direct(alice)).every((t) => /alice/.test(t)), String(await direct(alice)));
  assert.ok((await direct(bob)).every((t) => /bob/.test(t)), String(await direct(bob)));
  assert.equal((await direct(anonymous)).length, 0);

  // The page's own form: alice writes to bob privately.
  await alice.fill('#direct-to', 'bob');
  await alice.fill('#direct-text', 'psst, bob');
  await alice.click('#direct-form button');
  await bob.locator('#direct li', { hasText: 'psst, bob' }).waitFor();
  assert.equal(await bob.locator('#direct li', { hasText: 'psst, bob' }).locator('strong').textContent(), 'alice');
  await alice.locator('#direct li.sent', { hasText: 'psst, bob' }).waitFor();      // what alice sent

  // The public channel carries on, for everyone.
  assert.equal(await alice.inputValue('#author'), 'alice');
  await alice.fill('#text', 'hello, everyone');
  await alice.click('#send-form button');
  for (const page of [alice, bob, anonymous]) {
    await page.locator('#messages .text', { hasText: 'hello, everyone' }).waitFor();
  }
  assert.equal(await alice.locator('#errors').isHidden(), true);
  mkdirSync(ARTIFACTS, { recursive: true });
  await alice.screenshot({ path: path.join(ARTIFACTS, 'chat-private.png') });
  for (const page of [alice, bob, anonymous]) await page.context().close();
});

test('with short-lived tokens the page refreshes them on the open socket', async () => {
  // Tokens that live 6 s: the page refreshes a third of that before expiry.
  const shortUrl = await startServer(['--token-ttl', '6']);
  const page = await openChat(shortUrl);
  await signIn(page, 'carol');
  await waitMetric(edge, 'herald_edge_subscriptions', (v) => v === 2);
  await sendUntilShown(page, '#direct', (t) => sendDirect('carol', t, shortUrl), 'before');
  const m0 = await metrics(edge);
  const refreshed = (m) => m['herald_edge_auth_refresh_total{result="ok"}'] ?? 0;
  // Two refreshes: past the first token's exp, on the same socket.
  await waitMetric(edge, 'herald_edge_auth_refresh_total{result="ok"}', (v) => v >= refreshed(m0) + 2, 20000);
  const m1 = await metrics(edge);
  assert.equal(m1.herald_edge_connections_total, m0.herald_edge_connections_total, 'the page connected again');
  assert.equal(m1.herald_edge_tokens_expired_total ?? 0, m0.herald_edge_tokens_expired_total ?? 0);
  assert.equal(m1['herald_edge_closes_total{code="4403"}'] ?? 0, m0['herald_edge_closes_total{code="4403"}'] ?? 0);
  // No refresh was refused (every result but ok).
  const refused = (m) => Object.entries(m).filter(([k]) => k.startsWith('herald_edge_auth_refresh_total{') &&
    k !== 'herald_edge_auth_refresh_total{result="ok"}').reduce((sum, [, v]) => sum + v, 0);
  assert.equal(refused(m1), refused(m0));
  // The private channel still delivers, on the refreshed token.
  await sendDirect('carol', 'after the refresh', shortUrl);
  await page.locator('#direct .text', { hasText: 'after the refresh' }).waitFor();
  assert.match(await page.locator('#status').textContent(), /^live/);
  await page.context().close();
});

test("the page's hint command shows on the page, and GraphQL errors show as text", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${edge.http}/?channel=hint`);
  await page.locator('#status', { hasText: 'live' }).waitFor();
  // Without mutation= there is no server to sign in with: the page listens.
  assert.equal(await page.locator('#login-form').isHidden(), true);
  assert.equal(await page.locator('#private').isHidden(), true);
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
