"""herald-edge with --tls-cert and --tls-key: subscriptions over wss://,
https for the HTTP endpoints, a clear answer to plain ws:// and http:// on
the TLS port, and clear errors for missing or mismatched files."""

import asyncio
import http.client
import socket
import ssl
import time
import urllib.request

import pytest
import websockets

import herald
from conftest import CHAT_SCHEMA, EDGE, Edge, make_cert, run
from wsutil import Client

SUB = "subscription($c: String!) { messageAdded(channel: $c) { id text } }"


@pytest.fixture(scope="module")
def certs(tls_cert, tmp_path_factory):
    return {"good": tls_cert, "other": make_cert(tmp_path_factory.mktemp("other"), "other")}


@pytest.fixture
def tls_edge(broker, certs):
    cert, key = certs["good"]
    edge = Edge(broker, "--tls-cert", cert, "--tls-key", key)
    yield edge
    assert edge.stop() == 0, edge.text()


def trusting(cert: str) -> ssl.SSLContext:
    """A client context that trusts cert (for a certificate other than the
    edge's; the edge's own is Edge.ssl_context)."""
    return ssl.create_default_context(cafile=cert)


def test_subscription_over_wss(broker, tls_edge):
    assert tls_edge.url.startswith("wss://")
    context = tls_edge.ssl_context

    async def main():
        c = await Client.open(tls_edge.url, ssl=context)
        await c.init()
        await c.subscribe("1", SUB, {"c": "tls"})

        # Publish until the edge's subscription at the broker is in place.
        async def publish():
            with herald.Publisher(broker.ingress) as pub:
                n = 0
                while True:
                    pub.publish("chat.tls", {"id": str(n), "text": "over TLS", "channel": "tls"})
                    n += 1
                    await asyncio.sleep(0.1)
        publisher = asyncio.create_task(publish())
        try:
            msg = await c.recv(10)
        finally:
            publisher.cancel()
        assert msg["type"] == "next" and msg["id"] == "1", msg
        assert msg["payload"]["data"]["messageAdded"]["text"] == "over TLS"
        await c.close()
    asyncio.run(main())

    with urllib.request.urlopen(tls_edge.http + "/healthz", context=context, timeout=10) as r:
        assert r.status == 200 and r.read().strip() == b"ok"


def test_http2_is_not_offered(tls_edge):
    # Browsers offered h2 would carry WebSockets in HTTP/2 streams, which
    # the edge does not speak: it must choose HTTP/1.1.
    context = tls_edge.ssl_context
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", tls_edge.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.selected_alpn_protocol() == "http/1.1"


def test_many_events_to_many_clients_over_wss(broker, tls_edge):
    # Enough data that TLS writes are partial and resumed: 20 clients,
    # 300 events of 2 KB each, all delivered in order.
    clients_n, events = 20, 300
    context = tls_edge.ssl_context

    async def main():
        clients = await asyncio.gather(*(Client.open(tls_edge.url, ssl=context)
                                         for _ in range(clients_n)))
        await asyncio.gather(*(c.init() for c in clients))
        await asyncio.gather(*(c.subscribe("s", SUB, {"c": "bulk"}) for c in clients))
        # A first event's arrival at every client shows the broker
        # subscription of each worker that holds one is in place; the
        # numbered events follow it.
        with herald.Publisher(broker.ingress) as pub:
            ready = set()
            while len(ready) < clients_n:
                pub.publish("chat.bulk", {"id": "ready", "text": "", "channel": "bulk"})
                for i, c in enumerate(clients):
                    try:
                        if i not in ready:
                            await c.recv(0.05)
                            ready.add(i)
                    except asyncio.TimeoutError:
                        pass
            for n in range(events):
                pub.publish("chat.bulk", {"id": str(n), "text": "x" * 2000, "channel": "bulk"})

        async def consume(c):
            n = 0
            while n < events:
                msg = await c.recv(30)
                got = msg["payload"]["data"]["messageAdded"]["id"]
                if got == "ready":
                    continue
                assert got == str(n), msg
                n += 1
        await asyncio.gather(*(consume(c) for c in clients))
        await asyncio.gather(*(c.close() for c in clients))
    asyncio.run(main())


def test_untrusted_certificate_is_refused_by_the_client(tls_edge, certs):
    # The client checks the edge's certificate: one it does not trust fails.
    async def main():
        with pytest.raises(ssl.SSLCertVerificationError):
            await Client.open(tls_edge.url, ssl=trusting(certs["other"][0]))
    asyncio.run(main())


def test_plain_websocket_on_the_tls_port_gets_400(tls_edge):
    # A client's handshake fails at once (lws answers in HTTP/1.0, which
    # python3-websockets does not parse; browsers report the 400).
    async def main():
        with pytest.raises(websockets.InvalidHandshake):
            await asyncio.wait_for(Client.open(f"ws://127.0.0.1:{tls_edge.port}/graphql"), 10)
    asyncio.run(main())
    conn = http.client.HTTPConnection("127.0.0.1", tls_edge.port, timeout=10)
    conn.request("GET", "/graphql", headers={
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "graphql-transport-ws"})
    r = conn.getresponse()
    assert r.status == 400
    assert b"connect with wss://" in r.read()
    conn.close()


def test_plain_http_on_the_tls_port_is_redirected(tls_edge):
    conn = http.client.HTTPConnection("127.0.0.1", tls_edge.port, timeout=10)
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    assert r.status == 301
    assert r.getheader("location", "").startswith(f"https://127.0.0.1:{tls_edge.port}/")
    conn.close()


def test_bad_handshakes_are_closed_and_the_edge_keeps_serving(tls_edge):
    # A TLS record that is not a ClientHello, a truncated one, and random
    # bytes: each gets a TLS alert or an HTTP error at once, and is closed
    # (a reset, when the edge closes with some of the bytes unread).
    for payload in (b"\x16\x03\x01\x00\x05hello", b"\x16\x03\x01\xff\xff" + bytes(3000),
                    bytes(range(256)) * 8):
        with socket.create_connection(("127.0.0.1", tls_edge.port), timeout=10) as s:
            s.sendall(payload)
            try:
                answer = s.recv(4096)
                assert answer[:1] == b"\x15" or answer.startswith(b"HTTP/1."), answer
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    # Meanwhile others are served.
    with urllib.request.urlopen(tls_edge.http + "/healthz", context=tls_edge.ssl_context,
                                timeout=10) as r:
        assert r.status == 200


def test_stalled_tls_handshake_is_timed_out(broker, certs):
    # A client that stops after the first byte of its handshake is closed
    # after --handshake-timeout (well before the default of 10 s, which
    # would time the socket out here), while others are served.
    cert, key = certs["good"]
    edge = Edge(broker, "--tls-cert", cert, "--tls-key", key, "--handshake-timeout", "1")
    try:
        with socket.create_connection(("127.0.0.1", edge.port), timeout=6) as idle:
            idle.sendall(b"\x16")
            started = time.monotonic()
            with urllib.request.urlopen(edge.http + "/healthz", context=edge.ssl_context,
                                        timeout=10) as r:
                assert r.status == 200
            try:
                while idle.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            assert time.monotonic() - started >= 0.5
    finally:
        assert edge.stop() == 0, edge.text()


def test_tls_files_errors(broker, certs, tmp_path):
    cert, key = certs["good"]
    other_key = certs["other"][1]
    base = [EDGE, "--schema", CHAT_SCHEMA, "--port", "0",
            "--broker", broker.egress]
    r = run(base + ["--tls-cert", cert], timeout=10)
    assert r.returncode == 2 and "--tls-cert and --tls-key go together" in r.stderr
    r = run(base + ["--tls-cert", str(tmp_path / "missing.crt"), "--tls-key", key], timeout=10)
    assert r.returncode == 1
    assert "cannot read the TLS certificate" in r.stderr and "missing.crt" in r.stderr
    r = run(base + ["--tls-cert", cert, "--tls-key", str(tmp_path / "missing.key")], timeout=10)
    assert r.returncode == 1 and "cannot read the TLS private key" in r.stderr
    # A key that is not the certificate's.
    r = run(base + ["--tls-cert", cert, "--tls-key", other_key], timeout=10)
    assert r.returncode == 1
    assert "key values mismatch" in r.stderr and "not a PEM certificate and its key" in r.stderr
