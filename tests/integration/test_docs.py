"""The commands and code in README.md and docs/*.md work.

A fenced block preceded by a marker is run against a real broker:

    <!-- doc-test: python -->                       run, must exit 0
    <!-- doc-test: node -->                         the same with Node, where
                                                    require('herald') is the
                                                    binding in bindings/node
    <!-- doc-test: sh -->                           run with bash -e, must exit 0
    <!-- doc-test: python background publish=T -->  runs until stopped; events
                                                    published to T must show
                                                    in its output
    <!-- doc-test: sh background publish=T -->      the same, for a shell command
    <!-- doc-test: c FILE -->                       the block is FILE verbatim,
                                                    and FILE's program runs
    <!-- doc-test: sh edge -->                      runs with a herald-edge too,
                                                    its port in place of 8080

The default endpoints in a block are replaced by the test broker's, and
HERALD_PUB_ENDPOINT/HERALD_SUB_ENDPOINT/HERALD_STATS_ENDPOINT point at it;
"build/" means the build tree under test.
"""

import re
import shutil
import subprocess
import threading
import time
import uuid

import pytest

import herald
from conftest import BUILD, PYTHON, ROOT, SANITIZED, Edge, c_env, py_env, run

MARK = re.compile(
    r"<!-- doc-test: (?P<kind>\w+)(?P<opts>[^>]*?)\s*-->\s*\n```\w*\n(?P<code>.*?)^```",
    re.S | re.M,
)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def snippets():
    found = []
    for path in DOCS:
        text = path.read_text()
        for m in MARK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append(pytest.param(
                m.group("kind"), m.group("opts").split(), m.group("code"),
                id=f"{path.relative_to(ROOT)}:{line}"))
    return found


def localise(code, broker):
    code = code.replace("tcp://127.0.0.1:7400", broker.ingress)
    code = code.replace("tcp://127.0.0.1:7401", broker.egress)
    code = code.replace("tcp://127.0.0.1:7403", broker.endpoints["stats"])
    return re.sub(r"(^|[\s'\"=])build/", lambda m: m.group(1) + str(BUILD) + "/", code,
                  flags=re.M)


def env_for(broker, kind, code):
    # Snippets that start Python need py_env's settings (in a sanitizer
    # build, the preloaded ASan runtime); other programs (curl hangs with
    # it) run without.
    env = py_env() if kind == "python" or "python" in code else c_env()
    env.update(HERALD_PUB_ENDPOINT=broker.ingress, HERALD_SUB_ENDPOINT=broker.egress,
               HERALD_STATS_ENDPOINT=broker.endpoints["stats"])
    return env


def command(kind, code):
    if kind == "python":
        return [PYTHON, "-c", code]
    if kind == "node":
        return [shutil.which("node") or "node", "-e", code]
    return ["bash", "-e", "-c", code]


@pytest.fixture(scope="module")
def node_path(tmp_path_factory):
    """A node_modules holding the binding as 'herald', as users install it."""
    if not shutil.which("node") or not (ROOT / "bindings" / "node" / "node_modules").exists():
        return None
    modules = tmp_path_factory.mktemp("node") / "node_modules"
    modules.mkdir()
    (modules / "herald").symlink_to(ROOT / "bindings" / "node")
    return str(modules)


@pytest.mark.parametrize("kind,opts,code", snippets())
def test_doc_snippet(broker, node_path, kind, opts, code):
    if kind == "c":
        path = ROOT / opts[0]
        assert code == path.read_text(), f"the block differs from {opts[0]}"
        out = run([BUILD / "examples" / path.stem], env=env_for(broker, "c", ""), timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout
        return
    code = localise(code, broker)
    env = env_for(broker, kind, code)
    if kind == "node":
        if not node_path:
            pytest.skip("node or the binding's npm packages are missing (scripts/deps.sh test)")
        if SANITIZED:
            pytest.skip("node cannot load the sanitizer build of libherald")
        env["NODE_PATH"] = node_path
        env.pop("LD_PRELOAD", None)
    if "edge" in opts:
        edge = Edge(broker)
        try:
            out = run(command(kind, code.replace("127.0.0.1:8080", f"127.0.0.1:{edge.port}")),
                      env=env, timeout=60, cwd=ROOT)
            assert out.returncode == 0 and out.stdout, out.stdout + out.stderr
        finally:
            assert edge.stop() == 0
        return
    if "background" not in opts:
        out = run(command(kind, code), env=env, timeout=60, cwd=ROOT)
        assert out.returncode == 0, out.stdout + out.stderr
        return

    topic = next(o.split("=", 1)[1] for o in opts if o.startswith("publish="))
    proc = subprocess.Popen(command(kind, code), env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = []
    threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
    marker = uuid.uuid4().hex
    try:
        with herald.Publisher(broker.ingress) as pub:
            deadline = time.monotonic() + 20
            # The snippet subscribes on its own schedule: publish until it
            # shows that it received one.
            while not any(marker in line for line in list(output)):
                assert proc.poll() is None, "".join(output)
                assert time.monotonic() < deadline, "no event seen:\n" + "".join(output)
                pub.publish(topic, {"id": marker, "text": marker})
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
