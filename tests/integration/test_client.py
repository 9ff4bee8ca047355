"""libherald's C API (client_test.c) against the real broker, plainly and
under valgrind; the herald CLI under valgrind too; and the bindings' error
codes against the header's."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import CLI, ROOT, SANITIZED, TESTBIN, c_env, expand_header, run

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


def header_error_codes():
    """herald_err_t from herald.h, as {NAME: value}. The enum is made from
    the HERALD_ERR_MAP list, so it is read from the preprocessed header."""
    text = expand_header()
    enum = re.search(r"typedef enum herald_err \{(.*?)\} herald_err_t;", text, re.S).group(1)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"HERALD_(?:ERR_)?(\w+) = (\d+)", enum)}


def test_binding_error_codes_match_the_header():
    codes = header_error_codes()
    assert codes["UNSENT"] == 12 and codes["OK"] == 0
    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    import herald
    assert {c.name: c.value for c in herald.ErrorCode} == codes
    node = shutil.which("node")
    if not node or not (ROOT / "bindings" / "node" / "node_modules").exists():
        pytest.skip("node or the Node binding's packages are missing")
    if SANITIZED:
        pytest.skip("node cannot load the sanitizer build of libherald")
    out = run([node, "-e", "console.log(JSON.stringify(require(process.argv[1]).ErrorCode))",
               ROOT / "bindings" / "node"], env=c_env(), check=True)
    assert json.loads(out.stdout) == codes


def test_metadata_frames_reach_the_caller():
    """The optional metadata frame arrives with its event, and an event
    without one has none, however the library batches them inside."""
    import ctypes
    import zmq
    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    import herald
    from herald._lib import lib
    ctx = zmq.Context()
    try:
        xpub = ctx.socket(zmq.XPUB)
        port = xpub.bind_to_random_port("tcp://127.0.0.1")
        with herald.Subscriber(f"tcp://127.0.0.1:{port}", ["m"], raw=True) as sub:
            assert xpub.poll(5000)
            assert xpub.recv() == b"\x01m"
            sent = []
            for i in range(300):
                meta = b"\x81\xa2id" + bytes([i % 100]) if i % 3 else None
                sent.append((bytes([i % 100]), meta))
                xpub.send_multipart([b"m", sent[-1][0]] + ([meta] if meta else []))
            for payload, meta in sent:
                ev = ctypes.c_void_p()
                assert lib.herald_recv(sub._handle, ctypes.byref(ev), 10000) == 0
                size = ctypes.c_size_t()
                data = lib.herald_event_payload(ev, ctypes.byref(size))
                assert ctypes.string_at(data, size.value) == payload
                ptr = lib.herald_event_metadata(ev, ctypes.byref(size))
                got = ctypes.string_at(ptr, size.value) if ptr else None
                assert got == meta
                # None of these is a broker's numbering.
                e, o = ctypes.c_uint64(), ctypes.c_uint64()
                assert lib.herald_event_stamp(ev, ctypes.byref(e), ctypes.byref(o)) \
                    == herald.ErrorCode.INVALID
                lib.herald_event_destroy(ctypes.byref(ev))
            # One that is: any map with "epoch" and "offset", in any order.
            xpub.send_multipart([b"m", b"\xc0", b"\x82\xa6offset\x09\xa5epoch\x07"])
            ev = ctypes.c_void_p()
            assert lib.herald_recv(sub._handle, ctypes.byref(ev), 10000) == 0
            e, o = ctypes.c_uint64(), ctypes.c_uint64()
            assert lib.herald_event_stamp(ev, ctypes.byref(e), ctypes.byref(o)) == 0
            assert (e.value, o.value) == (7, 9)
            lib.herald_event_destroy(ctypes.byref(ev))
    finally:
        ctx.destroy(linger=0)
