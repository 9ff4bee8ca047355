#!/usr/bin/python3
"""Backbone benchmarks, side by side in one run (scripts/bench.sh).

1. Broker throughput: messages/s from one libherald publisher through
   herald-broker to one libherald subscriber, 100-byte payloads, against a
   direct ZeroMQ PUB->SUB link with no broker. Both run with unlimited
   high-water marks, so the rate is sustained with nothing dropped. Rounds alternate between
   the two so that machine noise hits both alike; the table gives the
   median of each and their ratio, and the CPU time each message costs
   (publisher, subscriber and broker together), which bounds the rate the
   machine's cores can carry.
2. Python and Node: publish() calls per second.
3. herald-edge against graphql-ws on Node (edgebench.py).
4. herald-edge with one worker against --workers 2 (edgebench.py).
5. 50,000 and 100,000 connections on one edge, --workers 6 (edgebench.py).

    tests/bench/bench.py [--build DIR] [--only backbone|edge|auth|workers|scale] [--quick]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_broker(build: Path):
    proc = subprocess.Popen(
        [str(build / "broker" / "herald-broker"), "--stats-interval", "0",
         "--ingress", "tcp://127.0.0.1:*", "--egress", "tcp://127.0.0.1:*",
         "--xsub", "", "--stats", "", "--ingress-hwm", "0", "--egress-hwm", "0"],
        stderr=subprocess.PIPE, text=True)
    eps = {}
    while len(eps) < 2:
        line = proc.stderr.readline()
        if not line:
            raise SystemExit("herald-broker did not start")
        m = re.search(r"(\w+) listening on (\S+)", line)
        if m:
            eps[m.group(1)] = m.group(2)
    return proc, eps


def run_backbone(build: Path, mode: str, eps: dict, count: int, broker_pid: int) -> dict:
    cmd = [str(build / "tests" / "bench" / "bench_backbone"), mode]
    if mode == "broker":
        cmd += [eps["ingress"], eps["egress"]]
        cmd += ["-p", str(broker_pid)]
    cmd += ["-n", str(count), "-s", "100"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if not out.stdout:
        raise SystemExit(f"bench_backbone failed: {out.stderr}")
    return json.loads(out.stdout)


PY_BENCH = r"""
import json, sys, time, herald
endpoint, count = sys.argv[1], int(sys.argv[2])
obj = {"id": "12345", "text": "x" * 60, "author": {"name": "ann"}}
raw = herald.json_to_msgpack(json.dumps(obj))
with herald.Publisher(endpoint, send_timeout=None) as pub:
    result = {}
    for name, call, arg in (("publish", pub.publish, obj), ("publish_raw", pub.publish_raw, raw)):
        t = time.perf_counter()
        for _ in range(count):
            call("bench.python", arg)
        result[name] = count / (time.perf_counter() - t)
print(json.dumps(result))
"""


NODE_BENCH = r"""
const herald = require(process.argv[3]);
const count = Number(process.argv[2]);
const pub = new herald.Publisher(process.argv[1], { sendTimeout: null });
const obj = { id: '12345', text: 'x'.repeat(60), author: { name: 'ann' } };
const t = process.hrtime.bigint();
for (let i = 0; i < count; i++) pub.publish('bench.node', obj);
const s = Number(process.hrtime.bigint() - t) / 1e9;
pub.close();
console.log(JSON.stringify({ publish: count / s }));
"""


def backbone(build: Path, eps: dict, broker_pid: int, count: int, rounds: int, py_count: int) -> str:
    results = {"broker": [], "direct": []}
    for _ in range(rounds):
        for mode in ("direct", "broker"):
            r = run_backbone(build, mode, eps, count, broker_pid)
            results[mode].append(r)
            print(f"  round: {mode:6} {r['msgs_per_s']:>12,.0f} msg/s  lost {r['lost']}"
                  f"  gaps {r['gaps']}  out of order {r['out_of_order']}"
                  f"  CPU {r['cpu_seconds']:.2f} s + broker {r['broker_cpu_seconds']:.2f} s",
                  flush=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"),
               HERALD_LIBRARY=str(build / "libclient" / "libherald.so.1"))
    py = subprocess.run([sys.executable, "-c", PY_BENCH, eps["ingress"], str(py_count)],
                        capture_output=True, text=True, env=env, timeout=600)
    if py.returncode != 0:
        raise SystemExit(py.stderr)
    rates = json.loads(py.stdout)
    node = shutil.which("node")
    if node and (ROOT / "bindings" / "node" / "node_modules").exists():
        out = subprocess.run([node, "-e", NODE_BENCH, eps["ingress"], str(py_count),
                              str(ROOT / "bindings" / "node")],
                             capture_output=True, text=True, env=env, timeout=600)
        if out.returncode == 0:
            rates["node"] = json.loads(out.stdout)["publish"]

    med = {m: statistics.median(r["msgs_per_s"] for r in rs) for m, rs in results.items()}
    lost = {m: sum(r["lost"] for r in rs) for m, rs in results.items()}
    ratio = med["broker"] / med["direct"] if med["direct"] else 0
    # CPU time per message, in microseconds: the endpoints' process, and
    # the broker. The machine's cores can carry at most cores / total.
    us = {m: {part: statistics.median(r[key] for r in rs) * 1e6 / count
              for part, key in (("ends", "cpu_seconds"), ("broker", "broker_cpu_seconds"))}
          for m, rs in results.items()}
    cores = os.cpu_count() or 1

    def cpu_cell(m):
        total = us[m]["ends"] + us[m]["broker"]
        parts = f"{us[m]['ends']:.2f} ends + {us[m]['broker']:.2f} broker = " if us[m]["broker"] else ""
        return f"{parts}{total:.2f} µs | {cores * 1e6 / total:,.0f} |" if total else "n/a | |"
    lines = [
        f"Backbone: {count:,} messages of 100 B, median of {rounds} round(s)",
        "",
        f"| Path | messages/s | lost | CPU per message | most the {cores} cores could carry at that CPU cost |",
        "|---|---|---|---|---|",
        f"| libherald -> herald-broker -> libherald | {med['broker']:,.0f} | {lost['broker']} | {cpu_cell('broker')}",
        f"| ZeroMQ PUB -> SUB, no broker | {med['direct']:,.0f} | {lost['direct']} | {cpu_cell('direct')}",
        f"| ratio broker/direct | {ratio:.2f} | | | |",
        "",
        f"Publishing from the bindings, {py_count:,} calls each",
        "",
        "| Call | calls/s |",
        "|---|---|",
        f"| Python Publisher.publish(topic, dict) | {rates['publish']:,.0f} |",
        f"| Python Publisher.publish_raw(topic, bytes) | {rates['publish_raw']:,.0f} |",
    ]
    if "node" in rates:
        lines.append(f"| Node Publisher.publish(topic, object) | {rates['node']:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description="Herald benchmarks (docs/benchmarks.md)")
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--only", choices=["backbone", "edge", "auth", "workers", "scale"],
                    help="run one part (auth: the edge's token rows alone; workers: 1 worker "
                    "against --workers 2; scale: 50,000 and 100,000 connections)")
    ap.add_argument("--count", type=int, default=1_000_000, help="messages per backbone round")
    ap.add_argument("--rounds", type=int, default=3, help="backbone rounds")
    ap.add_argument("--quick", action="store_true", help="a few seconds, to check it runs")
    ap.add_argument("--out", default=None, help="where to write results (default BUILD/bench)")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    out_dir = Path(args.out) if args.out else build / "bench"
    count, rounds, py_count = args.count, args.rounds, 200_000
    if args.quick:
        count, rounds, py_count = 20_000, 1, 5_000
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print(f"Machine: {os.cpu_count()} CPUs ({cpu}), Linux {os.uname().release}", flush=True)

    proc, eps = start_broker(build)
    sections = []
    try:
        if args.only in (None, "backbone"):
            sections.append(backbone(build, eps, proc.pid, count, rounds, py_count))
        sys.path.insert(0, str(Path(__file__).parent))
        import edgebench
        log = lambda m: print(m, flush=True)     # noqa: E731
        if args.only in (None, "edge", "auth"):
            if args.only == "auth":
                results = {"auth": edgebench.auth_runs(build, eps["ingress"], eps["egress"],
                                                       args.quick, log)}
            else:
                results = edgebench.run(build, eps["ingress"], eps["egress"], args.quick, out_dir,
                                        log=log)
            sections.append("herald-edge and the peer, side by side (herald-loadgen, same events)"
                            "\n\n" + edgebench.table(results)
                            + f"\n\nPlot: {out_dir / 'latency.svg'}; raw results: "
                            f"{out_dir / 'edge-results.json'}")
        extra = {}
        if args.only in (None, "workers"):
            extra["workers"] = edgebench.workers_runs(build, eps["ingress"], eps["egress"], args.quick, log)
            sections.append("herald-edge, 1 worker against --workers 2 (herald-loadgen --procs "
                            f"{extra['workers']['procs']}, same events)\n\n"
                            + edgebench.workers_table(extra["workers"]))
        if args.only in (None, "scale"):
            extra["scale"] = edgebench.scale_runs(build, eps["ingress"], eps["egress"], args.quick, log)
            sections.append("herald-edge at 50,000 and 100,000 connections\n\n"
                            + edgebench.scale_table(extra["scale"]))
        if extra:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "workers-results.json").write_text(json.dumps(extra, indent=1))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print()
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()
