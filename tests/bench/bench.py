#!/usr/bin/python3
"""Backbone benchmarks, side by side in one run (scripts/bench.sh).

1. Broker throughput: messages/s from one libherald publisher through
   herald-broker to one libherald subscriber, 100-byte payloads, against a
   direct ZeroMQ PUB->SUB link with no broker. Both run with unlimited
   high-water marks, so the rate is sustained with nothing dropped. Rounds alternate between
   the two so that machine noise hits both alike; the table gives the
   median of each and their ratio.
2. Python: Publisher.publish() and publish_raw() calls per second.

    tests/bench/bench.py [--build DIR] [--count N] [--rounds R] [--quick]
"""

import argparse
import json
import os
import re
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


def run_backbone(build: Path, mode: str, eps: dict, count: int) -> dict:
    cmd = [str(build / "tests" / "bench" / "bench_backbone"), mode]
    if mode == "broker":
        cmd += [eps["ingress"], eps["egress"]]
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


def main() -> None:
    ap = argparse.ArgumentParser(description="Herald backbone benchmarks")
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a few seconds, to check it runs")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    count, rounds, py_count = args.count, args.rounds, 200_000
    if args.quick:
        count, rounds, py_count = 20_000, 1, 5_000

    proc, eps = start_broker(build)
    try:
        results = {"broker": [], "direct": []}
        for _ in range(rounds):
            for mode in ("direct", "broker"):
                r = run_backbone(build, mode, eps, count)
                results[mode].append(r)
                print(f"  round: {mode:6} {r['msgs_per_s']:>12,.0f} msg/s  lost {r['lost']}"
                      f"  gaps {r['gaps']}  out of order {r['out_of_order']}", flush=True)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"),
                   HERALD_LIBRARY=str(build / "libclient" / "libherald.so.1"))
        py = subprocess.run([sys.executable, "-c", PY_BENCH, eps["ingress"], str(py_count)],
                            capture_output=True, text=True, env=env, timeout=600)
        if py.returncode != 0:
            raise SystemExit(py.stderr)
        py_rates = json.loads(py.stdout)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    med = {m: statistics.median(r["msgs_per_s"] for r in rs) for m, rs in results.items()}
    lost = {m: sum(r["lost"] for r in rs) for m, rs in results.items()}
    print()
    print(f"Backbone, {count:,} messages of 100 B, median of {rounds} round(s), one machine")
    print(f"{'path':<36}{'msg/s':>14}{'lost':>8}")
    print(f"{'libherald -> herald-broker -> libherald':<36}{med['broker']:>14,.0f}{lost['broker']:>8}")
    print(f"{'ZeroMQ PUB -> SUB, no broker':<36}{med['direct']:>14,.0f}{lost['direct']:>8}")
    ratio = med["broker"] / med["direct"] if med["direct"] else 0
    print(f"{'ratio broker/direct':<36}{ratio:>14.2f}")
    print()
    print(f"Python publishing, {py_count:,} calls each")
    print(f"{'Publisher.publish(topic, dict)':<36}{py_rates['publish']:>14,.0f} calls/s")
    print(f"{'Publisher.publish_raw(topic, bytes)':<36}{py_rates['publish_raw']:>14,.0f} calls/s")


if __name__ == "__main__":
    main()
