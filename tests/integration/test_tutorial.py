"""docs/tutorial.md runs as written: its blocks are executed in order in a
scratch directory (with build/ and bindings/ linked in), against a real
broker; at the end a headless browser opens the tutorial's page and sees
a notification published by the tutorial's own code.

Markers: <!-- tutorial: file PATH --> writes the block to PATH;
<!-- tutorial: sh [node] --> runs it with bash (node: needs Node);
<!-- tutorial: sh background wait=TEXT --> starts it and waits for TEXT in
its output; <!-- tutorial: skip --> is not run (the README's own command).
"""

import re
import shutil
import subprocess
import threading
import time

import pytest

from conftest import BUILD, ROOT, SANITIZED, py_env, run

MARK = re.compile(r"<!-- tutorial: (?P<kind>\w+)(?P<opts>[^>]*?)\s*-->\s*\n```\w*\n(?P<code>.*?)^```",
                  re.S | re.M)


def test_tutorial(broker, tmp_path):
    text = (ROOT / "docs" / "tutorial.md").read_text()
    steps = [(m.group("kind"), m.group("opts").split(), m.group("code")) for m in MARK.finditer(text)]
    assert len(steps) >= 8
    work = tmp_path
    (work / "build").symlink_to(BUILD)
    (work / "bindings").symlink_to(ROOT / "bindings")
    # The tutorial's edge binds port 0 here (a free port it picks itself,
    # which cannot race) and later steps use the port it logs.
    port = "0"
    env = py_env(HERALD_PUB_ENDPOINT=broker.ingress, HERALD_SUB_ENDPOINT=broker.egress)
    node = shutil.which("node")
    background = []
    try:
        for kind, opts, code in steps:
            code = code.replace("8090", port)
            if kind == "skip":
                continue
            if kind == "file":
                path = work / opts[0]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(code)
                continue
            assert kind == "sh", kind
            if "node" in opts and (not node or SANITIZED):
                continue        # (node cannot load a sanitizer build of libherald)
            step_env = dict(env)
            # A sanitizer build preloads ASan for Python (py_env); other
            # programs (curl hangs with it) run without.
            if "python" not in code:
                step_env.pop("LD_PRELOAD", None)
            if "background" in opts:
                wait = next(o.split("=", 1)[1] for o in opts if o.startswith("wait="))
                proc = subprocess.Popen(["bash", "-c", code], cwd=work, env=step_env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                background.append(proc)
                lines = []
                threading.Thread(target=lambda p=proc, l=lines: l.extend(p.stdout), daemon=True).start()
                deadline = time.monotonic() + 15
                while not any(wait in line for line in list(lines)):
                    assert proc.poll() is None, f"{code} exited:\n{''.join(lines)}"
                    assert time.monotonic() < deadline, f"{code}: no '{wait}':\n{''.join(lines)}"
                    time.sleep(0.05)
                m = re.search(r"listening on http://[^:]+:(\d+)", "".join(lines))
                if m:
                    port = m.group(1)
                continue
            out = run(["bash", "-e", "-c", code], env=step_env, cwd=work, timeout=60)
            assert out.returncode == 0, f"{code}\n{out.stdout}{out.stderr}"

        # The page shows what the tutorial's notify.py publishes.
        if not node or not (ROOT / "tests" / "node" / "node_modules" / "playwright-core").exists():
            pytest.skip("node or playwright-core is missing (scripts/deps.sh test)")
        check = subprocess.Popen([node, str(ROOT / "tests" / "node" / "page_shows.mjs"),
                                  f"http://127.0.0.1:{port}/?user=42", "Tutorial works", "30"],
                                 stdout=subprocess.PIPE, text=True,
                                 env={k: v for k, v in env.items() if k != "LD_PRELOAD"})
        assert check.stdout.readline().strip() == "opened"
        deadline = time.monotonic() + 30
        while check.poll() is None and time.monotonic() < deadline:
            run(["/usr/bin/python3", "myapp/notify.py", "42", "Tutorial works"], env=env, cwd=work,
                check=True)
            time.sleep(0.3)
        assert check.wait(timeout=30) == 0, "the page did not show the notification"
    finally:
        for proc in background:
            proc.terminate()
            proc.wait(timeout=10)
