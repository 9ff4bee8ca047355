"""The error codes come from one list, HERALD_ERR_MAP in herald.h. The
herald_err_t enum, the built library's herald_strerror, the Python and Node
bindings' tables, the Node type declarations and the table in
docs/libherald.md must each hold exactly its names and values: no more, no
fewer. (test_client.py checks the bindings against the enum as well.)"""

import ast
import ctypes
import json
import re
import shutil

import pytest

from conftest import LIBRARY, ROOT, SANITIZED, c_env, expand_header, run

NODE_BINDING = ROOT / "bindings" / "node"


@pytest.fixture(scope="module")
def entries():
    """[(name, value, text)]: the HERALD_ERR_MAP entries, in order."""
    out = expand_header("#define XX(name, value, text) HERALD_ENTRY name value text\n"
                        "HERALD_ERR_MAP (XX)\n")
    found = re.findall(r'HERALD_ENTRY\s+(\w+)\s+(\d+)\s+("(?:[^"\\]|\\.)*")', out)
    assert found, "no HERALD_ERR_MAP entries in the expanded header"
    return [(name, int(value), ast.literal_eval(text)) for name, value, text in found]


@pytest.fixture(scope="module")
def codes(entries):
    """{name: value} as the bindings spell them, with OK (0) beside the list."""
    return {"OK": 0, **{name: value for name, value, _ in entries}}


def test_enum_is_the_list(codes):
    text = expand_header()
    enum = re.search(r"typedef enum herald_err \{(.*?)\} herald_err_t;", text, re.S)
    assert enum, "no herald_err_t in the expanded header"
    members = re.findall(r"HERALD_(?:ERR_)?(\w+)\s*=\s*(\d+)", enum.group(1))
    assert {name: int(value) for name, value in members} == codes
    assert len(members) == len(codes)


def test_codes_run_from_one_with_no_gaps(entries):
    names = [name for name, _, _ in entries]
    assert len(set(names)) == len(names), names
    assert [value for _, value, _ in entries] == list(range(1, len(entries) + 1))


def test_strerror_gives_the_list_texts(entries):
    lib = ctypes.CDLL(str(LIBRARY))
    lib.herald_strerror.restype = ctypes.c_char_p
    lib.herald_strerror.argtypes = [ctypes.c_int]
    assert lib.herald_strerror(0) == b"success"
    for name, value, text in entries:
        assert lib.herald_strerror(value).decode() == text, name
    for value in (-1, len(entries) + 1, 9999):
        assert lib.herald_strerror(value) == b"unknown error", value


def test_python_error_codes(codes):
    import herald
    # __members__, unlike iteration, also shows a name given twice to one value.
    table = {name: int(member) for name, member in herald.ErrorCode.__members__.items()}
    assert table == codes


@pytest.mark.skipif(SANITIZED, reason="node cannot load the sanitizer build of libherald")
def test_node_error_codes(codes):
    node = shutil.which("node")
    assert node, "node is missing (scripts/deps.sh test installs it)"
    assert (NODE_BINDING / "node_modules").exists(), \
        "the Node binding's npm packages are missing (scripts/deps.sh test installs them)"
    out = run([node, "-e", "console.log(JSON.stringify(require(process.argv[1]).ErrorCode))",
               NODE_BINDING], env=c_env(HERALD_LIBRARY=str(LIBRARY)))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == codes


def test_node_type_declarations(codes):
    text = (NODE_BINDING / "index.d.ts").read_text()
    block = re.search(r"export declare const ErrorCode: \{(.*?)\};", text, re.S)
    assert block, "no ErrorCode declaration in index.d.ts"
    declared = re.findall(r"readonly (\w+): (\d+);", block.group(1))
    assert {name: int(value) for name, value in declared} == codes
    assert len(declared) == len(codes)


def test_docs_table(entries):
    text = (ROOT / "docs" / "libherald.md").read_text()
    documented = re.findall(r"^\| `HERALD_ERR_(\w+)` \|", text, re.M)
    assert documented == [name for name, _, _ in entries]
