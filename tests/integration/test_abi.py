"""The C ABI: exported symbols, SONAME, the header as C++, and a project
outside the tree that finds an installed libherald through its CMake
package and through pkg-config."""

import os
import re
import subprocess

import pytest

from conftest import BUILD, LIBRARY, ROOT, SANITIZED, c_env, run

pytestmark = pytest.mark.skipif(
    SANITIZED, reason="packaging checks run on the plain build; a sanitizer "
    "build's library needs the sanitizer runtime in every consumer")

MAP = ROOT / "libclient" / "libherald.map"


def exported():
    out = run(["nm", "-D", "--defined-only", LIBRARY], check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def test_only_herald_symbols_are_exported():
    # (the version nodes, HERALD_1.0 and later, show up as symbols too)
    symbols = {s for s in exported() if not re.fullmatch(r"HERALD_\d+\.\d+", s)}
    assert symbols, "no symbols found"
    assert all(s.startswith("herald_") for s in symbols), sorted(symbols)
    assert not any(s.startswith("herald__") for s in symbols)
    listed = set(re.findall(r"^\s+(herald_\w+);", MAP.read_text(), re.M))
    assert symbols == listed


def test_soname_and_symbol_version():
    dyn = run(["readelf", "-d", LIBRARY], check=True).stdout
    assert "Library soname: [libherald.so.1]" in dyn
    versions = run(["objdump", "-T", LIBRARY], check=True).stdout
    assert re.search(r"HERALD_1\.0\s+herald_publish$", versions, re.M)
    assert re.search(r"HERALD_1\.1\s+herald_publisher_close$", versions, re.M)
    for name in ("herald_publisher_new_secure", "herald_subscriber_new_secure",
                 "herald_subscriber_refused"):
        assert re.search(rf"HERALD_1\.2\s+{name}$", versions, re.M), name
    for name in ("herald_publisher_brokers", "herald_publisher_broker_endpoint",
                 "herald_publisher_broker_up", "herald_publisher_stat",
                 "herald_subscriber_brokers", "herald_subscriber_broker_endpoint",
                 "herald_subscriber_broker_connected"):
        assert re.search(rf"HERALD_1\.3\s+{name}$", versions, re.M), name
    assert re.search(r"HERALD_1\.4\s+herald_event_stamp$", versions, re.M)


def test_header_compiles_as_cxx(tmp_path):
    exe = tmp_path / "cxx_header"
    run(["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic",
         "-I", ROOT / "libclient" / "include", ROOT / "tests" / "abi" / "cxx_header.cpp",
         "-L", BUILD / "libclient", "-lherald", "-o", exe], check=True)
    out = run([exe], env=c_env(LD_LIBRARY_PATH=str(BUILD / "libclient")), check=True)
    assert out.stdout.startswith("0.1.0 invalid topic")


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix")
    run(["cmake", "--install", BUILD, "--prefix", prefix], check=True)
    return prefix


def test_install_layout(prefix):
    for path in ("include/herald.h", "lib/libherald.so.1", "lib/libherald.so",
                 "lib/pkgconfig/herald.pc", "lib/cmake/herald/heraldConfig.cmake",
                 "bin/herald", "bin/herald-broker"):
        assert (prefix / path).exists(), path


def test_external_cmake_project(prefix, tmp_path, broker):
    build = tmp_path / "consumer"
    run(["cmake", "-S", ROOT / "tests" / "abi" / "consumer", "-B", build,
         f"-DCMAKE_PREFIX_PATH={prefix}"], check=True)
    run(["cmake", "--build", build], check=True)
    out = run([build / "consumer", broker.ingress, broker.egress], timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["libherald 0.1.0", 'consumer {"from":"consumer"}']


def test_external_pkg_config_build(prefix, tmp_path, broker):
    env = c_env(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs", "herald"], env=env, check=True).stdout.split()
    exe = tmp_path / "consumer"
    run(["cc", "-Wall", "-Werror", ROOT / "tests" / "abi" / "consumer" / "main.c", *flags,
         "-o", exe], check=True)
    out = run([exe, broker.ingress, broker.egress],
              env=c_env(LD_LIBRARY_PATH=str(prefix / "lib")), timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == 'consumer {"from":"consumer"}'
