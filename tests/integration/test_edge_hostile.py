"""herald-edge under hostile or unlucky conditions: bursts from the broker,
a stalled edge, oversized headers, clients that stop reading, frames that
break RFC 6455, numbers past 64 bits, subscribe floods, and the legacy
protocol's handshake. Each limit is a flag with a documented default."""

import asyncio
import json
import signal
import socket
import struct
import time
import urllib.error
import urllib.request

import pytest

import herald
from conftest import SANITIZED, Broker, Edge
from wsutil import LEGACY, Client, RawSocket

SUB = "subscription($c: String!) { messageAdded(channel: $c) { id text } }"


def _publish(endpoint: str, topic: str, events) -> None:
    with herald.Publisher(endpoint, send_timeout=None, linger=None) as pub:
        for event in events:
            pub.publish(topic, event)


# ---------------------------------------------------------------------------
# Bursts from the broker


def test_burst_reaches_prompt_readers_and_a_non_reader_is_still_closed(broker):
    """Events queued while the edge could not read (here it is stopped, as
    a broker restart stalls it) arrive at once. Clients that read get all
    of them and none is closed; a client that reads nothing is closed
    4503 once its queue is full, with the edge's memory bounded."""
    # The default queue bounds (1024 messages, 1 MiB). The stalled client
    # takes a while to read its way to its close frame once it reads again.
    edge = Edge(broker, "--close-timeout", "60")
    burst = 5000
    try:
        async def main():
            readers = [await Client.open(edge.url) for _ in range(4)]
            stalled = await Client.open(edge.url, max_queue=1, read_limit=1024)
            for c in readers + [stalled]:
                await c.init()
                await c.subscribe("b", SUB, {"c": "burst"})
            edge.wait_metric("herald_edge_subscriptions", lambda v: v == 5)
            stalled.ws.transport.pause_reading()

            edge.signal_all(signal.SIGSTOP)
            try:
                await asyncio.to_thread(_publish, broker.ingress, "chat.burst",
                                        ({"id": str(n), "text": f"burst {n}"}
                                         for n in range(burst)))
                # Everything is at the broker, or in the edge's socket.
                broker.wait_stats(lambda s: s["messages_forwarded"] >= burst)
            finally:
                edge.signal_all(signal.SIGCONT)

            async def consume(c, first, count):
                for n in range(first, first + count):
                    msg = await c.recv(30)
                    assert msg["type"] == "next", msg
                    assert msg["payload"]["data"]["messageAdded"]["id"] == str(n), msg
            await asyncio.gather(*(consume(c, 0, burst) for c in readers))
            m = edge.metrics()
            print(f"\n{burst} events at once: {m['herald_edge_deliveries_total']:.0f} deliveries, "
                  f"{m['herald_edge_slow_consumer_closes_total']:.0f} slow-consumer closes")
            assert m["herald_edge_slow_consumer_closes_total"] == 0
            assert m["herald_edge_connections"] == 5

            # Now the stalled client's kernel buffers and queue fill: it is
            # closed, and the readers keep receiving, in order.
            rss_before = edge.status_kb("VmRSS", 0)
            more, text = 3000, "y" * 4000        # 12 MB for each client

            def publish_more():
                with herald.Publisher(broker.ingress) as pub:
                    for n in range(burst, burst + more):
                        pub.publish("chat.burst", {"id": str(n), "text": text})
                        if n % 50 == 49:
                            time.sleep(0.01)     # a pace the readers follow
            task = asyncio.create_task(asyncio.to_thread(publish_more))

            async def watch_stalled():
                # Once the edge gives up on it, the stalled client reads
                # again: it drains what the sockets held, then finds the close
                # (within --close-timeout, after which the edge drops it).
                while (await asyncio.to_thread(edge.metrics))[
                        "herald_edge_slow_consumer_closes_total"] < 1:
                    await asyncio.sleep(0.05)
                stalled.ws.transport.resume_reading()
                return await stalled.closed(30)
            watcher = asyncio.create_task(watch_stalled())
            await asyncio.gather(*(consume(c, burst, more) for c in readers))
            await task
            assert await watcher == (4503, "Slow consumer: outbound queue full")
            assert edge.metrics()["herald_edge_slow_consumer_closes_total"] == 1
            growth = edge.status_kb("VmRSS", 0) - rss_before
            print(f"edge RSS grew by {growth} KiB while 12 MB went to a stalled client")
            if not SANITIZED:
                assert growth < 8 * 1024, f"edge RSS grew by {growth} KiB"
            for c in readers:
                await c.close()
        asyncio.run(main())
    finally:
        edge.signal_all(signal.SIGCONT)
        assert edge.stop() == 0, edge.text()


# ---------------------------------------------------------------------------
# The upstream queue


def test_upstream_hwm_bounds_edge_memory_and_the_broker_counts_drops():
    """While the edge is stalled, events wait at the broker, not in the
    edge: with --upstream-hwm the edge holds no more than that many (plus
    libherald's own small queue) at a time, and what the broker cannot hold
    either it drops and counts in messages_dropped."""
    broker = Broker("--egress-hwm", "100")
    edge = None
    try:
        edge = Edge(broker, "--upstream-hwm", "10")
        count, text = 3000, "z" * 25_000         # 75 MB in all

        async def main():
            c = await Client.open(edge.url)
            await c.init()
            await c.subscribe("h", "subscription { messageAdded(channel: \"hwm\") { id } }")
            edge.wait_metric("herald_edge_subscriptions", lambda v: v == 1)
            broker.wait_stats(lambda s: s["subscriptions"] >= 1)
            peak_before = edge.status_kb("VmHWM", 0)
            edge.signal_all(signal.SIGSTOP)
            try:
                await asyncio.to_thread(_publish, broker.ingress, "chat.hwm",
                                        ({"id": str(n), "text": text} for n in range(count)))
                # (A dropped message counts as forwarded too: the broker still
                # sends it to any other subscriber with room.)
                stats = broker.wait_stats(lambda s: s["messages_forwarded"] >= count, 60)
            finally:
                edge.signal_all(signal.SIGCONT)
            ids = []
            with pytest.raises(asyncio.TimeoutError):
                while True:
                    msg = await c.recv(2)
                    ids.append(int(msg["payload"]["data"]["messageAdded"]["id"]))
            m = edge.metrics()
            growth = edge.status_kb("VmHWM", 0) - peak_before
            print(f"\n{count} events of 25 KB while the edge was stopped: the broker counted "
                  f"{stats['messages_dropped']} drops, the edge received {len(ids)}; "
                  f"the edge's peak RSS grew by {growth} KiB")
            assert stats["messages_dropped"] >= 1
            assert 0 < len(ids) < count and ids == sorted(ids)
            assert m["herald_edge_events_in_total"] == len(ids)
            if not SANITIZED:
                # Unbounded, the edge would have taken all 75 MB the broker
                # and the sockets held; bounded, about a thousand events.
                assert growth < 48 * 1024, f"the edge's peak RSS grew by {growth} KiB"
            await c.close()
        asyncio.run(main())
    finally:
        if edge:
            edge.signal_all(signal.SIGCONT)
            assert edge.stop() == 0, edge.text()
        assert broker.stop() == 0, broker.text()


# ---------------------------------------------------------------------------
# The broker link


def test_broker_link_is_logged_and_a_gauge(tmp_path):
    # IPC endpoints: a restarted broker gets its addresses back for sure
    # (a TCP port may be taken by another program meanwhile).
    ipc = [a for role in Broker.ROLES for a in (f"--{role}", f"ipc://{tmp_path}/{role}")]
    broker = Broker(*ipc)
    edge = None
    try:
        edge = Edge(broker)
        assert edge.wait_metric("herald_edge_broker_connected", lambda v: v == 1) == 1
        up = f"connected to the broker at {broker.egress}"
        deadline = time.monotonic() + 10
        while up not in edge.text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert up in edge.text()
        broker.stop(signal.SIGKILL)
        assert edge.wait_metric("herald_edge_broker_connected", lambda v: v == 0) == 0
        assert edge.metrics()["herald_edge_broker_connected"] == 0
        down = f"the broker link to {broker.egress} is down"
        deadline = time.monotonic() + 10
        while down not in edge.text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert down in edge.text()
        broker.start({role: 0 for role in Broker.ROLES})     # the IPC flags win
        assert edge.wait_metric("herald_edge_broker_connected", lambda v: v == 1) == 1
        back = f"the broker link to {broker.egress} is back after"
        deadline = time.monotonic() + 10
        while back not in edge.text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert back in edge.text()

        # And events flow again.
        async def main():
            c = await Client.open(edge.url)
            await c.init()
            await c.subscribe("l", SUB, {"c": "link"})
            edge.wait_metric("herald_edge_subscriptions", lambda v: v == 1)
            broker.wait_stats(lambda s: s["subscriptions"] >= 1)
            await asyncio.to_thread(_publish, broker.ingress, "chat.link",
                                    [{"id": "1", "text": "back"}])
            assert (await c.recv())["payload"]["data"]["messageAdded"]["text"] == "back"
            await c.close()
        asyncio.run(main())
    finally:
        if edge:
            assert edge.stop() == 0, edge.text()
        assert broker.stop() == 0, broker.text()


def test_no_broker_at_start_is_logged(broker):
    edge = Edge(broker, "--broker", "tcp://127.0.0.1:1")
    try:
        deadline = time.monotonic() + 10
        while "no broker at" not in edge.text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "no broker at tcp://127.0.0.1:1 yet" in edge.text()
        assert edge.metrics()["herald_edge_broker_connected"] == 0
    finally:
        assert edge.stop() == 0, edge.text()


# ---------------------------------------------------------------------------
# HTTP request headers


def _handshake(port: int, extra: str = "", path: str = "/graphql", upgrade: bool = True) -> bytes:
    """Sends one request with extra header lines; returns the response head
    (or b"" if the edge closed without a word)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if upgrade:
        lines += ["Upgrade: websocket", "Connection: Upgrade",
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
                  "Sec-WebSocket-Protocol: graphql-transport-ws"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode())
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = s.recv(65536)
                if not chunk:
                    break
                head += chunk
        except ConnectionResetError:
            pass
    return head


def test_large_headers_get_431(broker):
    edge = Edge(broker)
    try:
        # A 3,981-byte cookie (a few session cookies) is fine by default.
        head = _handshake(edge.port, f"Cookie: s={'c' * 3979}\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head[:200]
        # Over --max-header-bytes (16384): 431, for upgrades and plain requests.
        for upgrade, path in ((True, "/graphql"), (False, "/healthz")):
            head = _handshake(edge.port, f"Cookie: s={'c' * 20000}\r\n", path, upgrade)
            assert head.split(b"\r\n")[0].split()[1] == b"431", head[:200]
        # Many headers that together go over it.
        many = "".join(f"X-Forwarded-For: {'1' * 1000}\r\n" for _ in range(20))
        head = _handshake(edge.port, many)
        assert head.split(b"\r\n")[0].split()[1] == b"431", head[:200]
        assert edge.metrics()["herald_edge_headers_too_large_total"] == 3
    finally:
        assert edge.stop() == 0, edge.text()


def test_max_header_bytes_flag(broker):
    edge = Edge(broker, "--max-header-bytes", "2048")
    try:
        assert _handshake(edge.port, f"Cookie: s={'c' * 1500}\r\n").startswith(b"HTTP/1.1 101")
        head = _handshake(edge.port, f"Cookie: s={'c' * 3000}\r\n")
        assert head.split(b"\r\n")[0].split()[1] == b"431", head[:200]
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(urllib.request.Request(
                edge.http + "/metrics", headers={"Cookie": "c" * 3000}), timeout=10)
        assert err.value.code == 431
    finally:
        assert edge.stop() == 0, edge.text()


# ---------------------------------------------------------------------------
# Closing


def test_a_non_reading_slow_consumer_is_freed_within_the_close_timeout(broker):
    """A slow consumer that reads nothing never takes its close frame: the
    edge drops it after --close-timeout, rather than keeping its socket
    until the ping timeout (here 10 minutes)."""
    edge = Edge(broker, "--close-timeout", "1", "--ping-interval", "300", "--ping-timeout", "300",
                "--max-queue-bytes", "300000", "--max-result-bytes", "65536")
    try:
        raw = RawSocket(edge.port)
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.send_text({"type": "connection_init"})
        assert raw.recv_frame()[0] == 0x1
        raw.send_text({"type": "subscribe", "id": "1",
                       "payload": {"query": SUB, "variables": {"c": "stall"}}})
        edge.wait_metric("herald_edge_subscriptions", lambda v: v == 1)
        with herald.Publisher(broker.ingress) as pub:
            n = 0
            while edge.metrics()["herald_edge_slow_consumer_closes_total"] < 1:
                for _ in range(50):
                    pub.publish("chat.stall", {"id": str(n), "text": "s" * 8000})
                    n += 1
                time.sleep(0.05)
                assert n < 200_000, "the client was never closed"
        # It never reads: its descriptor is gone within the close timeout.
        assert edge.wait_metric("herald_edge_connections", lambda v: v == 0, timeout=30) == 0
        assert edge.metrics()["herald_edge_subscriptions"] == 0
        raw.close()
    finally:
        assert edge.stop() == 0, edge.text()


def test_close_frame_of_one_byte_closes_1002(edge):
    raw = RawSocket(edge.port)
    raw.send_text({"type": "connection_init"})
    assert raw.recv_frame()[0] == 0x1
    raw.send_frame(0x8, b"\x03")
    assert raw.recv_close() == (1002, "Invalid close frame")
    raw.close()
    # An empty close and a proper one are answered as usual.
    for body in (b"", struct.pack(">H", 1000) + b"bye"):
        raw = RawSocket(edge.port)
        raw.send_frame(0x8, body)
        code, _ = raw.recv_close()
        assert code == (1005 if not body else 1000)
        raw.close()
    assert edge.metrics()['herald_edge_closes_total{code="1002"}'] == 1


class UnmaskedSocket(RawSocket):
    """Sends frames without a mask, as no client may (RFC 6455 5.1); over
    TLS when given a context."""

    def __init__(self, port, context=None):
        if context is None:
            super().__init__(port)
            return
        # RawSocket's handshake, over a TLS socket.
        plain = socket.create_connection
        socket.create_connection = lambda *a, **k: context.wrap_socket(
            plain(*a, **k), server_hostname="127.0.0.1")
        try:
            super().__init__(port)
        finally:
            socket.create_connection = plain

    def send_unmasked(self, opcode, payload):
        self.sock.sendall(bytes([0x80 | opcode, len(payload)]) + payload)


@pytest.mark.parametrize("opcode,payload", [(0x1, b'{"type":"ping"}'), (0x9, b"hi")],
                         ids=["text", "ping"])
def test_unmasked_client_frames_close_1002(edge, opcode, payload):
    raw = UnmaskedSocket(edge.port)
    raw.send_text({"type": "connection_init"})
    assert raw.recv_frame()[0] == 0x1
    raw.send_unmasked(opcode, payload)
    # A pong for the ping may come first: lws answers pings by itself.
    assert raw.recv_close() == (1002, "Unmasked frame")
    raw.close()
    assert edge.wait_metric('herald_edge_closes_total{code="1002"}', lambda v: v >= 1) >= 1


def test_unmasked_frame_over_tls_closes_1002(broker, tls_cert):
    edge = Edge(broker, "--tls-cert", tls_cert[0], "--tls-key", tls_cert[1])
    try:
        raw = UnmaskedSocket(edge.port, edge.ssl_context)
        assert raw.status == 101
        raw.send_text({"type": "connection_init"})
        assert raw.recv_frame()[0] == 0x1
        # A masked message first: only the unmasked one is refused.
        raw.send_text({"type": "ping"})
        assert json.loads(raw.recv_frame()[1]) == {"type": "pong"}
        raw.send_unmasked(0x1, b'{"type":"ping"}')
        assert raw.recv_close() == (1002, "Unmasked frame")
        raw.close()
    finally:
        assert edge.stop() == 0, edge.text()


# ---------------------------------------------------------------------------
# Client messages


def test_integers_past_64_bits_are_valid_json(broker, tmp_path):
    schema = tmp_path / "count.graphql"
    schema.write_text('type Query { x: Int }\ntype Count { n: Int }\n'
                      'type Subscription { count(n: Int!): Count @topic(name: "count.{n}") }\n')
    edge = Edge(broker, schema=schema)
    try:
        async def main():
            c = await Client.open(edge.url)
            await c.init()
            await c.send('{"type":"ping","payload":{"big":18446744073709551616}}')
            assert (await c.recv())["type"] == "pong"
            # Where an Int is needed, GraphQL's coercion refuses it.
            await c.send('{"type":"subscribe","id":"1","payload":{"query":'
                         '"subscription($n: Int!) { count(n: $n) { n } }",'
                         '"variables":{"n":18446744073709551616}}}')
            msg = await c.recv()
            assert msg["type"] == "error" and msg["id"] == "1", msg
            assert "Int" in json.dumps(msg["payload"]), msg
            # The connection is still open, and takes a valid subscription.
            await c.subscribe("2", "subscription { count(n: 3) { n } }")
            await c.nothing()
            await c.close()
        asyncio.run(main())
    finally:
        assert edge.stop() == 0, edge.text()


def test_legacy_start_before_init_closes_4401(edge):
    async def main():
        c = await Client.open(edge.url, protocol=LEGACY)
        await c.subscribe("1", SUB, {"c": "early"})
        assert await c.closed() == (4401, "Unauthorized")
    asyncio.run(main())
    # Nothing was started, so nothing was subscribed.
    assert edge.metrics()["herald_edge_subscriptions"] == 0
    assert edge.metrics()['herald_edge_closes_total{code="4401"}'] == 1


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", LEGACY])
def test_subscribe_rate_limit(broker, protocol):
    edge = Edge(broker, "--max-subscribes-per-second", "1", "--subscribe-burst", "3",
                "--legacy-ka-ms", "0")
    try:
        async def main():
            c = await Client.open(edge.url, protocol=protocol)
            await c.init()
            for i in range(3):
                await c.subscribe(str(i), SUB, {"c": "rate"})
            edge.wait_metric("herald_edge_subscriptions", lambda v: v == 3)
            # The 4th in the same second is refused with an error for its id,
            # and nothing is prepared for it.
            await c.subscribe("3", SUB, {"c": "rate"})
            msg = await c.recv()
            errors = msg["payload"] if protocol != LEGACY else msg["payload"]["errors"]
            assert msg["id"] == "3" and msg["type"] == ("error" if protocol != LEGACY else "data")
            assert "too many subscribe requests" in errors[0]["message"]
            if protocol == LEGACY:
                assert await c.recv() == {"type": "complete", "id": "3"}
            m = edge.metrics()
            assert m["herald_edge_subscriptions"] == 3
            assert m["herald_edge_subscribes_rate_limited_total"] == 1
            # A client that goes on flooding is closed.
            for i in range(4, 20):
                await c.subscribe(str(i), SUB, {"c": "rate"})
            assert await c.closed() == (4429, "Too many subscribe requests")
        asyncio.run(main())
    finally:
        assert edge.stop() == 0, edge.text()


def test_max_fields(broker):
    edge = Edge(broker, "--max-fields", "3")
    try:
        async def main():
            c = await Client.open(edge.url)
            await c.init()
            await c.subscribe("1", "subscription { messageAdded(channel: \"f\") "
                                   "{ id text author { name } } }")
            msg = await c.recv()
            assert msg["type"] == "error" and msg["id"] == "1", msg
            assert "too many fields" in msg["payload"][0]["message"], msg
            await c.subscribe("2", "subscription { messageAdded(channel: \"f\") { id text } }")
            await c.nothing()
            await c.close()
        asyncio.run(main())
    finally:
        assert edge.stop() == 0, edge.text()


def test_new_flags_are_documented_and_checked():
    from conftest import CHAT_SCHEMA, EDGE, run
    help_text = run([EDGE, "--help"]).stdout
    for flag, bad in (("--upstream-hwm", "0"), ("--max-header-bytes", "100"),
                      ("--close-timeout", "0"), ("--max-subscribes-per-second", "0"),
                      ("--subscribe-burst", "x"), ("--max-fields", "-1")):
        assert flag in help_text
        r = run([EDGE, "--schema", CHAT_SCHEMA, flag, bad])
        assert r.returncode == 2 and flag in r.stderr, (flag, r.stderr)
