"""herald-edge against the reference Node stack, side by side, with the
same load generator (herald-loadgen) and the same events (published
through herald-broker; the peer feeds its in-memory PubSub from it).

Scenarios:
  a. fan-out: one topic, 1k and 10k subscribers; the publish rate rises
     until delivery falls behind; the highest rate delivered in full is
     reported, with latency at each rate;
  b. many topics: 10k subscribers over 1k topics, the same way;
  c. idle memory: RSS per subscribed idle connection;
  d. connect storm: connections plus subscribes completed per second.

And herald-edge over TLS (--tls-cert, wss://) against itself over ws://,
for fan-out at 1k subscribers and idle memory at 10k connections; and
herald-edge checking a JWT from every client (HS256 and RS256) against
itself with --auth off, for the connect storm and fan-out at 1k
subscribers.

Beside them: the load generator's ceiling (against tests/bench/trivial.mjs)
and the kernel's floor under the latency target (tests/bench/sendfloor.c:
bare send() calls to as many loopback connections, with no server).

Used by bench.py; see docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """pid and every process descended from it, from /proc (an edge with
    --workers is a supervisor and the worker processes it forked)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            parents.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry))
    tree, i = [pid], 0
    while i < len(tree):
        tree += parents.get(tree[i], [])
        i += 1
    return tree


def tree_rss_kb(pid: int) -> int:
    """The RSS of pid and of every process under it, summed."""
    return sum(rss_kb(p) for p in process_tree(pid))


def edge_has_workers(build: Path) -> bool:
    """Whether this herald-edge takes --workers (its --help says so)."""
    out = subprocess.run([str(build / "edge" / "herald-edge"), "--help"], capture_output=True,
                         text=True, timeout=30)
    return "--workers" in out.stdout + out.stderr


def edge_target(build: Path, env: dict, name: str, workers: int | None, extra=()) -> "Target":
    """herald-edge serving examples/chat on a free port: with --workers N,
    or, for None (an edge without the flag), as it is."""
    cmd = [str(build / "edge" / "herald-edge"), "--schema",
           str(ROOT / "examples" / "chat" / "schema.graphql"), "--port", "{port}", *extra]
    if workers is None:
        return Target(name, cmd, env)
    return Target(name, cmd + ["--workers", str(workers)], env, workers)


class Target:
    """A server under test: herald-edge, or the Node peer."""

    def __init__(self, name, cmd, env, workers=0):
        self.name = name
        self.cmd = cmd
        self.env = env
        self.proc = None
        self.port = None
        self.tls = False
        # herald-edge --workers N: a supervisor and N worker processes (it
        # logs "listening" once they all serve).
        self.workers = workers

    def start(self) -> None:
        # Port 0: the server picks a free one and logs it, which avoids
        # racing other programs for a port chosen here.
        cmd = [c.replace("{port}", "0") for c in self.cmd]
        self.proc = subprocess.Popen(cmd, env=self.env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        lines = []
        while True:
            line = self.proc.stderr.readline()
            lines.append(line)
            if not line:
                raise SystemExit(f"{self.name} did not start:\n" + "".join(lines))
            m = re.search(r"listening on (https?)://[^:]+:(\d+)", line)
            if m:
                self.tls = m.group(1) == "https"
                self.port = int(m.group(2))
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.name} did not start in time")
        # Drain its log so that it never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/graphql"


def loadgen(build: Path, target: Target, ingress: str | None, **opts) -> dict:
    cmd = [str(build / "tests" / "bench" / "herald-loadgen"), "--url", target.url,
           "--label", target.name, "--server-pid", str(target.proc.pid)]
    if getattr(target, "token", None):
        cmd += ["--token", target.token]
    if ingress:
        cmd += ["--publish", ingress]
    for key, value in opts.items():
        cmd += ["--" + key.replace("_", "-"), str(value)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"herald-loadgen failed: {out.stderr}")


def sustained(r: dict, offered: float) -> bool:
    """Delivered in full, at the offered rate, without runaway latency."""
    return (r["lost"] == 0 and r["errors"] == 0 and r["reorders"] == 0 and r["live"] == r["connections"]
            and r["delivered_per_s"] >= 0.95 * offered and r["latency_us"]["p99"] < 1_000_000)


def measure(build, target, ingress, connections, channels, offered, duration, log,
            procs=1, quick=False, connect_timeout=120) -> dict:
    """One loadgen run at `offered` deliveries/s, logged and judged; the
    load generator reads with `procs` processes. `quick` (the smoke test)
    shortens the warm-up and the settling, and measures fewer events."""
    # Each event goes to connections/channels subscribers.
    rate = offered * channels / connections
    # The delivered rate is counted over whole events: measure at least 20
    # (10 when quick).
    warmup, settle, events = (0.5, 0.5, 10) if quick else (1, 1.5, 20)
    duration = max(duration, warmup + events / rate)
    r = loadgen(build, target, ingress, connections=connections, channels=channels,
                rate=f"{rate:.3f}", duration=f"{duration:.2f}", warmup=warmup, settle=settle, drain=3,
                procs=procs, connect_timeout=connect_timeout)
    r["offered"] = offered
    r["ok"] = sustained(r, offered)
    if not r["ok"]:
        # A target that fell behind may still hold a backlog of this run's
        # events: the next run gets a fresh process.
        target.stop()
        target.start()
    log(f"  {target.name:7} {connections:>6} conns {channels:>5} topics  offered {offered:>10,.0f}/s"
        f"  delivered {r['delivered_per_s']:>10,.0f}/s  lost {r['lost']}  p50 "
        f"{r['latency_us']['p50'] / 1000:.1f} ms  p99 {r['latency_us']['p99'] / 1000:.1f} ms"
        f"  cpu {r['cpu_percent']['server']:.0f}% / loadgen {r['cpu_percent']['loadgen']:.0f}%"
        f"  {'ok' if r['ok'] else 'behind'}"
        + (f" (clients left: {r['connections'] - r['live']}, errors {r['errors']})"
           if r["live"] != r["connections"] or r["errors"] else ""))
    return r


def ramp(build, targets, ingress, connections, channels, ladder, duration, log,
         procs=1, quick=False, retries=0, below=2):
    """Raises deliveries/s along the ladder, alternating the targets at each
    step; a target leaves the race at its first step not delivered in full
    (after `retries` more tries of that step, on a fresh process). A target
    behind at the first step tries up to `below` steps under it, halving
    the rate, so that a ratio between the targets is still known.
    Returns {target: [results]} in rising order of 'offered', each result
    with 'offered' and 'ok'."""
    results = {t.name: [] for t in targets}
    running = {t.name for t in targets}
    for offered in ladder:
        for t in targets:
            if t.name not in running:
                continue
            for _ in range(retries + 1):
                r = measure(build, t, ingress, connections, channels, offered, duration, log,
                            procs=procs, quick=quick)
                if r["ok"]:
                    break
            results[t.name].append(r)
            if not r["ok"]:
                running.discard(t.name)
        if not running:
            break
    for t in targets:
        offered = ladder[0]
        for _ in range(0 if quick else below):
            if any(r["ok"] for r in results[t.name]):
                break
            offered /= 2
            results[t.name].append(measure(build, t, ingress, connections, channels, offered,
                                           duration, log, procs=procs, quick=quick))
        results[t.name].sort(key=lambda r: r["offered"])
    return results


def best(results: list[dict]) -> dict | None:
    ok = [r for r in results if r["ok"]]
    return max(ok, key=lambda r: r["delivered_per_s"]) if ok else None


def idle_memory(build, target: Target, connections: int, log, procs=1, quick=False,
                connect_timeout=120) -> dict:
    """Fresh process; RSS before and after `connections` subscribed idle
    connections (spread over 100 topics), opened by `procs` load generator
    processes. The RSS is the sum over the target's process and every
    process under it (an edge's workers)."""
    target.start()
    proc = None
    try:
        time.sleep(0.3 if quick else 0.5)
        before = tree_rss_kb(target.proc.pid)
        token = ["--token", target.token] if getattr(target, "token", None) else []
        proc = subprocess.Popen([str(build / "tests" / "bench" / "herald-loadgen"), "--url", target.url,
                                 "--connections", str(connections), "--channels", "100",
                                 "--procs", str(procs), "--connect-timeout", str(connect_timeout),
                                 "--hold", "600", "--label", target.name, *token],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        m = None
        for line in proc.stderr:             # "... connected and subscribed in X s"
            m = re.search(r"(\d+) connected and subscribed in ([\d.]+) s \((\d+) failed\)", line)
            if m:
                break
            log(f"  {target.name:7} loadgen: {line.rstrip()}")
        time.sleep(0.5 if quick else 2)
        after = tree_rss_kb(target.proc.pid)
        workers = len(process_tree(target.proc.pid)) - 1
        live = int(m.group(1)) if m else 0
        seconds = float(m.group(2)) if m else 0
        result = {"connections": connections, "live": live, "rss_before_kb": before,
                  "rss_after_kb": after, "processes": workers + 1, "procs": procs,
                  "per_conn_bytes": (after - before) * 1024 / live if live else 0,
                  "connects_per_s": live / seconds if seconds else 0}
        log(f"  {target.name:7} {connections:>6} idle: RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB,"
            f" {result['per_conn_bytes']:,.0f} B per connection; {result['connects_per_s']:,.0f}"
            " connects+subscribes/s")
        return result
    finally:
        # Its readers follow it (they die with it), on every way out.
        if proc:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        target.stop()


def auth_targets(herald: Target, env: dict, directory: Path) -> list[Target]:
    """herald-edge with --auth off, and checking an HS256 and an RS256 token
    from every client: keys made by openssl, tokens by PyJWT."""
    import jwt
    secret, rsa, rsa_pub = directory / "hs.key", directory / "rsa.pem", directory / "rsa.pub.pem"
    subprocess.run(["openssl", "rand", "-hex", "-out", str(secret), "32"], check=True)
    subprocess.run(["openssl", "genrsa", "-out", str(rsa), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(rsa), "-pubout", "-out", str(rsa_pub)], check=True)
    claims = {"sub": "bench", "exp": int(time.time()) + 3600, "topics": ["chat.>"]}
    hs = Target("jwt-hs256", herald.cmd + ["--jwt-secret", str(secret)], env, herald.workers)
    hs.token = jwt.encode(claims, secret.read_bytes().strip(), algorithm="HS256")
    rs = Target("jwt-rs256", herald.cmd + ["--jwt-key", str(rsa_pub)], env, herald.workers)
    rs.token = jwt.encode(claims, rsa.read_bytes(), algorithm="RS256")
    return [Target("auth-off", herald.cmd + ["--auth", "off"], env, herald.workers), hs, rs]


def auth_runs(build: Path, ingress: str, egress: str, quick: bool, log) -> dict:
    """The cost of checking tokens: the connect storm, then fan-out."""
    env = dict(os.environ, HERALD_SUB_ENDPOINT=egress)
    herald = edge_target(build, env, "herald", 1 if edge_has_workers(build) else None)
    key_dir = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    targets = auth_targets(herald, env, key_dir)
    n = 100 if quick else min(10_000, most_connections())
    log(f"(auth) connect storm with a token per client: {n} connections")
    results = {"connect": {t.name: idle_memory(build, t, n, log, quick=quick) for t in targets}}
    n = 100 if quick else 1000
    log(f"(auth) fan-out with a token per client: {n} subscribers of one topic")
    for t in targets:
        t.start()
    try:
        ladder = [2_000] if quick else [320_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000]
        results["fanout"] = ramp(build, targets, ingress, n, 1, ladder, 1.5 if quick else 3, log,
                                  quick=quick)
        results["connections"] = n
    finally:
        for t in targets:
            t.stop()
        shutil.rmtree(key_dir, ignore_errors=True)
    return results


def self_signed_cert(directory: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made with openssl."""
    cert, key = directory / "edge.crt", directory / "edge.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=herald-bench", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def sendfloor(build: Path, n: int, events: int, threads: int, readers: int, quick: bool, log) -> dict:
    """The kernel's floor under a fan-out: bare send() calls to n loopback
    connections, `events` rounds a second, from `threads` threads, read by
    `readers` processes (as herald-loadgen --procs reads)."""
    out = subprocess.run([str(build / "tests" / "bench" / "sendfloor"), "--connections", str(n),
                          "--rate", str(events), "--duration", "1" if quick else "5",
                          "--threads", str(threads), "--readers", str(readers)],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"sendfloor failed: {out.stderr}")
    r = json.loads(out.stdout)
    log(f"(floor) {n} bare sends from {threads} thread(s), read by {readers} process(es),"
        f" {events} rounds/s: a round takes {r['round_ms']['p50']:.1f} ms"
        f" (max {r['round_ms']['max']:.1f}), {r['us_per_send']:.1f} µs per send")
    return r


def fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return hard


def most_connections() -> int:
    """The most connections both herald-edge (which keeps 256 descriptors
    spare) and the load generator can hold under the hard limit."""
    return fd_limit() - 300


def svg_plot(series: dict, path: Path, title: str) -> None:
    """Latency (p50, p99) against delivered rate, log-log, one line each."""
    import math
    w, h, left, bottom, top, right = 820, 460, 70, 50, 40, 190
    points = [(r["delivered_per_s"], r["latency_us"][q] / 1000)
              for rs in series.values() for r in rs for q in ("p50", "p99")
              if r["delivered_per_s"] > 0 and r["latency_us"][q] > 0]
    if not points:
        return
    xmin = 10 ** math.floor(math.log10(min(p[0] for p in points)))
    xmax = 10 ** math.ceil(math.log10(max(p[0] for p in points)))
    ymin = 10 ** math.floor(math.log10(min(p[1] for p in points)))
    ymax = 10 ** math.ceil(math.log10(max(p[1] for p in points)))

    def X(v):
        return left + (math.log10(v) - math.log10(xmin)) / (math.log10(xmax) - math.log10(xmin)) * (w - left - right)

    def Y(v):
        return h - bottom - (math.log10(v) - math.log10(ymin)) / (math.log10(ymax) - math.log10(ymin)) * (h - top - bottom)

    palette = ["#1f6feb", "#d1242f", "#7fb2ff", "#f08a8f"]
    colors = {name: palette[i % len(palette)] for i, name in enumerate(series)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14">{title}</text>']
    d = xmin
    while d <= xmax:
        out.append(f'<line x1="{X(d):.1f}" y1="{top}" x2="{X(d):.1f}" y2="{h - bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{X(d) - 15:.1f}" y="{h - bottom + 18}">{d:,.0f}</text>')
        d *= 10
    d = ymin
    while d <= ymax:
        out.append(f'<line x1="{left}" y1="{Y(d):.1f}" x2="{w - right}" y2="{Y(d):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="8" y="{Y(d) + 4:.1f}">{d:g} ms</text>')
        d *= 10
    out.append(f'<text x="{w / 2 - 80}" y="{h - 12}">deliveries per second (log)</text>')
    legend = 0
    for name, rs in series.items():
        for q, dash in (("p50", ""), ("p99", ' stroke-dasharray="5,4"')):
            pts = [(X(r["delivered_per_s"]), Y(r["latency_us"][q] / 1000)) for r in rs
                   if r["delivered_per_s"] > 0 and r["latency_us"][q] > 0]
            if not pts:
                continue
            color = colors[name]
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
            for x, y in pts:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
            ly = top + 10 + legend * 18
            out.append(f'<line x1="{w - right + 10}" y1="{ly}" x2="{w - right + 40}" y2="{ly}" '
                       f'stroke="{color}" stroke-width="2"{dash}/>')
            out.append(f'<text x="{w - right + 45}" y="{ly + 4}">{name} {q}</text>')
            legend += 1
    out.append("</svg>")
    path.write_text("\n".join(out))


def run(build: Path, ingress: str, egress: str, quick: bool, out_dir: Path, log=print) -> dict:
    env = dict(os.environ, HERALD_SUB_ENDPOINT=egress, HERALD_BUILD_DIR=str(build),
               HERALD_LIBRARY=str(build / "libclient" / "libherald.so.1"))
    schema = str(ROOT / "examples" / "chat" / "schema.graphql")
    herald = edge_target(build, env, "herald", 1 if edge_has_workers(build) else None)
    peer = Target("peer", ["node", str(ROOT / "tests" / "bench" / "peer" / "server.mjs"),
                           "--port", "{port}", "--schema", schema], env)
    targets = [herald, peer]
    results = {"fanout": {}, "topics": {}, "idle": {}}
    duration = 1.5 if quick else 3

    # The load generator's own ceiling: what it reads from a server that
    # does nothing but stream prebuilt frames.
    n = 100 if quick else 1000
    log(f"(ceiling) herald-loadgen against a trivial server, {n} connections")
    trivial = Target("trivial", ["node", str(ROOT / "tests" / "bench" / "trivial.mjs"),
                                 "--port", "{port}"], env)
    trivial.start()
    try:
        r = loadgen(build, trivial, None, connections=n, hold=1.5 if quick else 5,
                    warmup=0.5 if quick else 2)
    finally:
        trivial.stop()
    results["ceiling"] = r
    log(f"  loadgen read {r['delivered_per_s']:,.0f} deliveries/s using {r['cpu_percent']['loadgen']:.0f}%"
        f" of a core (the server: {r['cpu_percent']['server']:.0f}%), gaps {r['gaps']},"
        f" reorders {r['reorders']}")

    # The latency target: 10,000 subscribers of one topic, 20 events/s.
    target_n, target_events = (100, 20) if quick else (10_000, 20)

    # The kernel's floor under the latency target: bare send() calls to as
    # many loopback connections, at the same rate, with no server at all.
    n, events = target_n, target_events
    results["floor"] = {threads: sendfloor(build, n, events, threads, 1, quick, log)
                        for threads in (1, 2)}

    for t in targets:
        t.start()
    try:
        fanouts = [100] if quick else [1000, 10000]
        for n in fanouts:
            log(f"(a) fan-out: {n} subscribers of one topic")
            ladder = [2_000, 10_000] if quick else \
                [20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_000_000, 1_500_000, 2_000_000,
                 3_000_000, 4_000_000, 6_000_000]
            results["fanout"][n] = ramp(build, targets, ingress, n, 1, ladder, duration, log, quick=quick)
        n, topics = (100, 10) if quick else (10_000, 1_000)
        log(f"(b) many topics: {n} subscribers over {topics} topics")
        ladder = [2_000] if quick else [20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_000_000]
        results["topics"][n] = ramp(build, targets, ingress, n, topics, ladder, duration, log, quick=quick)
        n, events = target_n, target_events
        log(f"(a) latency target: {n} subscribers of one topic, {events} events/s")
        results["target"] = {t.name: measure(build, t, ingress, n, 1, n * events,
                                             duration if quick else 6, log, quick=quick)
                             for t in targets}
        # Scale: as many subscribed connections as the machine allows, all
        # receiving (the target is 100,000; the descriptor limit may be lower).
        n = 200 if quick else min(100_000, most_connections())
        events = 20 if quick else 5
        log(f"(scale) {n} subscribed connections, all receiving {events} events/s")
        results["scale"] = {t.name: measure(build, t, ingress, n, 1, n * events, duration, log,
                                            quick=quick)
                            for t in targets}
    finally:
        for t in targets:
            t.stop()

    # TLS: the same edge serving wss://, beside itself on ws://, with the
    # same steps.
    cert_dir = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    cert, key = self_signed_cert(cert_dir)
    herald_tls = Target("herald-tls", herald.cmd + ["--tls-cert", cert, "--tls-key", key], env,
                        herald.workers)
    plain_tls = [herald, herald_tls]
    results["tls"] = {}
    n = 100 if quick else 1000
    log(f"(tls) fan-out over wss:// and ws://: {n} subscribers of one topic")
    for t in plain_tls:
        t.start()
    try:
        ladder = [2_000, 10_000] if quick else [80_000, 320_000, 1_000_000, 2_000_000, 3_000_000]
        results["tls"]["fanout"] = ramp(build, plain_tls, ingress, n, 1, ladder, duration, log, quick=quick)
        results["tls"]["connections"] = n
    finally:
        for t in plain_tls:
            t.stop()
    n = 100 if quick else 10_000
    log(f"(tls) idle memory over wss:// and ws://, {n} connections")
    results["tls"]["idle"] = {t.name: idle_memory(build, t, n, log, quick=quick) for t in plain_tls}
    shutil.rmtree(cert_dir, ignore_errors=True)

    # Every connection is a descriptor in both the target and the load
    # generator: sizes over the hard limit are measured at the limit instead.
    limit = most_connections()
    sizes = [100] if quick else [10_000, 50_000, 100_000]
    log(f"(c, d) idle memory and connect storm (descriptor limit {fd_limit()})")
    for n in sizes:
        if n > limit:
            log(f"  {n}: skipped: the hard descriptor limit ({fd_limit()}) is below it")
            results["idle"][n] = None
            continue
        results["idle"][n] = {t.name: idle_memory(build, t, n, log, quick=quick) for t in targets}
    if any(n > limit for n in sizes):
        log(f"(c) idle memory at the descriptor limit, {limit} connections")
        results["idle"][limit] = {t.name: idle_memory(build, t, limit, log, quick=quick) for t in targets}

    results["auth"] = auth_runs(build, ingress, egress, quick, log)

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "edge-results.json").write_text(json.dumps(results, indent=1))
    series = {}
    for n in fanouts:
        for name, rs in results["fanout"][n].items():
            series[f"{name}, {n:,} subs"] = rs
    svg_plot(series, out_dir / "latency.svg",
             "Latency (p50 solid, p99 dashed) against delivered rate, one topic")
    return results


def workers_runs(build: Path, ingress: str, egress: str, quick: bool, log) -> dict:
    """herald-edge with one worker beside --workers 2, in alternating runs:
    (b) many topics up a ladder, the latency target beside the kernel's
    floor from 1 and 2 sending threads, the connect storm at 10,000
    connections, and (a) fan-out to 1,000 subscribers of one topic. The
    load generator reads with two processes for both, and the floor is read
    by as many. An edge without --workers runs the 1-worker side alone."""
    env = dict(os.environ, HERALD_SUB_ENDPOINT=egress)
    has = edge_has_workers(build)
    targets = [edge_target(build, env, "herald-w1", 1 if has else None)]
    if has:
        targets.append(edge_target(build, env, "herald-w2", 2))
    else:
        log("(workers) this herald-edge has no --workers: the 1-worker side runs alone")
    procs = 2
    duration = 1.5 if quick else 3
    results = {"has_workers": has, "procs": procs}
    n, events = (100, 20) if quick else (10_000, 20)
    log(f"(workers) the kernel's floor under the latency target, {n} connections")
    results["floor"] = {threads: sendfloor(build, n, events, threads, procs, quick, log)
                        for threads in (1, 2)}
    for t in targets:
        t.start()
    try:
        nb, topics = (100, 10) if quick else (10_000, 1_000)
        log(f"(workers b) many topics: {nb} subscribers over {topics} topics")
        ladder = [2_000] if quick else [20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 140_000,
                                        160_000, 200_000, 240_000, 280_000, 320_000, 400_000, 480_000]
        results["topics"] = ramp(build, targets, ingress, nb, topics, ladder, duration, log,
                                 procs=procs, quick=quick, retries=0 if quick else 1)
        results["topics_connections"] = nb
        log(f"(workers) latency target: {n} subscribers of one topic, {events} events/s")
        results["target"] = {t.name: measure(build, t, ingress, n, 1, n * events,
                                             duration if quick else 6, log, procs=procs, quick=quick)
                             for t in targets}
        na = 100 if quick else 1000
        log(f"(workers a) fan-out: {na} subscribers of one topic")
        ladder = [10_000] if quick else [320_000, 1_000_000, 2_000_000, 3_000_000, 4_000_000,
                                         6_000_000]
        results["fanout"] = ramp(build, targets, ingress, na, 1, ladder, duration, log,
                                 procs=procs, quick=quick)
        results["fanout_connections"] = na
    finally:
        for t in targets:
            t.stop()
    nc = 100 if quick else 10_000
    log(f"(workers d) connect storm: {nc} connections")
    results["connect"] = {t.name: idle_memory(build, t, nc, log, procs=procs, quick=quick)
                          for t in targets}
    return results


SCALE_WORKERS = 6       # 100,000 connections at 20,000 descriptors a process


def scale_runs(build: Path, ingress: str, egress: str, quick: bool, log) -> dict:
    """50,000 and 100,000 subscribed connections on one edge: more than one
    process's descriptors, so herald-edge --workers 6 and herald-loadgen
    --procs 6 (on this machine's 2 cores, which they share). For each size:
    RSS per idle subscribed connection (the edge's processes summed) and the
    connect rate, then every connection receiving 1 event a second. Beside
    them, from the same run: one worker at its descriptor limit."""
    env = dict(os.environ, HERALD_SUB_ENDPOINT=egress)
    results = {"sizes": {}}
    limit = most_connections()
    n1 = 100 if quick else limit
    log(f"(scale) one worker at its descriptor limit: {n1} idle connections")
    one = edge_target(build, env, "herald-w1", 1 if edge_has_workers(build) else None)
    results["one"] = idle_memory(build, one, n1, log, quick=quick)
    if not edge_has_workers(build):
        log("(scale) this herald-edge has no --workers: 50,000 and 100,000 connections need it")
        results["skipped"] = "herald-edge has no --workers"
        return results
    workers, procs = (2, 2) if quick else (SCALE_WORKERS, SCALE_WORKERS)
    results["workers"], results["procs"] = workers, procs
    events = 20 if quick else 1
    results["events"] = events
    for n in ([200] if quick else [50_000, 100_000]):
        results["sizes"][n] = {}
        # Each as configured by default, then with --ping-interval 0: the
        # WebSocket pings are lws's timers, one per connection in its
        # sorted list, which a worker holding thousands of connections
        # pays for once they start (after 30 s): the second run shows what
        # the edge carries without them.
        for variant, extra in (("default", []), ("no pings", ["--ping-interval", "0"])):
            # --max-connections is the edge's total; leave room above n.
            t = edge_target(build, env, f"herald-w{workers}", workers,
                            ["--max-connections", str(n + n // 5), *extra])
            r = results["sizes"][n][variant] = {}
            if variant == "default" or results["sizes"][n]["default"]["idle"]["live"] < n:
                log(f"(scale) {n} idle subscribed connections, --workers {workers}, --procs {procs}"
                    f" ({variant})")
                r["idle"] = idle_memory(build, t, n, log, procs=procs, quick=quick,
                                        connect_timeout=240)
            log(f"(scale) {n} subscribed connections, all receiving {events} event(s)/s ({variant})")
            t.start()
            try:
                r["receiving"] = measure(build, t, ingress, n, 1, n * events, 1.5 if quick else 3, log,
                                         procs=procs, quick=quick, connect_timeout=240)
            finally:
                t.stop()
    return results


def _lat(r: dict) -> str:
    text = f"{r['latency_us']['p50'] / 1000:.1f} / {r['latency_us']['p99'] / 1000:.1f} ms"
    return text if r["ok"] else text + " (behind)"


def _cpu(r: dict) -> str:
    return f"edge {r['cpu_percent']['server']:.0f}%, loadgen {r['cpu_percent']['loadgen']:.0f}%"


def workers_table(w: dict) -> str:
    """1 worker against --workers 2, each ratio and its floor beside it."""
    one, two = "herald-w1", "herald-w2"
    has = w.get("has_workers")
    rows = ["| Scenario | 1 worker | --workers 2 | 2 workers / 1 | beside it, same run | target |",
            "|---|---|---|---|---|---|"]

    def pair(key):
        return w[key].get(one), (w[key].get(two) if has else None)

    def ratio(a, b):
        return f"{b / a:.2f}x" if a and b else "n/a"
    for key, label, target in (("topics", f"(b) max deliveries/s with none lost, "
                                f"{w.get('topics_connections', 0):,} subscribers over many topics", "≥ 1.6x"),
                               ("fanout", f"(a) max deliveries/s with none lost, "
                                f"{w.get('fanout_connections', 0):,} subscribers of one topic",
                                "no regression")):
        a, b = pair(key)
        ba, bb = best(a or []), best(b or [])
        va, vb = (ba or {}).get("delivered_per_s", 0), (bb or {}).get("delivered_per_s", 0)

        def top(value, results):
            # Below the ladder's first step, only a bound is known.
            return f"{value:,.0f}" if value or not results else f"below {results[0]['offered']:,.0f}"
        # What bounds it: the CPU at the first step not delivered in full.
        beside = "; ".join(f"{name}: behind at {r['offered']:,.0f}/s ({_cpu(r)})"
                           for name, rs in ((one, a), (two, b)) if rs
                           for r in rs[-1:] if not r["ok"])
        rows.append(f"| {label} | {top(va, a)} | {top(vb, b)} | {ratio(va, vb)} | {beside} | {target} |"
                    if has else f"| {label} | {top(va, a)} | no --workers | | {beside} | {target} |")
    target, floor = w.get("target"), w.get("floor")
    if target and floor:
        a, b = target.get(one), target.get(two)
        f1, f2 = floor[1]["p99_floor_ms"], floor[2]["p99_floor_ms"]
        p1 = a["latency_us"]["p99"] / 1000
        cells = [_lat(a), _lat(b) if b else "no --workers", ""]
        beside = f"floor {f1:.1f} ms from 1 thread: 1 worker {p1 / f1:.2f}x"
        if b:
            p2 = b["latency_us"]["p99"] / 1000
            beside += f"; floor {f2:.1f} ms from 2 threads: 2 workers {p2 / f2:.2f}x"
        rows.append(f"| p50 / p99 latency, {a['connections']:,} subscribers of one topic × "
                    f"{a['offered'] / a['connections']:.0f} events/s | {' | '.join(cells)} | {beside} "
                    f"| p99 ≤ 1.5x the floor |")
    c = w.get("connect")
    if c:
        a, b = c.get(one), c.get(two)
        va = a["connects_per_s"]
        cell = (f"{b['connects_per_s']:,.0f} | {ratio(va, b['connects_per_s'])}" if b
                else "no --workers | ")
        rss = f"{a['per_conn_bytes']:,.0f} B" + (f" / {b['per_conn_bytes']:,.0f} B" if b else "")
        rows.append(f"| (d) connects + subscribes per second, {a['connections']:,} connections | "
                    f"{va:,.0f} | {cell} | RSS per idle connection {rss} | ≥ 1.6x |")
    return "\n".join(rows)


def scale_table(sc: dict) -> str:
    one = sc["one"]
    rows = ["| Scenario | herald-edge | beside it, same run | target |", "|---|---|---|---|",
            f"| (c) one worker at its descriptor limit: RSS per idle subscribed connection, "
            f"{one['live']:,} connections | {one['per_conn_bytes']:,.0f} B, "
            f"{one['connects_per_s']:,.0f} connects + subscribes/s | the most one process holds "
            f"(descriptor limit {fd_limit():,}) | |"]
    if sc.get("skipped"):
        rows.append(f"| (c) 50,000 and 100,000 connections | not run: {sc['skipped']} | | |")
        return "\n".join(rows)
    for n, per in sc["sizes"].items():
        for variant, r in per.items():
            flag = "" if variant == "default" else ", --ping-interval 0"
            idle, live = r.get("idle"), r["receiving"]
            if idle:
                rows.append(f"| (c) RSS per idle subscribed connection, {n:,} connections, --workers "
                            f"{sc['workers']}{flag} ({idle['processes']} processes summed) | "
                            f"{idle['per_conn_bytes']:,.0f} B ({idle['live']:,} live) | "
                            f"{idle['per_conn_bytes'] / one['per_conn_bytes']:.2f}x one worker's at "
                            f"{one['live']:,} | ≤ 4,096 B |")
                rows.append(f"| (d) connects + subscribes per second, {n:,} connections{flag} | "
                            f"{idle['connects_per_s']:,.0f} | one worker: {one['connects_per_s']:,.0f} at "
                            f"{one['live']:,} | |")
            rows.append(f"| (scale) {n:,} subscribed connections{flag}, all receiving {sc['events']} "
                        f"event/s | {live['live']:,} live, {live['delivered_per_s']:,.0f} of "
                        f"{live['offered']:,.0f} deliveries/s, lost {live['lost']:,}, p50 / p99 "
                        f"{_lat(live)} | {_cpu(live)} | all receiving, none lost |")
    return "\n".join(rows)


def table(results: dict) -> str:
    rows = ["| Scenario | herald-edge | peer (graphql-ws, Node) | herald/peer |", "|---|---|---|---|"]
    ceiling = results.get("ceiling")
    if ceiling:
        cpu = ceiling["cpu_percent"]["loadgen"]
        rows.append(f"| (ceiling) herald-loadgen reading from a trivial server, {ceiling['connections']:,} "
                    f"connections: {ceiling['delivered_per_s']:,.0f} deliveries/s at {cpu:.0f}% of a core"
                    + (f", so about {ceiling['delivered_per_s'] * 100 / cpu:,.0f} at 100%" if cpu > 0 else "")
                    + " | | | |")

    def ratio(a, b):
        return f"{a / b:.1f}x" if a and b else "n/a"

    def lat(r):
        text = f"{r['latency_us']['p50'] / 1000:.1f} / {r['latency_us']['p99'] / 1000:.1f} ms"
        return text if r["ok"] else text + " (behind)"

    for kind, label in (("fanout", "one topic"), ("topics", "over many topics")):
        for n, per in results.get(kind, {}).items():
            h, p = best(per.get("herald", [])), best(per.get("peer", []))
            hv = h["delivered_per_s"] if h else 0
            pv = p["delivered_per_s"] if p else 0
            tag = "a" if kind == "fanout" else "b"

            def top(value, results):
                # Below the ladder's first step, only a bound is known.
                return f"{value:,.0f}" if value else f"below {min(r['offered'] for r in results):,.0f}"
            rows.append(f"| ({tag}) max deliveries/s with none lost, {n:,} subscribers {label} | "
                        f"{top(hv, per['herald'])} | {top(pv, per['peer'])} | {ratio(hv, pv)} |")
            # Latency where both were measured at the same offered rate.
            for offered in sorted({r["offered"] for r in per.get("herald", [])}
                                  & {r["offered"] for r in per.get("peer", [])}):
                hr = next(r for r in per["herald"] if r["offered"] == offered)
                pr = next(r for r in per["peer"] if r["offered"] == offered)
                rows.append(f"| ({tag}) p50 / p99 latency at {offered:,.0f} deliveries/s offered | "
                            f"{lat(hr)} | {lat(pr)} | |")
    target = results.get("target")
    if target:
        h, p = target["herald"], target["peer"]
        rows.append(f"| (a) p50 / p99 latency at {h['offered']:,.0f} deliveries/s, {h['connections']:,} "
                    f"subscribers of one topic (the latency target) | {lat(h)} | {lat(p)} | |")
    floor = results.get("floor")
    if floor:
        one, two = floor[1], floor[2]
        rows.append(f"| (floor) no server, the kernel alone: one {one['size']} B send() to each of "
                    f"{one['connections']:,} loopback connections, {one['rate']} rounds/s; a round "
                    f"takes {one['round_ms']['p50']:.1f} ms from 1 thread, {two['round_ms']['p50']:.1f} ms "
                    f"from 2, so p99 is at least {min(one['p99_floor_ms'], two['p99_floor_ms']):.1f} ms"
                    f" | | | |")
    scale = results.get("scale")
    if scale:
        h, p = scale["herald"], scale["peer"]

        def cell(r):
            return (f"{r['live']:,} live, {r['delivered_per_s']:,.0f} deliveries/s, lost {r['lost']}"
                    + ("" if r["ok"] else " (behind)"))
        rows.append(f"| (scale) {h['connections']:,} subscribed connections, all receiving | "
                    f"{cell(h)} | {cell(p)} | |")
    tls = results.get("tls")
    if tls:
        per = tls["fanout"]
        h, t = best(per.get("herald", [])), best(per.get("herald-tls", []))
        hv, tv = (h["delivered_per_s"] if h else 0), (t["delivered_per_s"] if t else 0)
        rows.append(f"| (tls) max deliveries/s with none lost, {tls['connections']:,} subscribers one topic, "
                    f"over wss:// (ws:// in the same steps) | {tv:,.0f} ({hv:,.0f}) | not run over TLS | |")
        hi, ti = tls["idle"]["herald"], tls["idle"]["herald-tls"]
        rows.append(f"| (tls) RSS per idle subscribed connection, {hi['connections']:,} connections, over "
                    f"wss:// (ws:// in the same run) | {ti['per_conn_bytes']:,.0f} B ({hi['per_conn_bytes']:,.0f} B) "
                    f"| | |")
    auth = results.get("auth")
    if auth:
        c = auth["connect"]
        off = c["auth-off"]["connects_per_s"]
        cells = " / ".join(f"{c[k]['connects_per_s']:,.0f} ({ratio(c[k]['connects_per_s'], off)})"
                           for k in ("jwt-hs256", "jwt-rs256"))
        rows.append(f"| (auth) connects + subscribes per second, {c['auth-off']['connections']:,} "
                    f"connections, a JWT checked per client: HS256 / RS256 (ratio to --auth off) | "
                    f"{cells}; --auth off {off:,.0f} | | |")
        per = auth["fanout"]
        tops = {k: (best(per.get(k, [])) or {}).get("delivered_per_s", 0) for k in per}
        cells = " / ".join(f"{tops[k]:,.0f} ({ratio(tops[k], tops['auth-off'])})"
                           for k in ("jwt-hs256", "jwt-rs256"))
        rows.append(f"| (auth) max deliveries/s with none lost, {auth['connections']:,} subscribers "
                    f"one topic, with tokens: HS256 / RS256 (ratio to --auth off) | {cells}; "
                    f"--auth off {tops['auth-off']:,.0f} | | |")
    for n, per in results.get("idle", {}).items():
        if not per:
            rows.append(f"| (c) RSS per idle subscribed connection, {n:,} connections | n/a (descriptor limit) | n/a | |")
            continue
        h, p = per["herald"], per["peer"]
        rows.append(f"| (c) RSS per idle subscribed connection, {n:,} connections | {h['per_conn_bytes']:,.0f} B | "
                    f"{p['per_conn_bytes']:,.0f} B | {ratio(p['per_conn_bytes'], h['per_conn_bytes'])} smaller |")
        rows.append(f"| (d) connects + subscribes per second, {n:,} connections | {h['connects_per_s']:,.0f} | "
                    f"{p['connects_per_s']:,.0f} | {ratio(h['connects_per_s'], p['connects_per_s'])} |")
    return "\n".join(rows)
