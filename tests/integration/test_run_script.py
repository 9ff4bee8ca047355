"""The README's main command, scripts/run.sh, as a user runs it: broker,
edge with the chat page, the Python example server and the demo publisher
start; the page is served; with the page's own subscription, the demo
publisher's messages, the README's `herald pub` example (with the CURVE key
the banner's export line gives) and a message sent through the example
server's mutation all arrive without GraphQL errors, and a `herald pub`
without a key is refused. Signing in: the README's login command gets a
token signed with run.sh's secret, with which a client of the edge receives
its own private messages (sendDirect), and a client without one may not
subscribe to them. Ctrl-C stops everything and removes the keys."""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import jwt
import pytest

from conftest import BUILD, ROOT, SANITIZED, c_env, free_port
from wsutil import Client

pytestmark = pytest.mark.skipif(
    SANITIZED or BUILD != ROOT / "build",
    reason="run.sh builds and runs the plain tree, build/")


# What the chat page subscribes with, and what the README publishes.
PAGE_SUBSCRIPTION = re.search(r"const SUBSCRIPTION = `(.*?)`",
                              (ROOT / "examples" / "chat" / "www" / "app.js").read_text(), re.S).group(1)
README = (ROOT / "README.md").read_text()
README_PUB = re.search(r"herald pub chat\.general '(.*?)'", README).group(1)
# The export line as the README and the tutorial show it.
EXPORTS = [re.search(r"^export HERALD_CURVE_SERVER=.*$", (ROOT / doc).read_text(), re.M).group(0)
           for doc in ("README.md", "docs/tutorial.md")]
README_LOGIN = re.search(r"test_run_script runs this block\) -->\n```sh\n(.*?)```", README, re.S).group(1)
DIRECT_SUB = "subscription { direct { id channel text author { name } } }"


def port_busy(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_script():
    if any(port_busy(p) for p in (7400, 7401, 7402, 7403)):
        pytest.skip("a broker already runs on the default ports")
    web, api = free_port(), free_port()
    env = dict(os.environ, HERALD_PORT=str(web), HERALD_API_PORT=str(api))
    env.pop("LD_PRELOAD", None)
    proc = subprocess.Popen([str(ROOT / "scripts" / "run.sh")], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    output = []
    threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
    try:
        deadline = time.monotonic() + 300       # it may build first
        while not any("Press Ctrl-C" in line for line in list(output)):
            assert proc.poll() is None, "run.sh exited:\n" + "".join(output)
            assert time.monotonic() < deadline, "run.sh did not start:\n" + "".join(output)
            time.sleep(0.2)
        banner = "".join(output)
        keys, curve_server, curve_cert = re.search(
            r"export HERALD_CURVE_SERVER=((\S+)/broker) HERALD_CURVE_CERT=(\S+)\n", banner).group(2, 1, 3)
        # The README and the tutorial show the line run.sh prints.
        for line in EXPORTS:
            assert line.replace("/tmp/herald-run.XXXXXX", keys) in banner, banner
        curve = dict(c_env(), HERALD_CURVE_SERVER=curve_server, HERALD_CURVE_CERT=curve_cert)
        secret = (Path(keys) / "jwt.key").read_text().removesuffix("\n").encode()
        page = urllib.request.urlopen(f"http://127.0.0.1:{web}/", timeout=10).read().decode()
        assert "graphql-ws.min.js" in page
        assert urllib.request.urlopen(f"http://127.0.0.1:{web}/vendor/graphql-ws.min.js",
                                      timeout=10).status == 200

        async def main():
            c = await Client.open(f"ws://127.0.0.1:{web}/graphql")
            await c.init()
            await c.subscribe("1", PAGE_SUBSCRIPTION, {"channel": "general"})

            async def next_from(author):
                while True:
                    payload = (await c.recv(15))["payload"]
                    assert "errors" not in payload, payload
                    msg = payload["data"]["messageAdded"]
                    if msg["author"]["name"] == author:
                        return msg
            # The demo publisher posts every few seconds.
            demo = await next_from("demo-bot")
            assert demo["channel"] == "general" and demo["sentAt"]
            # The README's command-line example, with the banner's key; without
            # one the broker refuses it.
            plain = await asyncio.to_thread(subprocess.run, [str(BUILD / "libclient" / "herald"), "pub",
                                            "chat.general", README_PUB.replace('"me"', '"no-key"')],
                                            env=c_env(), capture_output=True, text=True, timeout=20)
            assert plain.returncode != 0, plain
            subprocess.run([str(BUILD / "libclient" / "herald"), "pub", "chat.general", README_PUB],
                           check=True, timeout=10, env=curve)
            assert (await next_from(json.loads(README_PUB)["author"]["name"]))["text"] == \
                json.loads(README_PUB)["text"]
            body = json.dumps({"query": 'mutation { sendMessage(channel: "general", text: "via run.sh", '
                                        'author: "test") { id } }'}).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{api}/graphql", data=body,
                                         headers={"content-type": "application/json"})
            await asyncio.to_thread(lambda: urllib.request.urlopen(req, timeout=10).read())
            assert (await next_from("test"))["text"] == "via run.sh"
            await c.close()

            # Sign in with the README's command; the token is signed with
            # run.sh's secret and opens the user's own private channel.
            login = await asyncio.to_thread(subprocess.run, ["bash", "-e", "-c",
                                            README_LOGIN.replace("4001", str(api))],
                                            capture_output=True, text=True, timeout=20)
            assert login.returncode == 0, login.stderr
            reply = json.loads(login.stdout)
            assert "errors" not in reply, reply
            token = reply["data"]["login"]
            claims = jwt.decode(token, secret, algorithms=["HS256"])
            assert claims["topics"] == ["chat.*", f"dm.{claims['sub']}"]
            me = await Client.open(f"ws://127.0.0.1:{web}/graphql")
            await me.init({"token": token})
            await me.subscribe("d", DIRECT_SUB)
            anon = await Client.open(f"ws://127.0.0.1:{web}/graphql")
            await anon.init()
            await anon.subscribe("d", DIRECT_SUB)
            refused = await anon.recv()
            assert refused["type"] == "error", refused
            # Send until it arrives: the edge subscribes at the broker as the
            # client subscribes.
            for n in range(20):
                body = json.dumps({"query": "mutation($to: String!, $t: String!) { sendDirect(to: $to, "
                                            "text: $t, author: \"test\") { id } }",
                                   "variables": {"to": claims["sub"], "t": f"private {n}"}}).encode()
                req = urllib.request.Request(f"http://127.0.0.1:{api}/graphql", data=body,
                                             headers={"content-type": "application/json"})
                reply = json.loads(await asyncio.to_thread(lambda: urllib.request.urlopen(req, timeout=10).read()))
                assert "errors" not in reply, reply
                try:
                    got = await me.recv(1)
                    break
                except asyncio.TimeoutError:
                    continue
            else:
                raise AssertionError("no private message arrived")
            assert got["payload"]["data"]["direct"]["channel"] == f"dm.{claims['sub']}", got
            assert got["payload"]["data"]["direct"]["text"].startswith("private ")
            await me.close()
            await anon.close()
        asyncio.run(main())
    finally:
        if proc.poll() is None:         # (a run.sh that failed at start has gone)
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    # Everything it started is gone.
    time.sleep(0.5)
    assert not port_busy(7400) and not port_busy(web) and not port_busy(api)
    assert not Path(keys).exists(), "run.sh left its keys behind"
