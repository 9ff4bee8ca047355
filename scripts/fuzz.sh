#!/usr/bin/env bash
# Runs every libFuzzer harness for longer than the test suite's smoke run.
#   scripts/fuzz.sh [SECONDS]     default 300 per harness
# Findings (crash-*, leak-*, timeout-* files) land in build-fuzz/tests/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
seconds=${1:-300}
scripts/build.sh build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DHERALD_FUZZ=ON -DBUILD_TESTING=OFF -DHERALD_FUZZ_SECONDS="$seconds"
ctest --test-dir build-fuzz -L fuzz --output-on-failure --timeout $((seconds + 120))
