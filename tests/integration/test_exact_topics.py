"""Exact topics: a subscriber to chat.gen receives nothing published to
chat.general, although ZeroMQ itself matches by prefix."""

import json
import subprocess

import herald
from conftest import CLI, c_env


def test_prefix_is_not_a_match(broker):
    with herald.Subscriber(broker.egress, ["chat.gen"]) as short, \
         herald.Subscriber(broker.egress, ["chat.general"]) as long_, \
         herald.Publisher(broker.ingress) as pub:
        short.sync(10)
        long_.sync(10)
        for i in range(100):
            pub.publish("chat.general", {"i": i})
        pub.publish("chat.gen", {"last": True})
        assert short.recv(timeout=10) == ("chat.gen", {"last": True})
        assert short.recv(timeout=0.3) is None
        got = [long_.recv(timeout=10) for _ in range(100)]
        assert got == [("chat.general", {"i": i}) for i in range(100)]
        assert long_.recv(timeout=0.3) is None


def test_cli_sub_is_exact(broker):
    sub = subprocess.Popen(
        [str(CLI), "sub", "-v", "-n", "1", "-e", broker.egress, "chat.gen"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=c_env(),
    )
    try:
        assert "confirmed" in sub.stderr.readline()
        with herald.Publisher(broker.ingress) as pub:
            pub.publish("chat.general", "not for chat.gen")
            pub.publish("chat.gen", "for chat.gen")
        out, _ = sub.communicate(timeout=10)
        assert sub.returncode == 0
        assert [json.loads(l) for l in out.splitlines()] == [
            {"topic": "chat.gen", "event": "for chat.gen"}
        ]
    finally:
        sub.kill()
        sub.wait()
