"""The broker's numbering and recent events (docs/wire.md, "Offsets and
epochs"; docs/broker.md, "History"), against a real herald-broker: events
published with libherald's Python binding and raw ZeroMQ peers (Debian's
python3-zmq) reading the metadata frames and asking SINCE on the stats
endpoint.

- each topic's events are numbered 1, 2, 3, ... in one epoch, whatever
  metadata a publisher sent; a restart, a forgotten topic and another
  broker of a list each give another epoch;
- SINCE answers with exactly the events after the offset, in batches
  within --history-batch and --history-batch-bytes, and GONE past each
  bound (--history-size, --history-ttl, --history-bytes, --history-topics);
- an --upstream broker keeps the numbering of the broker it relays, and
  answers SINCE for it;
- malformed requests get ERROR with a reason, are counted, and leave
  `herald stats` and other askers unaffected.
"""

from __future__ import annotations

import time

import pytest
import zmq

import herald
from conftest import BROKER, Broker, c_env, run


def stamp(meta: bytes) -> tuple[str, int]:
    """(epoch as 16 hex digits, offset) from a metadata frame the broker
    wrote: {"epoch": uint64, "offset": uint64}, 32 bytes."""
    assert len(meta) == 32 and meta[0] == 0x82, meta
    assert meta[1:7] == b"\xa5epoch" and meta[7] == 0xcf, meta
    assert meta[16:23] == b"\xa6offset" and meta[23] == 0xcf, meta
    return meta[8:16].hex(), int.from_bytes(meta[24:32], "big")


class Peer:
    """A raw SUB on the egress and a REQ on the stats endpoint."""

    def __init__(self, broker: Broker, *topics: str) -> None:
        self.ctx = zmq.Context()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.connect(broker.egress)
        for t in topics:
            self.sub.setsockopt(zmq.SUBSCRIBE, t.encode())
        self.req_ep = broker.endpoints["stats"]
        self.req = None
        broker.wait_stats(lambda s: s["subscriptions"] >= len(topics))

    def recv(self, n: int, timeout: float = 5.0) -> list:
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            if self.sub.poll(100):
                frames = self.sub.recv_multipart()
                got.append((frames[0].decode(), frames[1], stamp(frames[2])))
        assert len(got) == n, got
        return got

    def ask(self, *frames: bytes) -> list:
        if self.req is None:
            self.req = self.ctx.socket(zmq.REQ)
            self.req.setsockopt(zmq.RCVTIMEO, 5000)
            self.req.connect(self.req_ep)
        self.req.send_multipart(list(frames))
        return self.req.recv_multipart()

    def since(self, topic: str, epoch: str, offset: int) -> tuple:
        status, e, last, *payloads = self.ask(b"SINCE", topic.encode(), epoch.encode(),
                                              str(offset).encode())
        return status.decode(), e.decode(), int(last), payloads

    def close(self) -> None:
        self.ctx.destroy(linger=0)


def publish(broker: Broker, topic: str, values) -> None:
    with herald.Publisher(broker.ingress) as pub:
        for v in values:
            pub.publish(topic, {"i": v})


def test_each_topic_is_numbered_in_one_epoch():
    broker = Broker()
    peer = Peer(broker, "room.a", "room.b")
    try:
        with herald.Publisher(broker.ingress) as pub:
            for i in range(10):
                pub.publish("room.a" if i % 3 else "room.b", {"i": i})
        got = peer.recv(10)
        a = [s for t, _, s in got if t == "room.a"]
        b = [s for t, _, s in got if t == "room.b"]
        assert [o for _, o in a] == list(range(1, len(a) + 1))
        assert [o for _, o in b] == list(range(1, len(b) + 1))
        assert len({e for e, _ in a}) == 1 and len({e for e, _ in b}) == 1
        assert a[0][0] != b[0][0]                   # each topic has its own
        # A raw publisher's own metadata is replaced by the numbering.
        push = peer.ctx.socket(zmq.PUSH)
        push.connect(broker.ingress)
        forged = b"\x82\xa5epoch\x01\xa6offset\x01"
        push.send_multipart([b"room.a", b"\xc0", forged])
        (_, _, (e, o)), = peer.recv(1)
        assert (e, o) == (a[0][0], len(a) + 1)
        push.send_multipart([b"room.a", b"\xc0"])   # and none is added
        (_, _, (e, o)), = peer.recv(1)
        assert o == len(a) + 2
    finally:
        peer.close()
        assert broker.stop() == 0, broker.text()


def test_since_gives_exactly_the_missed_events_in_batches():
    broker = Broker("--history-batch", "3", "--history-batch-bytes", "100000")
    peer = Peer(broker, "t")
    try:
        publish(broker, "t", range(10))
        got = peer.recv(10)
        epoch = got[0][2][0]
        payloads = [p for _, p, _ in got]
        # After 4: 5..10, three at a time.
        status, e, last, batch = peer.since("t", epoch, 4)
        assert (status, e, last) == ("OK", epoch, 10)
        assert batch == payloads[4:7]
        status, _, _, batch = peer.since("t", epoch, 7)
        assert status == "OK" and batch == payloads[7:10]
        # Nothing missed; from the start of the epoch.
        assert peer.since("t", epoch, 10) == ("OK", epoch, 10, [])
        assert peer.since("t", epoch, 0)[3] == payloads[:3]
        # Another epoch, past the last, a topic never published.
        assert peer.since("t", "0123456789abcdef", 4)[:3] == ("GONE", epoch, 10)
        assert peer.since("t", epoch, 11)[0] == "GONE"
        assert peer.since("never", epoch, 0)[:3] == ("GONE", "0" * 16, 0)
        stats = broker.stats()
        assert stats["history_replays"] == 4 and stats["history_replayed"] == 9
        assert stats["history_gone"] == 3
        assert stats["history_events"] == 10 and stats["history_topics"] == 1
    finally:
        peer.close()
        assert broker.stop() == 0, broker.text()


def test_batch_bytes_bound_an_answer():
    broker = Broker("--history-batch-bytes", "40")
    peer = Peer(broker, "t")
    try:
        with herald.Publisher(broker.ingress) as pub:
            for i in range(4):
                pub.publish_raw("t", b"\xb4" + b"x" * 20)    # 21-byte str
            pub.publish_raw("t", b"\xd9\x64" + b"y" * 100)   # larger than the bound
        epoch = peer.recv(5)[0][2][0]
        assert len(peer.since("t", epoch, 0)[3]) == 1        # 21 + 21 > 40
        assert len(peer.since("t", epoch, 3)[3]) == 1
        big = peer.since("t", epoch, 4)[3]                   # one, whatever its size
        assert len(big) == 1 and len(big[0]) == 102
    finally:
        peer.close()
        assert broker.stop() == 0, broker.text()


@pytest.mark.parametrize("flags,expect", [
    (("--history-size", "3"), "size"),
    (("--history-ttl", "1"), "ttl"),
    (("--history-topics", "chat.*"), "topics"),
    (("--history-bytes", "400"), "bytes"),
])
def test_each_bound_makes_older_events_gone(flags, expect):
    broker = Broker(*flags)
    peer = Peer(broker, "t")
    try:
        publish(broker, "t", range(8))
        epoch = peer.recv(8)[0][2][0]
        if expect == "ttl":
            assert peer.since("t", epoch, 0)[0] == "OK"
            time.sleep(1.2)
        status, e, last, batch = peer.since("t", epoch, 0)
        assert (status, e, last, batch) == ("GONE", epoch, 8, [])
        # Nothing missed is always answered, kept or not.
        assert peer.since("t", epoch, 8) == ("OK", epoch, 8, [])
        stats = broker.stats()
        if expect == "size":
            assert peer.since("t", epoch, 5)[0] == "OK" and peer.since("t", epoch, 4)[0] == "GONE"
            assert stats["history_events"] == 3 and stats["history_trimmed"] == 5
        if expect == "topics":
            assert stats["history_events"] == 0 and stats["history_topics"] == 1
        if expect == "bytes":
            assert 0 < stats["history_bytes"] <= 400, stats
            assert stats["history_trimmed"] > 0
    finally:
        peer.close()
        assert broker.stop() == 0, broker.text()


def test_a_forgotten_topic_and_a_restart_start_new_epochs():
    broker = Broker("--history-max-topics", "2")
    peer = Peer(broker, "a", "b", "c")
    try:
        publish(broker, "a", [1])
        publish(broker, "b", [1])
        publish(broker, "c", [1])                   # "a" is forgotten
        first = {t: s for t, _, s in peer.recv(3)}
        assert broker.stats()["history_topics_forgotten"] == 1
        assert peer.since("a", first["a"][0], 0)[:3] == ("GONE", "0" * 16, 0)
        publish(broker, "a", [2])
        (_, _, (e, o)), = peer.recv(1)
        assert o == 1 and e != first["a"][0]
        peer.close()
        # A restart on the same ports: every epoch is new.
        ports = broker.ports
        assert broker.stop() == 0, broker.text()
        broker = Broker("--history-max-topics", "2", ports=ports)
        peer = Peer(broker, "b")
        assert peer.since("b", first["b"][0], 1)[0] == "GONE"
        publish(broker, "b", [2])
        (_, _, (e, o)), = peer.recv(1)
        assert o == 1 and e != first["b"][0]
    finally:
        peer.close()
        assert broker.stop() == 0, broker.text()


def test_an_upstream_broker_keeps_the_numbering():
    root = Broker()
    leaf = Broker("--upstream", root.egress)
    peer = Peer(leaf, "t")
    try:
        root.wait_stats(lambda s: s["subscriptions"] >= 1)
        publish(root, "t", range(3))
        got = peer.recv(3)
        assert [s[1] for _, _, s in got] == [1, 2, 3]
        direct = Peer(root, "t")
        publish(root, "t", [3])
        (_, _, s_root), = direct.recv(1)
        (_, _, s_leaf), = peer.recv(1)
        assert s_root == s_leaf == (got[0][2][0], 4)
        direct.close()
        # The leaf answers SINCE for what it relayed, as the root does.
        epoch = s_root[0]
        assert peer.since("t", epoch, 1)[:3] == ("OK", epoch, 4)
        assert len(peer.since("t", epoch, 1)[3]) == 3
    finally:
        peer.close()
        assert leaf.stop() == 0, leaf.text()
        assert root.stop() == 0, root.text()


def test_malformed_requests_get_an_error_and_harm_no_one():
    broker = Broker()
    peer = Peer(broker)
    try:
        cases = [
            ([b"SINCE", b"t", b"00"], "expected"),
            ([b"SINCE", b"", b"0123456789abcdef", b"0"], "topic"),
            ([b"SINCE", b"t", b"0123456789ABCDEF", b"0"], "epoch"),
            ([b"SINCE", b"t", b"0" * 17, b"0"], "epoch"),
            ([b"SINCE", b"t", b"00", b"-1"], "offset"),
            ([b"SINCE", b"t", b"00", b"18446744073709551616"], "offset"),
            ([b"SINCE", b"t", b"00", b"1", b"extra"], "expected"),
        ]
        for frames, word in cases:
            status, why = peer.ask(*frames)
            assert status == b"ERROR" and word in why.decode(), (frames, why)
        # The largest offset is fine (and past the last: GONE).
        assert peer.since("t", "00", 2**64 - 1)[0] == "GONE"
        stats = broker.stats()
        assert stats["history_requests_malformed"] == len(cases)
        publish(broker, "t", [1])
        assert broker.wait_stats(lambda s: s["history_events"] == 1)["history_events"] == 1
    finally:
        peer.close()
        assert broker.stop() == 0, broker.text()


@pytest.mark.parametrize("flags,status,word", [
    (("--history-topics", "a..b"), 1, "--history-topics: patterns: \"a..b\": empty segment"),
    (("--history-batch", "0"), 2, "--history-batch"),
    (("--history-max-topics", "0"), 2, "--history-max-topics"),
    (("--history-size", "x"), 2, "--history-size"),
])
def test_flags_are_checked(flags, status, word):
    r = run([BROKER, "--ingress", "tcp://127.0.0.1:*", "--egress", "tcp://127.0.0.1:*",
             "--xsub", "", "--stats", "", *flags], env=c_env(), timeout=10)
    assert r.returncode == status and word in r.stderr, r.stderr
