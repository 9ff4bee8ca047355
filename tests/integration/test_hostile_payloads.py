"""Hostile payloads through the real broker cost their size, not more:
the msgpack key bomb (each level a map whose key is the level below,
0x81 <level> 0xc0) converts to bounded JSON in the `herald` CLI, the
Python binding and an edge's custom scalar field, with small memory; and
the edge's --max-result-bytes counts the bytes a result really has."""

import asyncio
import json
import os
import subprocess

import herald
from conftest import CLI, SANITIZED, Edge, c_env
from wsutil import Client

# docs/wire.md and common/mpjson.h: JSON is at most OUT_PER_BYTE bytes per
# byte of msgpack, plus OUT_EXTRA.
OUT_PER_BYTE = 7
OUT_EXTRA = 0
# Peak resident memory allowed for a process that converts a bomb, and its
# growth over the same process without one: the conversion itself needs a
# few hundred bytes; the rest is the program.
MEMORY_BOUND = 64 << 20
MEMORY_GROWTH = 16 << 20
LEVELS = 27
LIMIT = 262144                  # herald-edge's default --max-result-bytes
TOO_BIG = {"data": None, "errors": [{"message": "the result is larger than the edge's limit"}]}

BLOB_SCHEMA = '''
scalar JSON
type Blob { id: ID!  data: JSON }
type Subscription {
  blobAdded(channel: String!): Blob! @topic(name: "blob.{channel}")
}
'''


def bomb(levels: int = LEVELS) -> bytes:
    """levels maps, each the only key of the next: 2 * levels + 1 bytes."""
    return b"\x81" * levels + b"\xc0" + b"\xc0" * levels


def bomb_key(levels: int = LEVELS) -> str:
    """The documented JSON key of bomb(levels): one string, its inner
    non-string keys written as bare text."""
    return "{" * (levels - 1) + "null" + ":null}" * (levels - 1)


def bound(mp: bytes) -> int:
    return OUT_PER_BYTE * len(mp) + OUT_EXTRA


def upstream_ready(broker, topics: int) -> None:
    """Waits until the edge's topics are subscribed at the broker, so that
    what is published next reaches the edge."""
    stats = broker.wait_stats(lambda s: s["subscriptions"] >= topics)
    assert stats["subscriptions"] >= topics, stats


def sub_once(broker, topic: str, events: list) -> tuple:
    """Runs `herald sub -n len(events)`, publishes the events (msgpack
    bytes) once it has subscribed, and returns its output lines and its
    peak resident memory in bytes."""
    proc = subprocess.Popen([str(CLI), "sub", "-v", "-n", str(len(events)), "-t", "20000",
                             "-e", broker.egress, topic],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=c_env())
    try:
        assert b"subscribed" in proc.stderr.readline()
        with herald.Publisher(broker.ingress) as pub:
            for mp in events:
                pub.publish_raw(topic, mp)
        out = proc.stdout.read()
        # Reap the child ourselves, for its resource usage.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read().decode(errors="replace")
    lines = out.split(b"\n")
    assert lines[-1] == b"" and len(lines) == len(events) + 1, [len(x) for x in lines]
    return lines[:-1], usage.ru_maxrss * 1024


def test_cli_sub_prints_a_bounded_line(broker):
    mp, calm = bomb(), herald.json_to_msgpack('{"after":1}')
    # The same program with two ordinary events, for its memory without a bomb.
    _, baseline = sub_once(broker, "hostile.cli", [calm, calm])
    lines, peak = sub_once(broker, "hostile.cli", [mp, calm])
    frame = len(b'{"topic":"hostile.cli","event":}\n')
    print(f"herald sub: {len(mp)} bytes of msgpack printed as {len(lines[0])} bytes; "
          f"peak RSS {peak >> 10} KiB, {baseline >> 10} KiB without the bomb")
    assert len(lines[0]) + 1 <= frame + bound(mp)
    assert json.loads(lines[0]) == {"topic": "hostile.cli", "event": {bomb_key(): None}}
    assert json.loads(lines[1]) == {"topic": "hostile.cli", "event": {"after": 1}}
    assert peak - baseline < MEMORY_GROWTH
    if not SANITIZED:           # AddressSanitizer's shadow memory is extra
        assert peak < MEMORY_BOUND


def test_python_subscriber_yields_a_bounded_key(broker):
    mp = bomb()

    async def main():
        async with herald.Subscriber(broker.egress, ["hostile.py"]) as sub:
            await sub.ready()
            with herald.Publisher(broker.ingress) as pub:
                pub.publish_raw("hostile.py", mp)
            async for topic, event in sub:
                return topic, event
    topic, event = asyncio.run(asyncio.wait_for(main(), 30))
    assert topic == "hostile.py"
    assert isinstance(event, dict) and len(event) == 1
    key = next(iter(event))
    print(f"Python binding: {len(mp)} bytes of msgpack gave a key of {len(key)} characters")
    assert len(key) + 2 <= bound(mp)
    assert event == {bomb_key(): None}


def test_edge_custom_scalar_renders_the_bomb_within_the_limit(broker, tmp_path):
    schema = tmp_path / "blob.graphql"
    schema.write_text(BLOB_SCHEMA)
    edge = Edge(broker, schema=schema)
    # {"id": "1", "data": <bomb>}: the custom scalar field holds the bomb.
    payload = b"\x82\xa2id\xa11\xa4data" + bomb()
    try:
        async def main():
            hostile = await Client.open(edge.url)
            calm = await Client.open(edge.url)
            await hostile.init()
            await calm.init()
            await hostile.subscribe("1", 'subscription { blobAdded(channel: "bomb") { id data } }')
            await calm.subscribe("1", 'subscription { blobAdded(channel: "calm") { id } }')
            assert edge.wait_metric("herald_edge_subscriptions", lambda v: v == 2) == 2
            upstream_ready(broker, 2)
            before = edge.status_kb("VmHWM") * 1024
            with herald.Publisher(broker.ingress) as pub:
                pub.publish_raw("blob.bomb", payload)
                pub.publish("blob.calm", {"id": "2"})
                pub.publish("blob.bomb", {"id": "3", "data": [1]})
            raw = await asyncio.wait_for(hostile.ws.recv(), 30)
            # The other client on the same edge gets its event right after.
            assert await calm.recv(30) == {"id": "1", "type": "next",
                                           "payload": {"data": {"blobAdded": {"id": "2"}}}}
            # And the hostile one its next event.
            after = (await hostile.recv(30))["payload"]
            assert after == {"data": {"blobAdded": {"id": "3", "data": [1]}}}
            grew = edge.status_kb("VmHWM") * 1024 - before
            await hostile.close()
            await calm.close()
            return raw, grew
        raw, grew = asyncio.run(main())
    finally:
        rc = edge.stop()
    assert rc == 0, edge.text()
    frame = len('{"id":"1","type":"next","payload":{"data":{"blobAdded":{"id":"1","data":}}}}')
    print(f"herald-edge: a {len(payload)}-byte event rendered as a {len(raw)}-byte message; "
          f"peak RSS grew by {grew >> 10} KiB")
    assert len(raw) <= frame + bound(bomb())
    msg = json.loads(raw)
    assert msg["payload"] == {"data": {"blobAdded": {"id": "1", "data": {bomb_key(): None}}}}
    assert grew < MEMORY_GROWTH


def test_edge_result_limit_counts_bytes_written(broker):
    """With the default --max-result-bytes, a result of 200 KB and one of
    exactly the limit are delivered; one byte more gets the documented
    error, and the next event is delivered again."""
    edge = Edge(broker)
    empty = len(json.dumps({"data": {"messageAdded": {"id": "1", "text": ""}}},
                           separators=(",", ":")))
    sizes = [200000, LIMIT - empty, LIMIT - empty + 1, 5]
    try:
        async def main():
            c = await Client.open(edge.url)
            await c.init()
            await c.subscribe("1", 'subscription { messageAdded(channel: "big") { id text } }')
            assert edge.wait_metric("herald_edge_subscriptions", lambda v: v == 1) == 1
            upstream_ready(broker, 1)
            with herald.Publisher(broker.ingress) as pub:
                for n in sizes:
                    pub.publish("chat.big", {"id": "1", "channel": "big", "text": "x" * n})
            got = [(await c.recv(30))["payload"] for _ in sizes]
            await c.close()
            return got
        got = asyncio.run(main())
        # The one refused is counted, not only told to the client.
        assert edge.metrics()["herald_edge_results_too_large_total"] == 1
    finally:
        rc = edge.stop()
    assert rc == 0, edge.text()
    for n, payload in zip(sizes, got):
        if n == LIMIT - empty + 1:
            assert payload == TOO_BIG
        else:
            assert payload == {"data": {"messageAdded": {"id": "1", "text": "x" * n}}}, n


def test_edge_result_limit_counts_escapes_as_written(broker):
    """Escapes count as the bytes they are, not as their worst case of six
    per character: 40,000 control characters and 20,000 letters are
    260,002 bytes escaped and fit the default limit; 50,000 control
    characters (300,002 bytes) do not."""
    edge = Edge(broker)
    FITS = "\x01" * 40000 + "a" * 20000
    try:
        async def main():
            c = await Client.open(edge.url)
            await c.init()
            await c.subscribe("1", 'subscription { messageAdded(channel: "esc") { text } }')
            assert edge.wait_metric("herald_edge_subscriptions", lambda v: v == 1) == 1
            upstream_ready(broker, 1)
            with herald.Publisher(broker.ingress) as pub:
                pub.publish("chat.esc", {"text": FITS})
                pub.publish("chat.esc", {"text": "\x01" * 50000})
            got = [(await c.recv(30))["payload"] for _ in range(2)]
            await c.close()
            return got
        got = asyncio.run(main())
    finally:
        rc = edge.stop()
    assert rc == 0, edge.text()
    assert got[0] == {"data": {"messageAdded": {"text": FITS}}}
    assert got[1] == TOO_BIG

