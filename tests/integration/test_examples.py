"""The examples, as users run them: the Python and Node servers' sendMessage
mutations reach subscribers on the edge, and the C ticker builds against an
installed libherald with pkg-config and its ticks reach the edge too."""

import asyncio
import json
import shutil
import subprocess
import urllib.request

import pytest

from conftest import BUILD, PYTHON, ROOT, SANITIZED, c_env, free_port, py_env, run, wait_http
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


def start_server(kind, broker, log):
    """Starts an example server, its stderr going to the file log."""
    port = free_port()
    env = py_env(HERALD_PUB_ENDPOINT=broker.ingress)
    if kind == "python":
        cmd = [PYTHON, ROOT / "examples" / "python-server" / "server.py", "--port", str(port)]
    else:
        node = shutil.which("node")
        if not node or not (ROOT / "examples" / "node-server" / "node_modules").exists():
            pytest.skip("node or the example's npm packages are missing (scripts/deps.sh test)")
        cmd = [node, ROOT / "examples" / "node-server" / "server.mjs", "--port", str(port)]
        env.pop("LD_PRELOAD", None)        # node loads libherald through koffi
    proc = subprocess.Popen([str(c) for c in cmd], env=env, stderr=log)
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
