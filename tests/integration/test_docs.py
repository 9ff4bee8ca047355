"""The commands and code in README.md and docs/*.md work.

Every fenced block carries a marker that says how it is checked:

    <!-- doc-test: sh -->               run with bash -e; must exit 0
    <!-- doc-test: python -->           run with Debian's Python; must exit 0
    <!-- doc-test: node -->             run with Node, where require('herald')
                                        is the binding in bindings/node
    <!-- doc-test: c FILE -->           the block is FILE verbatim, and the
                                        program built from it runs
    <!-- doc-test: excerpt FILE -->     the block is a verbatim part of FILE
                                        (a tested file), whitespace aside
    <!-- doc-test: output of CMD -->    the block is CMD's output (for
                                        'herald stats', its fields)
    <!-- doc-test: gql -->              checked by tests/unit/gql/test_gql_docs.c,
                                        which holds the block verbatim
    <!-- doc-test: config (why) -->     not a command (a diagram, a unit file)
    <!-- doc-test: manual (why) -->     run elsewhere, as the reason says

Options after the kind:

    background wait=TEXT   keep it running; wait for TEXT in its output
    publish=TOPIC          (with background) publish to TOPIC until the
                           snippet prints what was published
    args=A,B               arguments for a 'c' program
    edge                   a herald-edge runs too; its port replaces 8080
    free-ports             the broker command gets '*' ports
    installed              libherald is installed in a temporary prefix,
                           found through PKG_CONFIG_PATH

Against the test broker: its endpoints replace the defaults, and
HERALD_PUB_ENDPOINT, HERALD_SUB_ENDPOINT and HERALD_STATS_ENDPOINT point at
it; "build/" means the build tree under test; port 8080 becomes the test
edge's port, or 0 (a free port the program picks) when none runs.
Tutorial blocks (docs/tutorial.md) are run by test_tutorial.py.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest

import herald
from conftest import BUILD, PYTHON, ROOT, SANITIZED, Edge, c_env, py_env, run

MARK = re.compile(
    r"<!-- doc-test: (?P<kind>[\w-]+)(?P<opts>[^>]*?)\s*-->\s*\n```[\w-]*\n(?P<code>.*?)^```",
    re.S | re.M,
)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def snippets():
    found = []
    for path in DOCS:
        text = path.read_text()
        for m in MARK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append(pytest.param(m.group("kind"), m.group("opts").split(), m.group("code"),
                                      id=f"{path.relative_to(ROOT)}:{line}"))
    return found


def test_every_block_is_marked():
    unmarked = []
    for path in DOCS:
        lines = path.read_text().split("\n")
        inside = False
        for i, line in enumerate(lines):
            if not line.startswith("```"):
                continue
            if not inside:
                before = lines[i - 1] if i else ""
                if "<!-- doc-test:" not in before and "<!-- tutorial:" not in before:
                    unmarked.append(f"{path.relative_to(ROOT)}:{i + 1}")
            inside = not inside
    assert not unmarked, f"blocks without a doc-test marker: {unmarked}"


def localise(code, broker, port):
    code = code.replace("tcp://127.0.0.1:7400", broker.ingress)
    code = code.replace("tcp://127.0.0.1:7401", broker.egress)
    code = code.replace("tcp://127.0.0.1:7403", broker.endpoints["stats"])
    code = code.replace("8080", str(port))
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


def normalise(text):
    return " ".join(text.split())


@pytest.fixture(scope="module")
def node_path(tmp_path_factory):
    """A node_modules holding the binding as 'herald', as users install it."""
    if not shutil.which("node") or not (ROOT / "bindings" / "node" / "node_modules").exists():
        return None
    modules = tmp_path_factory.mktemp("node") / "node_modules"
    modules.mkdir()
    (modules / "herald").symlink_to(ROOT / "bindings" / "node")
    return str(modules)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """libherald installed in a temporary prefix, and a scratch directory
    that sees the repository's examples/."""
    prefix = tmp_path_factory.mktemp("prefix")
    run(["cmake", "--install", BUILD, "--prefix", prefix], check=True)
    work = tmp_path_factory.mktemp("work")
    (work / "examples").symlink_to(ROOT / "examples")
    return prefix, work


def run_background(cmd, env, cwd, wait, publish, broker):
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, text=True, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = []
    threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
    try:
        deadline = time.monotonic() + 20
        if wait:
            while not any(wait in line for line in list(output)):
                assert proc.poll() is None, "exited:\n" + "".join(output)
                assert time.monotonic() < deadline, f"no '{wait}' in:\n" + "".join(output)
                time.sleep(0.05)
        if publish:
            marker = uuid.uuid4().hex
            with herald.Publisher(broker.ingress) as pub:
                # The snippet subscribes on its own schedule: publish until
                # it shows that it received one.
                while not any(marker in line for line in list(output)):
                    assert proc.poll() is None, "exited:\n" + "".join(output)
                    assert time.monotonic() < deadline, "no event seen:\n" + "".join(output)
                    pub.publish(publish, {"id": marker, "text": marker})
                    time.sleep(0.2)
        assert proc.poll() is None, "exited:\n" + "".join(output)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.mark.parametrize("kind,opts,code", snippets())
def test_doc_snippet(broker, node_path, installed, kind, opts, code):
    options = {o.split("=", 1)[0]: (o.split("=", 1)[1] if "=" in o else True) for o in opts}
    if kind in ("config", "manual"):
        assert " ".join(opts).startswith("("), "say why it is not run, in parentheses"
        return
    if kind == "excerpt":
        source = (ROOT / opts[0]).read_text()
        assert normalise(code) in normalise(source), f"the block is not part of {opts[0]}"
        return
    if kind == "gql":
        c_source = (ROOT / "tests" / "unit" / "gql" / "test_gql_docs.c").read_text()
        joined = re.sub(r'"\s*\n\s*"', "", c_source)            # C string continuations
        escaped = code.rstrip("\n").replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        assert escaped in joined or normalise(escaped) in normalise(joined), \
            "test_gql_docs.c does not hold this example"
        return
    if kind == "output":
        what = " ".join(opts[1:])
        if what == "herald stats":
            out = run([BUILD / "libclient" / "herald", "stats", "-e", broker.endpoints["stats"]],
                      check=True)
            assert set(json.loads(code)) == set(json.loads(out.stdout))
        else:
            out = run(shlex.split(localise(what, broker, 0)), env=env_for(broker, "c", ""),
                      check=True, cwd=ROOT)
            assert out.stdout.strip() == code.strip()
        return
    if kind == "c":
        path = ROOT / opts[0]
        assert code == path.read_text(), f"the block differs from {opts[0]}"
        cmd = [str(BUILD / "examples" / path.stem)]
        if "args" in options:
            cmd += options["args"].split(",")
        env = env_for(broker, "c", "")
        if "background" in options:
            run_background(cmd, env, ROOT, options.get("wait"), options.get("publish"), broker)
            return
        out = run(cmd, env=env, timeout=30)
        assert out.returncode == 0 and out.stdout, out.stderr
        return

    assert kind in ("sh", "python", "node"), f"unknown kind {kind}"
    # Port 8080 is the edge's: the test edge's port where one runs, else 0
    # (the program picks a free port itself, which cannot race).
    edge = Edge(broker) if "edge" in options else None
    code = localise(code, broker, edge.port if edge else 0)
    if "free-ports" in options:
        code = code.replace(f"{BUILD}/broker/herald-broker",
                            f"{BUILD}/broker/herald-broker --ingress 'tcp://127.0.0.1:*' "
                            "--egress 'tcp://127.0.0.1:*' --xsub 'tcp://127.0.0.1:*' "
                            "--stats 'tcp://127.0.0.1:*'")
    env = env_for(broker, kind, code)
    cwd = ROOT
    if kind == "node":
        if not node_path:
            pytest.skip("node or the binding's npm packages are missing (scripts/deps.sh test)")
        if SANITIZED:
            pytest.skip("node cannot load the sanitizer build of libherald")
        env["NODE_PATH"] = node_path
        env.pop("LD_PRELOAD", None)
    if "installed" in options:
        if SANITIZED:
            pytest.skip("builds against the plain installed library")
        prefix, cwd = installed
        env.update(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"),
                   LD_LIBRARY_PATH=str(prefix / "lib"))
    if edge:
        try:
            out = run(command(kind, code), env=env, timeout=60, cwd=cwd)
            assert out.returncode == 0 and out.stdout, out.stdout + out.stderr
        finally:
            assert edge.stop() == 0
        return
    if "background" in options:
        run_background(command(kind, code), env, cwd, options.get("wait"),
                       options.get("publish"), broker)
        return
    out = run(command(kind, code), env=env, timeout=120, cwd=cwd)
    assert out.returncode == 0, out.stdout + out.stderr
