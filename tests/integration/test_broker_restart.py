"""Broker restart: a publisher and a subscriber stay up while the broker is
stopped with SIGTERM and started again; delivery resumes without
restarting either of them."""

import json
import signal
import subprocess
import threading
import time

import herald
from conftest import CLI, PYTHON, Broker, c_env, py_env

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
    broker = Broker()
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
