"""Hosts on a private network for the fault tests: a publisher host, two
broker hosts, two edge hosts and a client host, each a network namespace
with its own address, wired by veth pairs to a Linux bridge that lives in a
switch namespace. Programs run inside them with `ip netns exec`, so the
traffic between them crosses real (virtual) links that a test can take
down and bring back, and a process can be killed with SIGKILL without its
peers seeing anything but what a crashed host shows.

Nothing here touches the root namespace's links, addresses or routes: the
veth pairs are made inside the switch namespace and their host ends moved
straight into the host namespaces. Namespaces are named hz<pid>-HOST, so
that a run can tell its own from another's, and a run removes the
leftovers of runs whose process is gone (a run killed by a timeout cannot
clean up after itself).

Making namespaces needs root; `unavailable()` says why a run cannot, and
the tests skip with that reason."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

from conftest import BROKER, CHAT_SCHEMA, CLI, EDGE, ROOT, Service, c_env

HOSTS = ("pub", "b1", "b2", "e1", "e2", "cl")
# Each host's last address byte on the run's /24.
HOST_BYTE = {"pub": 10, "b1": 21, "b2": 22, "e1": 31, "e2": 32, "cl": 40}
NODE_DIR = ROOT / "tests" / "node"
OWNED = re.compile(r"^hz(\d+)-")
# The fixed ports are safe here: each host has its own network stack.
BROKER_PORTS = {"ingress": 7400, "egress": 7401, "xsub": 7402, "stats": 7403}
EDGE_PORT = 8080


class Unavailable(Exception):
    """Namespaces cannot be made here; the message says why."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and out.returncode != 0:
        raise Unavailable(f"`ip {' '.join(args)}` failed: {out.stderr.strip()}")
    return out


def unavailable() -> str | None:
    """Why this run cannot make namespaces, or None if it can."""
    if os.geteuid() != 0:
        return "making network namespaces needs root (ip netns add)"
    if not shutil.which("ip"):
        return "the ip command (iproute2) is missing"
    if not shutil.which("curl"):
        return "curl is missing (scripts/deps.sh test installs it)"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _namespaces() -> list[str]:
    out = _ip("netns", "list", check=False)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def _remove(ns: str) -> None:
    """Kills every process in ns, then deletes it."""
    pids = _ip("netns", "pids", ns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    deadline = time.monotonic() + 5
    while _ip("netns", "pids", ns, check=False).stdout.strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    _ip("netns", "del", ns, check=False)


def remove_leftovers() -> list[str]:
    """Removes the namespaces of earlier runs whose process is gone (and
    any that carry this process's id, from a dead run that had it)."""
    removed = []
    for ns in _namespaces():
        m = OWNED.match(ns)
        if m and (int(m.group(1)) == os.getpid() or not _alive(int(m.group(1)))):
            _remove(ns)
            removed.append(ns)
    return removed


class Net:
    """The six hosts and the switch. `up()` makes them, `down()` kills every
    process inside and removes them; down() runs at exit too, and may be
    called twice."""

    def __init__(self) -> None:
        self.prefix = f"hz{os.getpid()}-"
        # Any /24 would do, since no address leaves the namespaces; one per
        # run keeps two runs' logs apart.
        self.subnet = f"10.213.{os.getpid() % 250 + 1}"
        self.made: list[str] = []
        self.procs: list = []
        self._lock = threading.Lock()

    def ns(self, host: str) -> str:
        return self.prefix + host

    def addr(self, host: str) -> str:
        return f"{self.subnet}.{HOST_BYTE[host]}"

    def up(self) -> "Net":
        atexit.register(self.down)
        remove_leftovers()
        try:
            switch = self.ns("sw")
            _ip("netns", "add", switch)
            self.made.append(switch)
            _ip("-n", switch, "link", "add", "name", "br0", "type", "bridge")
            _ip("-n", switch, "link", "set", "br0", "up")
            for host in HOSTS:
                ns = self.ns(host)
                _ip("netns", "add", ns)
                self.made.append(ns)
                # The port on the switch is named after the host; its peer
                # is eth0 in the host, made there directly.
                _ip("-n", switch, "link", "add", "name", host, "type", "veth",
                    "peer", "name", "eth0", "netns", ns)
                _ip("-n", switch, "link", "set", host, "master", "br0", "up")
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "addr", "add", f"{self.addr(host)}/24", "dev", "eth0")
                _ip("-n", ns, "link", "set", "eth0", "up")
        except BaseException:
            self.down()
            raise
        return self

    def down(self) -> None:
        with self._lock:
            for p in self.procs:
                p.kill9()
            self.procs.clear()
            for ns in reversed(self.made):
                _remove(ns)
            self.made.clear()

    def link(self, host: str, up: bool) -> float:
        """Takes the host's link down or up at the switch, as a cable pulled
        or plugged back: the host keeps its address and sees no carrier, and
        nothing it sends arrives. Returns the time (time.monotonic())."""
        _ip("-n", self.ns("sw"), "link", "set", host, "up" if up else "down")
        return time.monotonic()

    def prefix_cmd(self, host: str, env: dict | None = None) -> list[str]:
        """The command prefix that runs a program on host (each part execs
        the next, so the process is the program's). LD_PRELOAD (the
        sanitizer runtime, for Python) is set inside, for the program only,
        not for `ip` itself."""
        cmd = ["ip", "netns", "exec", self.ns(host)]
        if shutil.which("setpriv"):
            # If this process dies without cleaning up (a ctest timeout
            # kills it), its programs die with it rather than run on in
            # namespaces that only the next run will remove.
            cmd += ["setpriv", "--pdeathsig", "KILL"]
        if env and env.get("LD_PRELOAD"):
            cmd += ["env", f"LD_PRELOAD={env['LD_PRELOAD']}"]
        return cmd

    def run(self, host: str, cmd, timeout: float = 10) -> subprocess.CompletedProcess:
        env = c_env()
        return subprocess.run([*self.prefix_cmd(host), *[str(c) for c in cmd]], capture_output=True,
                              text=True, timeout=timeout, env=env)

    def http(self, host: str, url: str) -> str | None:
        """GET url from host; None if it does not answer within 2 s."""
        out = self.run(host, ["curl", "-s", "-f", "-m", "2", url], timeout=10)
        return out.stdout if out.returncode == 0 else None

    def track(self, proc):
        with self._lock:
            self.procs.append(proc)
        return proc


def parse_metrics(text: str | None) -> dict:
    out = {}
    for line in (text or "").splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class _NetService(Service):
    """A program of ours on one host; kill9() and start() again for a
    restart on the same address and ports."""

    def __init__(self, net: Net, host: str) -> None:
        self.net, self.host = net, host
        self.wrapper = net.prefix_cmd(host)
        self.log: list[str] = []
        self.proc = None
        net.track(self)

    def kill9(self) -> float:
        """SIGKILL; returns the time it was sent."""
        t = time.monotonic()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return t

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class NetBroker(_NetService):
    name = "broker"

    def __init__(self, net: Net, host: str, *args: str) -> None:
        super().__init__(net, host)
        self.args = list(args)
        self.start()

    def endpoint(self, role: str) -> str:
        return f"tcp://{self.net.addr(self.host)}:{BROKER_PORTS[role]}"

    @property
    def ingress(self) -> str:
        return self.endpoint("ingress")

    @property
    def egress(self) -> str:
        return self.endpoint("egress")

    def start(self) -> None:
        cmd = [BROKER, "--stats-interval", "0", "--hold-ms", "1000"]
        for role in BROKER_PORTS:
            cmd += [f"--{role}", self.endpoint(role)]
        found = set()

        def ready(line):
            m = re.search(r"(\w+) listening on", line)
            if m:
                found.add(m.group(1))
            return len(found) == len(BROKER_PORTS)
        self._launch(cmd + self.args, ready)

    def stats(self, from_host: str = "pub") -> dict:
        out = self.net.run(from_host, [CLI, "stats", "-e", self.endpoint("stats")])
        return json.loads(out.stdout) if out.returncode == 0 else {}


class NetEdge(_NetService):
    name = "edge"

    def __init__(self, net: Net, host: str, brokers: list, *args: str) -> None:
        super().__init__(net, host)
        self.brokers = brokers
        self.args = list(args)
        self.start()

    @property
    def url(self) -> str:
        return f"ws://{self.net.addr(self.host)}:{EDGE_PORT}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://{self.net.addr(self.host)}:{EDGE_PORT}"

    def start(self) -> None:
        self._launch([EDGE, "--schema", CHAT_SCHEMA, "--host", self.net.addr(self.host),
                      "--port", EDGE_PORT, "--broker", ",".join(b.egress for b in self.brokers),
                      *self.args], lambda line: "listening on" in line)

    def metrics(self, from_host: str | None = None) -> dict:
        """/metrics, fetched on the edge's own host by default (which works
        while its link is down) or from another."""
        return parse_metrics(self.net.http(from_host or self.host, self.http_url + "/metrics"))


class NetProc:
    """A helper process on one host that prints one JSON object a line on
    stdout and takes commands on stdin: the publisher and the clients."""

    def __init__(self, net: Net, host: str, cmd, env: dict, cwd=None, name: str = "proc") -> None:
        self.name = name
        self.lines: list[dict] = []
        self.log: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        run_env = dict(env)
        prefix = net.prefix_cmd(host, run_env)
        run_env.pop("LD_PRELOAD", None)
        self.proc = subprocess.Popen([*prefix, *[str(c) for c in cmd]], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=run_env, cwd=cwd)
        net.track(self)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                obj = json.loads(line)
            except ValueError:
                self.log.append(line)
                continue
            with self._cond:
                self.lines.append(obj)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def last(self) -> dict:
        with self._cond:
            return self.lines[-1] if self.lines else {}

    def wait_line(self, predicate, timeout: float, what: str, start: int = 0) -> dict:
        """The first line from index start for which predicate is true. A
        line {"error": ...} fails the test with its message."""
        deadline = time.monotonic() + timeout
        seen = start
        with self._cond:
            while True:
                for obj in self.lines[seen:]:
                    if "error" in obj:
                        raise AssertionError(f"{self.name}: {obj['error']}")
                    if predicate(obj):
                        return obj
                seen = len(self.lines)
                if self._eof or time.monotonic() > deadline:
                    why = "it exited" if self._eof else "timed out"
                    time.sleep(0.1)  # the last of stderr
                    raise AssertionError(
                        f"{self.name}: {why} waiting for {what} (exit {self.proc.poll()}); "
                        f"last line {self.lines[-1] if self.lines else None}; stderr:\n"
                        + "".join(self.log[-30:]))
                self._cond.wait(0.1)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def text(self) -> str:
        return "".join(self.log)


# The publisher: {"seq": n} events, numbered across topics (seq n goes to
# topic n % len(topics)) at a steady rate, each published once. A publish
# that fails (backpressure past send_timeout, ...) is recorded as refused:
# the caller was told. Every 50 ms it prints a status line, with
# pub.stats() when the library has it, and it notes each change of a
# broker's "up" flag. "stop" on stdin ends it: it closes the publisher and
# writes what it did to the file given, for the test to compare with what
# the clients received.
PUBLISHER = r"""
import json, sys, threading, time
import herald
cfg = json.loads(sys.argv[1])
try:
    pub = herald.Publisher(cfg["endpoint"], send_timeout=cfg["send_timeout"])
except Exception as e:
    print(json.dumps({"error": f"herald.Publisher({cfg['endpoint']!r}) raised {type(e).__name__}: {e}"}),
          flush=True)
    sys.exit(3)
want_stats = cfg["stats"]
if want_stats and not hasattr(pub, "stats"):
    print(json.dumps({"error": "herald.Publisher has no stats() (several-broker support is missing)"}),
          flush=True)
    sys.exit(3)
topics, rate = cfg["topics"], cfg["rate"]
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
times, refused, transitions = [], [], []
up = None
seq, start = 0, time.monotonic()
next_status = start
while not stop.is_set():
    now = time.monotonic()
    if now >= next_status:
        next_status = now + 0.05
        line = {"t": now, "seq": seq, "refused": len(refused)}
        if want_stats:
            st = pub.stats()
            flags = [b["up"] for b in st["brokers"]]
            if flags != up:
                transitions.append({"t": now, "up": flags})
                up = flags
            line["stats"] = st
        print(json.dumps(line), flush=True)
    delay = start + seq / rate - now
    if delay > 0:
        time.sleep(min(delay, 0.005))
        continue
    channel = topics[seq % len(topics)]
    t = time.monotonic()
    try:
        pub.publish("chat." + channel, {"id": str(seq), "channel": channel, "text": "%.6f" % t})
    except herald.HeraldError as e:
        refused.append([seq, int(e.code), str(e)])
    times.append(t)
    seq += 1
final = pub.stats() if want_stats else None
close_error = None
try:
    pub.close()
except herald.HeraldError as e:
    close_error = str(e)
with open(cfg["out"], "w") as f:
    json.dump({"times": times, "refused": refused, "stats": final, "transitions": transitions,
               "close_error": close_error, "topics": topics}, f)
print(json.dumps({"done": cfg["out"]}), flush=True)
"""


class Publisher(NetProc):
    """PUBLISHER on the pub host. stop() returns what it wrote."""

    def __init__(self, net: Net, endpoint: str, topics: list[str], out, *, rate: int = 1000,
                 stats: bool = False, send_timeout: float = 0.1) -> None:
        from conftest import PYTHON, py_env
        self.out = out
        cfg = {"endpoint": endpoint, "topics": topics, "rate": rate, "stats": stats,
               "send_timeout": send_timeout, "out": str(out)}
        super().__init__(net, "pub", [PYTHON, "-c", PUBLISHER, json.dumps(cfg)], py_env(),
                         name="publisher")
        self.wait_line(lambda o: "seq" in o, 15, "the publisher to start")

    def stop(self) -> dict:
        self.proc.stdin.close()
        self.wait_line(lambda o: "done" in o, 20, "the publisher to finish")
        self.proc.wait(timeout=10)
        with open(self.out) as f:
            return json.load(f)


# The clients: graphql-ws's createClient, one socket each, subscribed to
# messageAdded on each of its channels. Each client's url is a function
# that takes the next of its edges at every attempt, and it retries for
# ever after a short wait, so that a client whose edge is gone lands on
# the other. Each event's arrival time is kept, by its number. With watchdogMs, a client that hears nothing on its socket
# (no event, no ping from the edge) for that long terminates it, as a
# client must to notice a link that died without a close. Times are
# CLOCK_MONOTONIC (process.hrtime), the clock Python's time.monotonic()
# reads, so that they compare with the publisher's.
CLIENTS_JS = r"""
import fs from 'node:fs';
import readline from 'node:readline';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const cfg = JSON.parse(process.env.HERALD_NETNS_CLIENTS);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const QUERY = 'subscription ($c: String!) { messageAdded(channel: $c) { id channel text } }';
const clients = [];

function connect(spec) {
  const c = { name: spec.name, seen: new Set(), dups: 0, conns: [], cur: null, errors: [], topics: new Set(),
              latest: {}, arrivals: [], attempts: [] };
  let attempt = spec.start;
  c.client = createClient({
    url: () => spec.urls[attempt++ % spec.urls.length],
    webSocketImpl: WebSocket,
    retryAttempts: 1000000,
    retryWait: () => new Promise((r) => setTimeout(r, cfg.retryWaitMs)),
    shouldRetry: () => true,
    on: {
      connecting: () => { c.attempts.push(now()); },
      connected: (socket) => {
        const conn = { url: socket.url, opened: now(), closed: null, code: null, first: null, n: 0,
                       last: now(), watchdog: false, topics: new Set(), socket };
        c.conns.push(conn);
        c.cur = conn;
        const heard = () => { conn.last = now(); };
        socket.on('ping', heard);
        socket.on('message', heard);
      },
      closed: (event) => {
        if (!c.cur) return;
        c.cur.closed = now();
        c.cur.code = event?.code ?? null;
        c.cur = null;
      },
    },
  });
  for (const channel of spec.topics) {
    c.client.subscribe({ query: QUERY, variables: { c: channel } }, {
      next: (value) => {
        const m = value?.data?.messageAdded;
        if (!m) { c.errors.push(JSON.stringify(value)); return; }
        const seq = Number(m.id);
        if (c.seen.has(seq)) c.dups++;
        else {
          c.seen.add(seq);
          if (seq >= 0) c.arrivals[seq] = now();
        }
        c.topics.add(channel);
        if (!(c.latest[channel] >= seq)) c.latest[channel] = seq;
        const conn = c.cur;
        if (conn) {
          conn.n++;
          if (conn.first === null) conn.first = now();
          conn.topics.add(channel);
        }
      },
      error: (err) => c.errors.push(String(err?.message ?? err?.code ?? err)),
      complete: () => {},
    });
  }
  return c;
}

const start = () => { for (const spec of cfg.clients) clients.push(connect(spec)); };
if (!cfg.hold) start();

if (cfg.watchdogMs > 0) {
  // After a stall of this process (a busy machine, a collection), what
  // the sockets received meanwhile is read after the timers: judge them
  // a tick later, not as silent.
  let tick = now();
  setInterval(() => {
    const t = now();
    const stalled = t - tick > 0.25;
    tick = t;
    if (stalled) return;
    for (const c of clients) {
      const conn = c.cur;
      if (conn && !conn.watchdog && (t - conn.last) * 1000 > cfg.watchdogMs) {
        conn.watchdog = true;
        conn.socket.terminate();
      }
    }
  }, 50);
}

const brief = (c) => ({ name: c.name, url: c.cur?.url ?? null, n: c.seen.size, topics: c.topics.size,
                        conns: c.conns.length, first: c.cur?.first ?? null,
                        curTopics: c.cur?.topics.size ?? 0, latest: c.latest });
setInterval(() => console.log(JSON.stringify({ t: now(), clients: clients.map(brief) })), 50);

function ranges(set) {
  const seqs = [...set].sort((a, b) => a - b);
  const out = [];
  for (const s of seqs) {
    if (out.length && out[out.length - 1][1] === s - 1) out[out.length - 1][1] = s;
    else out.push([s, s]);
  }
  return out;
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.trim().split(' ');
  if (cmd === 'go' && !clients.length) start();
  if (cmd === 'report') {
    const report = clients.map((c) => ({
      name: c.name, received: ranges(c.seen), dups: c.dups, errors: c.errors.slice(0, 10),
      arrivals: Array.from(c.arrivals, (t) => t ?? null), attempts: c.attempts,
      conns: c.conns.map(({ socket, topics, ...rest }) => ({ ...rest, topics: topics.size })),
    }));
    fs.writeFileSync(arg, JSON.stringify(report));
    console.log(JSON.stringify({ reported: arg }));
  }
}
await Promise.all(clients.map((c) => c.client.dispose()));
process.exit(0);
"""


class Clients(NetProc):
    """CLIENTS_JS on the client host. specs: [{"name", "urls", "start",
    "topics"}]."""

    def __init__(self, net: Net, specs: list[dict], out, *, watchdog_ms: int = 0,
                 retry_wait_ms: int = 100, hold: bool = False, name: str = "clients") -> None:
        """With hold, the clients connect only at "go" on stdin, so that a test can
        time them from a moment of its own rather than from Node's start."""
        self.out = out
        env = c_env(HERALD_NETNS_CLIENTS=json.dumps(
            {"clients": specs, "watchdogMs": watchdog_ms, "retryWaitMs": retry_wait_ms, "hold": hold}))
        super().__init__(net, "cl", ["node", "--input-type=module", "-e", CLIENTS_JS], env,
                         cwd=NODE_DIR, name=name)

    def status(self) -> list[dict]:
        return self.last().get("clients", [])

    def wait(self, predicate, timeout: float, what: str) -> dict:
        """The first status line, from now on, whose clients satisfy
        predicate(list of client summaries)."""
        return self.wait_line(lambda o: "clients" in o and predicate(o["clients"]), timeout, what,
                              start=len(self.lines))

    def report(self) -> list[dict]:
        self.send(f"report {self.out}")
        self.wait_line(lambda o: o.get("reported") == str(self.out), 10, "the clients' report")
        with open(self.out) as f:
            return json.load(f)

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill9()
