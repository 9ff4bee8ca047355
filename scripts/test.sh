#!/usr/bin/env bash
# The whole test suite, from a fresh clone on Debian 12: installs what is
# missing, then builds and tests three trees:
#   build       the plain build (RelWithDebInfo), with the valgrind runs
#   build-asan  the same tests under AddressSanitizer + UBSan
#   build-fuzz  clang libFuzzer harnesses, a short smoke run each
# Extra arguments go to every ctest run (for example -R bulk).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test

status=0
# run_tree DIR [cmake options...]; $PARALLEL is ctest's -j for that tree.
# The unit tests (label "unit": no servers, nothing timed) run one per
# core first; the rest one at a time, since many of them measure
# recovery times or load the machine.
run_tree() {
    local dir=$1
    shift
    echo "=== $dir: build"
    scripts/build.sh "$dir" "$@"
    echo "=== $dir: test"
    if [ -n "${PARALLEL:-}" ]; then
        ctest --test-dir "$dir" --output-on-failure -j"$PARALLEL" "${CTEST_ARGS[@]}" || status=1
        return
    fi
    ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" -L '^unit$' "${CTEST_ARGS[@]}" || status=1
    ctest --test-dir "$dir" --output-on-failure -LE '^unit$' "${CTEST_ARGS[@]}" || status=1
}

CTEST_ARGS=("$@")
run_tree build
run_tree build-asan -DHERALD_SANITIZE=ON
# Each fuzz smoke is one process on one core, with nothing timed: they run
# side by side, one per core.
PARALLEL=$(nproc) run_tree build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DHERALD_FUZZ=ON -DBUILD_TESTING=OFF -DHERALD_FUZZ_SECONDS="${HERALD_FUZZ_SECONDS:-10}"

if [ "$status" -ne 0 ]; then
    echo "=== FAILED (see above)"
else
    echo "=== all tests passed"
fi
exit "$status"
