#!/usr/bin/env bash
# The main job, from a fresh clone on Debian 12: installs what is missing,
# builds, and runs on localhost
#   herald-broker   the pub/sub backbone
#   herald-edge     GraphQL over WebSocket, serving the chat page
#   the Python example server, whose sendMessage mutation the page uses
#   a demo publisher posting to chat.general every few seconds (Python)
# Open the printed URL to chat. Ctrl-C stops it all.
# HERALD_PORT changes the web port (8080), HERALD_API_PORT the mutation
# server's (4001).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh run
scripts/build.sh build

port=${HERALD_PORT:-8080}
api_port=${HERALD_API_PORT:-4001}
pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

started() {     # name pid: fail if it died at start
    sleep 0.5
    kill -0 "$2" 2>/dev/null || { echo "$1 did not start (see above)" >&2; exit 1; }
}

build/broker/herald-broker &
pids+=($!)
started herald-broker "$!"
build/edge/herald-edge --schema examples/chat/schema.graphql \
    --static build/examples/chat/www --port "$port" &
pids+=($!)
started herald-edge "$!"

export PYTHONPATH="$PWD/bindings/python" HERALD_LIBRARY="$PWD/build/libclient/libherald.so.1"
/usr/bin/python3 examples/python-server/server.py --port "$api_port" &
pids+=($!)
started "the example server" "$!"
/usr/bin/python3 examples/demo/publisher.py &
pids+=($!)

cat <<MSG

Herald is running on localhost:
  chat page  http://127.0.0.1:$port/?mutation=http://127.0.0.1:$api_port/graphql
             (open it in two windows; GraphQL over WebSocket at ws://127.0.0.1:$port/graphql)
  mutations  http://127.0.0.1:$api_port/graphql  (examples/python-server: sendMessage publishes)
  broker     ingress tcp://127.0.0.1:7400, egress tcp://127.0.0.1:7401, stats tcp://127.0.0.1:7403
  demo       a Python publisher posts to chat.general every 3 seconds

In another terminal:
  build/libclient/herald pub chat.general '{"id":"1","channel":"general","text":"hello","author":{"name":"me"}}'
  build/libclient/herald sub chat.general
  curl -s http://127.0.0.1:$port/metrics | grep -v '^#'

Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
