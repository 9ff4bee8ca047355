#!/usr/bin/env bash
# Installs what Herald needs on Debian 12, if any of it is missing.
#   scripts/deps.sh run    what building and running need
#   scripts/deps.sh test   that, plus what the test suite needs
# Debian packages come from apt-get (with sudo only when not root); the
# browser-side and Node test packages from npm, pinned by package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_PKGS=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev
          libjansson-dev libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libssl-dev python3
          python3-aiohttp python3-jwt openssl)
TEST_PKGS=(python3-pytest python3-zmq python3-websockets python3-cryptography
           valgrind clang libclang-rt-14-dev binutils g++ chromium curl
           systemd iproute2)
# In dependency order: the node example links the binding's folder.
NPM_DIRS=(examples/chat)

mode=${1:-run}
want=("${RUN_PKGS[@]}")
case "$mode" in
    run) ;;
    test) want+=("${TEST_PKGS[@]}"); NPM_DIRS+=(bindings/node examples/node-server tests/node tests/bench/peer) ;;
    *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac
# Node.js: any installed one (18 or newer) will do; otherwise Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    want+=(nodejs npm)
fi

missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    echo "Installing: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
fi

# npm packages, reinstalled only when the lock file changed.
for dir in "${NPM_DIRS[@]}"; do
    if [ ! -f "$dir/node_modules/.package-lock.json" ] \
        || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "Installing npm packages in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
