"""Several brokers, no single point of failure: two real herald-brokers,
and publishers, subscribers, the edge and the CLI given the list.

- each topic lands on its owner (FNV-1a 64 of the topic, modulo 2), and
  every event is received once, by a libherald subscriber and through
  the edge;
- kill -9 of one broker at about 1,000 events/s: publishing goes on
  through the other within 2 s, the subscriber sees the topics resume, and
  what the publisher counts lost covers what the subscriber missed; the
  broker restarted takes its topics back;
- a broker that hangs (SIGSTOP: its connections stay open) is dropped by
  the heartbeats, within HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS;
- the CLI: `herald pub` exits 3 when anything was lost or unconfirmed,
  `herald stats LIST` labels each broker's counters.

Each broker's ports are a block of four (ingress, egress, xsub, stats),
so that a publisher finds each egress at its ingress port + 1, the
brokers' default layout; below the ephemeral range, so that a killed
broker can be restarted on the same ports.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import socket
import subprocess
import threading
import time
from types import SimpleNamespace

import pytest

import herald
from conftest import CLI, Broker, Edge, c_env, run
from wsutil import Client

TOPICS = [f"room.{i}" for i in range(20)]


def fnv1a64(data: bytes) -> int:
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) % 2**64
    return h


def owner(topic: str, n: int = 2) -> int:
    return fnv1a64(topic.encode()) % n


def block_ports(taken: set) -> dict:
    """Four consecutive free ports below the ephemeral range."""
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    while True:
        base = random.randrange(max(1024, low - 12000), low - 4)
        if taken & set(range(base, base + 4)):
            continue
        try:
            for port in range(base, base + 4):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        taken.update(range(base, base + 4))
        return dict(zip(Broker.ROLES, range(base, base + 4)))


class Pair:
    """Two brokers, and their endpoints as lists."""

    def __init__(self, *args: str) -> None:
        taken: set = set()
        self.ports = [block_ports(taken), block_ports(taken)]
        self.args = args
        self.brokers = [Broker(*args, ports=p) for p in self.ports]

    def restart(self, i: int, *args: str) -> None:
        self.brokers[i] = Broker(*self.args, *args, ports=self.ports[i])

    def list(self, role: str) -> list:
        return [f"tcp://127.0.0.1:{p[role]}" for p in self.ports]


@pytest.fixture
def pair():
    p = Pair()
    yield p
    for b in p.brokers:
        if b.proc.poll() is None:
            try:
                b.proc.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            assert b.stop() == 0, b.text()


def drain(sub: herald.Subscriber, want: int, timeout: float = 10.0) -> list:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        ev = sub.recv(0.2)
        if ev is not None:
            got.append(ev)
    return got


def pushed(broker: Broker) -> int:
    """Events a broker took from publishers, its confirmation markers not
    counted."""
    s = broker.stats()
    return s["messages_in_push"] - s["acks_forwarded"]


def test_each_topic_lands_on_its_owner_and_arrives_once(pair):
    with herald.Subscriber(pair.list("egress"), TOPICS) as sub:
        sub.sync(5)
        assert [b["up"] for b in sub.stats()["brokers"]] == [True, True]
        pub = herald.Publisher(pair.list("ingress"))
        for i in range(400):
            pub.publish(TOPICS[i % 20], {"i": i})
        got = drain(sub, 400)
        stats = pub.stats()
        pub.close()             # raises UNSENT unless every event was confirmed
        assert sorted(e["i"] for _, e in got) == list(range(400))
        assert not drain(sub, 1, timeout=0.3), "an event arrived twice"
    expect = [sum(1 for i in range(400) if owner(TOPICS[i % 20]) == k) for k in (0, 1)]
    assert all(expect), expect
    assert [b["sent"] for b in stats["brokers"]] == expect
    assert stats["rerouted"] == 0 and stats["lost"] == 0 and stats["failovers"] == 0
    assert [b["endpoint"] for b in stats["brokers"]] == pair.list("ingress")
    assert [pushed(b) for b in pair.brokers] == expect
    assert all(b.stats()["acks_forwarded"] >= 1 for b in pair.brokers)
    print(f"\nevents per broker: {expect}; pub.stats(): {json.dumps(stats)}")


def test_the_edge_receives_each_event_once(pair):
    edge = Edge(SimpleNamespace(egress=",".join(pair.list("egress"))))
    channels = [f"c{i}" for i in range(8)]
    assert {owner(f"chat.{c}") for c in channels} == {0, 1}

    async def scenario():
        client = await Client.open(edge.url)
        await client.init()
        for n, c in enumerate(channels):
            await client.subscribe(str(n), 'subscription($c: String!) { messageAdded(channel: $c) '
                                   '{ id text } }', {"c": c})
        # Each broker has the edge's subscriptions once it counts them.
        for b in pair.brokers:
            b.wait_stats(lambda s: s["subscriptions"] >= len(channels))
        with herald.Publisher(",".join(pair.list("ingress"))) as pub:
            for n in range(80):
                c = channels[n % len(channels)]
                pub.publish(f"chat.{c}", {"id": str(n), "channel": c, "text": c})
        ids = []
        while len(ids) < 80:
            msg = await client.recv()
            assert msg["type"] == "next", msg
            ids.append(int(msg["payload"]["data"]["messageAdded"]["id"]))
        await client.nothing(0.5)
        await client.close()
        return ids

    try:
        ids = asyncio.run(scenario())
        assert sorted(ids) == list(range(80))
        assert all(pushed(b) > 0 for b in pair.brokers)
        metrics = edge.metrics()
        assert metrics["herald_edge_broker_connected"] == 1
        for ep in pair.list("egress"):
            assert metrics[f'herald_edge_broker_link_up{{broker="{ep}"}}'] == 1, metrics
        # One broker stopped: its link is shown down, by endpoint, and the
        # edge is still linked (to the other).
        pair.brokers[1].stop()
        down = f'herald_edge_broker_link_up{{broker="{pair.list("egress")[1]}"}}'
        edge.wait_metric(down, lambda v: v == 0)
        assert edge.metrics()["herald_edge_broker_connected"] == 1
    finally:
        assert edge.stop() == 0, edge.text()
    # The edge logged each link by its endpoint.
    for ep in pair.list("egress"):
        assert f"connected to the broker at {ep}" in edge.text(), edge.text()


class Stream:
    """Publishes to TOPICS at about `rate` events a second, from a thread,
    and receives them, from another; records when each event was sent and
    received."""

    def __init__(self, pub: herald.Publisher, sub: herald.Subscriber, rate: int = 1000) -> None:
        self.pub, self.sub, self.rate = pub, sub, rate
        self.sent: dict = {}          # i -> (topic, monotonic time)
        self.received: dict = {}      # i -> monotonic time
        self.duplicates = 0
        self.errors: list = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._publish), threading.Thread(target=self._read)]
        for t in self.threads:
            t.start()

    def _publish(self) -> None:
        i = 0
        start = time.monotonic()
        while not self.stop.is_set():
            topic = TOPICS[i % len(TOPICS)]
            # (the time before the call: received is always later)
            at = time.monotonic()
            try:
                self.pub.publish(topic, {"i": i})
                self.sent[i] = (topic, at)
            except herald.HeraldError as err:
                self.errors.append(err)
            i += 1
            delay = start + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _read(self) -> None:
        while not self.stop.is_set() or len(self.received) < len(self.sent):
            # (after the stop, 2 s without an event ends it: room for a
            # loaded machine to deliver the last ones)
            ev = self.sub.recv(2.0 if self.stop.is_set() else 0.5)
            if ev is None:
                if self.stop.is_set():
                    return
                continue
            i = ev[1]["i"]
            if i in self.received:
                self.duplicates += 1
            self.received[i] = time.monotonic()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def gap(self, broker: int, at: float) -> float:
        """For the topics broker owns: the time from `at` to the first of
        their events received that was sent after `at`."""
        later = [self.received[i] for i, (t, s) in self.sent.items()
                 if owner(t) == broker and s > at and i in self.received]
        return min(later) - at if later else float("inf")

    def missed(self) -> list:
        return sorted(i for i in self.sent if i not in self.received)


# The subscribers that watch a failover keep their links to a live broker
# through a loaded machine's stalls: the publisher's heartbeats are under
# test, and a subscriber's link that dropped spuriously would miss events
# that no publisher can count (docs/libherald.md, "What each failure
# costs": a partial partition).
WATCHER = {"heartbeat_timeout": 5.0}


def test_kill_9_a_broker_mid_stream(pair):
    victim = 0
    sub = herald.Subscriber(pair.list("egress"), TOPICS, **WATCHER)
    sub.sync(5)
    pub = herald.Publisher(pair.list("ingress"))
    stream = Stream(pub, sub)
    try:
        time.sleep(1.5)
        killed_at = time.monotonic()
        pair.brokers[victim].proc.kill()
        pair.brokers[victim].proc.wait()
        time.sleep(1.5)
        down = pub.stats()
        # The broker is back: the subscriber and the publisher reconnect
        # (libherald backs off to 1 s), and the broker holds publishers'
        # events for --hold-ms so that the subscriber is subscribed first.
        # Its topics go back to it once it has been up for the heartbeats'
        # bound and a second more (2 + 1 s), when the subscribers are
        # linked to it again.
        restarted_at = time.monotonic()
        pair.restart(victim, "--hold-ms", "2000")
        deadline = restarted_at + 10
        while (pub.stats()["brokers"][victim]["sent"] == down["brokers"][victim]["sent"]
               and time.monotonic() < deadline):
            time.sleep(0.1)
        moved_after = time.monotonic() - restarted_at
        time.sleep(0.5)
    finally:
        stream.finish()
    back = pub.stats()
    missed = stream.missed()
    gap = stream.gap(victim, killed_at)
    moved_back = [i for i, (t, s) in stream.sent.items() if owner(t) == victim and s > restarted_at
                  and i in stream.received]
    try:
        pub.close()
        closed = "confirmed"
    except herald.HeraldError as err:
        closed = str(err)
    sub.close()
    print(f"\nkill -9 of broker {victim} at {len(stream.sent) / (stream.sent[len(stream.sent) - 1][1] - stream.sent[0][1]):.0f} events/s:"
          f"\n  failover gap (kill to the first of its topics' events received via the other "
          f"broker): {gap * 1000:.1f} ms"
          f"\n  the subscriber missed {len(missed)} of {len(stream.sent)} events; the publisher "
          f"counted {back['lost']} lost (in doubt), {back['rerouted']} rerouted, "
          f"{back['failovers']} failover(s)"
          f"\n  while down: {json.dumps(down)}\n  after the restart: {json.dumps(back)}"
          f"\n  its topics moved back {moved_after:.2f} s after the restart"
          f"\n  close: {closed}")
    assert not stream.errors, stream.errors[:3]
    assert stream.duplicates == 0
    assert gap < 2.0, gap
    assert back["failovers"] == 1 and back["brokers"][victim]["failovers"] == 1
    assert down["brokers"][victim]["up"] is False and back["brokers"][victim]["up"] is True
    assert back["lost"] >= len(missed), (back["lost"], missed)
    assert back["rerouted"] > 0
    # The topics moved back: the restarted broker took new events of its
    # own topics, and they arrived.
    assert back["brokers"][victim]["sent"] > down["brokers"][victim]["sent"]
    assert pushed(pair.brokers[victim]) > 0
    assert moved_back, "none of the restarted broker's topics arrived after the restart"
    assert moved_after >= 2.0, "its topics moved back before the subscribers could link again"
    # Nothing else was lost: every event missed was sent around the kill.
    assert all(killed_at - 1.0 < stream.sent[i][1] < killed_at + 1.0 for i in missed), missed


def test_a_hung_broker_is_dropped_by_the_heartbeats(pair):
    victim = 1
    sub = herald.Subscriber(pair.list("egress"), TOPICS, **WATCHER)
    sub.sync(5)
    pub = herald.Publisher(pair.list("ingress"))
    stream = Stream(pub, sub, rate=500)
    try:
        time.sleep(1.0)
        stopped_at = time.monotonic()
        pair.brokers[victim].proc.send_signal(signal.SIGSTOP)
        time.sleep(3.0)
    finally:
        stream.finish()
        pair.brokers[victim].proc.send_signal(signal.SIGCONT)
    stats = pub.stats()
    gap = stream.gap(victim, stopped_at)
    missed = stream.missed()
    # For a failure's message: whose topics were missed, when they were
    # sent (s after the hang), and what the live broker and the subscriber
    # saw.
    why = {"missed": [(i, owner(stream.sent[i][0]), round(stream.sent[i][1] - stopped_at, 3))
                      for i in missed[:5] + missed[-5:]],
           "other broker": pair.brokers[1 - victim].stats(), "subscriber": sub.stats(),
           "publisher": stats}
    print(f"\nSIGSTOP of broker {victim} (no FIN: the heartbeats must notice): gap "
          f"{gap * 1000:.0f} ms (the heartbeats' bound: 500 + 1500 ms); missed {len(missed)}, "
          f"counted lost {stats['lost']}, rerouted {stats['rerouted']}")
    try:
        pub.close()
    except herald.HeraldError:
        pass
    sub.close()
    assert not stream.errors, stream.errors[:3]
    assert stats["brokers"][victim]["failovers"] == 1
    # Dropped by the heartbeats: not before the timeout, and within the
    # interval plus the timeout, with room for a loaded machine.
    assert 1.4 < gap < 3.0, gap
    assert stats["lost"] >= len(missed), why


def test_the_cli_with_a_list(pair, tmp_path):
    ingress, egress = ",".join(pair.list("ingress")), ",".join(pair.list("egress"))
    sub = subprocess.Popen([str(CLI), "sub", "-e", egress, "-n", "2", *TOPICS[:4]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=c_env())
    try:
        for b in pair.brokers:
            b.wait_stats(lambda s: s["subscriptions"] >= 4)
        # room.0 is broker 0's, room.1 broker 1's.
        assert [owner("room.0"), owner("room.1")] == [0, 1]
        for topic in ("room.0", "room.1"):
            out = run([CLI, "pub", "-e", ingress, topic, '{"x":1}'])
            assert out.returncode == 0, out.stderr
        lines, err = sub.communicate(timeout=10)
    finally:
        if sub.poll() is None:
            sub.kill()
    assert sub.returncode == 0, err
    assert sorted(json.loads(line)["topic"] for line in lines.splitlines()) == ["room.0", "room.1"]

    # herald stats LIST: each broker's counters, labelled by its endpoint.
    stats_list = ",".join(pair.list("stats"))
    out = run([CLI, "stats", stats_list])
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [b["endpoint"] for b in doc["brokers"]] == pair.list("stats")
    assert all(b["stats"]["egress_peers"] >= 0 for b in doc["brokers"])

    # Nowhere to confirm (a wrong egress for one broker): exit 3, and why.
    wrong = f"{pair.list('egress')[0]},tcp://127.0.0.1:1"
    topic_b = "room.1"
    out = run([CLI, "pub", "-e", ingress, "--linger", "500", topic_b, '{"x":1}'],
              env=c_env(HERALD_CONFIRM_ENDPOINT=wrong))
    assert out.returncode == 3, (out.returncode, out.stderr)
    assert "1 of 1 event not confirmed" in out.stderr, out.stderr

    # A broker killed while `herald pub` reads lines: what it had not
    # confirmed is counted lost, and the exit status says so.
    pub = subprocess.Popen([str(CLI), "pub", "-e", ingress, topic_b], stdin=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=c_env())
    for n in range(300):
        pub.stdin.write(json.dumps({"n": n}) + "\n")
        pub.stdin.flush()
        if n == 200:
            pair.brokers[1].proc.kill()
            pair.brokers[1].proc.wait()
        time.sleep(0.002)
    pub.stdin.close()
    err = pub.stderr.read()
    assert pub.wait(timeout=15) == 3, err
    assert "counted lost when a broker's link dropped (1 time)" in err, err
    print(f"\nherald pub, broker killed after 200 of 300 lines: exit 3; {err.strip()}")
    out = run([CLI, "stats", stats_list])
    assert out.returncode == 3
    doc = json.loads(out.stdout)
    assert "stats" in doc["brokers"][0] and doc["brokers"][1]["error"] == "no answer"


def test_bad_lists_are_refused():
    for bad in ("tcp://127.0.0.1:7400,", ",tcp://127.0.0.1:7400",
                "tcp://127.0.0.1:7400, tcp://127.0.0.1:7400",
                ",".join(f"tcp://127.0.0.1:{7000 + i}" for i in range(17))):
        for cls in (herald.Publisher, herald.Subscriber):
            with pytest.raises(herald.HeraldError) as e:
                cls(bad)
            assert e.value.code == herald.ErrorCode.ENDPOINT, (bad, e.value)
    with pytest.raises(herald.HeraldError) as e:
        herald.Publisher([])
    assert e.value.code == herald.ErrorCode.ENDPOINT
    # The heartbeats' range, 1..600000 ms, in the C API itself.
    pub = herald.Publisher(["tcp://127.0.0.1:1", "tcp://127.0.0.1:3"])
    sub = herald.Subscriber(["tcp://127.0.0.1:1", "tcp://127.0.0.1:3"])
    for option in (herald._Option.HEARTBEAT_MS, herald._Option.HEARTBEAT_TIMEOUT_MS):
        for value in (0, -1, 600001):
            with pytest.raises(herald.HeraldError) as e:
                pub._set(option, value)
            assert e.value.code == herald.ErrorCode.INVALID
            assert herald.lib.herald_subscriber_set_option(sub._handle, option, value) == \
                herald.ErrorCode.INVALID
        pub._set(option, 600000)
    pub.close()
    sub.close()
    with pytest.raises(herald.HeraldError) as e:
        herald.Publisher(["tcp://127.0.0.1:1", "tcp://127.0.0.1:3"], heartbeat=0)
    assert e.value.code == herald.ErrorCode.INVALID
    with herald.Subscriber(["tcp://127.0.0.1:1", "tcp://127.0.0.1:3"], heartbeat=0.2,
                           heartbeat_timeout=0.6) as sub:
        assert [b["up"] for b in sub.stats()["brokers"]] == [False, False]


def test_no_broker_reachable():
    pub = herald.Publisher(["tcp://127.0.0.1:1", "tcp://127.0.0.1:3"], send_timeout=0.3)
    start = time.monotonic()
    with pytest.raises(herald.HeraldError) as e:
        pub.publish("room.1", {})
    took = time.monotonic() - start
    assert e.value.code == herald.ErrorCode.AGAIN
    assert "no broker is reachable" in e.value.message
    assert 0.25 < took < 2.0, took
    stats = pub.stats()
    assert stats["sent"] == 0 and [b["up"] for b in stats["brokers"]] == [False, False]
    pub.close()                 # nothing was published: nothing to confirm


def test_curve_confirmations_need_subscriber_rights(tmp_path):
    """With CURVE, a publisher confirms through the egress, as a
    subscriber: a key allowed only to publish still delivers, but close
    says that nothing could be confirmed, and why."""
    import shutil
    for name in ("broker", "pub", "sub", "both"):
        run([CLI, "keygen", tmp_path / name], check=True)
    pubs, subs = tmp_path / "pubs", tmp_path / "subs"
    pubs.mkdir()
    subs.mkdir()
    for name, where in (("pub", pubs), ("both", pubs), ("sub", subs), ("both", subs)):
        shutil.copy(tmp_path / name, where / name)
    server = str(tmp_path / "broker")
    pair = Pair("--curve-secret", str(tmp_path / "broker_secret"), "--curve-publishers", str(pubs),
                "--curve-subscribers", str(subs))
    try:
        sub = herald.Subscriber(pair.list("egress"), ["room.0", "room.1"], curve_server=server,
                                curve_cert=str(tmp_path / "sub_secret"))
        sub.sync(5)
        with herald.Publisher(pair.list("ingress"), curve_server=server,
                              curve_cert=str(tmp_path / "both_secret")) as pub:
            pub.publish("room.0", {"i": 0})
            pub.publish("room.1", {"i": 1})
        pub = herald.Publisher(pair.list("ingress"), curve_server=server, linger=1.0,
                               curve_cert=str(tmp_path / "pub_secret"))
        pub.publish("room.0", {"i": 2})
        pub.publish("room.1", {"i": 3})
        start = time.monotonic()
        with pytest.raises(herald.HeraldError) as e:
            pub.close()
        assert e.value.code == herald.ErrorCode.UNSENT
        assert "2 of 2 events not confirmed" in e.value.message, e.value.message
        assert "refused this publisher's confirmation link" in e.value.message, e.value.message
        assert time.monotonic() - start < 1.5
        got = sorted(ev["i"] for _, ev in drain(sub, 4))
        assert got == [0, 1, 2, 3], got
        sub.close()
        print(f"\nCURVE, a key allowed only to publish: delivered {got[2:]}; close: {e.value.message}")
    finally:
        for b in pair.brokers:
            assert b.stop() == 0, b.text()


def test_sync_waits_for_a_broker_still_starting(pair):
    """A broker that comes up shortly after the subscriber was made (both
    started together): sync waits for its confirmation rather than taking
    it for down, so an event published to it right after sync arrives."""
    late = 1
    assert pair.brokers[late].stop() == 0
    topic = next(t for t in TOPICS if owner(t) == late)
    with herald.Subscriber(pair.list("egress"), [topic]) as sub:
        start = time.monotonic()
        threading.Timer(0.4, pair.restart, (late,)).start()
        sub.sync(5)
        took = time.monotonic() - start
        assert [b["up"] for b in sub.stats()["brokers"]] == [True, True]
        with herald.Publisher(pair.list("ingress")) as pub:
            pub.publish(topic, {"i": 1})
            assert sub.recv(5) == (topic, {"i": 1})
            assert pub.stats()["brokers"][late]["sent"] == 1
    print(f"\na broker up 0.4 s after the subscriber: sync returned after {took * 1000:.0f} ms")
    assert took >= 0.35, took


def test_ready_with_a_broker_down(broker):
    """asyncio's ready() with one broker of the list down: it returns once
    the one that is up has confirmed and the other has had its heartbeat
    timeout to be reached, though nothing arrives to wake it then."""
    taken: set = set()
    down = f"tcp://127.0.0.1:{block_ports(taken)['egress']}"   # nobody listens

    async def main() -> float:
        with herald.Subscriber([down, broker.egress], ["room.0"]) as sub:
            start = time.monotonic()
            await sub.ready(5)
            return time.monotonic() - start
    took = asyncio.run(main())
    print(f"\nready() with one broker of two down: {took * 1000:.0f} ms")
    assert 1.4 < took < 3.0, took


def test_a_silent_broker_at_the_start(broker, monkeypatch):
    """A broker that takes the TCP connection and never answers (a hung
    host): a publish to a topic it owns waits for its first handshake for
    the send timeout, then goes to the next broker."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)            # the kernel accepts; nobody speaks
        quiet = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("HERALD_CONFIRM_ENDPOINT", f"{quiet},{broker.egress}")
        assert owner("room.0") == 0
        with herald.Subscriber([quiet, broker.egress], ["room.0"]) as sub:
            start = time.monotonic()
            sub.sync(5)             # the broker that is connected confirmed
            waited = time.monotonic() - start
            assert [b["up"] for b in sub.stats()["brokers"]] == [False, True]
            # the silent one was waited for one heartbeat timeout (1.5 s)
            assert 1.4 < waited < 3.0, waited
            pub = herald.Publisher([quiet, broker.ingress], send_timeout=0.3)
            start = time.monotonic()
            pub.publish("room.0", {"i": 1})
            took = time.monotonic() - start
            stats = pub.stats()
            assert sub.recv(5) == ("room.0", {"i": 1})
            pub.close()             # confirmed by the broker that took it
    print(f"\na silent owner at the start: the publish waited {took * 1000:.0f} ms "
          f"(send timeout 300 ms), then went to the next broker")
    assert 0.25 < took < 1.0, took
    assert stats["rerouted"] == 1 and [b["sent"] for b in stats["brokers"]] == [0, 1]
