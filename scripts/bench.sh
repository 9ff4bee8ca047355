#!/usr/bin/env bash
# Benchmarks (see docs/benchmarks.md). Builds the plain tree first.
#   scripts/bench.sh [bench.py options]     e.g. --count 2000000 --rounds 5
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
scripts/build.sh build
exec /usr/bin/python3 tests/bench/bench.py --build build "$@"
