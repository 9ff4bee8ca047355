"""herald-broker and herald-edge under valgrind, through a whole session:
clients of both protocols, plain and over TLS, subscribe; events flow
from the Python binding; bad input and abrupt disconnects; then SIGTERM.
Each program must exit 0, with no memory errors and nothing leaked."""

import asyncio
import shutil
import socket

import pytest
import zmq

import herald
from conftest import SANITIZED, Broker, Edge
from wsutil import LEGACY, Client, RawSocket

pytestmark = pytest.mark.skipif(
    SANITIZED or not shutil.which("valgrind"),
    reason="valgrind does not run sanitizer builds" if SANITIZED else "valgrind missing")

# --error-exitcode turns any memory error, or a definite or indirect leak
# found at exit, into the exit status.
VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--quiet"]
SUB = "subscription($c: String!) { messageAdded(channel: $c) { id text author { name } } }"


class ValgrindBroker(Broker):
    name = "broker under valgrind"
    wrapper = VALGRIND
    launch_timeout = 60.0


class ValgrindEdge(Edge):
    name = "edge under valgrind"
    wrapper = VALGRIND
    launch_timeout = 60.0


def test_broker_and_edge_are_valgrind_clean(tls_cert):
    cert, key = tls_cert
    broker = ValgrindBroker()
    edge = tls_edge = None
    try:
        # Under valgrind, connections open slowly, and the clients are all
        # open before they send connection_init: more time than the
        # default 3 s for it. The plain edge runs its workers (a supervisor
        # and the workers it forks, each under valgrind); the TLS edge one.
        slow = ("--init-timeout-ms", "30000")
        edge = ValgrindEdge(broker, *slow)
        tls_edge = ValgrindEdge(broker, *slow, "--workers", "1", "--tls-cert", str(cert),
                                "--tls-key", str(key))
        context = tls_edge.ssl_context

        async def main():
            clients = [await Client.open(edge.url),
                       await Client.open(edge.url, protocol=LEGACY),
                       await Client.open(tls_edge.url, ssl=context)]
            for c in clients:
                await c.init()
            await clients[0].subscribe("a", SUB, {"c": "vg"})
            await clients[1].send({"id": "b", "type": "start",
                                   "payload": {"query": SUB, "variables": {"c": "vg"}}})
            await clients[2].subscribe("c", SUB, {"c": "vg"})
            # A bad document gets an error, and the connection stays.
            await clients[0].subscribe("bad", "subscription { nope }")
            assert (await clients[0].recv(30))["type"] == "error"

            # Publish until every client has an event (the edges subscribe
            # at the broker as their clients do), then a few more.
            async def wait_next(c, kind):
                while True:
                    msg = await c.recv(60)
                    if msg["type"] == kind:
                        return msg
            with herald.Publisher(broker.ingress) as pub:
                got = [asyncio.ensure_future(wait_next(c, k))
                       for c, k in zip(clients, ("next", "data", "next"))]
                n = 0
                while not all(g.done() for g in got):
                    pub.publish("chat.vg", {"id": str(n), "text": "valgrind", "channel": "vg",
                                            "author": {"name": "vg"}})
                    n += 1
                    await asyncio.wait(got, timeout=0.5)
                for g in got:
                    assert g.result()["payload"]["data"]["messageAdded"]["text"] == "valgrind"
                # Hostile msgpack, from a raw ZeroMQ publisher (libherald
                # checks what it sends): the edges skip it, and the next
                # event still arrives.
                raw_pub = zmq.Context.instance().socket(zmq.PUB)
                raw_pub.connect(broker.xsub)
                await asyncio.sleep(1)
                raw_pub.send_multipart([b"chat.vg", b"\xdd\xff\xff\xff\xff"])
                raw_pub.send_multipart([b"chat.vg", b"\x81\xa4text\xc4\x00"])
                raw_pub.close(linger=1000)
                pub.publish("chat.vg", {"id": "after", "text": "after", "channel": "vg",
                                        "author": {"name": "vg"}})
                for c in clients[1:]:
                    while True:
                        msg = await c.recv(60)
                        data = (msg.get("payload") or {}).get("data") or {}
                        if (data.get("messageAdded") or {}).get("id") == "after":
                            break
            # Malformed input closes one client with 4400.
            await clients[0].send("{not json")
            assert (await clients[0].closed(30))[0] == 4400
            for c in clients[1:]:
                await c.ws.close()
        asyncio.run(main())

        # Abrupt ends: a half handshake, and a TLS client that vanishes.
        raw = RawSocket(edge.port)
        raw.send_text('{"type":"connection_init"}')
        raw.close()
        with socket.create_connection(("127.0.0.1", tls_edge.port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01\x00")
    finally:
        codes = {}
        for label, service in (("the TLS edge", tls_edge), ("the edge", edge), ("the broker", broker)):
            if service:
                codes[label] = (service.stop(), service.text())
    for name, (code, text) in codes.items():
        assert code == 0, f"{name} exited {code}:\n{text}"
