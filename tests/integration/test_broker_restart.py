"""Broker restart: a publisher and a subscriber stay up while the broker is
stopped with SIGTERM and started again; delivery resumes without
restarting either of them."""

import json
import signal
import subprocess
import threading
import time

import herald
from conftest import CLI, PYTHON, Broker, c_env, py_env, restartable_ports

# Publishes {"seq": n} every 10 ms until killed. On backpressure (the
# broker is down and the queue filled) it retries the same message.
PUBLISHER = """
import sys, time, herald
pub = herald.Publisher(sys.argv[1])
seq = 0
while True:
    try:
        pub.publish("restart", {"seq": seq})
        seq += 1
    except herald.HeraldError as e:
        if e.code != herald.ErrorCode.AGAIN:
            raise
    time.sleep(0.01)
"""


def wait_seq(sub, above, timeout=20.0):
    """Receive until an event with seq > above arrives; return all seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sub.recv(timeout=0.5)
        if got:
            seen.append(got[1]["seq"])
            if got[1]["seq"] > above:
                return seen
    raise AssertionError(f"no event after seq {above}; saw {seen[-5:]}")


def test_restart(tmp_path):
    broker = Broker(ports=restartable_ports())
    ports = broker.ports
    publisher = subprocess.Popen([PYTHON, "-c", PUBLISHER, broker.ingress], env=py_env())
    cli = subprocess.Popen(
        [str(CLI), "sub", "-e", broker.egress, "restart"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=c_env(),
    )
    cli_lines = []
    threading.Thread(target=lambda: cli_lines.extend(cli.stdout), daemon=True).start()
    try:
        with herald.Subscriber(broker.egress, ["restart"]) as sub:
            sub.sync(10)
            before = wait_seq(sub, 20)

            assert broker.stop(signal.SIGTERM) == 0, broker.text()
            assert "SIGTERM: draining" in broker.text()
            time.sleep(0.5)
            broker.start(ports)

            after = wait_seq(sub, max(before) + 50, timeout=30)
            seqs = before + after
            assert seqs == sorted(set(seqs)), "events duplicated or reordered"
            # The CLI subscriber resumed too.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                cli_seqs = [json.loads(l)["event"]["seq"] for l in list(cli_lines)]
                if cli_seqs and cli_seqs[-1] > max(before) + 50:
                    break
                time.sleep(0.1)
            assert cli_seqs and cli_seqs[-1] > max(before) + 50
            assert cli_seqs == sorted(set(cli_seqs))
    finally:
        publisher.kill()
        publisher.wait()
        cli.terminate()
        assert cli.wait(timeout=10) == 0
        assert broker.stop() == 0, broker.text()


# Publishes {"seq": n, "t": CLOCK_MONOTONIC} 1,000 times a second, retrying
# on backpressure, so that the test can tell which events were published
# while the broker was down.
PACED = """
import sys, time, herald
pub = herald.Publisher(sys.argv[1])
seq, start = 0, time.monotonic()
while True:
    delay = start + seq / 1000 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    try:
        pub.publish("paced", {"seq": seq, "t": time.monotonic()})
        seq += 1
    except herald.HeraldError as e:
        if e.code != herald.ErrorCode.AGAIN:
            raise
"""


def test_events_queued_during_a_crash_are_delivered_after_the_restart():
    """kill -9 under load, two seconds down: publishers queue meanwhile, and
    the restarted broker holds their backlog (--hold-ms) until the
    subscribers are subscribed again, so none of it is lost."""
    broker = Broker("--hold-ms", "1000", ports=restartable_ports())
    publisher = subprocess.Popen([PYTHON, "-c", PACED, broker.ingress], env=py_env())
    cli = subprocess.Popen([str(CLI), "sub", "-e", broker.egress, "paced"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=c_env())
    cli_events = []
    threading.Thread(target=lambda: cli_events.extend(json.loads(l)["event"] for l in cli.stdout),
                     daemon=True).start()
    py_events = []
    stop = threading.Event()
    try:
        with herald.Subscriber(broker.egress, ["paced"]) as sub:
            sub.sync(10)

            def collect():
                while not stop.is_set():
                    got = sub.recv(timeout=0.2)
                    if got:
                        py_events.append(got[1])
            reader = threading.Thread(target=collect, daemon=True)
            reader.start()
            deadline = time.monotonic() + 20
            while len(py_events) < 500 or len(cli_events) < 500:
                assert time.monotonic() < deadline, "events did not start flowing"
                time.sleep(0.05)

            killed = time.monotonic()
            ports = broker.ports
            broker.stop(signal.SIGKILL)
            time.sleep(2.0)
            restarted = time.monotonic()
            broker.start(ports)

            deadline = time.monotonic() + 30
            while True:
                late = [e for e in py_events if e["t"] > restarted + 1.0]
                cli_late = [e for e in cli_events if e["t"] > restarted + 1.0]
                if late and cli_late:
                    break
                assert time.monotonic() < deadline, "delivery did not resume"
                time.sleep(0.1)
            stop.set()
            reader.join()
    finally:
        publisher.kill()
        publisher.wait()
        cli.terminate()
        cli.wait(timeout=10)
        broker.stop()
    # What the publisher queued while the broker was down (past the moment
    # of the kill, when the last writes to the dead connection may be lost).
    for name, events in (("Python", py_events), ("CLI", cli_events)):
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(set(seqs)), f"{name}: events duplicated or reordered"
        down = [e["seq"] for e in events if killed + 0.3 < e["t"] < restarted]
        assert len(down) > 1000, f"{name}: only {len(down)} events from the outage arrived"
        first, last = down[0], max(e["seq"] for e in events)
        missing = sorted(set(range(first, last + 1)) - set(seqs))
        assert not missing, f"{name}: {len(missing)} events lost after the crash, from seq {missing[0]}"
