"""Authentication at the edge: JWTs minted by a real library (Debian's
python3-jwt) with keys made by openssl in the test, checked by the real
edge over both protocols; per-topic rules and {jwt.NAME} topics; refresh by
ping, the close at exp, key rotation by SIGHUP, the Authorization header
and the cookie, and the flags that go together."""

import asyncio
import hashlib
import hmac
import json
import signal
import subprocess
import time

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

import herald
from conftest import EDGE, Edge, run
from test_edge_protocol import upgrade_status
from wsutil import LEGACY, TWS, Client

ISSUER = "https://issuer.test"
AUDIENCE = "herald"
SCHEMA = """
type Message { id: ID! text: String! }
type Subscription {
  messageAdded(channel: String!): Message! @topic(name: "chat.{channel}")
  direct: Message! @topic(name: "dm.{jwt.sub}")
}
"""
SUB = "subscription($c: String!) { messageAdded(channel: $c) { id text } }"
MESSAGE = {"id": "1", "text": "hi"}


def b64(data: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    """Keys made with openssl, and tokens signed with them by PyJWT."""

    def __init__(self, d):
        self.dir = d
        self.rsa = self._openssl(d / "rsa.pem", "genrsa", "-out", d / "rsa.pem", "2048")
        self.rsa_pub = self._pub(d / "rsa.pem", d / "rsa.pub.pem", "rsa")
        self.ec = self._openssl(d / "ec.pem", "ecparam", "-name", "prime256v1", "-genkey",
                                "-noout", "-out", d / "ec.pem")
        self.ec_pub = self._pub(d / "ec.pem", d / "ec.pub.pem", "ec")
        self.other = self._openssl(d / "other.pem", "genrsa", "-out", d / "other.pem", "2048")
        self.other_pub = self._pub(d / "other.pem", d / "other.pub.pem", "rsa")
        self.secret = d / "hs.key"
        run(["openssl", "rand", "-hex", "-out", self.secret, "32"], check=True)
        # A JWKS with the RSA key, chosen by kid.
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
        jwk = json.loads(RSAAlgorithm.to_jwk(load_pem_public_key(self.rsa_pub.read_bytes())))
        jwk.update(kid="rsa1", use="sig")
        self.jwks = d / "jwks.json"
        self.jwks.write_text(json.dumps({"keys": [jwk]}))

    @staticmethod
    def _openssl(path, *args):
        run(["openssl", *args], check=True)
        return path

    @staticmethod
    def _pub(private, public, kind):
        run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True)
        return public

    def args(self):
        return ["--jwt-secret", self.secret, "--jwt-key", self.jwks, "--jwt-key", self.ec_pub,
                "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE]

    def token(self, alg="HS256", sub="alice", ttl=600, topics=("chat.*",), headers=None,
              key=None, **claims):
        now = int(time.time())
        body = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl}
        if topics is not None:
            body["topics"] = list(topics)
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        if key is None:
            key = {"HS": self.secret.read_bytes().strip(), "RS": self.rsa.read_bytes(),
                   "PS": self.rsa.read_bytes(), "ES": self.ec.read_bytes()}[alg[:2]]
        if headers is None and alg[:2] in ("RS", "PS"):
            headers = {"kid": "rsa1"}
        return jwt.encode(body, key, algorithm=alg, headers=headers)

    def confused(self):
        """HS256 signed with the RSA public key's PEM as the secret: what an
        edge that let the token pick the algorithm would accept."""
        now = int(time.time())
        head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa1"}).encode())
        body = b64(json.dumps({"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE,
                               "exp": now + 600, "topics": [">"]}).encode())
        mac = hmac.new(self.rsa_pub.read_bytes(), f"{head}.{body}".encode(), hashlib.sha256)
        return f"{head}.{body}.{b64(mac.digest())}"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.graphql"
    path.write_text(SCHEMA)
    return path


def start_edge(broker, schema, *args):
    return Edge(broker, *[str(a) for a in args], schema=schema)


@pytest.fixture
def secured(broker, keys, schema):
    e = start_edge(broker, schema, *keys.args())
    yield e
    assert e.stop() == 0, e.text()


def publish(edge, topic, payload=MESSAGE, topics=1):
    edge.wait_metric("herald_edge_topics", lambda v: v >= topics)
    # The edge has subscribed; the broker must have the subscription too,
    # or an event published at once can beat it there (on a busy machine).
    edge.broker.wait_stats(lambda s: s["subscriptions"] >= topics)
    with herald.Publisher(edge.broker.ingress) as pub:
        pub.publish(topic, payload)


async def connect(edge, payload=None, protocol=TWS, **kw):
    c = await Client.open(edge.url, protocol, **kw)
    msg = {"type": "connection_init"}
    if payload is not None:
        msg["payload"] = payload
    await c.send(msg)
    return c


async def accepted(edge, payload=None, protocol=TWS, **kw):
    c = await connect(edge, payload, protocol, **kw)
    ack = await c.recv()
    assert ack["type"] == "connection_ack", ack
    return c


async def refused(edge, payload=None, protocol=TWS, **kw):
    """The (code, reason) of a refused client."""
    c = await connect(edge, payload, protocol, **kw)
    if protocol == LEGACY:
        assert await c.recv() == {"type": "connection_error", "payload": {"message": "Forbidden"}}
    return await c.closed()


async def next_message(c):
    """The next message, past the legacy protocol's keep-alives."""
    msg = await c.recv()
    while msg["type"] == "ka":
        msg = await c.recv()
    return msg


async def receives(edge, c, topic, sub_id="1", topics=1):
    await asyncio.to_thread(publish, edge, topic, MESSAGE, topics)
    msg = await next_message(c)
    assert msg["id"] == sub_id and msg["type"] in ("next", "data"), msg
    return msg


# ---------------------------------------------------------------------------
# Good tokens, bad tokens


@pytest.mark.parametrize("alg", ["HS256", "HS512", "RS256", "RS384", "PS256", "PS512", "ES256"])
@pytest.mark.parametrize("protocol", [TWS, LEGACY])
def test_a_good_token_subscribes(secured, keys, alg, protocol):
    async def main():
        field = "token" if protocol == TWS else "authToken"
        c = await accepted(secured, {field: keys.token(alg)}, protocol)
        await c.subscribe("1", SUB, {"c": "general"})
        msg = await receives(secured, c, "chat.general")
        assert msg["payload"] == {"data": {"messageAdded": {"id": "1", "text": "hi"}}}
        await c.close()
    asyncio.run(main())
    assert secured.metrics()['herald_edge_auth_total{result="ok"}'] == 1


def test_the_token_may_be_a_bearer_authorization(secured, keys):
    async def main():
        for field in ("Authorization", "authorization"):
            c = await accepted(secured, {field: "Bearer " + keys.token()})
            await c.close()
        code, reason = await refused(secured, {"Authorization": "Basic " + keys.token()})
        assert (code, reason) == (4403, "Forbidden: malformed")
    asyncio.run(main())


def tampered(token, other):
    """token's header and signature around other's claims."""
    head, _, sig = token.split(".")
    return ".".join((head, other.split(".")[1], sig))


REFUSALS = {
    "missing": lambda k: None,
    "malformed": lambda k: "not-a-token",
    "expired": lambda k: k.token(ttl=-5),
    "not_yet_valid": lambda k: k.token(nbf=int(time.time()) + 60),
    "signature": lambda k: tampered(k.token(), k.token(sub="mallory")),
    "algorithm": lambda k: jwt.encode({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE,
                                       "exp": int(time.time()) + 600}, None, algorithm="none"),
    "unknown_key": lambda k: k.token("RS256", headers={"kid": "nobody"}),
    "issuer": lambda k: k.token(iss="https://elsewhere.test"),
    "audience": lambda k: k.token(aud="someone-else"),
}


@pytest.mark.parametrize("reason", sorted(REFUSALS))
@pytest.mark.parametrize("protocol", [TWS, LEGACY])
def test_a_bad_token_closes_4403(secured, keys, reason, protocol):
    token = REFUSALS[reason](keys)
    payload = {"token": token} if token else None
    assert asyncio.run(refused(secured, payload, protocol)) == (4403, "Forbidden: " + reason)
    m = secured.metrics()
    assert m[f'herald_edge_auth_total{{result="{reason}"}}'] == 1
    assert m['herald_edge_auth_total{result="ok"}'] == 0
    assert m['herald_edge_closes_total{code="4403"}'] == 1
    # The log says why, and never holds the token. (A worker writes it;
    # the test reads the log in another thread: give it a moment.)
    secured.wait_metric("herald_edge_connections", lambda v: v == 0)
    deadline = time.monotonic() + 5
    while f"Forbidden: {reason}" not in secured.text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"Forbidden: {reason}" in secured.text()
    assert not token or token not in secured.text()


def test_hmac_with_the_public_key_is_refused(secured, keys):
    # The RSA key is in the JWKS: a token may not choose to have it read
    # as an HMAC secret.
    code, reason = asyncio.run(refused(secured, {"token": keys.confused()}))
    assert code == 4403 and reason in ("Forbidden: unknown_key", "Forbidden: signature")


def test_legacy_topics_outside_the_patterns(secured, keys):
    async def main():
        c = await accepted(secured, {"authToken": keys.token(topics=["chat.general"])}, LEGACY)
        await c.subscribe("2", SUB, {"c": "random"})
        msgs = [await next_message(c), await next_message(c)]
        assert msgs[0] == {"id": "2", "type": "data", "payload": {"errors": [
            {"message": "not allowed to subscribe to this topic",
             "extensions": {"code": "FORBIDDEN"}}]}}, msgs
        assert msgs[1] == {"id": "2", "type": "complete"}
        await c.close()
    asyncio.run(main())


def test_the_leeway_is_honoured(broker, keys, schema):
    e = start_edge(broker, schema, *keys.args(), "--jwt-leeway", "30")
    try:
        async def main():
            for token in (keys.token(ttl=-10), keys.token(nbf=int(time.time()) + 10)):
                await (await accepted(e, {"token": token})).close()
            assert await refused(e, {"token": keys.token(ttl=-40)}) == (4403, "Forbidden: expired")
            assert await refused(e, {"token": keys.token(nbf=int(time.time()) + 40)}) == \
                (4403, "Forbidden: not_yet_valid")
        asyncio.run(main())
    finally:
        assert e.stop() == 0


# ---------------------------------------------------------------------------
# Modes and topics


def test_modes_without_a_token(broker, keys, schema):
    async def forbidden(e, c, sub_id, channel):
        await c.subscribe(sub_id, SUB, {"c": channel})
        msg = await c.recv()
        assert msg == {"id": sub_id, "type": "error", "payload": [
            {"message": "not allowed to subscribe to this topic",
             "extensions": {"code": "FORBIDDEN"}}]}, msg

    required = start_edge(broker, schema, *keys.args())
    optional = start_edge(broker, schema, *keys.args(), "--auth", "optional",
                          "--public-topics", "chat.lobby,news.>")
    off = start_edge(broker, schema, "--auth", "off")
    try:
        async def main():
            assert await refused(required) == (4403, "Forbidden: missing")
            # optional: anonymous clients have the public topics only.
            c = await accepted(optional)
            await forbidden(optional, c, "2", "general")
            await c.subscribe("1", SUB, {"c": "lobby"})
            await receives(optional, c, "chat.lobby")
            # A token there still has to be good.
            assert await refused(optional, {"token": "junk"}) == (4403, "Forbidden: malformed")
            # off: no token is looked at, and every topic is open.
            c2 = await accepted(off, {"token": "junk"})
            await c2.subscribe("1", SUB, {"c": "general"})
            await receives(off, c2, "chat.general")
            await c.close()
            await c2.close()
        asyncio.run(main())
        assert optional.metrics()["herald_edge_subscribes_forbidden_total"] == 1
    finally:
        for e in (required, optional, off):
            assert e.stop() == 0


def test_topics_outside_the_patterns_get_an_error_and_the_rest_go_on(secured, keys):
    async def main():
        c = await accepted(secured, {"token": keys.token(topics=["chat.general"])})
        await c.subscribe("1", SUB, {"c": "general"})
        await c.subscribe("2", SUB, {"c": "random"})
        msg = await c.recv()
        assert msg["id"] == "2" and msg["type"] == "error"
        assert msg["payload"][0]["extensions"] == {"code": "FORBIDDEN"}
        await receives(secured, c, "chat.general")
        # A token without the claim may have no topic at all.
        c2 = await accepted(secured, {"token": keys.token(topics=None)})
        await c2.subscribe("1", SUB, {"c": "general"})
        assert (await c2.recv())["type"] == "error"
        await c.close()
        await c2.close()
    asyncio.run(main())
    assert secured.metrics()["herald_edge_subscribes_forbidden_total"] == 2


def test_a_jwt_sub_topic_is_the_clients_own(secured, keys):
    async def main():
        alice = await accepted(secured, {"token": keys.token(sub="alice", topics=["dm.alice"])})
        bob = await accepted(secured, {"token": keys.token(sub="bob", topics=["dm.bob"])})
        await alice.subscribe("a", "subscription { direct { text } }")
        await bob.subscribe("b", "subscription { direct { text } }")
        await asyncio.to_thread(publish, secured, "dm.alice", MESSAGE, 2)
        assert await alice.recv() == {"id": "a", "type": "next",
                                      "payload": {"data": {"direct": {"text": "hi"}}}}
        await bob.nothing()
        await asyncio.to_thread(publish, secured, "dm.bob", MESSAGE, 2)
        assert (await bob.recv())["id"] == "b"
        # The patterns still decide: a token that names no dm topic.
        carol = await accepted(secured, {"token": keys.token(sub="carol")})
        await carol.subscribe("c", "subscription { direct { text } }")
        assert (await carol.recv())["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        for c in (alice, bob, carol):
            await c.close()
    asyncio.run(main())


# ---------------------------------------------------------------------------
# Expiry and refresh


def test_the_connection_closes_at_exp(secured, keys):
    async def main():
        exp = int(time.time()) + 2
        c = await accepted(secured, {"token": keys.token(exp=exp)})
        await c.subscribe("1", SUB, {"c": "general"})
        code, reason = await c.closed(timeout=10)
        return code, reason, time.time() - exp
    code, reason, late = asyncio.run(main())
    assert (code, reason) == (4403, "Forbidden: expired")
    assert -0.05 <= late < 1.0, late
    assert secured.metrics()["herald_edge_tokens_expired_total"] == 1


def test_a_refresh_extends_life(secured, keys):
    async def main():
        c = await accepted(secured, {"token": keys.token(ttl=2)})
        await c.subscribe("1", SUB, {"c": "general"})
        await c.send({"type": "ping", "payload": {"token": keys.token(ttl=600)}})
        assert await c.recv() == {"type": "pong"}
        await asyncio.sleep(3)
        await receives(secured, c, "chat.general")
        await c.close()
    asyncio.run(main())
    m = secured.metrics()
    assert m['herald_edge_auth_refresh_total{result="ok"}'] == 1
    assert m["herald_edge_tokens_expired_total"] == 0


def test_a_refresh_for_another_sub_closes(secured, keys):
    async def main():
        c = await accepted(secured, {"token": keys.token(sub="alice")})
        await c.send({"type": "ping", "payload": {"token": keys.token(sub="bob")}})
        return await c.closed()
    assert asyncio.run(main()) == (4403, "Forbidden: subject")
    assert secured.metrics()['herald_edge_auth_refresh_total{result="subject"}'] == 1


def test_a_refused_refresh_closes(secured, keys):
    async def main():
        c = await accepted(secured, {"token": keys.token()})
        await c.send({"type": "ping", "payload": {"token": keys.token(ttl=-5)}})
        return await c.closed()
    assert asyncio.run(main()) == (4403, "Forbidden: expired")


def test_a_refresh_ends_what_it_no_longer_allows(secured, keys):
    async def main():
        c = await accepted(secured, {"token": keys.token(topics=["chat.*"])})
        await c.subscribe("g", SUB, {"c": "general"})
        await c.subscribe("r", SUB, {"c": "random"})
        secured.wait_metric("herald_edge_subscriptions", lambda v: v == 2)
        await c.send({"type": "ping", "payload": {"token": keys.token(topics=["chat.general"])}})
        msg = await c.recv()
        assert msg["id"] == "r" and msg["type"] == "error", msg
        assert msg["payload"][0]["extensions"] == {"code": "FORBIDDEN"}
        assert await c.recv() == {"type": "pong"}
        await receives(secured, c, "chat.general", "g")
        await c.close()
    asyncio.run(main())
    assert secured.metrics()["herald_edge_subscriptions_revoked_total"] == 1


# ---------------------------------------------------------------------------
# Key rotation


def test_sighup_rotates_keys_and_keeps_connections(broker, keys, schema, tmp_path):
    current = tmp_path / "current.pem"
    current.write_bytes(keys.rsa_pub.read_bytes())
    e = start_edge(broker, schema, "--jwt-key", current)
    old = keys.token("RS256", headers={})
    new = keys.token("RS256", headers={}, key=keys.other.read_bytes())

    def reload():
        before = e.metrics()["herald_edge_key_reloads_total"]
        e.proc.send_signal(signal.SIGHUP)
        e.wait_metric("herald_edge_key_reloads_total", lambda v: v > before)
    try:
        async def main():
            c = await accepted(e, {"token": old})
            await c.subscribe("1", SUB, {"c": "general"})
            await receives(e, c, "chat.general")
            current.write_bytes(keys.other_pub.read_bytes())
            await asyncio.to_thread(reload)
            # The open connection stays; new ones need the new key.
            await receives(e, c, "chat.general")
            assert await refused(e, {"token": old}) == (4403, "Forbidden: signature")
            await (await accepted(e, {"token": new})).close()
            # A bad file at reload keeps the keys in use.
            current.write_text("not a key\n")
            await asyncio.to_thread(reload)
            await (await accepted(e, {"token": new})).close()
            await receives(e, c, "chat.general")
            await c.close()
        asyncio.run(main())
        m = e.metrics()
        assert m["herald_edge_key_reloads_total"] == 2
        assert m["herald_edge_key_reloads_failed_total"] == 1
        assert m["herald_edge_keys"] == 1
        assert "SIGHUP: keeping the 1 keys in use: --jwt-key " in e.text()
    finally:
        assert e.stop() == 0


# ---------------------------------------------------------------------------
# The upgrade request's header and cookie


def test_the_authorization_header_of_the_upgrade(secured, keys):
    async def main():
        c = await accepted(secured, extra_headers={"Authorization": "Bearer " + keys.token()})
        await c.close()
        # The init payload's token comes first.
        code, _ = await refused(secured, {"token": "junk"},
                                extra_headers={"Authorization": "Bearer " + keys.token()})
        assert code == 4403
    asyncio.run(main())


def test_a_cookie_counts_only_from_an_allowed_origin(broker, keys, schema):
    e = start_edge(broker, schema, *keys.args(), "--jwt-cookie", "herald_token",
                   "--allow-origin", "https://app.test")
    try:
        cookie = {"Cookie": "theme=dark; herald_token=" + keys.token()}

        async def main():
            c = await accepted(e, origin="https://app.test", extra_headers=cookie)
            await c.close()
            assert upgrade_status(e.port, "https://evil.test", cookie)[0] == 403
            # Another cookie of the same name's prefix is not the token.
            assert await refused(e, origin="https://app.test",
                                 extra_headers={"Cookie": "xherald_token=" + keys.token()}) == \
                (4403, "Forbidden: missing")
        asyncio.run(main())
    finally:
        assert e.stop() == 0


# ---------------------------------------------------------------------------
# Flags


@pytest.mark.parametrize("args, message", [
    (["--jwt-cookie", "t", "--jwt-secret", "{secret}"],
     "--jwt-cookie needs --allow-origin with your pages' origins, not '*'"),
    (["--auth", "required"], "--auth required needs the keys that sign tokens"),
    (["--auth", "sometimes"], "--auth takes required, optional or off, not \"sometimes\""),
    (["--public-topics", "chat.*"], "--public-topics needs --auth optional or required"),
    (["--auth", "optional", "--jwt-secret", "{secret}", "--public-topics", "chat.>.x"], "--public-topics"),
])
def test_flags_that_go_together(keys, schema, args, message):
    args = [a.replace("{secret}", str(keys.secret)) for a in args]
    r = run([EDGE, "--schema", schema, *args])
    assert r.returncode == 2, r.stderr
    assert message in r.stderr, r.stderr


def test_a_bad_key_file_stops_the_start_and_the_check(keys, schema, tmp_path):
    short = tmp_path / "short.key"
    short.write_text("too short\n")
    private = keys.rsa
    for path, why in ((short, "32"), (private, "public"), (tmp_path / "absent.pem", "No such file")):
        flag = "--jwt-secret" if path == short else "--jwt-key"
        for extra in ([], ["--check"]):
            r = run([EDGE, "--schema", schema, "--port", "0", flag, path, *extra], timeout=10)
            assert r.returncode == 1, r.stderr
            assert f"{flag} {path}: " in r.stderr and why in r.stderr, r.stderr
