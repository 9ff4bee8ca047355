"""Each of herald-edge's limit flags is enforced as documented, with the
protocol's error."""

import asyncio
import json
import socket
import time

import pytest
import herald
from conftest import CHAT_SCHEMA, EDGE, Edge, run
from wsutil import LEGACY, Client, RawSocket

SUB = "subscription { messageAdded(channel: \"lim\") { id } }"


@pytest.fixture
def limited(broker, request):
    edge = Edge(broker, *request.param)
    yield edge
    assert edge.stop() == 0, edge.text()


@pytest.mark.parametrize("limited", [("--max-message-bytes", "1024")], indirect=True)
def test_max_message_bytes_closes_1009(limited):
    async def main():
        c = await Client.open(limited.url)
        await c.init()
        await c.send(json.dumps({"type": "ping", "payload": {"pad": "x" * 900}}))
        assert (await c.recv())["type"] == "pong"        # under the limit
        await c.send(json.dumps({"type": "ping", "payload": {"pad": "x" * 2000}}))
        assert await c.closed() == (1009, "Message too big")
    asyncio.run(main())
    # Also when the message comes in fragments.
    raw = RawSocket(limited.port)
    raw.send_frame(0x1, b'{"type":"ping","payload":{"p":"' + b"x" * 600, fin=False)
    raw.send_frame(0x0, b"x" * 600 + b'"}}', fin=True)
    assert raw.recv_close() == (1009, "Message too big")
    raw.close()


@pytest.mark.parametrize("limited", [("--max-query-bytes", "64")], indirect=True)
def test_max_query_bytes(limited):
    async def main():
        c = await Client.open(limited.url)
        await c.init()
        await c.subscribe("1", SUB + " " * 40)
        msg = await c.recv()
        assert msg["type"] == "error"
        assert "limit is 64" in msg["payload"][0]["message"]
        await c.subscribe("2", SUB)          # within the limit
        await c.nothing()
        await c.close()
    asyncio.run(main())


@pytest.mark.parametrize("limited", [("--max-depth", "2")], indirect=True)
def test_max_depth(limited):
    async def main():
        c = await Client.open(limited.url)
        await c.init()
        await c.subscribe("1", "subscription { messageAdded(channel: \"d\") { author { name } } }")
        msg = await c.recv()
        assert msg["type"] == "error"
        assert "depth" in msg["payload"][0]["message"].lower()
        await c.subscribe("2", "subscription { messageAdded(channel: \"d\") { id } }")
        await c.nothing()
        await c.close()
    asyncio.run(main())


@pytest.mark.parametrize("limited", [("--max-subscriptions", "2")], indirect=True)
def test_max_subscriptions(limited):
    async def main():
        c = await Client.open(limited.url)
        await c.init()
        await c.subscribe("1", SUB)
        await c.subscribe("2", SUB)
        await c.subscribe("3", SUB)
        msg = await c.recv()
        assert msg["id"] == "3" and msg["type"] == "error"
        assert "the limit is 2" in msg["payload"][0]["message"]
        # Completing one makes room again.
        await c.send({"type": "complete", "id": "1"})
        await c.subscribe("3", SUB)
        await c.nothing()
        await c.close()
    asyncio.run(main())


@pytest.mark.parametrize("limited", [("--max-connections", "2")], indirect=True)
def test_max_connections_503(limited):
    async def main():
        a = await Client.open(limited.url)
        b = await Client.open(limited.url)
        raw = RawSocket(limited.port)
        assert raw.status == 503
        raw.close()
        await a.close()
        limited.wait_metric("herald_edge_connections", lambda v: v < 2)
        c = await Client.open(limited.url, protocol=LEGACY)   # room again
        await b.close()
        await c.close()
    asyncio.run(main())
    assert limited.metrics()["herald_edge_connections_rejected_total"] == 1


@pytest.mark.parametrize("limited", [("--max-result-bytes", "1024")], indirect=True)
def test_max_result_bytes(limited):
    async def main():
        c = await Client.open(limited.url)
        await c.init()
        await c.subscribe("1", "subscription { messageAdded(channel: \"big\") { id text } }")
        limited.wait_metric("herald_edge_subscriptions", lambda v: v == 1)
        with herald.Publisher(limited.broker.ingress) as pub:
            pub.publish("chat.big", {"id": "1", "text": "x" * 5000})
            pub.publish("chat.big", {"id": "2", "text": "small"})
        big = await c.recv()
        assert big["payload"]["data"] is None
        assert "limit" in big["payload"]["errors"][0]["message"]
        assert (await c.recv())["payload"]["data"]["messageAdded"]["id"] == "2"
        await c.close()
    asyncio.run(main())


@pytest.mark.parametrize("limited", [("--init-timeout-ms", "200")], indirect=True)
def test_init_timeout_applies_to_legacy_too(limited):
    async def main():
        c = await Client.open(limited.url, protocol=LEGACY)
        assert (await c.closed())[0] == 4408
    asyncio.run(main())


@pytest.mark.parametrize("limited", [("--handshake-timeout", "1")], indirect=True)
def test_handshake_timeout(limited):
    # A connection that sends half a request, or nothing, is closed once
    # the timeout passes (well before the default of 10 s, which would
    # time the socket out here); one that completes its upgrade is not.
    def closed_after(partial: bytes) -> float:
        with socket.create_connection(("127.0.0.1", limited.port), timeout=6) as s:
            started = time.monotonic()
            if partial:
                s.sendall(partial)
            while s.recv(4096):
                pass
            return time.monotonic() - started
    assert closed_after(b"GET /graphql HTTP/1.1\r\nHost: edge\r\n") >= 0.5
    assert closed_after(b"") >= 0.5

    async def main():
        c = await Client.open(limited.url)
        await c.init()
        await asyncio.sleep(2.5)
        await c.send(json.dumps({"type": "ping"}))
        assert (await c.recv())["type"] == "pong"
        await c.close()
    asyncio.run(main())


def test_check(tmp_path):
    ok = run([EDGE, "--schema", CHAT_SCHEMA, "--check"])
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0].endswith("is a valid schema. Its subscription fields and their broker topics:")
    assert [line.split() for line in lines[1:]] == [["messageAdded", "chat.{channel}"],
                                                    ["tick", "ticker.{symbol}"],
                                                    ["direct", "dm.{jwt.sub}"]]
    # The schema's errors, each with where it is; nothing on stdout.
    bad = tmp_path / "bad.graphql"
    bad.write_text("type Subscription {\n  a: Mesage\n  b: Strin\n}\n")
    out = run([EDGE, "--schema", bad, "--check"])
    assert out.returncode == 1 and not out.stdout
    assert 'line 2, column 6: unknown type "Mesage"' in out.stderr, out.stderr
    assert 'line 3, column 6: unknown type "Strin". Did you mean "String"?' in out.stderr
    out = run([EDGE, "--schema", CHAT_SCHEMA, "--check", "--tls-cert", tmp_path / "no.crt",
               "--tls-key", tmp_path / "no.key"])
    assert out.returncode == 1 and "cannot read the TLS certificate" in out.stderr


def test_flags_are_validated():
    for args in (["--port", "70000"], ["--max-depth", "0"], ["--max-connections", "x"],
                 ["--max-query-bytes", "8"], ["--bogus"], ["--log-level", "loud"],
                 ["--max-queue-bytes", "2048", "--max-result-bytes", "4096"],
                 ["--handshake-timeout", "0"], ["--tls-key", "k.pem"],
                 ["--allow-origin", "https://chat.example.com/"], ["--allow-origin", "chat.example.com"],
                 []):
        # With a schema, so that the flag under test is what fails.
        out = run([EDGE, "--schema", CHAT_SCHEMA, *args] if args else [EDGE])
        assert out.returncode == 2, (args, out.stderr)
        assert (args[0] if args else "--schema") in out.stderr, (args, out.stderr)
    help_ = run([EDGE, "--help"])
    assert help_.returncode == 0
    for flag in ("--max-connections", "--max-message-bytes", "--max-query-bytes", "--max-depth",
                 "--max-subscriptions", "--max-queue-messages", "--max-queue-bytes",
                 "--init-timeout-ms", "--legacy-ka-ms", "--static", "--handshake-timeout",
                 "--tls-cert", "--tls-key", "--allow-origin", "--check"):
        assert flag in help_.stdout
    assert run([EDGE, "--version"]).stdout.startswith("herald-edge ")
