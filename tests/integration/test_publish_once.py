"""One publish, then exit: a fresh process publishes exactly one message
and exits at once, and the subscriber receives it. 50 times in a row each
for C (libherald), the herald CLI and Python."""

import json

import pytest

import herald
from conftest import CLI, PYTHON, TESTBIN, c_env, py_env, run

RUNS = 50

# A script that publishes and ends without closing: the binding flushes
# open publishers at interpreter exit.
PUB_PY = """
import sys, herald
pub = herald.Publisher(sys.argv[1])
pub.publish_json(sys.argv[2], sys.argv[3])
"""


def command(kind, broker, topic, text):
    if kind == "c":
        return [TESTBIN / "pub_once", broker.ingress, topic, text], c_env()
    if kind == "cli":
        return [CLI, "pub", "-e", broker.ingress, topic, text], c_env()
    return [PYTHON, "-c", PUB_PY, broker.ingress, topic, text], py_env()


@pytest.mark.parametrize("kind", ["c", "cli", "python"])
def test_publish_once_then_exit(broker, kind):
    topic = f"once.{kind}"
    with herald.Subscriber(broker.egress, [topic]) as sub:
        sub.sync(10)
        for seq in range(RUNS):
            payload = {"kind": kind, "seq": seq, "text": "héllo"}
            cmd, env = command(kind, broker, topic, json.dumps(payload))
            done = run(cmd, env=env, timeout=30)
            assert done.returncode == 0, done.stderr
            assert sub.recv(timeout=10) == (topic, payload), f"run {seq} lost its message"
        # Exactly one message per process: nothing else is waiting.
        assert sub.recv(timeout=0.2) is None
    stats = broker.stats()
    assert stats["messages_malformed"] == 0
