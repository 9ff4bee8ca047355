"""The README's main command, scripts/run.sh, as a user runs it: broker,
edge with the chat page, the Python example server and the demo publisher
start; the page is served; with the page's own subscription, the demo
publisher's messages, the README's `herald pub` example and a message sent
through the example server's mutation all arrive without GraphQL errors;
Ctrl-C stops everything."""

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

import pytest

from conftest import BUILD, ROOT, SANITIZED, free_port
from wsutil import Client

pytestmark = pytest.mark.skipif(
    SANITIZED or BUILD != ROOT / "build",
    reason="run.sh builds and runs the plain tree, build/")


# What the chat page subscribes with, and what the README publishes.
PAGE_SUBSCRIPTION = re.search(r"const SUBSCRIPTION = `(.*?)`",
                              (ROOT / "examples" / "chat" / "www" / "app.js").read_text(), re.S).group(1)
README_PUB = re.search(r"herald pub chat\.general '(.*?)'", (ROOT / "README.md").read_text()).group(1)


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
            # The README's command-line example.
            subprocess.run([str(BUILD / "libclient" / "herald"), "pub", "chat.general", README_PUB],
                           check=True, timeout=10)
            assert (await next_from(json.loads(README_PUB)["author"]["name"]))["text"] == \
                json.loads(README_PUB)["text"]
            body = json.dumps({"query": 'mutation { sendMessage(channel: "general", text: "via run.sh", '
                                        'author: "test") { id } }'}).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{api}/graphql", data=body,
                                         headers={"content-type": "application/json"})
            await asyncio.to_thread(lambda: urllib.request.urlopen(req, timeout=10).read())
            assert (await next_from("test"))["text"] == "via run.sh"
            await c.close()
        asyncio.run(main())
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    # Everything it started is gone.
    time.sleep(0.5)
    assert not port_busy(7400) and not port_busy(web) and not port_busy(api)
