// harness.mjs: starts the real herald-broker and herald-edge on free ports
// for the Node tests, and publishes events through the Python binding.
//
// The build tree is $HERALD_BUILD_DIR (default: build/ at the repository
// root); ctest sets it.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILD = path.resolve(process.env.HERALD_BUILD_DIR || path.join(ROOT, 'build'));
export const CHAT_SCHEMA = path.join(ROOT, 'examples', 'chat', 'schema.graphql');

// Starts a program and resolves with it once `ready(line)` has matched a
// line of its stderr; later lines are kept in proc.log.
function startLogged(cmd, args, ready, env = {}) {
  const proc = spawn(cmd, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LD_PRELOAD: '', ...env },
  });
  proc.log = [];
  const lines = readline.createInterface({ input: proc.stderr });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${proc.log.join('\n')}`)), 10000);
    proc.on('exit', (code) => reject(new Error(`${cmd} exited (${code}):\n${proc.log.join('\n')}`)));
    lines.on('line', (line) => {
      proc.log.push(line);
      if (ready(line)) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
  });
}

async function stop(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  proc.removeAllListeners('exit');
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const [code] = await exited;
  return code;
}

// Starts a broker on free ports, or on the endpoints given (for a restart).
export async function startBroker(at = {}) {
  const endpoints = {};
  const ep = (role) => at[role] || 'tcp://127.0.0.1:*';
  const proc = await startLogged(path.join(BUILD, 'broker', 'herald-broker'),
    ['--stats-interval', '0', '--ingress', ep('ingress'), '--egress', ep('egress'),
     '--xsub', ep('xsub'), '--stats', ep('stats')],
    (line) => {
      const m = /(\w+) listening on (\S+)/.exec(line);
      if (m) endpoints[m[1]] = m[2];
      return Object.keys(endpoints).length === 4;
    });
  return { proc, ...endpoints, stop: () => stop(proc) };
}

export async function startEdge(broker, args = [], port = 0) {
  let listening = 0;
  let tls = false;
  const proc = await startLogged(path.join(BUILD, 'edge', 'herald-edge'),
    ['--schema', CHAT_SCHEMA, '--broker', broker.egress, '--port', String(port), ...args],
    (line) => {
      const m = /listening on (https?):\/\/[^:]+:(\d+)/.exec(line);
      if (m) {
        listening = Number(m[2]);
        tls = m[1] === 'https';
      }
      return listening > 0;
    });
  return {
    proc,
    port: listening,
    url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${listening}/graphql`,
    http: `${tls ? 'https' : 'http'}://127.0.0.1:${listening}`,
    stop: () => stop(proc),
  };
}

// The edge's /metrics as { 'name' or 'name{labels}': number }.
export async function metrics(edge) {
  const text = await (await fetch(`${edge.http}/metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

export async function waitFor(predicate, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const waitMetric = (edge, name, test, timeoutMs) =>
  waitFor(async () => test((await metrics(edge))[name] ?? 0), `${name}`, timeoutMs);

// The environment for a Python program that imports the herald binding
// from this tree, plus `extra`.
export function pythonEnv(extra = {}) {
  return {
    ...process.env,
    // In a sanitizer build, Python needs the ASan runtime preloaded to
    // load the instrumented libherald (ctest says where it is).
    LD_PRELOAD: process.env.HERALD_ASAN_LIB || '',
    ASAN_OPTIONS: 'detect_leaks=0',
    PYTHONPATH: path.join(ROOT, 'bindings', 'python'),
    HERALD_LIBRARY: path.join(BUILD, 'libclient', 'libherald.so.1'),
    ...extra,
  };
}

// A free TCP port on 127.0.0.1, for programs that need one given.
export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Debian's chromium ($HERALD_CHROMIUM), headless, without a sandbox and
// without background networking, driven by playwright-core.
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.HERALD_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A Python process that publishes with the herald binding: each call sends
// one line to it, and resolves once it has been published.
export function pythonPublisher(broker) {
  const script = `
import json, sys, herald
pub = herald.Publisher(sys.argv[1])
for line in sys.stdin:
    topic, payload = json.loads(line)
    pub.publish(topic, payload)
    print("ok", flush=True)
pub.close()
`;
  const proc = spawn('/usr/bin/python3', ['-c', script, broker.ingress], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: pythonEnv(),
  });
  const acks = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    async publish(topic, payload) {
      proc.stdin.write(JSON.stringify([topic, payload]) + '\n');
      const { value } = await acks.next();
      if (value !== 'ok') throw new Error('publisher failed');
    },
    async close() {
      proc.stdin.end();
      await once(proc, 'exit');
    },
  };
}

// Collects a subscription's results (graphql-ws sink style) for awaiting.
// Results and errors go to items; completion only sets `completed`.
export function collector() {
  const items = [];
  let waiting = null;
  const state = { completed: false };
  const sink = {
    next: (value) => { items.push(value); waiting?.(); },
    error: (err) => { items.push({ error: err }); waiting?.(); },
    complete: () => { state.completed = true; waiting?.(); },
  };
  async function take(n = 1, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (items.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${items.length} of ${n} results`);
      await new Promise((resolve) => { waiting = resolve; setTimeout(resolve, 100); });
    }
    return items.splice(0, n);
  }
  return { sink, items, take, state };
}
