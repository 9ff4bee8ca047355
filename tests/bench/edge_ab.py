"""Two builds of herald-edge side by side, in alternating runs.

    /usr/bin/python3 tests/bench/edge_ab.py TREE_A TREE_B [--rounds N]
        [--load CONNECTIONS,TOPICS,DELIVERIES_PER_S ...] [--idle CONNECTIONS]
        [--args-a "EDGE FLAGS"] [--args-b "EDGE FLAGS"] [--procs P]

Each TREE is a source tree built with scripts/build.sh (its build/ holds
herald-edge and herald-loadgen). One herald-broker (TREE_A's) serves both,
and one load generator (TREE_B's) measures both. Each round runs A then B
on a fresh edge at every load (edgebench.measure, as scripts/bench.sh
does), and, with --idle, the RSS per idle subscribed connection; the
summary gives each one's median and how many runs were
delivered in full. For a change's effect on the edge: TREE_A before it,
TREE_B after, on an otherwise idle machine. --args-a and --args-b add
herald-edge flags to one side (such as "--workers 1"; the same tree may
be both sides), and --procs P makes the load generator read with P
processes.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import edgebench  # noqa: E402

INGRESS, EGRESS, STATS = (f"tcp://127.0.0.1:{p}" for p in (7641, 7642, 7643))


def target(root: Path, name: str, args: str = "") -> edgebench.Target:
    env = dict(os.environ, HERALD_SUB_ENDPOINT=EGRESS)
    return edgebench.Target(name, [str(root / "build" / "edge" / "herald-edge"), "--schema",
                                   str(root / "examples" / "chat" / "schema.graphql"),
                                   "--port", "{port}", *shlex.split(args)], env)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--load", action="append", default=[],
                    help="CONNECTIONS,TOPICS,DELIVERIES_PER_S (repeatable)")
    ap.add_argument("--idle", type=int, default=0, help="also measure N idle connections")
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--args-a", default="", help="herald-edge flags for A")
    ap.add_argument("--args-b", default="", help="herald-edge flags for B")
    ap.add_argument("--procs", type=int, default=1, help="load generator processes")
    args = ap.parse_args()
    loads = [tuple(int(x) for x in spec.split(",")) for spec in args.load]
    if not loads and not args.idle:
        ap.error("give at least one --load or --idle")
    roots = {"A": args.a.resolve(), "B": args.b.resolve()}
    flags = {"A": args.args_a, "B": args.args_b}
    # One load generator for both sides: B's.
    tools = roots["B"] / "build"
    broker = subprocess.Popen([str(roots["A"] / "build" / "broker" / "herald-broker"),
                               "--ingress", INGRESS, "--egress", EGRESS, "--stats", STATS,
                               "--xsub", ""],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    runs = {}
    try:
        for _ in range(args.rounds):
            for load in loads:
                for name, root in roots.items():
                    t = target(root, name, flags[name])
                    t.start()
                    try:
                        r = edgebench.measure(tools, t, INGRESS, *load, args.duration, print,
                                              procs=args.procs)
                    finally:
                        t.stop()
                    runs.setdefault((load, name), []).append(r)
            if args.idle:
                for name, root in roots.items():
                    r = edgebench.idle_memory(tools, target(root, name, flags[name]),
                                              args.idle, print, procs=args.procs)
                    runs.setdefault(("idle", name), []).append(r)
    finally:
        broker.terminate()
        broker.wait()
    print(f"\nA = {roots['A']} {flags['A']}\nB = {roots['B']} {flags['B']}\n"
          f"medians over {args.rounds} alternating rounds:")
    for load in loads:
        for name in roots:
            rs = runs[(load, name)]
            print(f"  {load[0]} connections, {load[1]} topics, {load[2]:,} deliveries/s offered: {name} "
                  f"delivered {statistics.median(r['delivered_per_s'] for r in rs):,.0f}/s, p99 "
                  f"{statistics.median(r['latency_us']['p99'] for r in rs) / 1000:.1f} ms, in full "
                  f"{sum(r['ok'] for r in rs)}/{len(rs)}")
    if args.idle:
        for name in roots:
            rs = runs[("idle", name)]
            print(f"  {args.idle} idle connections: {name} "
                  f"{statistics.median(r['per_conn_bytes'] for r in rs):,.0f} B per connection")
    return 0


if __name__ == "__main__":
    sys.exit(main())
