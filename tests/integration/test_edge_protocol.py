"""Frame-level conformance of herald-edge: every message rule and close code
of graphql-transport-ws, and the legacy graphql-ws protocol, checked with a
raw WebSocket client against the real edge and broker."""

import asyncio
import json
import time

import pytest
import websockets

import herald
from conftest import Edge
from wsutil import LEGACY, TWS, Client, RawSocket

SUB = "subscription($c: String!) { messageAdded(channel: $c) { id text } }"
MESSAGE = {"id": "1", "channel": "general", "text": "hi", "author": {"name": "ann"}}


def publish(edge, topic, payload, wait_subscribed=True):
    if wait_subscribed:
        edge.wait_metric("herald_edge_topics", lambda v: v >= 1)
    with herald.Publisher(edge.broker.ingress) as pub:
        pub.publish(topic, payload)


# ---------------------------------------------------------------------------
# graphql-transport-ws


def test_ack_subscribe_next_complete(edge):
    async def main():
        c = await Client.open(edge.url)
        assert c.ws.subprotocol == TWS
        await c.init({"token": "anything"})
        await c.subscribe("a", SUB, {"c": "general"})
        await asyncio.to_thread(publish, edge, "chat.general", MESSAGE)
        assert await c.recv() == {"id": "a", "type": "next",
                                  "payload": {"data": {"messageAdded": {"id": "1", "text": "hi"}}}}
        # A client complete stops it: nothing more is delivered.
        await c.send({"type": "complete", "id": "a"})
        edge.wait_metric("herald_edge_subscriptions", lambda v: v == 0)
        await asyncio.to_thread(publish, edge, "chat.general", MESSAGE, False)
        await c.nothing()
        # Unknown ids are ignored; a completed id may be used again.
        await c.send({"type": "complete", "id": "never"})
        await c.subscribe("a", SUB, {"c": "general"})
        await asyncio.to_thread(publish, edge, "chat.general", MESSAGE)
        assert (await c.recv())["id"] == "a"
        await c.close()
    asyncio.run(main())


def test_ping_pong(edge):
    async def main():
        c = await Client.open(edge.url)
        await c.send({"type": "ping"})                      # before the ack too
        assert await c.recv() == {"type": "pong"}
        await c.init()
        await c.send({"type": "ping", "payload": {"n": 1}})
        assert await c.recv() == {"type": "pong", "payload": {"n": 1}}
        await c.send({"type": "pong"})                      # unsolicited: ignored
        await c.nothing()
        await c.close()
    asyncio.run(main())


def test_error_ends_the_operation_without_complete(edge):
    async def main():
        c = await Client.open(edge.url)
        await c.init()
        await c.subscribe("bad", "subscription { messageAdded(channel: 1) { id } }")
        msg = await c.recv()
        assert msg["type"] == "error" and msg["id"] == "bad"
        assert msg["payload"][0]["locations"] == [{"line": 1, "column": 38}]
        await c.nothing()                                   # no complete follows
        await c.subscribe("syntax", "subscription {")
        msg = await c.recv()
        assert msg["type"] == "error" and "Syntax Error" in msg["payload"][0]["message"]
        await c.subscribe("q", "query { channels }")
        msg = await c.recv()
        assert msg["type"] == "error" and "subscriptions only" in msg["payload"][0]["message"]
        # The failed id is free again.
        await c.subscribe("bad", SUB, {"c": "general"})
        await c.nothing()
        await c.close()
    asyncio.run(main())


INVALID = [
    "not json",
    "[]",
    "{}",
    {"type": 7},
    {"type": "bogus"},
    {"type": "next", "id": "1", "payload": {}},
    {"type": "connection_ack"},
    {"type": "error", "id": "1", "payload": []},
    {"type": "subscribe", "payload": {"query": SUB}},
    {"type": "subscribe", "id": "", "payload": {"query": SUB}},
    {"type": "subscribe", "id": "1"},
    {"type": "subscribe", "id": "1", "payload": {"query": 5}},
    {"type": "subscribe", "id": "1", "payload": {"query": SUB, "variables": [1]}},
    {"type": "subscribe", "id": "1", "payload": {"query": SUB, "operationName": 1}},
    {"type": "subscribe", "id": "1", "payload": {"query": SUB, "extensions": "x"}},
    {"type": "complete"},
    {"type": "ping", "payload": "x"},
]


@pytest.mark.parametrize("message", INVALID, ids=[json.dumps(m) for m in INVALID])
def test_invalid_message_closes_4400(edge, message):
    async def main():
        c = await Client.open(edge.url)
        await c.init()
        await c.send(message)
        assert await c.closed() == (4400, "Invalid message received")
    asyncio.run(main())


def test_binary_message_closes_4400(edge):
    async def main():
        c = await Client.open(edge.url)
        await c.send(b'{"type":"connection_init"}')
        assert (await c.closed())[0] == 4400
    asyncio.run(main())


def test_subscribe_before_ack_closes_4401(edge):
    async def main():
        c = await Client.open(edge.url)
        await c.subscribe("1", SUB, {"c": "general"})
        assert await c.closed() == (4401, "Unauthorized")
    asyncio.run(main())


def test_no_subprotocol_closes_4406(edge):
    async def main():
        c = await Client.open(edge.url, protocol=None)
        assert c.ws.subprotocol is None
        assert await c.closed() == (4406, "Subprotocol not acceptable")
    asyncio.run(main())


def test_unknown_subprotocol_is_refused_at_handshake(edge):
    raw = RawSocket(edge.port, protocol="graphql-sse, mqtt")
    assert raw.status == 400
    raw.close()
    raw = RawSocket(edge.port, protocol=TWS, path="/elsewhere")
    assert raw.status == 404
    raw.close()


def upgrade_status(port: int, origin: str | None, extra=None) -> tuple[int, bytes]:
    import http.client
    headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": TWS,
               **(extra or {})}
    if origin is not None:
        headers["Origin"] = origin
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/graphql", headers=headers)
    r = conn.getresponse()
    body = r.read() if r.status != 101 else b""
    conn.close()
    return r.status, body


def test_allow_origin(broker):
    edge = Edge(broker, "--allow-origin", "https://chat.example.com,http://localhost:3000")
    try:
        # Listed origins, and clients that send no Origin (not a browser
        # page), connect.
        for origin in ("https://chat.example.com", "http://localhost:3000",
                       "HTTPS://CHAT.EXAMPLE.COM", None):
            assert upgrade_status(edge.port, origin)[0] == 101, origin
        # Other pages get 403, and are counted; so does a page that names
        # the edge's own address without being listed (its Host header
        # proves nothing: a rebound DNS name can send any).
        for origin in ("https://evil.example.com", "https://chat.example.com:8443",
                       "http://chat.example.com", "null", f"http://127.0.0.1:{edge.port}"):
            status, body = upgrade_status(edge.port, origin)
            assert status == 403 and b"--allow-origin" in body, (origin, status, body)
        assert edge.metrics()["herald_edge_origins_rejected_total"] == 5

        async def main():
            c = await Client.open(edge.url, origin="https://chat.example.com")
            await c.init()
            await c.close()
            with pytest.raises(websockets.InvalidHandshake):
                await Client.open(edge.url, origin="https://evil.example.com")
        asyncio.run(main())
    finally:
        assert edge.stop() == 0, edge.text()


def test_any_origin_by_default(edge):
    assert upgrade_status(edge.port, "https://anywhere.example.org")[0] == 101


def test_http2_upgrade_gets_400(edge):
    # curl --http2 asks for h2c: it gets a reason, not a silent hang-up.
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=10)
    conn.request("GET", "/healthz", headers={"Connection": "Upgrade, HTTP2-Settings",
                                             "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAAQCAAAAAAIAAAAA"})
    r = conn.getresponse()
    assert r.status == 400
    assert b"use HTTP/1.1" in r.read()
    conn.close()


def test_init_timeout_closes_4408(broker):
    edge = Edge(broker, "--init-timeout-ms", "300")
    try:
        async def main():
            c = await Client.open(edge.url)
            start = time.monotonic()
            assert await c.closed() == (4408, "Connection initialisation timeout")
            return time.monotonic() - start
        waited = asyncio.run(main())
        assert waited >= 0.25
        # An initialised connection is not closed by the timer.
        async def stays():
            c = await Client.open(edge.url)
            await c.init()
            await c.nothing(0.6)
            await c.close()
        asyncio.run(stays())
    finally:
        assert edge.stop() == 0


def test_duplicate_id_closes_4409(edge):
    async def main():
        c = await Client.open(edge.url)
        await c.init()
        await c.subscribe("x", SUB, {"c": "general"})
        await c.subscribe("x", SUB, {"c": "other"})
        assert await c.closed() == (4409, "Subscriber for x already exists")
    asyncio.run(main())


def test_second_init_closes_4429(edge):
    async def main():
        c = await Client.open(edge.url)
        await c.init()
        await c.send({"type": "connection_init"})
        assert await c.closed() == (4429, "Too many initialisation requests")
    asyncio.run(main())


def test_invalid_utf8_and_fragments(edge):
    # A text frame that is not UTF-8 violates WebSocket itself: 1007.
    raw = RawSocket(edge.port)
    assert raw.status == 101
    raw.send_frame(0x1, b'{"type":"\xff"}')
    assert raw.recv_close()[0] == 1007
    raw.close()
    # A message sent in fragments is reassembled.
    raw = RawSocket(edge.port)
    raw.send_frame(0x1, b'{"type":"conn', fin=False)
    raw.send_frame(0x0, b'ection_init"}', fin=True)
    op, data = raw.recv_frame()
    assert op == 0x1 and json.loads(data) == {"type": "connection_ack"}
    raw.close()


def test_server_pings_idle_connections(broker):
    edge = Edge(broker, "--ping-interval", "1", "--ping-timeout", "1")
    try:
        raw = RawSocket(edge.port)
        raw.send_text({"type": "connection_init"})
        assert raw.recv_frame()[0] == 0x1               # the ack
        op, _ = raw.recv_frame()
        assert op == 0x9, "expected a WebSocket ping"
        # A client that never answers is dropped.
        with pytest.raises((EOFError, ConnectionError)):
            while True:
                op, _ = raw.recv_frame()
                if op == 0x8:
                    raise EOFError
        raw.close()
    finally:
        assert edge.stop() == 0


def test_healthz_and_metrics(edge):
    import urllib.request
    with urllib.request.urlopen(edge.http + "/healthz") as r:
        assert r.status == 200 and r.read() == b"ok\n"
    m = edge.metrics()
    for name in ("herald_edge_connections", "herald_edge_subscriptions", "herald_edge_topics",
                 "herald_edge_events_in_total", "herald_edge_deliveries_total",
                 "herald_edge_bytes_out_total", "herald_edge_slow_consumer_closes_total",
                 'herald_edge_closes_total{code="4400"}'):
        assert name in m
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(edge.http + "/nothing-here")
    assert info.value.code == 404


def test_close_codes_are_counted(edge):
    async def main():
        c = await Client.open(edge.url)
        await c.send("nonsense")
        await c.closed()
    asyncio.run(main())
    assert edge.metrics()['herald_edge_closes_total{code="4400"}'] == 1


# ---------------------------------------------------------------------------
# Legacy graphql-ws (subscriptions-transport-ws)


def test_legacy_session(broker):
    edge = Edge(broker, "--legacy-ka-ms", "200")
    try:
        async def main():
            c = await Client.open(edge.url, protocol=LEGACY)
            assert c.ws.subprotocol == LEGACY
            await c.send({"type": "connection_init", "payload": {}})
            assert await c.recv() == {"type": "connection_ack"}
            assert await c.recv() == {"type": "ka"}
            assert await c.recv(2) == {"type": "ka"}        # and again, periodically
            await c.subscribe("1", SUB, {"c": "general"})
            await asyncio.to_thread(publish, edge, "chat.general", MESSAGE)
            while (msg := await c.recv()) == {"type": "ka"}:
                pass
            assert msg == {"id": "1", "type": "data",
                           "payload": {"data": {"messageAdded": {"id": "1", "text": "hi"}}}}
            await c.send({"type": "stop", "id": "1"})
            while (msg := await c.recv()) == {"type": "ka"}:
                pass
            assert msg == {"type": "complete", "id": "1"}
            await c.send({"type": "connection_terminate"})
            assert (await c.closed())[0] == 1000
        asyncio.run(main())
    finally:
        assert edge.stop() == 0


def test_legacy_errors(broker):
    edge = Edge(broker, "--legacy-ka-ms", "0")
    try:
        async def main():
            c = await Client.open(edge.url, protocol=LEGACY)
            await c.send({"type": "connection_init"})
            assert await c.recv() == {"type": "connection_ack"}
            # A request error: data with errors, then complete.
            await c.subscribe("2", "subscription { nope }")
            msg = await c.recv()
            assert msg["type"] == "data" and msg["id"] == "2"
            assert "nope" in msg["payload"]["errors"][0]["message"]
            assert await c.recv() == {"type": "complete", "id": "2"}
            await c.send("not json")
            assert (await c.recv())["type"] == "connection_error"
            await c.send({"type": "wat", "id": "3"})
            assert await c.recv() == {"type": "error", "id": "3",
                                      "payload": {"message": "Invalid message type!"}}
            await c.send({"type": "start", "id": "4", "payload": {}})
            msg = await c.recv()
            assert msg["type"] == "error" and "query" in msg["payload"]["message"]
            # None of it closed the connection.
            await c.subscribe("5", SUB, {"c": "general"})
            await asyncio.to_thread(publish, edge, "chat.general", MESSAGE)
            assert (await c.recv())["id"] == "5"
            await c.close()
        asyncio.run(main())
    finally:
        assert edge.stop() == 0


def test_edge_exits_cleanly(broker):
    edge = Edge(broker)
    async def main():
        c = await Client.open(edge.url)
        await c.init()
        await c.subscribe("1", SUB, {"c": "general"})
        edge.wait_metric("herald_edge_subscriptions", lambda v: v == 1)
        return c
    asyncio.run(main())
    assert edge.stop() == 0
    assert "SIGTERM: shutting down" in edge.text()
