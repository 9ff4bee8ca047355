#!/usr/bin/env bash
# The main job, from a fresh clone on Debian 12: installs what is missing,
# builds, and runs herald-broker on localhost with a live demo: a Python
# publisher posting chat messages and a subscriber printing them.
# Stop everything with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh run
scripts/build.sh build

pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

build/broker/herald-broker &
pids+=($!)
sleep 0.3
kill -0 "${pids[0]}" 2>/dev/null || { echo "herald-broker did not start (see above)" >&2; exit 1; }

export PYTHONPATH="$PWD/bindings/python" HERALD_LIBRARY="$PWD/build/libclient/libherald.so.1"
build/libclient/herald sub -v chat.general &
pids+=($!)
/usr/bin/python3 examples/demo/publisher.py &
pids+=($!)

cat <<'MSG'

Herald is running on localhost:
  broker  ingress tcp://127.0.0.1:7400, egress tcp://127.0.0.1:7401, stats tcp://127.0.0.1:7403
  demo    a Python publisher posts to chat.general; the subscriber prints each event

In another terminal, publish your own:
  build/libclient/herald pub chat.general '{"id":"1","text":"hello","author":{"name":"me"}}'
  build/libclient/herald stats

Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
