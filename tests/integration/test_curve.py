"""CURVE on every broker endpoint, and the clients that use it: keys made by
`herald keygen`, a broker with --curve-secret and an allowlist per side,
and libherald (through ctypes), the Python and Node bindings, the herald
CLI (flags and environment) and herald-edge, each with the right keys, a
wrong key, another side's key and none. Every refusal must be counted in
`herald stats`."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from conftest import BROKER, CLI, LIBRARY, ROOT, SANITIZED, Broker, Edge, c_env, py_env, run
from wsutil import Client

SUB = "subscription($c: String!) { messageAdded(channel: $c) { id text } }"


class Keys:
    """Certificates made with `herald keygen` in a temporary directory: the
    broker's pair, a publisher's, a subscriber's (the edge's), and one the
    broker does not know; pubs/ and subs/ are the broker's allowlists."""

    def __init__(self, root) -> None:
        self.root = root
        for name in ("broker", "pub", "sub", "stranger"):
            out = run([CLI, "keygen", root / name], check=True)
            assert len(out.stdout.strip()) == 40, out.stdout
        self.pubs, self.subs = root / "pubs", root / "subs"
        self.pubs.mkdir()
        self.subs.mkdir()
        shutil.copy(root / "pub", self.pubs / "pub")
        shutil.copy(root / "sub", self.subs / "sub")

    def public(self, name: str) -> str:
        return str(self.root / name)

    def secret(self, name: str) -> str:
        return str(self.root / f"{name}_secret")

    def flags(self, name: str) -> list:
        return ["--curve-server", self.public("broker"), "--curve-cert", self.secret(name)]


class CurveBroker(Broker):
    """A broker with CURVE on, whose stats are read with the subscriber's key."""

    def __init__(self, keys: Keys, *args: str) -> None:
        self.keys = keys
        super().__init__("--curve-secret", keys.secret("broker"), "--curve-publishers",
                         str(keys.pubs), "--curve-subscribers", str(keys.subs), *args)

    def stats(self) -> dict:
        out = run([CLI, "stats", "-e", self.endpoints["stats"], *self.keys.flags("sub")],
                  check=True, timeout=10)
        return json.loads(out.stdout)


@pytest.fixture
def keys(tmp_path):
    return Keys(tmp_path)


@pytest.fixture
def cbroker(keys):
    b = CurveBroker(keys)
    yield b
    rc = b.stop()
    assert rc == 0, "broker exited with %d:\n%s" % (rc, b.text())


def sub_cli(broker, *args, env=None):
    """herald sub for one event on curve.cli, started and given time to be
    confirmed."""
    proc = subprocess.Popen([str(CLI), "sub", "-e", broker.egress, "-n", "1", "-t", "10000", "-v",
                             *[str(a) for a in args], "curve.cli"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or c_env())
    return proc


def wait_line(proc, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        if text in line:
            return seen
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no {text!r} in: {seen}")


# ---------------------------------------------------------------------------
# herald keygen and the broker's start


def test_keygen_writes_a_zcert_pair_and_never_overwrites(tmp_path):
    name = tmp_path / "edge"
    out = run([CLI, "keygen", name], check=True)
    key = out.stdout.strip()
    public, secret = name.read_text(), (tmp_path / "edge_secret").read_text()
    assert f'public-key = "{key}"' in public and "secret-key" not in public
    assert f'public-key = "{key}"' in secret and "secret-key" in secret
    assert stat.S_IMODE(os.stat(tmp_path / "edge_secret").st_mode) == 0o600
    again = run([CLI, "keygen", name])
    assert again.returncode == 1 and "not overwritten" in again.stderr
    assert name.read_text() == public
    # A stale secret file alone is not overwritten either, nor is NAME left behind.
    (tmp_path / "other_secret").write_text("mine")
    again = run([CLI, "keygen", tmp_path / "other"])
    assert again.returncode == 1 and not (tmp_path / "other").exists()
    assert (tmp_path / "other_secret").read_text() == "mine"
    assert run([CLI, "keygen"]).returncode == 2


def test_broker_refuses_to_start_without_both_dirs(keys):
    base = [BROKER, "--egress", "tcp://127.0.0.1:0"]
    out = run([*base, "--curve-secret", keys.secret("broker"), "--curve-publishers", keys.pubs])
    assert out.returncode == 2
    assert "--curve-secret needs --curve-publishers DIR and --curve-subscribers DIR" in out.stderr
    out = run([*base, "--curve-publishers", keys.pubs, "--curve-subscribers", keys.subs])
    assert out.returncode == 2 and "need --curve-secret" in out.stderr
    out = run([*base, "--curve-secret", keys.secret("broker"), "--curve-publishers", keys.pubs,
               "--curve-subscribers", keys.root / "missing"])
    assert out.returncode == 1
    assert f"--curve-subscribers {keys.root / 'missing'}: No such file or directory" in out.stderr
    # A public certificate is no key pair (zcert_load would take NAME_secret
    # beside NAME, so this one has none).
    out = run([*base, "--curve-secret", keys.pubs / "pub", "--curve-publishers", keys.pubs,
               "--curve-subscribers", keys.subs], timeout=10)
    assert out.returncode == 1 and "holds no secret key" in out.stderr


def test_broker_logs_the_allowlists(cbroker):
    text = cbroker.text()
    assert "--curve-publishers" in text and "1 key allowed to publish" in text
    assert "1 key allowed to subscribe" in text and "CURVE on every endpoint" in text
    assert cbroker.stats()["curve"] is True


# ---------------------------------------------------------------------------
# The CLI


def test_cli_right_keys_deliver_with_flags_and_env(cbroker, keys):
    sub = sub_cli(cbroker, *keys.flags("sub"))
    wait_line(sub, "subscribed")
    out = run([CLI, "pub", "-e", cbroker.ingress, *keys.flags("pub"), "curve.cli", '{"n":1}'])
    assert out.returncode == 0, out.stderr
    assert json.loads(sub.communicate(timeout=10)[0]) == {"topic": "curve.cli", "event": {"n": 1}}

    env = c_env(HERALD_CURVE_SERVER=keys.public("broker"), HERALD_CURVE_CERT=keys.secret("sub"))
    sub = sub_cli(cbroker, env=env)
    wait_line(sub, "subscribed")
    env_pub = c_env(HERALD_CURVE_SERVER=keys.public("broker"), HERALD_CURVE_CERT=keys.secret("pub"))
    out = run([CLI, "pub", "-e", cbroker.ingress, "curve.cli", '{"n":2}'], env=env_pub)
    assert out.returncode == 0, out.stderr
    assert json.loads(sub.communicate(timeout=10)[0])["event"] == {"n": 2}
    stats = run([CLI, "stats", "-e", cbroker.endpoints["stats"]], env=env, check=True)
    assert json.loads(stats.stdout)["messages_forwarded"] >= 2


def test_unknown_key_can_neither_publish_nor_subscribe(cbroker, keys):
    out = run([CLI, "pub", "-e", cbroker.ingress, "--linger", "2000", *keys.flags("stranger"),
               "curve.cli", "{}"])
    assert out.returncode == 3 and "refused this publisher's handshake" in out.stderr
    sub = sub_cli(cbroker, *keys.flags("stranger"))
    wait_line(sub, "refused the connection: not authorised")
    sub.kill()
    sub.wait()
    stats = cbroker.wait_stats(lambda s: s["auth_refused_unknown_key"] >= 2)
    assert stats["auth_refused_unknown_key"] >= 2 and stats["messages_in"] == 0
    out = run([CLI, "stats", "-e", cbroker.endpoints["stats"], *keys.flags("stranger")])
    assert out.returncode == 1 and "refused the connection" in out.stderr
    assert "a CURVE key in neither allowlist" in cbroker.text()


def test_subscriber_key_cannot_publish(cbroker, keys):
    out = run([CLI, "pub", "-e", cbroker.ingress, *keys.flags("sub"), "curve.cli", "{}"])
    assert out.returncode == 3 and "refused" in out.stderr
    stats = cbroker.wait_stats(lambda s: s["auth_refused_wrong_side"] >= 1)
    assert stats["auth_refused_wrong_side"] >= 1 and stats["messages_in"] == 0
    assert "a CURVE key allowed only on the other side" in cbroker.text()


def test_plaintext_client_is_refused_and_counted(cbroker, keys):
    out = run([CLI, "pub", "-e", cbroker.ingress, "--linger", "1000", "curve.cli", "{}"])
    assert out.returncode == 3, out.stderr
    # Which side sees the mismatch first is a race: when the client does, it
    # hangs up, and the broker counts a handshake broken off.
    plaintext = lambda s: s["auth_refused_plaintext"] + s["auth_refused_abandoned"]
    stats = cbroker.wait_stats(lambda s: plaintext(s) >= 1)
    assert plaintext(stats) >= 1 and stats["messages_in"] == 0
    out = run([CLI, "stats", "-e", cbroker.endpoints["stats"], "-t", "500"])
    assert out.returncode != 0
    assert "a client without CURVE" in cbroker.text() or "client broke off" in cbroker.text()


def test_refusals_are_logged_at_a_bounded_rate(cbroker, keys):
    lib = ctypes.CDLL(str(LIBRARY))
    lib.herald_subscriber_new_secure.restype = ctypes.c_void_p
    lib.herald_subscriber_new_secure.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_void_p]
    lib.herald_subscriber_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    subs = [ctypes.c_void_p(lib.herald_subscriber_new_secure(
        cbroker.egress.encode(), keys.public("broker").encode(),
        keys.secret("stranger").encode(), None)) for _ in range(30)]
    stats = cbroker.wait_stats(lambda s: s["auth_refused_unknown_key"] >= 60, timeout=15)
    for s in subs:
        lib.herald_subscriber_destroy(ctypes.byref(s))
    assert stats["auth_refused_unknown_key"] >= 60
    warnings = [l for l in cbroker.log if "refused a handshake" in l]
    assert len(warnings) <= stats["uptime_seconds"] + 2, warnings
    assert any("more handshakes refused since the last warning" in l for l in cbroker.log)


# ---------------------------------------------------------------------------
# libherald, through ctypes


@pytest.fixture
def clib():
    lib = ctypes.CDLL(str(LIBRARY))
    for name in ("herald_publisher_new_secure", "herald_subscriber_new_secure"):
        f = getattr(lib, name)
        f.restype = ctypes.c_void_p
        f.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.herald_errmsg.restype = ctypes.c_char_p
    lib.herald_publisher_close.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.herald_subscriber_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.herald_subscribe.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.herald_subscriber_sync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.herald_subscriber_refused.argtypes = [ctypes.c_void_p]
    lib.herald_publish_json.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                        ctypes.c_size_t]
    lib.herald_recv.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
    lib.herald_event_json.restype = ctypes.c_char_p
    lib.herald_event_json.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.herald_event_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    return lib


def test_c_api_errors_name_the_problem(clib, keys, tmp_path):
    err = ctypes.c_int(-1)
    b = lambda s: str(s).encode()
    cases = [
        (b(keys.public("broker")), b(tmp_path / "nope"), "cannot read"),
        (b(tmp_path / "nope"), b(keys.secret("pub")), "cannot read"),
        (b(keys.public("broker")), b(keys.pubs / "pub"), "holds no secret key"),
        (b"not-a-key", b(keys.secret("pub")), "cannot read"),
        (b(keys.public("broker")), None, "the broker's"),
    ]
    (tmp_path / "garbage").write_text("hello\n")
    cases.append((b(tmp_path / "garbage"), b(keys.secret("pub")), "is not a CURVE certificate"))
    for server, cert, message in cases:
        env_cert = os.environ.pop("HERALD_CURVE_CERT", None)
        assert clib.herald_publisher_new_secure(b"tcp://127.0.0.1:1", server, cert, ctypes.byref(err)) is None
        assert err.value == 13, (server, cert)   # HERALD_ERR_KEY
        assert message in clib.herald_errmsg().decode(), clib.herald_errmsg()
        if env_cert is not None:
            os.environ["HERALD_CURVE_CERT"] = env_cert
    # With neither, a plaintext publisher, as herald_publisher_new makes.
    pub = ctypes.c_void_p(clib.herald_publisher_new_secure(b"tcp://127.0.0.1:1", None, None, ctypes.byref(err)))
    assert pub and err.value == 0
    assert clib.herald_publisher_close(ctypes.byref(pub)) == 0


def test_c_api_delivers_with_the_right_keys(clib, cbroker, keys):
    err = ctypes.c_int()
    b = lambda s: str(s).encode()
    # The server key may also be given as its 40 characters of Z85.
    broker_key = open(keys.public("broker")).read().split('public-key = "')[1][:40]
    sub = ctypes.c_void_p(clib.herald_subscriber_new_secure(
        b(cbroker.egress), broker_key.encode(), b(keys.secret("sub")), ctypes.byref(err)))
    assert sub, clib.herald_errmsg()
    assert clib.herald_subscribe(sub, b"curve.c") == 0
    assert clib.herald_subscriber_sync(sub, 5000) == 0
    assert clib.herald_subscriber_refused(sub) == 0
    pub = ctypes.c_void_p(clib.herald_publisher_new_secure(
        b(cbroker.ingress), b(keys.public("broker")), b(keys.secret("pub")), ctypes.byref(err)))
    assert pub, clib.herald_errmsg()
    assert clib.herald_publish_json(pub, b"curve.c", b'{"c":1}', 7) == 0
    assert clib.herald_publisher_close(ctypes.byref(pub)) == 0, clib.herald_errmsg()
    ev = ctypes.c_void_p()
    assert clib.herald_recv(sub, ctypes.byref(ev), 5000) == 0
    assert json.loads(clib.herald_event_json(ev, None)) == {"c": 1}
    clib.herald_event_destroy(ctypes.byref(ev))
    clib.herald_subscriber_destroy(ctypes.byref(sub))


def test_sighup_rereads_the_allowlists(clib, cbroker, keys):
    """A subscriber refused at first gets in once its key is allowed and the
    broker reloads (libherald keeps retrying); a removed key is refused
    from the next handshake on."""
    err = ctypes.c_int()
    b = lambda s: str(s).encode()
    sub = ctypes.c_void_p(clib.herald_subscriber_new_secure(
        b(cbroker.egress), b(keys.public("broker")), b(keys.secret("stranger")), ctypes.byref(err)))
    assert clib.herald_subscribe(sub, b"curve.hup") == 0
    deadline = time.monotonic() + 10
    while not clib.herald_subscriber_refused(sub) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert clib.herald_subscriber_refused(sub) == 1
    shutil.copy(keys.public("stranger"), keys.subs / "stranger")
    cbroker.proc.send_signal(signal.SIGHUP)
    assert clib.herald_subscriber_sync(sub, 10000) == 0, clib.herald_errmsg()
    assert clib.herald_subscriber_refused(sub) == 0
    clib.herald_subscriber_destroy(ctypes.byref(sub))
    assert "SIGHUP: reading the CURVE allowlists again" in cbroker.text()
    assert "2 keys allowed to subscribe" in cbroker.text()

    # A publisher refused at first gets in on a publish after the reload.
    pub = ctypes.c_void_p(clib.herald_publisher_new_secure(
        b(cbroker.ingress), b(keys.public("broker")), b(keys.secret("stranger")), ctypes.byref(err)))
    sub = ctypes.c_void_p(clib.herald_subscriber_new_secure(
        b(cbroker.egress), b(keys.public("broker")), b(keys.secret("sub")), ctypes.byref(err)))
    assert clib.herald_subscribe(sub, b"curve.hup") == 0
    assert clib.herald_subscriber_sync(sub, 5000) == 0
    deadline = time.monotonic() + 10
    while "refused this publisher" not in clib.herald_errmsg().decode() and time.monotonic() < deadline:
        assert clib.herald_publish_json(pub, b"curve.hup", b"0", 1) in (0, 7)   # OK, AGAIN
    assert "refused this publisher" in clib.herald_errmsg().decode()
    shutil.copy(keys.public("stranger"), keys.pubs / "stranger")
    cbroker.proc.send_signal(signal.SIGHUP)
    ev = ctypes.c_void_p()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        clib.herald_publish_json(pub, b"curve.hup", b"1", 1)
        if clib.herald_recv(sub, ctypes.byref(ev), 200) == 0:
            break
    assert ev, "the publisher never got in after the reload: %s\n%s" % (cbroker.stats(), cbroker.text()[-3000:])
    clib.herald_event_destroy(ctypes.byref(ev))
    clib.herald_subscriber_destroy(ctypes.byref(sub))
    # What was queued at the refusal was dropped: close says so.
    assert clib.herald_publisher_close(ctypes.byref(pub)) == 12      # HERALD_ERR_UNSENT
    assert "refused a handshake" in clib.herald_errmsg().decode()

    os.remove(keys.pubs / "pub")
    cbroker.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while cbroker.text().count("allowlists again") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)                 # (the counts follow the line)
    out = run([CLI, "pub", "-e", cbroker.ingress, *keys.flags("pub"), "curve.hup", "{}"])
    assert out.returncode == 3 and "refused" in out.stderr


# ---------------------------------------------------------------------------
# The bindings


def test_python_binding(cbroker, keys):
    code = f"""
import herald
from herald import ErrorCode, HeraldError
try:
    herald.Publisher({cbroker.ingress!r}, curve_server={keys.public('broker')!r}, curve_cert='/nonexistent')
    raise SystemExit('no error')
except HeraldError as err:
    assert err.code == ErrorCode.KEY, err
with herald.Subscriber({cbroker.egress!r}, ['curve.py'], curve_server={keys.public('broker')!r},
                       curve_cert={keys.secret('sub')!r}) as sub:
    sub.sync()
    assert sub.connected and not sub.refused
    with herald.Publisher({cbroker.ingress!r}, curve_server={keys.public('broker')!r},
                          curve_cert={keys.secret('pub')!r}) as pub:
        pub.publish('curve.py', {{'from': 'python'}})
    assert sub.recv(timeout=5) == ('curve.py', {{'from': 'python'}})
# The environment gives the keys when the arguments do not.
import os
os.environ['HERALD_CURVE_SERVER'] = {keys.public('broker')!r}
os.environ['HERALD_CURVE_CERT'] = {keys.secret('sub')!r}
with herald.Subscriber({cbroker.egress!r}, ['curve.py']) as sub:
    sub.sync()
os.environ['HERALD_CURVE_CERT'] = {keys.secret('stranger')!r}
with herald.Publisher({cbroker.ingress!r}, linger=2.0) as pub:
    pub.publish('curve.py', 1)
    try:
        pub.close()
        raise SystemExit('no error')
    except HeraldError as err:
        assert err.code == ErrorCode.UNSENT and 'refused' in err.message, err
print('ok')
"""
    out = run([sys.executable, "-c", code], env=py_env(), timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr


def test_node_binding(cbroker, keys):
    node = shutil.which("node")
    if not node or not (ROOT / "bindings" / "node" / "node_modules").exists():
        pytest.skip("node or the Node binding's packages are missing")
    if SANITIZED:
        pytest.skip("node cannot load the sanitizer build of libherald")
    out = run([node, ROOT / "tests" / "node" / "curve_client.mjs", cbroker.ingress, cbroker.egress,
               keys.public("broker"), keys.secret("pub"), keys.secret("sub")], timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr


# ---------------------------------------------------------------------------
# herald-edge


def test_edge_with_keys_receives_events(cbroker, keys):
    edge = Edge(cbroker, "--curve-server", keys.public("broker"), "--curve-cert", keys.secret("sub"))
    try:
        assert edge.wait_metric("herald_edge_broker_connected", lambda v: v == 1) == 1

        async def main():
            c = await Client.open(edge.url)
            await c.init()
            await c.subscribe("1", SUB, {"c": "curve"})
            await asyncio.sleep(0.5)   # the edge's subscription reaches the broker
            out = run([CLI, "pub", "-e", cbroker.ingress, *keys.flags("pub"), "chat.curve",
                       '{"id":"1","text":"hi"}'])
            assert out.returncode == 0, out.stderr
            msg = await c.recv()
            assert msg["payload"]["data"]["messageAdded"] == {"id": "1", "text": "hi"}, msg
            await c.close()
        asyncio.run(main())
    finally:
        assert edge.stop() == 0, edge.text()


def test_edge_with_keys_from_the_environment(cbroker, keys, monkeypatch):
    monkeypatch.setenv("HERALD_CURVE_SERVER", keys.public("broker"))
    monkeypatch.setenv("HERALD_CURVE_CERT", keys.secret("sub"))
    edge = Edge(cbroker)
    try:
        assert edge.wait_metric("herald_edge_broker_connected", lambda v: v == 1) == 1
    finally:
        assert edge.stop() == 0, edge.text()


@pytest.mark.parametrize("keyed", [False, True], ids=["plaintext", "publisher key"])
def test_edge_not_authorised(cbroker, keys, keyed):
    args = ["--curve-server", keys.public("broker"), "--curve-cert", keys.secret("pub")] if keyed else []
    edge = Edge(cbroker, *args)
    try:
        deadline = time.monotonic() + 15
        while "refused the link: not authorised" not in edge.text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "refused the link: not authorised" in edge.text(), edge.text()
        assert edge.metrics()["herald_edge_broker_connected"] == 0
    finally:
        assert edge.stop() == 0, edge.text()
    stats = cbroker.stats()
    if keyed:
        assert stats["auth_refused_wrong_side"] >= 1
    else:
        assert stats["auth_refused_plaintext"] + stats["auth_refused_abandoned"] >= 1


def test_edge_with_a_missing_key_file_does_not_start(cbroker, keys, tmp_path):
    with pytest.raises(RuntimeError, match="cannot read"):
        Edge(cbroker, "--curve-server", keys.public("broker"), "--curve-cert", str(tmp_path / "no"))


# ---------------------------------------------------------------------------
# A broker chained under a CURVE broker


def test_upstream_authenticates_to_its_parent(cbroker, keys):
    run([CLI, "keygen", keys.root / "child"], check=True)
    shutil.copy(keys.public("child"), keys.subs / "child")
    child = Broker("--upstream", cbroker.egress, "--upstream-curve-server", keys.public("broker"),
                   "--upstream-curve-cert", keys.secret("child"))
    try:
        assert "over CURVE as key" in child.text()
        sub = subprocess.Popen([str(CLI), "sub", "-e", child.egress, "-n", "1", "-t", "10000", "-v",
                                "curve.up"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=c_env())
        wait_line(sub, "subscribed")
        out = run([CLI, "pub", "-e", cbroker.ingress, *keys.flags("pub"), "curve.up", '"down"'])
        assert out.returncode == 0, out.stderr
        assert json.loads(sub.communicate(timeout=10)[0])["event"] == "down"
    finally:
        assert child.stop() == 0, child.text()
    assert cbroker.stats()["auth_refused_unknown_key"] == 0
