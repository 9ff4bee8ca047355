"""herald-broker as a service: flags, exit codes, signals, counters, drop
accounting for slow subscribers, and chaining to an upstream broker."""

import signal
import subprocess
import time

import herald
from conftest import BROKER, CLI, Broker, c_env, run


def test_help_and_version():
    out = run([BROKER, "--help"])
    assert out.returncode == 0
    for flag in ("--ingress", "--egress", "--xsub", "--stats", "--egress-hwm",
                 "--max-payload", "--log-level", "SIGTERM"):
        assert flag in out.stdout
    version = run([BROKER, "--version"])
    assert version.returncode == 0 and version.stdout.startswith("herald-broker ")
    assert run([CLI, "--version"]).stdout.startswith("herald ")
    assert "pub TOPIC" in run([CLI, "--help"]).stdout


def test_usage_errors_exit_2():
    for args in (["--bogus"], ["extra"], ["--log-level", "loud"], ["--egress-hwm", "-5"],
                 ["--max-payload", "0"], ["--egress", ""],
                 ["--ingress", "", "--xsub", ""]):
        out = run([BROKER, *args])
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr


def test_port_in_use_exits_1(broker):
    out = run([BROKER, "--egress", broker.egress, "--ingress", "tcp://127.0.0.1:*",
               "--xsub", "", "--stats", ""], timeout=10)
    assert out.returncode == 1
    assert "cannot bind egress" in out.stderr
    assert "Address already in use" in out.stderr


def test_sigint_and_sigusr1():
    b = Broker()
    b.proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while "counters" not in b.text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "counters {" in b.text()
    assert b.stop(signal.SIGINT) == 0
    assert "SIGINT: draining" in b.text()


def test_counters(broker):
    assert broker.stats()["subscriptions"] == 0
    with herald.Subscriber(broker.egress, ["count.a", "count.b"]) as sub, \
         herald.Publisher(broker.ingress) as pub:
        sub.sync(10)
        assert broker.stats()["subscriptions"] == 2
        for i in range(3):
            pub.publish("count.a", i)
        for i in range(3):
            assert sub.recv(timeout=10) == ("count.a", i)
        stats = broker.stats()
        assert stats["messages_in"] == 3
        assert stats["messages_in_push"] == 3
        assert stats["messages_forwarded"] >= 3
        assert stats["sync_answered"] >= 1
        assert stats["messages_dropped"] == 0
        sub.unsubscribe("count.b")
        assert broker.wait_stats(lambda s: s["subscriptions"] == 1)["subscriptions"] == 1
    assert broker.wait_stats(lambda s: s["subscriptions"] == 0)["subscriptions"] == 0


def test_slow_subscriber_drops_are_counted_and_others_unaffected():
    # The egress queue must hold a batch (the broker forwards up to 512
    # messages per round), but not the slow subscriber's whole backlog.
    broker = Broker("--egress-hwm", "2000")
    try:
        with herald.Subscriber(broker.egress, ["flood"], hwm=10) as slow, \
             herald.Subscriber(broker.egress, ["flood"]) as fast, \
             herald.Publisher(broker.ingress) as pub:
            slow.sync(10)
            fast.sync(10)
            count = 20000
            big = "x" * 2000  # 40 MB in all: more than the socket buffers hold
            got = 0
            for i in range(count):
                pub.publish("flood", {"i": i, "pad": big})
                while True:  # the fast one keeps up; the slow one never reads
                    event = fast.recv_nowait()
                    if event is None:
                        break
                    assert event[1]["i"] == got
                    got += 1
            while got < count:
                event = fast.recv(timeout=10)
                assert event is not None, f"fast subscriber stopped at {got}"
                assert event[1]["i"] == got
                got += 1
            stats = broker.stats()
            assert stats["messages_dropped"] > 0, stats
            assert stats["messages_in"] == count
    finally:
        assert broker.stop() == 0, broker.text()


def test_upstream_chaining():
    root = Broker()
    leaf = Broker("--upstream", root.egress)
    try:
        with herald.Subscriber(leaf.egress, ["chain"]) as sub, \
             herald.Publisher(root.ingress) as pub:
            # The root answers the confirmation, so it covers the chain.
            sub.sync(10)
            assert leaf.stats()["sync_answered"] == 0
            assert root.stats()["sync_answered"] >= 1
            pub.publish("chain", {"via": "leaf"})
            assert sub.recv(timeout=10) == ("chain", {"via": "leaf"})
    finally:
        assert leaf.stop() == 0, leaf.text()
        assert root.stop() == 0, root.text()
