"""Fixtures for the integration tests: the real herald-broker on free ports,
and environments for the client processes the tests start.

ctest runs each test file with Debian's /usr/bin/python3 and sets
HERALD_BUILD_DIR (the build tree under test) and HERALD_LIBRARY. Run one by
hand from the repository root with, for example:

    HERALD_BUILD_DIR=build /usr/bin/python3 -m pytest tests/integration/test_exact_topics.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("HERALD_BUILD_DIR", ROOT / "build")).resolve()
BROKER = BUILD / "broker" / "herald-broker"
EDGE = BUILD / "edge" / "herald-edge"
CHAT_SCHEMA = ROOT / "examples" / "chat" / "schema.graphql"
CLI = BUILD / "libclient" / "herald"
LIBRARY = BUILD / "libclient" / "libherald.so.1"
TESTBIN = BUILD / "tests" / "integration"
PYTHON = sys.executable
SANITIZED = os.environ.get("HERALD_SANITIZE") == "1"

os.environ.setdefault("HERALD_LIBRARY", str(LIBRARY))
sys.path.insert(0, str(ROOT / "bindings" / "python"))


def c_env(**extra: str) -> dict:
    """Environment for a C program of ours (under ASan: leak checks on)."""
    env = os.environ.copy()
    env.pop("LD_PRELOAD", None)
    if SANITIZED:
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    env.update(extra)
    return env


def py_env(**extra: str) -> dict:
    """Environment for a Python process that loads libherald."""
    env = os.environ.copy()
    env["PYTHONPATH"] = str(ROOT / "bindings" / "python")
    env["HERALD_LIBRARY"] = str(LIBRARY)
    env.update(extra)
    return env


class Service:
    """A program of ours under test: started with its stderr read until a
    line shows it is ready, the rest kept in self.log."""

    name = "service"
    wrapper: list = []          # runs the program under this (valgrind)
    launch_timeout = 10.0

    def _launch(self, cmd, ready) -> None:
        """Starts cmd and reads its stderr until ready(line) is true."""
        self.log = []
        timeout = self.launch_timeout
        self.proc = subprocess.Popen([str(c) for c in [*self.wrapper, *cmd]], stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, text=True, env=c_env())
        deadline = time.monotonic() + timeout
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError(f"{self.name} exited at start:\n" + "".join(self.log))
            self.log.append(line)
            if ready(line):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n" + "".join(self.log))
        # Keep draining stderr so that the program never blocks on it.
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()

    def _drain(self, proc) -> None:
        for line in proc.stderr:
            self.log.append(line)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not stop on signal {sig}")
        time.sleep(0.05)  # let the drain thread read the last lines
        return rc

    def text(self) -> str:
        return "".join(self.log)


class Broker(Service):
    """A herald-broker process. Ports are picked by the broker itself
    ('*'), read back from its log, and can be reused for a restart."""

    name = "broker"

    ROLES = ("ingress", "egress", "xsub", "stats")

    def __init__(self, *args: str, ports: dict | None = None) -> None:
        self.args = list(args)
        self.endpoints: dict[str, str] = {}
        self.log: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.start(ports)

    def start(self, ports: dict | None = None) -> None:
        # Tests subscribe before they publish, so the hold after a start
        # (for subscribers that reconnect after a restart) only slows them;
        # a test's own --hold-ms, later on the command line, wins.
        cmd = [BROKER, "--stats-interval", "0", "--hold-ms", "0"]
        for role in self.ROLES:
            port = ports[role] if ports else "*"
            cmd += [f"--{role}", f"tcp://127.0.0.1:{port}"]
        found: dict[str, str] = {}
        pattern = re.compile(r"(\w+) listening on (\S+)")

        def ready(line):
            m = pattern.search(line)
            if m:
                found[m.group(1)] = m.group(2)
            return len(found) == len(self.ROLES)
        self._launch(cmd + self.args, ready)
        self.endpoints = found

    @property
    def ingress(self) -> str:
        return self.endpoints["ingress"]

    @property
    def egress(self) -> str:
        return self.endpoints["egress"]

    @property
    def xsub(self) -> str:
        return self.endpoints["xsub"]

    @property
    def ports(self) -> dict:
        return {r: int(ep.rsplit(":", 1)[1]) for r, ep in self.endpoints.items()}

    def stats(self) -> dict:
        out = subprocess.run(
            [str(CLI), "stats", "-e", self.endpoints["stats"]],
            capture_output=True, text=True, timeout=10, env=c_env(), check=True,
        )
        return json.loads(out.stdout)

    def wait_stats(self, predicate, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if predicate(stats) or time.monotonic() > deadline:
                return stats
            time.sleep(0.05)


class Edge(Service):
    """A herald-edge process on a free port, fed by a broker."""

    name = "edge"

    def __init__(self, broker: Broker, *args: str, schema=CHAT_SCHEMA, port: int = 0) -> None:
        self.broker = broker
        self.args = list(args)
        self.schema = schema
        self.log: list[str] = []
        self.proc = None
        self.start(port)

    def start(self, port: int = 0) -> None:
        pattern = re.compile(r"listening on (https?)://[^:]+:(\d+)")

        def ready(line):
            m = pattern.search(line)
            if m:
                self.tls = m.group(1) == "https"
                self.port = int(m.group(2))
            return bool(m)
        self._launch([EDGE, "--schema", self.schema, "--port", port, "--broker", self.broker.egress,
                      *self.args], ready)

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/graphql"

    @property
    def http(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ssl_context(self):
        """For a TLS edge: a client context that trusts its certificate."""
        if not self.tls:
            return None
        import ssl
        return ssl.create_default_context(cafile=self.args[self.args.index("--tls-cert") + 1])

    def pids(self) -> list:
        """The edge's processes: the supervisor (self.proc) and its workers."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [self.proc.pid, *(int(p) for p in f.read().split())]
        except OSError:
            return [self.proc.pid]

    def signal_all(self, sig: int) -> None:
        """Send sig to every process of the edge (SIGSTOP stalls it all)."""
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def status_kb(self, field: str, missing: int | None = None) -> int:
        """A kB figure of /proc/PID/status (VmRSS, VmHWM) summed over the
        edge's processes, as proc_status_kb."""
        return sum(proc_status_kb(pid, field, missing) for pid in self.pids())

    def metrics(self) -> dict:
        """The /metrics page as {name or name{labels}: value}."""
        import urllib.request
        with urllib.request.urlopen(self.http + "/metrics", timeout=10,
                                    context=self.ssl_context) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, value = line.rsplit(" ", 1)
                out[key] = float(value)
        return out

    def wait_metric(self, name: str, predicate, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            value = self.metrics().get(name, 0)
            if predicate(value) or time.monotonic() > deadline:
                return value
            time.sleep(0.05)


def make_cert(directory, name: str = "edge") -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key,
    made with the openssl command."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """(certificate, key) for an edge's --tls-cert and --tls-key."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command (scripts/deps.sh test installs it)")
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def broker():
    b = Broker()
    yield b
    rc = b.stop()
    assert rc == 0, "broker exited with %d:\n%s" % (rc, b.text())


def free_port() -> int:
    """A TCP port that is free now (for programs that cannot pick one)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status_kb(pid: int, field: str, missing: int | None = None) -> int:
    """A kB figure from /proc/PID/status, such as VmRSS or VmHWM. A process
    that has exited but is not yet reaped has none: then missing is
    returned, or without missing the test fails."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    if missing is None:
        raise AssertionError(f"no {field} in /proc/{pid}/status")
    return missing


def restartable_ports() -> dict:
    """Broker ports below the kernel's ephemeral range, for a test that
    restarts the broker on the same ports: a port picked with '*' comes from
    that range, and once the broker is gone any outgoing connection on the
    machine may take it as its local port, so that the restart cannot bind."""
    import random
    import socket
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    ports = {}
    while len(ports) < len(Broker.ROLES):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in ports.values():
            ports[Broker.ROLES[len(ports)]] = port
    return ports


def wait_http(url: str, timeout: float = 15.0) -> None:
    """Wait until an HTTP server answers at url (any status)."""
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def run(cmd, *, env=None, timeout=30, input=None, check=False, cwd=None) -> subprocess.CompletedProcess:
    """Run a command, capturing text output."""
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
        env=env if env is not None else c_env(), input=input, check=check, cwd=cwd,
    )


def expand_header(source: str = "") -> str:
    """herald.h and then source, as the C preprocessor expands them: what a
    compiler sees, with macro lists such as HERALD_ERR_MAP made into code."""
    return run(["cc", "-E", "-P", "-x", "c", "-I", ROOT / "libclient" / "include", "-"],
               input="#include <herald.h>\n" + source, check=True).stdout


@pytest.fixture
def edge(broker):
    e = Edge(broker)
    yield e
    rc = e.stop()
    assert rc == 0, "edge exited with %d:\n%s" % (rc, e.text())
