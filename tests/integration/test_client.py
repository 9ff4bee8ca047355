"""libherald's C API (client_test.c) against the real broker, plainly and
under valgrind; the herald CLI under valgrind too."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import CLI, SANITIZED, TESTBIN, c_env, run

VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--quiet"]
needs_valgrind = pytest.mark.skipif(
    SANITIZED or not shutil.which("valgrind"),
    reason="valgrind does not run sanitizer builds" if SANITIZED else "valgrind missing",
)


def test_c_api(broker):
    out = run([TESTBIN / "client_test", broker.ingress, broker.egress], timeout=120)
    assert out.returncode == 0, out.stderr
    assert "0 failure(s)" in out.stderr


@needs_valgrind
def test_c_api_valgrind(broker):
    out = run(VALGRIND + [TESTBIN / "client_test", broker.ingress, broker.egress], timeout=600)
    assert out.returncode == 0, out.stderr
    assert "0 failure(s)" in out.stderr


@needs_valgrind
def test_cli_valgrind(broker):
    sub = subprocess.Popen(
        VALGRIND + [str(CLI), "sub", "-v", "-n", "2", "-e", broker.egress, "vg"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=c_env(),
    )
    try:
        assert "confirmed" in sub.stderr.readline()
        pub = run(VALGRIND + [CLI, "pub", "-e", broker.ingress, "vg"],
                  input='{"a":1}\n[2]\n', timeout=120)
        assert pub.returncode == 0, pub.stderr
        out, err = sub.communicate(timeout=120)
        assert sub.returncode == 0, err
        assert [json.loads(l)["event"] for l in out.splitlines()] == [{"a": 1}, [2]]
    finally:
        sub.kill()
        sub.wait()
