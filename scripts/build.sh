#!/usr/bin/env bash
# Configures and builds one tree.
#   scripts/build.sh [DIR [cmake options...]]      default DIR: build
# CMake's configure output goes to DIR/configure.log. On success only what
# a reader must see is shown: CMake's warnings, and the notices of a
# missing dependency and what it leaves out (tests that cannot run, parts
# not built). On failure the whole log is shown.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
mkdir -p "$dir"
log=$dir/configure.log
if ! cmake -S . -B "$dir" "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "build.sh: cmake could not configure $dir (the log above is in $log)" >&2
    exit 1
fi
# A "CMake Warning" is a block: its first line, then indented or blank ones.
awk '
    /^CMake (Warning|Deprecation Warning)/ { block = 1; print; next }
    block && (/^$/ || /^[ \t]/) { print; next }
    { block = 0 }
    /^-- (Check for working|Detecting) / { next }
    tolower($0) ~ /warning|notice|not found|could not find|no package|missing|skipp|did not run|not built/ {
        print
    }
' "$log" >&2
cmake --build "$dir" -j"$(nproc)"
