"""Each program's --help comes from its option table; this holds it against
the program's page in docs/, so that no flag goes undocumented and no
documented default differs from the real one."""

import re

import pytest
from conftest import BROKER, CLI, EDGE, ROOT, run

FLAG = re.compile(r"^  (?:-\w, )?--([\w-]+)(?: (\S+))?(?:\s+(.*))?$")


def help_flags(cmd):
    """{flag: default or None} from --help: the default is the last
    parenthesised text of the flag's description."""
    out = run([*cmd, "--help"])
    assert out.returncode == 0, out.stderr
    flags, current, text = {}, None, []

    def close():
        if current:
            m = re.search(r"\(([^()]*)\)\s*$", " ".join(text))
            flags[current] = m.group(1) if m else None
    for line in out.stdout.splitlines():
        m = FLAG.match(line)
        if m:
            close()
            current, text = m.group(1), [m.group(3) or ""]
        elif current and line.startswith("    "):
            text.append(line.strip())
        else:
            close()
            current, text = None, []
    close()
    return flags


def doc_defaults(page, section=None):
    """{flag: default cell} from the page's tables of flags (under the
    heading section only, when given)."""
    rows = {}
    inside = section is None
    for line in (ROOT / "docs" / page).read_text().splitlines():
        if section is not None and line.startswith("#"):
            inside = line == section
        m = re.match(r"^\| `--([\w-]+)[^`]*`[^|]* \| ([^|]*) \|", line)
        if m and inside:
            rows[m.group(1)] = m.group(2).strip()
    return rows


def same_default(help_default, cell):
    empty = {None, "''", "", "none", "off"}
    if cell in ("none", "off", "(required)", ""):
        return help_default in empty
    if help_default in empty:
        return False
    quoted = re.findall(r"`([^`]*)`", cell)
    return help_default in quoted if quoted else help_default == cell


PROGRAMS = [
    ("herald-broker", [BROKER], "broker.md", None),
    ("herald-edge", [EDGE], "edge.md", None),
    ("herald pub", [CLI, "pub"], "libherald.md", "### herald pub"),
    ("herald sub", [CLI, "sub"], "libherald.md", "### herald sub"),
    ("herald stats", [CLI, "stats"], "libherald.md", "### herald stats"),
]


@pytest.mark.parametrize("name,cmd,page,section", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_help_matches_docs(name, cmd, page, section):
    flags = help_flags(cmd)
    assert len(flags) >= 2, flags
    text = (ROOT / "docs" / page).read_text()
    rows = doc_defaults(page, section)
    for flag, default in flags.items():
        if flag in ("help", "version"):
            continue
        assert f"`--{flag}" in text, f"{name} --{flag} is not in docs/{page}"
        if flag in rows:
            assert same_default(default, rows[flag]), \
                f"{name} --{flag}: --help says {default!r}, docs/{page} says {rows[flag]!r}"
    for flag in rows:
        assert flag in flags, f"docs/{page} documents --{flag}, which {name} does not have"
