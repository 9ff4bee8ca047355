#!/usr/bin/env bash
# Installs the Debian 12 packages Herald needs, if any are missing.
#   scripts/deps.sh run    what building and running need
#   scripts/deps.sh test   that, plus what the test suite needs
# Uses sudo only when not run as root.
set -euo pipefail

RUN_PKGS=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev
          libjansson-dev python3)
TEST_PKGS=(python3-pytest python3-zmq valgrind clang libclang-rt-14-dev binutils g++)

want=("${RUN_PKGS[@]}")
case "${1:-run}" in
    run) ;;
    test) want+=("${TEST_PKGS[@]}") ;;
    *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "Installing: ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
