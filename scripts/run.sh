#!/usr/bin/env bash
# The main job, from a fresh clone on Debian 12: installs what is missing,
# builds, and runs on localhost
#   herald-broker   the pub/sub backbone, over CURVE
#   herald-edge     GraphQL over WebSocket, serving the chat page; anyone
#                   may read the public channels (chat.*), and a token from
#                   the example server's login opens one's private channel
#   the Python example server, whose sendMessage, login and sendDirect
#                   mutations the page uses
#   a demo publisher posting to chat.general every few seconds (Python)
# Its keys are made at every start in a temporary directory, removed at
# exit: the HMAC secret the edge checks tokens with and login signs them
# with, the broker's CURVE key pair, and a pair for each of its clients
# (the edge, the example server, the demo publisher, and one for your
# terminal's herald commands: the banner prints its export line).
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
keys=$(mktemp -d "${TMPDIR:-/tmp}/herald-run.XXXXXX")     # mode 0700
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$keys"
}
trap cleanup INT TERM EXIT

started() {     # name pid: fail if it died at start
    sleep 0.5
    kill -0 "$2" 2>/dev/null || { echo "$1 did not start (see above)" >&2; exit 1; }
}

# The tokens' HMAC secret, shared by the edge (which checks) and the
# example server (whose login signs).
(umask 077 && openssl rand -hex 32 > "$keys/jwt.key")
# CURVE: the broker's pair, and one for each client. A client's public
# certificate goes in the broker's allowlist for its side: the edge only
# subscribes, the example server and the demo only publish, and yours
# (for herald pub, sub and stats) does both.
mkdir "$keys/publishers" "$keys/subscribers"
for name in broker edge api demo you; do
    build/libclient/herald keygen "$keys/$name" >/dev/null
done
cp "$keys/api" "$keys/demo" "$keys/you" "$keys/publishers/"
cp "$keys/edge" "$keys/you" "$keys/subscribers/"

build/broker/herald-broker --curve-secret "$keys/broker_secret" \
    --curve-publishers "$keys/publishers" --curve-subscribers "$keys/subscribers" &
pids+=($!)
started herald-broker "$!"
build/edge/herald-edge --schema examples/chat/schema.graphql \
    --static build/examples/chat/www --port "$port" \
    --curve-server "$keys/broker" --curve-cert "$keys/edge_secret" \
    --auth optional --public-topics 'chat.*' --jwt-secret "$keys/jwt.key" &
pids+=($!)
started herald-edge "$!"

export PYTHONPATH="$PWD/bindings/python" HERALD_LIBRARY="$PWD/build/libclient/libherald.so.1"
HERALD_CURVE_SERVER="$keys/broker" HERALD_CURVE_CERT="$keys/api_secret" \
    /usr/bin/python3 examples/python-server/server.py --port "$api_port" --jwt-secret "$keys/jwt.key" &
pids+=($!)
started "the example server" "$!"
HERALD_CURVE_SERVER="$keys/broker" HERALD_CURVE_CERT="$keys/demo_secret" \
    /usr/bin/python3 examples/demo/publisher.py &
pids+=($!)

cat <<MSG

Herald is running on localhost:
  chat page  http://127.0.0.1:$port/?mutation=http://127.0.0.1:$api_port/graphql
             (open it in two windows and sign in with two names: each window gets a
             private channel, and anyone may read the public ones without signing in;
             GraphQL over WebSocket at ws://127.0.0.1:$port/graphql)
  mutations  http://127.0.0.1:$api_port/graphql  (examples/python-server: sendMessage publishes,
             login signs a token for the edge, sendDirect posts to one user)
  broker     ingress tcp://127.0.0.1:7400, egress tcp://127.0.0.1:7401, stats tcp://127.0.0.1:7403,
             over CURVE
  demo       a Python publisher posts to chat.general every 3 seconds
  keys       $keys (removed at exit): jwt.key, the tokens' secret;
             the broker's CURVE pair and one for each client

In another terminal, give the herald commands (and the bindings) your key first:
  export HERALD_CURVE_SERVER=$keys/broker HERALD_CURVE_CERT=$keys/you_secret
  build/libclient/herald pub chat.general '{"id":"1","channel":"general","text":"hello","author":{"name":"me"}}'
  build/libclient/herald sub chat.general
  curl -s http://127.0.0.1:$port/metrics | grep -v '^#'

Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
