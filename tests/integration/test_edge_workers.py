"""herald-edge --workers: one port, several worker processes.

Connections land on every worker (SO_REUSEPORT); /metrics answers for the
whole edge whichever worker takes the request, at once; --max-connections
and the limits per address hold over all the workers together; a worker
killed with SIGKILL is logged and started again, its clients reconnect (a
graphql-ws client with retryAttempts, from npm) and receive again, and the
other workers' clients see nothing of it; SIGTERM closes every client with
1001 "going away" and the edge exits 0, with one worker as with two.
"""

import asyncio
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

import herald
from conftest import ROOT, Edge
from wsutil import LEGACY, Client, RawSocket

SUB = "subscription($c: String!) { messageAdded(channel: $c) { id } }"


def joined(edge, source=None):
    """A graphql-transport-ws client past connection_ack: by then its
    worker counts it."""
    s = RawSocket(edge.port, source=source)
    assert s.status == 101, s.status_line
    s.send_text({"type": "connection_init"})
    op, data = s.recv_frame()
    assert op == 0x1 and json.loads(data) == {"type": "connection_ack"}, data
    return s


def subscribe(s, id, channel):
    s.send_text({"type": "subscribe", "id": id,
                 "payload": {"query": SUB, "variables": {"c": channel}}})


def next_id(s):
    op, data = s.recv_frame()
    msg = json.loads(data)
    assert msg["type"] == "next", msg
    return msg["payload"]["data"]["messageAdded"]["id"]


def per_worker(edge, name="herald_edge_worker_connections"):
    m = edge.metrics()
    return {int(k.split('"')[1]): v for k, v in m.items() if k.startswith(name + "{")}


def worker_pids(edge):
    """{worker: pid} as the supervisor logged them (the latest start)."""
    pids = {}
    for m in re.finditer(r"worker (\d+) started \(pid (\d+)\)", edge.text()):
        pids[int(m.group(1))] = int(m.group(2))
    return pids


def wait_for(predicate, timeout=15.0, what="a condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def publish(edge, topic, id):
    with herald.Publisher(edge.broker.ingress) as pub:
        pub.publish(topic, {"id": id, "channel": topic, "text": "t"})


@pytest.fixture
def two(broker, request):
    edge = Edge(broker, "--workers", "2", *getattr(request, "param", ()))
    yield edge
    assert edge.stop() == 0, edge.text()


def test_connections_land_on_both_workers_and_metrics_sum(two):
    assert "2 workers" in two.text()
    clients = [joined(two) for _ in range(30)]
    for i, c in enumerate(clients):
        subscribe(c, str(i), "spread")
    two.wait_metric("herald_edge_subscriptions", lambda v: v == 30)
    spread = per_worker(two)
    print(f"\nconnections by worker: {spread}")
    assert sorted(spread) == [0, 1] and min(spread.values()) > 0
    assert sum(spread.values()) == 30
    # Whichever worker answers, the totals are the edge's.
    for _ in range(20):
        m = two.metrics()
        assert m["herald_edge_connections"] == 30
        assert m["herald_edge_connections_total"] == 30
        assert m["herald_edge_subscriptions"] == 30
        assert m["herald_edge_workers"] == 2
    publish(two, "chat.spread", "e1")
    assert [next_id(c) for c in clients] == ["e1"] * 30
    # Counted at once: every worker has counted what it delivered.
    for _ in range(10):
        m = two.metrics()
        assert m["herald_edge_deliveries_total"] == 30
        # Each worker with subscribers subscribed upstream once.
        assert m["herald_edge_topics"] == 2
        assert m["herald_edge_events_in_total"] == 2
    with urllib.request.urlopen(two.http + "/healthz") as r:
        assert r.read() == b"ok\n"
    for c in clients:
        c.close()
    two.wait_metric("herald_edge_connections", lambda v: v == 0)
    assert sum(per_worker(two).values()) == 0


@pytest.mark.parametrize("two", [("--max-connections", "5")], indirect=True)
def test_max_connections_is_the_edges_total(two):
    held = [joined(two) for _ in range(5)]
    refused = [RawSocket(two.port) for _ in range(10)]
    assert [s.status for s in refused] == [503] * 10
    for s in refused:
        s.close()
    m = two.metrics()
    assert m["herald_edge_connections"] == 5
    assert m["herald_edge_connections_rejected_total"] == 10
    # A place given back is free to any worker.
    held.pop().close()
    two.wait_metric("herald_edge_connections", lambda v: v == 4)
    held.append(joined(two))
    assert RawSocket(two.port).status == 503
    for s in held:
        s.close()
    two.wait_metric("herald_edge_connections", lambda v: v == 0)
    # At once, from many threads: exactly five get in.
    with ThreadPoolExecutor(20) as pool:
        tries = list(pool.map(lambda _: RawSocket(two.port), range(20)))
    statuses = sorted(s.status for s in tries)
    assert statuses == [101] * 5 + [503] * 15, statuses
    for s in tries:
        s.close()
    two.wait_metric("herald_edge_connections", lambda v: v == 0)


@pytest.mark.parametrize("two", [("--max-connections-per-ip", "2")], indirect=True)
def test_connections_per_ip_over_the_workers(two):
    held = [joined(two) for _ in range(2)]
    refused = [RawSocket(two.port) for _ in range(10)]
    assert [s.status for s in refused] == [429] * 10
    for s in refused:
        s.close()
    other = [joined(two, source="127.0.0.2") for _ in range(2)]
    assert RawSocket(two.port, source="127.0.0.2").status == 429
    held.pop().close()
    two.wait_metric("herald_edge_connections", lambda v: v == 3)
    wait_for(lambda: two.metrics()["herald_edge_ip_addresses"] == 2, what="the address table")
    again = joined(two)
    for s in held + other + [again]:
        s.close()
    two.wait_metric("herald_edge_connections", lambda v: v == 0)
    assert two.wait_metric("herald_edge_ip_addresses", lambda v: v == 0) == 0
    assert two.metrics()["herald_edge_ip_connections_rejected_total"] == 11


@pytest.mark.parametrize("two", [("--max-connects-per-ip-per-second", "1",
                                  "--connect-burst-per-ip", "4")], indirect=True)
def test_connect_rate_per_ip_over_the_workers(two):
    for _ in range(4):
        s = RawSocket(two.port)
        assert s.status == 101
        s.close()
    # One bucket for the address, whichever worker takes the connect.
    statuses = []
    for _ in range(6):
        s = RawSocket(two.port)
        statuses.append(s.status)
        s.close()
    assert statuses == [429] * 6
    assert two.metrics()["herald_edge_ip_rate_limited_total"] == 6


def node_client(url, channel):
    """The graphql-ws client of tests/node, with its output lines in a queue."""
    node = shutil.which("node")
    modules = ROOT / "tests" / "node" / "node_modules" / "graphql-ws"
    assert node and modules.exists(), \
        "needs node and tests/node's npm packages: run scripts/deps.sh test"
    # Node is not built with the sanitizers: no preloaded runtime for it.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    proc = subprocess.Popen([node, str(ROOT / "tests" / "node" / "reconnecting_client.mjs"),
                             url, channel], stdout=subprocess.PIPE, text=True, env=env)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l.strip()) for l in proc.stdout],
                     daemon=True).start()
    return proc, lines


def expect_line(lines, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(line)
        if predicate(line):
            return line, seen
    raise AssertionError(f"no such line; got {seen}")


def test_a_killed_worker_is_started_again_and_its_clients_reconnect(two):
    node, lines = node_client(two.url, "k9")
    try:
        expect_line(lines, lambda l: l == "connected")
        two.wait_metric("herald_edge_subscriptions", lambda v: v == 1)
        spread = per_worker(two)
        victim = next(w for w, n in spread.items() if n == 1)
        # A client on the other worker, which must see nothing of the kill.
        others, bystander = [], None
        for _ in range(40):
            c = joined(two)
            now = per_worker(two)
            if now[1 - victim] > spread[1 - victim]:
                bystander = c
                break
            others.append(c)
            spread = now
        assert bystander, "no connection landed on the other worker"
        subscribe(bystander, "b", "k9")
        two.wait_metric("herald_edge_subscriptions", lambda v: v == 2)
        publish(two, "chat.k9", "0")
        expect_line(lines, lambda l: l == "event 0")
        assert next_id(bystander) == "0"
        before = two.metrics()

        pid = worker_pids(two)[victim]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: f"worker {victim} (pid {pid}) was killed by signal 9" in two.text(),
                 what="the log of the death")
        wait_for(lambda: two.metrics()["herald_edge_worker_restarts_total"] == 1,
                 what="the restart")
        wait_for(lambda: two.metrics()["herald_edge_workers"] == 2, what="two workers")
        assert worker_pids(two)[victim] != pid
        print(f"\n{next(l for l in two.text().splitlines() if 'killed by signal 9' in l)}")
        # The node client reconnects (to whichever worker) and receives:
        # publish until it has one, as events published before it
        # subscribed again are not its.
        expect_line(lines, lambda l: l.startswith("closed"))
        expect_line(lines, lambda l: l == "connected")
        got, n = None, 0
        while got is None and n < 100:
            n += 1
            publish(two, "chat.k9", str(n))
            try:
                got, _ = expect_line(lines, lambda l: l.startswith("event"), timeout=0.3)
            except AssertionError:
                pass
        assert got, "the node client received nothing after the restart"
        # The bystander, on the worker that lived, had every event, in order.
        assert [next_id(bystander) for _ in range(n)] == [str(i) for i in range(1, n + 1)]
        after = two.metrics()
        # Counters stay monotonic: the dead worker's are kept.
        for name in ("herald_edge_connections_total", "herald_edge_deliveries_total",
                     "herald_edge_messages_out_total"):
            assert after[name] >= before[name], name
        assert after["herald_edge_connections_total"] >= before["herald_edge_connections_total"] + 1
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=10)
    for c in others + [bystander]:
        c.close()
    two.wait_metric("herald_edge_connections", lambda v: v == 0)


@pytest.mark.parametrize("two", [("--max-connections", "4", "--max-connections-per-ip", "4")],
                         indirect=True)
def test_a_dead_workers_places_are_given_back(two):
    held = [joined(two) for _ in range(4)]
    assert RawSocket(two.port).status == 503
    spread = per_worker(two)
    victim = max(spread, key=spread.get)
    lost = int(spread[victim])
    os.kill(worker_pids(two)[victim], signal.SIGKILL)
    wait_for(lambda: two.metrics()["herald_edge_worker_restarts_total"] == 1
             and two.metrics()["herald_edge_workers"] == 2, what="the restart")
    assert two.metrics()["herald_edge_connections"] == 4 - lost
    # Its connections' places, and their address's, are free again.
    fresh = [joined(two) for _ in range(lost)]
    assert RawSocket(two.port).status == 503
    for s in held + fresh:
        s.close()
    two.wait_metric("herald_edge_connections", lambda v: v == 0)
    assert two.wait_metric("herald_edge_ip_addresses", lambda v: v == 0) == 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_closes_every_client_1001(broker, workers):
    edge = Edge(broker, "--workers", workers)
    async def main():
        clients = []
        for i in range(12):
            c = await Client.open(edge.url, protocol=LEGACY if i % 3 == 0 else "graphql-transport-ws")
            await c.send({"type": "connection_init"})
            assert (await c.recv())["type"] == "connection_ack"
            clients.append(c)
        if workers == "2":
            assert min(per_worker(edge).values()) > 0
        edge.proc.send_signal(signal.SIGTERM)
        return await asyncio.gather(*(c.closed() for c in clients))
    closes = asyncio.run(main())
    assert {code for code, _ in closes} == {1001}, closes
    assert closes[0][1].startswith("Going away")
    assert edge.proc.wait(timeout=15) == 0
    time.sleep(0.05)
    text = edge.text()
    assert "SIGTERM: shutting down" in text and "stopped" in text
    assert sum(int(n) for n in re.findall(r"closing (\d+) connections", text)) == 12


def test_workers_flag(broker):
    from conftest import EDGE, CHAT_SCHEMA, run
    for bad in ("0", "x", "257", ""):
        r = run([EDGE, "--schema", CHAT_SCHEMA, "--workers", bad], timeout=10)
        assert r.returncode == 2 and "--workers takes auto or a number" in r.stderr, r.stderr
    r = run([EDGE, "--help"], timeout=10)
    assert "--workers N" in r.stdout and "1001" in r.stdout
    # auto: one worker per CPU the edge may run on.
    edge = Edge(broker)
    try:
        assert edge.metrics()["herald_edge_workers"] == len(os.sched_getaffinity(0))
    finally:
        assert edge.stop() == 0
