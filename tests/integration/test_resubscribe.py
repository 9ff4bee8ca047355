"""A subscriber that is idle (not inside a receive) while the broker is
killed with SIGKILL and started again on the same ports renews its
subscriptions by itself, so an event published after the restart is
waiting for it when it next reads; herald_subscriber_connected follows the
connection down and up; and sync asks the new broker again.

Nothing here waits for a fixed time: each step waits for a state the
broker or the library reports (the broker's subscription count, the
connected flag), with a generous deadline, and fails if it never comes."""

import signal
import time

import herald
from conftest import Broker, restartable_ports

ROUNDS = 10
TOPIC = "resubscribe"


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def kill_and_restart(broker):
    ports = broker.ports
    assert broker.stop(signal.SIGKILL) == -signal.SIGKILL
    broker.start(ports)


def test_idle_subscriber_resubscribes_after_a_kill():
    broker = Broker(ports=restartable_ports())
    try:
        with herald.Subscriber(broker.egress, [TOPIC]) as sub:
            sub.sync(10)
            for i in range(ROUNDS):
                kill_and_restart(broker)
                # The subscriber is not called from here on until it reads:
                # its subscription must reach the new broker regardless.
                stats = broker.wait_stats(lambda s: s["subscriptions"] >= 1, timeout=20)
                assert stats["subscriptions"] >= 1, \
                    f"round {i}: the idle subscriber did not subscribe again: {stats}"
                with herald.Publisher(broker.ingress) as pub:
                    pub.publish(TOPIC, {"round": i})
                assert sub.recv(timeout=10) == (TOPIC, {"round": i}), f"round {i}"
                assert sub.recv_nowait() is None
    finally:
        assert broker.stop() == 0, broker.text()


def test_connected_follows_the_broker():
    broker = Broker(ports=restartable_ports())
    try:
        with herald.Subscriber(broker.egress, [TOPIC]) as sub:
            assert wait_for(lambda: sub.connected), "never connected"
            for i in range(3):
                ports = broker.ports
                assert broker.stop(signal.SIGKILL) == -signal.SIGKILL
                assert wait_for(lambda: not sub.connected), f"round {i}: still connected"
                broker.start(ports)
                assert wait_for(lambda: sub.connected), f"round {i}: not connected again"
            # It reads a flag only: the subscriber still works as before.
            sub.sync(10)
            with herald.Publisher(broker.ingress) as pub:
                pub.publish(TOPIC, "after")
            assert sub.recv(timeout=10) == (TOPIC, "after")
        assert sub.connected is False           # closed
    finally:
        assert broker.stop() == 0, broker.text()


def test_sync_asks_the_new_broker():
    broker = Broker(ports=restartable_ports())
    try:
        with herald.Subscriber(broker.egress, [TOPIC]) as sub:
            sub.sync(10)
            assert broker.stats()["sync_answered"] == 1
            kill_and_restart(broker)
            broker.wait_stats(lambda s: s["subscriptions"] >= 1, timeout=20)
            # The old broker's confirmation does not hold for the new one.
            sub.sync(10)
            assert broker.stats()["sync_answered"] >= 1, "sync did not ask the new broker"
            with herald.Publisher(broker.ingress) as pub:
                pub.publish(TOPIC, "confirmed")
            assert sub.recv(timeout=10) == (TOPIC, "confirmed")
    finally:
        assert broker.stop() == 0, broker.text()
