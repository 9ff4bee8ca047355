"""herald-edge's limits per client address: --max-connections-per-ip, and
--max-connects-per-ip-per-second with --connect-burst-per-ip. Beyond
either, the WebSocket upgrade is answered HTTP 429 (with Retry-After for
the rate) and counted in /metrics; other addresses are not affected; the
table of addresses stays bounded; with the defaults there is no limit.

Linux routes all of 127.0.0.0/8 to the loopback interface: a client
socket bound to 127.0.0.2 is another address to the edge, with no network
namespace needed.
"""

import socket
import time

import pytest
from conftest import Edge
from wsutil import RawSocket

OTHER = "127.0.0.2"


@pytest.fixture
def limited(broker, request):
    edge = Edge(broker, *request.param)
    yield edge
    assert edge.stop() == 0, edge.text()


def upgrade(edge, source=None, host="127.0.0.1"):
    return RawSocket(edge.port, source=source, host=host)


def close_all(edge, sockets):
    for s in sockets:
        s.close()
    edge.wait_metric("herald_edge_connections", lambda v: v == 0)


@pytest.mark.parametrize("limited", [("--max-connections-per-ip", "3")], indirect=True)
def test_connections_per_ip(limited):
    held = [upgrade(limited) for _ in range(3)]
    assert [s.status for s in held] == [101] * 3
    refused = upgrade(limited)
    assert refused.status == 429, refused.status_line
    assert refused.status_line.endswith(b"Too Many Requests")
    assert "retry-after" not in refused.headers      # no wait would tell when one closes
    assert b"--max-connections-per-ip" in refused.buf
    refused.close()
    # Another address has its own count.
    others = [upgrade(limited, source=OTHER) for _ in range(3)]
    assert [s.status for s in others] == [101] * 3
    m = limited.metrics()
    assert m["herald_edge_ip_connections_rejected_total"] == 1
    assert m["herald_edge_ip_addresses"] == 2
    assert m["herald_edge_connections_rejected_total"] == 0
    # Closing one makes room for one.
    held.pop().close()
    limited.wait_metric("herald_edge_connections", lambda v: v == 5)
    held.append(upgrade(limited))
    assert held[-1].status == 101
    assert upgrade(limited).status == 429
    close_all(limited, held + others)
    m = limited.wait_metric("herald_edge_ip_addresses", lambda v: v == 0)
    assert m == 0
    assert limited.metrics()["herald_edge_ip_connections_rejected_total"] == 2


@pytest.mark.parametrize("limited", [("--max-connects-per-ip-per-second", "1",
                                      "--connect-burst-per-ip", "3")], indirect=True)
def test_connect_rate_per_ip(limited):
    # The rate counts connects, not open connections: each closes at once.
    for _ in range(3):
        s = upgrade(limited)
        assert s.status == 101
        s.close()
    refused = upgrade(limited)
    assert refused.status == 429, refused.status_line
    assert b"--max-connects-per-ip-per-second" in refused.buf
    wait = int(refused.headers["retry-after"])
    assert wait == 1
    refused.close()
    # Refused, it took no token: still refused at once, and another
    # address has its own bucket.
    assert upgrade(limited).status == 429
    s = upgrade(limited, source=OTHER)
    assert s.status == 101
    s.close()
    time.sleep(wait)
    s = upgrade(limited)
    assert s.status == 101
    s.close()
    m = limited.metrics()
    assert m["herald_edge_ip_rate_limited_total"] == 2
    assert m["herald_edge_ip_connections_rejected_total"] == 0
    assert m["herald_edge_connections_total"] == 5


@pytest.mark.parametrize("limited", [("--max-connections", "4",
                                      "--max-connects-per-ip-per-second", "1",
                                      "--connect-burst-per-ip", "3")], indirect=True)
def test_table_is_bounded(limited):
    # Ten addresses each empty their bucket, which takes 3 s to fill up
    # again: the edge remembers at most --max-connections addresses with
    # no connection open, forgetting the least recently used.
    sources = [f"127.0.0.{i}" for i in range(2, 12)]
    start = time.monotonic()
    for source in sources:
        for _ in range(3):
            s = upgrade(limited, source=source)
            assert s.status == 101
            s.close()
        limited.wait_metric("herald_edge_connections", lambda v: v == 0)
    print(f"\n{len(sources) * 3} connects in {time.monotonic() - start:.2f} s")
    m = limited.metrics()
    assert m["herald_edge_ip_addresses"] <= 4
    assert m["herald_edge_ip_addresses_forgotten_total"] >= 1
    # The most recent is remembered: its bucket is still empty.
    assert upgrade(limited, source=sources[-1]).status == 429


@pytest.mark.parametrize("limited", [("--max-connections-per-ip", "1")], indirect=True)
def test_failed_upgrades_hold_no_slot(limited):
    # An upgrade that lws fails after the edge's check (no
    # Sec-WebSocket-Key) gives its slot back when it closes, as does one
    # that is closed at once (4406: no subprotocol offered), once each.
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", limited.port), timeout=10) as s:
            s.sendall(b"GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                      b"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n")
            assert not s.recv(4096).startswith(b"HTTP/1.1 101")
        # Its place is the connection's until the edge has seen it close,
        # which may be another worker's turn than the next connection's.
        assert limited.wait_metric("herald_edge_ip_addresses", lambda v: v == 0) == 0
        bare = RawSocket(limited.port, protocol=None)
        assert bare.status == 101
        assert bare.recv_close()[0] == 4406
        bare.close()
        assert limited.wait_metric("herald_edge_ip_addresses", lambda v: v == 0) == 0
    s = upgrade(limited)
    assert s.status == 101
    assert upgrade(limited).status == 429
    close_all(limited, [s])
    assert limited.wait_metric("herald_edge_ip_addresses", lambda v: v == 0) == 0


def test_defaults_have_no_limit_per_address(edge):
    # The suite and the benchmarks open thousands of connections from
    # 127.0.0.1: by default none is refused for its address.
    held = [upgrade(edge) for _ in range(100)]
    assert {s.status for s in held} == {101}
    for _ in range(50):
        s = upgrade(edge)
        assert s.status == 101
        s.close()
    m = edge.metrics()
    assert m["herald_edge_ip_addresses"] == 0
    assert m["herald_edge_ip_connections_rejected_total"] == 0
    assert m["herald_edge_ip_rate_limited_total"] == 0
    close_all(edge, held)


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback (::1)")
@pytest.mark.parametrize("limited", [("--host", "", "--max-connections-per-ip", "1")],
                         indirect=True)
def test_ipv6_peers(limited):
    # Listening on every interface, the edge sees IPv4 clients as
    # IPv4-mapped IPv6 addresses: ::1 and 127.0.0.1 are two addresses.
    v4 = upgrade(limited)
    assert v4.status == 101
    assert upgrade(limited).status == 429
    v6 = upgrade(limited, host="::1")
    assert v6.status == 101
    assert upgrade(limited, host="::1").status == 429
    assert limited.metrics()["herald_edge_ip_addresses"] == 2
    close_all(limited, [v4, v6])
