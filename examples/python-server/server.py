#!/usr/bin/python3
"""A GraphQL endpoint for the chat example, on aiohttp (Debian's
python3-aiohttp). Its sendMessage mutation publishes the new message
through the herald Python binding; herald-edge delivers it to every
subscribed browser.

    examples/python-server/server.py [--port 4001]

The broker's ingress comes from $HERALD_PUB_ENDPOINT (default
tcp://127.0.0.1:7400). POST /graphql takes {query, variables,
operationName}. The GraphQL handling here is deliberately minimal: it
understands the sendMessage mutation and the channels query of
examples/chat/schema.graphql, with arguments given as variables or as
string literals, and returns the whole object. README.md shows how the
same publish call fits a full GraphQL server (Strawberry, Ariadne).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import re

from aiohttp import web

import herald

# One publisher for the process, shared by every request.
publisher = herald.Publisher()
channels: set[str] = set()
ids = itertools.count(1)

FIELD = re.compile(r"\b(sendMessage|channels)\s*(\(([^)]*)\))?")
ARG = re.compile(r'(\w+)\s*:\s*(?:\$(\w+)|"((?:[^"\\]|\\.)*)")')


def send_message(channel: str, text: str, author: str) -> dict:
    message = {
        "id": f"p{next(ids)}",
        "channel": channel,
        "text": text,
        "author": {"name": author},
        "sentAt": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    channels.add(channel)
    # The topic matches the schema's @topic(name: "chat.{channel}").
    publisher.publish(f"chat.{channel}", message)
    return message


def execute(query: str, variables: dict) -> dict:
    """Runs the one field the document selects."""
    match = FIELD.search(query)
    if not match:
        return {"errors": [{"message": "only sendMessage and channels are served here"}]}
    if match.group(1) == "channels":
        return {"data": {"channels": sorted(channels)}}
    args = {}
    for name, var, literal in ARG.findall(match.group(3) or ""):
        # GraphQL's string escapes are JSON's, but for \u{...}.
        args[name] = variables.get(var) if var else json.loads(f'"{literal}"')
    missing = [a for a in ("channel", "text", "author") if not isinstance(args.get(a), str)]
    if missing:
        return {"errors": [{"message": f"sendMessage needs string arguments: {', '.join(missing)}"}]}
    try:
        return {"data": {"sendMessage": send_message(args["channel"], args["text"], args["author"])}}
    except herald.HeraldError as e:
        return {"data": None, "errors": [{"message": e.message}]}


CORS = {"access-control-allow-origin": "*", "access-control-allow-headers": "content-type"}


async def graphql(request: web.Request) -> web.Response:
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"errors": [{"message": "the body must be JSON"}]},
                                 status=400, headers=CORS)
    result = execute(str(body.get("query", "")), body.get("variables") or {})
    return web.json_response(result, headers=CORS)


async def close_publisher(_app: web.Application) -> None:
    """Flushes what is still queued (within the publisher's linger)."""
    publisher.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Python example GraphQL server for Herald")
    parser.add_argument("--port", type=int, default=4001)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app = web.Application(client_max_size=1 << 20)
    app.router.add_route("POST", "/graphql", graphql)
    app.router.add_route("OPTIONS", "/graphql", graphql)
    app.on_cleanup.append(close_publisher)
    print(f"python example server: http://{args.host}:{args.port}/graphql", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
