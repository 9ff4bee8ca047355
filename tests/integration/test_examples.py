"""The examples, as users run them: the Python and Node servers' sendMessage
mutations reach subscribers on the edge, and the C ticker builds against an
installed libherald with pkg-config and its ticks reach the edge too.

Sign-in: each server's login signs a token with the edge's HMAC secret
(checked here with python3-jwt), refuses a bad name, and says what is
missing without a secret; sendDirect reaches the `direct` subscription of
that user's token only, on a real edge with --auth optional."""

import asyncio
import json
import secrets
import shutil
import subprocess
import time
import urllib.request

import jwt
import pytest

from conftest import (BUILD, PYTHON, ROOT, SANITIZED, Edge, c_env, free_port, py_env, run,
                      wait_http)
from wsutil import Client

SUB = """subscription($c: String!) {
  messageAdded(channel: $c) { id channel text author { name } }
}"""
MUTATION = """mutation Send($channel: String!, $text: String!, $author: String!) {
  sendMessage(channel: $channel, text: $text, author: $author) { id }
}"""


def post(url, query, variables):
    req = urllib.request.Request(url, data=json.dumps({"query": query, "variables": variables}).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


LOGIN = "mutation Login($name: String!) { login(name: $name) }"
DIRECT = """mutation Direct($to: String!, $text: String!, $author: String!) {
  sendDirect(to: $to, text: $text, author: $author) { id channel }
}"""
DIRECT_SUB = "subscription { direct { id channel text author { name } } }"


def start_server(kind, broker, log, args=(), **env_extra):
    """Starts an example server, its stderr going to the file log."""
    port = free_port()
    env = py_env(HERALD_PUB_ENDPOINT=broker.ingress, **env_extra)
    if "HERALD_JWT_SECRET_FILE" not in env_extra:
        env.pop("HERALD_JWT_SECRET_FILE", None)
    if kind == "python":
        cmd = [PYTHON, ROOT / "examples" / "python-server" / "server.py", "--port", str(port)]
    else:
        node = shutil.which("node")
        if not node or not (ROOT / "examples" / "node-server" / "node_modules").exists():
            pytest.skip("node or the example's npm packages are missing (scripts/deps.sh test)")
        cmd = [node, ROOT / "examples" / "node-server" / "server.mjs", "--port", str(port)]
        env.pop("LD_PRELOAD", None)        # node loads libherald through koffi
    proc = subprocess.Popen([str(c) for c in [*cmd, *args]], env=env, stderr=log)
    url = f"http://127.0.0.1:{port}/graphql"
    wait_http(url)
    return proc, url


@pytest.mark.parametrize("kind", ["python", "node"])
def test_mutation_reaches_edge_subscribers(edge, broker, kind, tmp_path):
    if kind == "node" and SANITIZED:
        pytest.skip("node cannot load the sanitizer build of libherald")
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")
    proc, url = start_server(kind, broker, log)
    try:
        async def main():
            c = await Client.open(edge.url)
            await c.init()
            await c.subscribe("m", SUB, {"c": f"ex-{kind}"})
            edge.wait_metric("herald_edge_topics", lambda v: v == 1)
            reply = await asyncio.to_thread(post, url, MUTATION,
                                            {"channel": f"ex-{kind}", "text": "hello from a mutation",
                                             "author": kind})
            assert "errors" not in reply, reply
            msg = await c.recv()
            assert msg["payload"]["data"]["messageAdded"] == {
                "id": reply["data"]["sendMessage"]["id"], "channel": f"ex-{kind}",
                "text": "hello from a mutation", "author": {"name": kind}}
            # Bad input gets a GraphQL error, not a crash.
            bad = await asyncio.to_thread(post, url, MUTATION, {"channel": "a\0b", "text": "x", "author": "y"})
            assert bad.get("errors") and "topic" in bad["errors"][0]["message"]
            await c.close()
        asyncio.run(main())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
    # It shuts down cleanly, closing its publisher.
    errors = log_path.read_text()
    assert "Traceback" not in errors and "Error" not in errors, errors


@pytest.fixture
def secret_file(tmp_path):
    """An HMAC secret as scripts/run.sh makes it (hex, with a newline)."""
    path = tmp_path / "jwt.key"
    path.write_text(secrets.token_hex(32) + "\n")
    return path


def secret_of(path):
    return path.read_text().removesuffix("\n").encode()


def skip_node_sanitized(kind):
    if kind == "node" and SANITIZED:
        pytest.skip("node cannot load the sanitizer build of libherald")


def clean_exit(proc, log, log_path):
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    errors = log_path.read_text()
    assert "Traceback" not in errors and "Error" not in errors, errors


@pytest.mark.parametrize("kind", ["python", "node"])
def test_login_signs_a_token_for_the_edge(broker, kind, tmp_path, secret_file):
    skip_node_sanitized(kind)
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")
    proc, url = start_server(kind, broker, log, ["--jwt-secret", secret_file])
    try:
        reply = post(url, LOGIN, {"name": "alice_1-x"})
        assert "errors" not in reply, reply
        token = reply["data"]["login"]
        claims = jwt.decode(token, secret_of(secret_file), algorithms=["HS256"])
        assert claims["sub"] == "alice_1-x"
        assert claims["topics"] == ["chat.*", "dm.alice_1-x"]
        assert 595 <= claims["exp"] - time.time() <= 601
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        # Another secret does not verify it.
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, secrets.token_hex(32).encode(), algorithms=["HS256"])
        # A name becomes a topic segment: dots, wildcards, spaces, nothing
        # and more than 32 characters are refused, as a GraphQL error.
        for bad in ["a.b", "*", ">", "a b", "", "x" * 33, "é"]:
            reply = post(url, LOGIN, {"name": bad})
            assert reply.get("data") is None and "name must be 1 to 32" in reply["errors"][0]["message"], \
                (bad, reply)
        reply = post(url, LOGIN, {"name": "x" * 32})
        assert "errors" not in reply and reply["data"]["login"], reply
        reply = post(url, DIRECT, {"to": "bob.x", "text": "t", "author": "a"})
        assert reply.get("data") is None and "to must be 1 to 32" in reply["errors"][0]["message"], reply
    finally:
        clean_exit(proc, log, log_path)


@pytest.mark.parametrize("kind", ["python", "node"])
def test_login_without_a_secret_says_so(broker, kind, tmp_path):
    skip_node_sanitized(kind)
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")
    proc, url = start_server(kind, broker, log)
    try:
        reply = post(url, LOGIN, {"name": "alice"})
        assert reply.get("data") is None, reply
        assert "no JWT secret" in reply["errors"][0]["message"]
        assert "--jwt-secret" in reply["errors"][0]["message"]
        # The rest of the server works without one.
        reply = post(url, MUTATION, {"channel": "x", "text": "t", "author": "a"})
        assert "errors" not in reply, reply
    finally:
        clean_exit(proc, log, log_path)
    # A secret that is not there, or too short for the edge, stops it at start.
    short = tmp_path / "short.key"
    short.write_text("0123456789\n")
    server = {"python": [PYTHON, ROOT / "examples" / "python-server" / "server.py"],
              "node": [shutil.which("node"), ROOT / "examples" / "node-server" / "server.mjs"]}[kind]
    env = py_env()
    if kind == "node":
        env.pop("LD_PRELOAD", None)
    for path, says in [(tmp_path / "none.key", "none.key"), (short, "10 bytes")]:
        out = run([*server, "--jwt-secret", path], env=env, timeout=20)
        assert out.returncode == 1 and says in out.stderr, out.stderr


@pytest.mark.parametrize("kind", ["python", "node"])
def test_direct_message_reaches_its_user_only(broker, kind, tmp_path, secret_file):
    skip_node_sanitized(kind)
    edge = Edge(broker, "--auth", "optional", "--public-topics", "chat.*", "--jwt-secret", str(secret_file))
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")
    # The secret through the environment, as the flag's default.
    proc, url = start_server(kind, broker, log, HERALD_JWT_SECRET_FILE=str(secret_file))
    try:
        async def main():
            tokens = {}
            for name in ("alice", "bob"):
                reply = await asyncio.to_thread(post, url, LOGIN, {"name": name})
                assert "errors" not in reply, reply
                tokens[name] = reply["data"]["login"]
            clients = {}
            for name, token in tokens.items():
                clients[name] = c = await Client.open(edge.url)
                await c.init({"token": token})
                await c.subscribe("d", DIRECT_SUB)
            # Without a token: the public channels, and no private one.
            anon = await Client.open(edge.url)
            await anon.init()
            await anon.subscribe("d", DIRECT_SUB)
            refused = await anon.recv()
            assert refused["type"] == "error" and refused["id"] == "d", refused
            await anon.subscribe("m", SUB, {"c": "general"})
            edge.wait_metric("herald_edge_topics", lambda v: v == 3)
            # Each worker subscribes at the broker for its own clients: the
            # three topics are in place once the broker holds them all.
            broker.wait_stats(lambda s: s["subscriptions"] >= 3)

            async def send(to, text):
                reply = await asyncio.to_thread(post, url, DIRECT, {"to": to, "text": text, "author": kind})
                assert "errors" not in reply, reply
                assert reply["data"]["sendDirect"]["channel"] == f"dm.{to}"
                return reply["data"]["sendDirect"]["id"]

            sent = await send("alice", "for alice")
            got = await clients["alice"].recv()
            assert got["payload"]["data"]["direct"] == {
                "id": sent, "channel": "dm.alice", "text": "for alice", "author": {"name": kind}}
            # bob's first message is his own: alice's never reached him.
            sent = await send("bob", "for bob")
            got = await clients["bob"].recv()
            assert got["payload"]["data"]["direct"]["text"] == "for bob", got
            await clients["alice"].nothing(0.5)
            await anon.nothing(0.2)
            # Public messages still reach the client without a token.
            reply = await asyncio.to_thread(post, url, MUTATION, {"channel": "general", "text": "all",
                                                                   "author": kind})
            assert "errors" not in reply, reply
            assert (await anon.recv())["payload"]["data"]["messageAdded"]["text"] == "all"
            for c in [*clients.values(), anon]:
                await c.close()
        asyncio.run(main())
    finally:
        clean_exit(proc, log, log_path)
        assert edge.stop() == 0, edge.text()


@pytest.mark.skipif(SANITIZED, reason="builds against the plain installed library")
def test_c_ticker_builds_with_pkg_config(edge, broker, tmp_path):
    prefix = tmp_path / "prefix"
    run(["cmake", "--install", BUILD, "--prefix", prefix], check=True)
    src = tmp_path / "c-service"
    shutil.copytree(ROOT / "examples" / "c-service", src)
    build = run(["make", "-C", src], env=c_env(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig")))
    assert build.returncode == 0, build.stdout + build.stderr

    async def main():
        c = await Client.open(edge.url)
        await c.init()
        await c.subscribe("t", 'subscription { tick(symbol: "HRLD") { symbol price } }')
        edge.wait_metric("herald_edge_topics", lambda v: v == 1)
        out = await asyncio.to_thread(
            run, [src / "ticker", "--symbols", "HRLD", "--count", "3", "--interval-ms", "10"],
            env=c_env(LD_LIBRARY_PATH=str(prefix / "lib"), HERALD_PUB_ENDPOINT=broker.ingress))
        assert out.returncode == 0, out.stderr
        for _ in range(3):
            tick = (await c.recv())["payload"]["data"]["tick"]
            assert tick["symbol"] == "HRLD" and tick["price"] > 0
        await c.close()
    asyncio.run(main())
