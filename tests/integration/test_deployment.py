"""The systemd units in deploy/ install, pass `systemd-analyze verify`, and
their command lines start a working broker and edge.

`cmake --install` writes the units into a temporary prefix, naming the
programs there. Then, in a network namespace of its own (so the units'
fixed ports 7400-7403 and 8080 are free), each unit's ExecStart runs as
systemd would expand it: the Environment= defaults, the schema pointed at
the example's. The edge must answer /healthz and /metrics with every worker
up, and both must stop on SIGTERM with status 0.
"""

import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import BUILD, CHAT_SCHEMA, ROOT, c_env, run

UNITS = ["herald-broker.service", "herald-edge.service"]


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    dest = tmp_path_factory.mktemp("prefix")
    proc = run(["cmake", "--install", str(BUILD), "--prefix", str(dest)], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def unit_text(prefix, unit):
    return (prefix / "lib" / "systemd" / "system" / unit).read_text()


def exec_start(text, **env):
    """The unit's ExecStart as an argv, with ${VAR} expanded from its
    Environment= lines (then env), as systemd expands it."""
    joined = re.sub(r"\\\n\s*", " ", text)
    values = dict(re.findall(r"^Environment=(\w+)=(.*)$", joined, re.M))
    values.update(env)
    line = re.search(r"^ExecStart=(.*)$", joined, re.M).group(1)
    line = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], line)
    return shlex.split(line)


@pytest.mark.parametrize("unit", UNITS)
def test_unit_installs_and_verifies(prefix, unit):
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is missing: run scripts/deps.sh test")
    text = unit_text(prefix, unit)
    argv = exec_start(text)
    assert argv[0] == str(prefix / "bin" / unit.replace(".service", ""))
    proc = run(["systemd-analyze", "verify", str(prefix / "lib/systemd/system" / unit)],
               timeout=60)
    # verify reports problems on stderr but exits 0 for some (an unknown
    # key); any line about this unit is a defect.
    about = [line for line in (proc.stdout + proc.stderr).splitlines() if unit in line]
    assert proc.returncode == 0 and not about, proc.stdout + proc.stderr


def test_edge_unit_runs_every_core(prefix):
    argv = exec_start(unit_text(prefix, "herald-edge.service"))
    assert argv[argv.index("--workers") + 1] == "auto"


def in_namespace():
    """Runs a command in a new network namespace, with lo up, if root can."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("test_units_serve needs root and unshare(1) for a network namespace")
    probe = run(["unshare", "--net", "true"])
    if probe.returncode != 0:
        pytest.skip(f"test_units_serve: unshare --net failed: {probe.stderr.strip()}")


def test_units_serve(prefix, tmp_path):
    in_namespace()
    broker = exec_start(unit_text(prefix, "herald-broker.service"))
    edge = exec_start(unit_text(prefix, "herald-edge.service"), HERALD_SCHEMA=str(CHAT_SCHEMA))
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys, time, urllib.request\n"
        "deadline = time.time() + 20\n"
        "while True:\n"
        "    try:\n"
        "        health = urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).read()\n"
        "        metrics = urllib.request.urlopen('http://127.0.0.1:8080/metrics', timeout=2).read()\n"
        "        if b'herald_edge_broker_connected 1' in metrics or time.time() > deadline:\n"
        "            break\n"
        "    except OSError:\n"
        "        if time.time() > deadline:\n"
        "            raise\n"
        "    time.sleep(0.2)\n"
        "print(health.decode().strip())\n"
        "print(metrics.decode())\n")
    script = tmp_path / "serve.sh"
    script.write_text(
        "set -u\nip link set lo up\n"
        f"{shlex.join(broker)} 2>{tmp_path}/broker.log &\nb=$!\n"
        f"{shlex.join(edge)} 2>{tmp_path}/edge.log &\ne=$!\n"
        f"/usr/bin/python3 {probe}; p=$?\n"
        "kill -TERM $e; wait $e; es=$?\n"
        "kill -TERM $b; wait $b; bs=$?\n"
        "echo \"probe=$p edge=$es broker=$bs\"\n")
    # A scratch prefix is not in ld.so's cache as /usr/local/lib is (after
    # ldconfig), so the programs are told where libherald is.
    env = c_env(LD_LIBRARY_PATH=str(prefix / "lib"))
    proc = subprocess.run(["unshare", "--net", "bash", str(script)], env=env,
                          capture_output=True, text=True, timeout=60)
    logs = f"{proc.stdout}\n{proc.stderr}\n{(tmp_path / 'edge.log').read_text()}\n" \
           f"{(tmp_path / 'broker.log').read_text()}"
    assert "probe=0 edge=0 broker=0" in proc.stdout, logs
    assert proc.stdout.startswith("ok"), logs
    assert "herald_edge_broker_connected 1" in proc.stdout, logs
    workers = re.search(r"^herald_edge_workers (\d+)$", proc.stdout, re.M)
    assert workers and int(workers.group(1)) == len(os.sched_getaffinity(0)), logs


LAYOUT = re.compile(r"<!-- doc-test: manual \(started and checked by "
                    r"tests/integration/test_deployment.py\) -->\n```sh\n(.*?)^```", re.S | re.M)

CLIENT = r"""
import asyncio, json, sys, time, urllib.request
sys.path.insert(0, sys.argv[1])
from wsutil import Client

def metrics():
    text = urllib.request.urlopen("http://127.0.0.1:8080/metrics", timeout=2).read().decode()
    return dict(l.rsplit(" ", 1) for l in text.splitlines() if l and not l.startswith("#"))

deadline = time.time() + 20
while True:
    try:
        m = metrics()
        links = [v for k, v in m.items() if k.startswith("herald_edge_broker_link_up{")]
        if m.get("herald_edge_workers") == "2" and links == ["1", "1"]:
            break
    except OSError:
        pass
    assert time.time() < deadline, "the edge never had 2 workers linked to both brokers"
    time.sleep(0.2)

async def main():
    client = await Client.open("ws://127.0.0.1:8080/graphql")
    await client.init()
    await client.subscribe("1", 'subscription { messageAdded(channel: "general") { text } }')
    time.sleep(0.5)
    print("subscribed", flush=True)
    msg = await client.recv()
    print(json.dumps(msg["payload"]), flush=True)

asyncio.run(asyncio.wait_for(main(), 20))
"""


def test_the_documented_layout_runs(tmp_path):
    """docs/deployment.md's one-machine layout: two brokers, an edge with two
    workers linked to both, and a publish that a client of the edge gets."""
    in_namespace()
    block = LAYOUT.search((ROOT / "docs" / "deployment.md").read_text()).group(1)
    block = block.replace("build/", f"{BUILD}/")
    *servers, pub = re.split(r"(?<=&)\n", block.strip())
    assert pub.lstrip().startswith(f"{BUILD}/libclient/herald pub"), pub
    (tmp_path / "client.py").write_text(CLIENT)
    script = tmp_path / "layout.sh"
    script.write_text(
        "set -u\nip link set lo up\ncd " + shlex.quote(str(ROOT)) + "\n"
        + "\n".join(servers) + f"\n/usr/bin/python3 {tmp_path}/client.py "
        + f"{ROOT}/tests/integration > {tmp_path}/client.out &\nc=$!\n"
        + f"until grep -q subscribed {tmp_path}/client.out; do sleep 0.1; "
        + "kill -0 $c 2>/dev/null || break; done\n"
        + pub + "\np=$?\nwait $c; cs=$?\n"
        + "kill -TERM $(jobs -p) 2>/dev/null; wait\necho \"pub=$p client=$cs\"\n")
    proc = subprocess.run(["unshare", "--net", "bash", str(script)], env=c_env(),
                          capture_output=True, text=True, timeout=60)
    out = (tmp_path / "client.out").read_text()
    assert "pub=0 client=0" in proc.stdout, proc.stdout + proc.stderr + out
    assert '"text": "hello"' in out, out
