"""Bad input gets a clear error code or exception with a message, and a
raw ZeroMQ peer sending malformed frames cannot hurt the broker or the
other clients."""

import time

import pytest
import zmq

import herald
from conftest import CLI, Broker, run
from herald import ErrorCode, HeraldError


def expect_error(code, fragment, fn, *args):
    with pytest.raises(HeraldError) as info:
        fn(*args)
    assert info.value.code == code
    assert fragment in info.value.message
    assert fragment in str(info.value)


def test_python_errors(broker):
    with herald.Publisher(broker.ingress) as pub:
        expect_error(ErrorCode.JSON, "line 1, column 9", pub.publish_json, "t", '{"a": 1,,}')
        expect_error(ErrorCode.JSON, "invalid JSON", pub.publish_json, "t", "")
        expect_error(ErrorCode.TOPIC, "empty", pub.publish, "", 1)
        expect_error(ErrorCode.TOPIC, "255", pub.publish, "x" * 256, 1)
        expect_error(ErrorCode.TOPIC, "NUL", pub.publish, "chat\0general", 1)
        expect_error(ErrorCode.TOPIC, "reserved", pub.publish, "$herald/sync/1", 1)
        expect_error(ErrorCode.TOO_BIG, "limit is 1048576", pub.publish, "t", "x" * (1 << 20))
        expect_error(ErrorCode.MSGPACK, "truncated", pub.publish_raw, "t", b"\x92\x01")
        expect_error(ErrorCode.MSGPACK, "follow", pub.publish_raw, "t", b"\xc0\xc0")
        pub.publish("x" * 255, 1)  # the longest topic is fine
    # A closed handle is the binding's NULL handle.
    expect_error(ErrorCode.INVALID, "closed", pub.publish, "t", 1)
    with herald.Subscriber(broker.egress) as sub:
        expect_error(ErrorCode.TOPIC, "empty", sub.subscribe, "")
        expect_error(ErrorCode.TOPIC, "NUL", sub.subscribe, "a\0b")
    expect_error(ErrorCode.INVALID, "closed", sub.subscribe, "t")
    expect_error(ErrorCode.ENDPOINT, "bogus://x", herald.Publisher, "bogus://x")
    with pytest.raises(ValueError):
        herald.Publisher(broker.ingress).publish("t", float("nan"))
    with herald.Publisher(broker.ingress, max_payload=10) as small:
        expect_error(ErrorCode.TOO_BIG, "limit is 10", small.publish, "t", "x" * 20)
    expect_error(ErrorCode.JSON, "line 1", herald.json_to_msgpack, "[1,")
    assert herald.msgpack_to_json(herald.json_to_msgpack('{"a":[1,null]}')) == '{"a":[1,null]}'


def test_cli_errors(broker):
    bad = run([CLI, "pub", "-e", broker.ingress, "t", '{"a":}'])
    assert bad.returncode == 1
    assert "invalid JSON at line 1, column 6" in bad.stderr
    lines = run([CLI, "pub", "-e", broker.ingress, "t"], input='{"ok":1}\n{"bad"\n2\n')
    assert lines.returncode == 1
    assert "line 2: invalid JSON" in lines.stderr
    empty = run([CLI, "pub", "-e", broker.ingress, "", "1"])
    assert empty.returncode == 1 and "topic is empty" in empty.stderr
    assert run([CLI, "frobnicate"]).returncode == 2
    assert run([CLI, "sub"]).returncode == 2
    assert run([CLI, "pub", "--linger", "soon", "t", "1"]).returncode == 2
    assert run([CLI, "sub", "-n", "0", "t"]).returncode == 2


MALFORMED = [
    [b"only-a-topic"],
    [b"t", b"\xc0", b"\x80", b"extra"],           # four frames
    [b"", b"\xc0"],                               # empty topic
    [b"chat\0general", b"\xc0"],                  # NUL in the topic
    [b"\xff\xfe", b"\xc0"],                       # not UTF-8
    [b"x" * 256, b"\xc0"],                        # topic too long
    [b"$herald/sync/0000000000000000", b"\xc0"],  # a forged confirmation
]


def test_raw_peers_cannot_hurt_the_broker():
    broker = Broker("--max-payload", "4096")
    ctx = zmq.Context()
    try:
        push = ctx.socket(zmq.PUSH)
        push.connect(broker.ingress)
        pub = ctx.socket(zmq.PUB)
        pub.connect(broker.xsub)
        with herald.Subscriber(broker.egress, ["good", "t", "chat"]) as sub, \
             herald.Publisher(broker.ingress) as good:
            sub.sync(10)
            # A PUB peer sends only topics subscribed downstream: let the
            # subscriptions reach it first.
            time.sleep(0.3)
            for round_ in range(20):
                for frames in MALFORMED:
                    push.send_multipart(frames)
                    pub.send_multipart(frames)
                good.publish("good", {"round": round_})
            # A frame over --max-payload makes ZeroMQ drop that peer.
            push.send_multipart([b"t", b"\xc4" + b"x" * 8000])
            good.publish("good", {"round": "last"})
            got = [sub.recv(timeout=10) for _ in range(21)]
            assert got == [("good", {"round": r}) for r in range(20)] + [("good", {"round": "last"})]
            assert sub.recv(timeout=0.3) is None
        stats = broker.wait_stats(lambda s: s["messages_malformed"] >= 20 * len(MALFORMED))
        assert stats["messages_malformed"] >= 20 * len(MALFORMED), stats
        # The broker keeps serving new clients.
        with herald.Subscriber(broker.egress, ["after"]) as sub, \
             herald.Publisher(broker.ingress) as good:
            sub.sync(10)
            good.publish("after", 1)
            assert sub.recv(timeout=10) == ("after", 1)
    finally:
        ctx.destroy(linger=0)
        assert broker.stop() == 0, broker.text()


def test_subscriber_skips_malformed_messages():
    """A subscriber connected straight to a hostile publisher skips and
    counts what breaks the wire format, and still gets the rest."""
    ctx = zmq.Context()
    try:
        xpub = ctx.socket(zmq.XPUB)
        port = xpub.bind_to_random_port("tcp://127.0.0.1")
        with herald.Subscriber(f"tcp://127.0.0.1:{port}", ["t"]) as sub:
            assert xpub.poll(5000)
            assert xpub.recv() == b"\x01t"
            hostile = [
                [b"t"],
                [b"t", b"\xc1"],                          # never-used byte
                [b"t", b"\xdd\xff\xff\xff\xff"],          # four billion elements
                [b"t", b"\x91" * 40 + b"\xc0"],           # nested too deep
                [b"t", b"\xc0\xc0"],                      # trailing bytes
                [b"t", b"\xc0", b"\x90"],                 # metadata not a map
                [b"t", b"\xc0", b"\x80", b"x"],
                [b"t", b"\xc4\x20" + b"x" * 2000],        # length mismatch
            ]
            for frames in hostile:
                xpub.send_multipart(frames)
            xpub.send_multipart([b"t", b"\xa2ok", b"\x81\xa2id\x01"])
            assert sub.recv(timeout=10) == ("t", "ok")
            assert sub.skipped == len(hostile)
    finally:
        ctx.destroy(linger=0)
