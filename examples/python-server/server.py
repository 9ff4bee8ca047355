#!/usr/bin/python3
"""A GraphQL endpoint for the chat example, on aiohttp (Debian's
python3-aiohttp). Its sendMessage mutation publishes the new message
through the herald Python binding; herald-edge delivers it to every
subscribed browser. Its login mutation signs a token for the edge with
Debian's python3-jwt, and sendDirect publishes to one user's private
channel.

    examples/python-server/server.py [--port 4001] [--jwt-secret FILE] [--token-ttl S]

--jwt-secret (or $HERALD_JWT_SECRET_FILE) names the HMAC secret that
herald-edge gets with --jwt-secret; without it login is refused.
--token-ttl is the tokens' lifetime in seconds (600).

The broker's ingress comes from $HERALD_PUB_ENDPOINT (default
tcp://127.0.0.1:7400). POST /graphql takes {query, variables,
operationName}. The GraphQL handling here is deliberately minimal: it
understands the sendMessage, sendDirect and login mutations and the
channels query of examples/chat/schema.graphql, with arguments given as
variables or as string literals, and returns the whole object. README.md
shows how the same publish call fits a full GraphQL server (Strawberry,
Ariadne).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import re
import sys
import time

from aiohttp import web

import jwt

import herald

# One publisher for the process, shared by every request.
publisher = herald.Publisher()
channels: set[str] = set()
ids = itertools.count(1)
# The HMAC secret login signs with (read_secret), and the tokens' lifetime.
secret: bytes | None = None
token_ttl = 600

FIELD = re.compile(r"\b(sendMessage|sendDirect|login|channels)\s*(\(([^)]*)\))?")
ARG = re.compile(r'(\w+)\s*:\s*(?:\$(\w+)|"((?:[^"\\]|\\.)*)")')
# A user name becomes a topic segment (dm.NAME): no dots, no wildcards.
NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
ARGS = {"sendMessage": ("channel", "text", "author"), "sendDirect": ("to", "text", "author"),
        "login": ("name",)}
NO_SECRET = ("login is off: this server has no JWT secret. Start it with --jwt-secret FILE "
             "(or HERALD_JWT_SECRET_FILE=FILE), the file herald-edge gets with --jwt-secret")


class Refused(Exception):
    """A request this server will not serve; its message goes to the client."""


def read_secret(path: str) -> bytes:
    """The secret as herald-edge reads it: the file's bytes, less one
    trailing newline; like the edge, it wants 32 bytes at least."""
    with open(path, "rb") as f:
        data = f.read()
    data = data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data
    if len(data) < 32:
        raise ValueError(f"{len(data)} bytes; herald-edge wants 32 at least (openssl rand -hex 32)")
    return data


def check_name(what: str, name: str) -> str:
    if not NAME.fullmatch(name):
        raise Refused(f"{what} must be 1 to 32 letters, digits, '_' or '-'")
    return name


def new_message(channel: str, text: str, author: str) -> dict:
    return {
        "id": f"p{next(ids)}",
        "channel": channel,
        "text": text,
        "author": {"name": author},
        "sentAt": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }


def send_message(channel: str, text: str, author: str) -> dict:
    message = new_message(channel, text, author)
    channels.add(channel)
    # The topic matches the schema's @topic(name: "chat.{channel}").
    publisher.publish(f"chat.{channel}", message)
    return message


def send_direct(to: str, text: str, author: str) -> dict:
    # Only the edge's clients whose token has sub = to subscribe to it,
    # through @topic(name: "dm.{jwt.sub}"). (This example trusts author as
    # given; a real server takes it from its caller's own session.)
    topic = f"dm.{check_name('to', to)}"
    message = new_message(topic, text, author)
    publisher.publish(topic, message)
    return message


def login(name: str) -> str:
    """A token for the edge: sub is the name, and its topics claim allows
    the public channels and the user's own private one."""
    if secret is None:
        raise Refused(NO_SECRET)
    now = int(time.time())
    claims = {"sub": check_name("name", name), "iat": now, "exp": now + token_ttl,
              "topics": ["chat.*", f"dm.{name}"]}
    return jwt.encode(claims, secret, algorithm="HS256")


RESOLVERS = {"sendMessage": send_message, "sendDirect": send_direct, "login": login}


def execute(query: str, variables: dict) -> dict:
    """Runs the one field the document selects."""
    # The field is inside the selection set: an operation's own name (say,
    # "mutation login(...)") is not it.
    match = FIELD.search(query, query.find("{") + 1)
    if not match:
        return {"errors": [{"message": "only sendMessage, sendDirect, login and channels are served here"}]}
    field = match.group(1)
    if field == "channels":
        return {"data": {"channels": sorted(channels)}}
    args = {}
    for name, var, literal in ARG.findall(match.group(3) or ""):
        # GraphQL's string escapes are JSON's, but for \u{...}.
        args[name] = variables.get(var) if var else json.loads(f'"{literal}"')
    missing = [a for a in ARGS[field] if not isinstance(args.get(a), str)]
    if missing:
        return {"errors": [{"message": f"{field} needs string arguments: {', '.join(missing)}"}]}
    try:
        return {"data": {field: RESOLVERS[field](*(args[a] for a in ARGS[field]))}}
    except Refused as e:
        return {"data": None, "errors": [{"message": str(e)}]}
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
    global secret, token_ttl
    parser = argparse.ArgumentParser(description="Python example GraphQL server for Herald")
    parser.add_argument("--port", type=int, default=4001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--jwt-secret", metavar="FILE", default=os.environ.get("HERALD_JWT_SECRET_FILE"),
                        help="the HMAC secret login signs tokens with: the file herald-edge gets "
                             "with --jwt-secret (default $HERALD_JWT_SECRET_FILE; without it, "
                             "login is refused)")
    parser.add_argument("--token-ttl", metavar="S", type=int, default=600,
                        help="the lifetime of login's tokens, in seconds (600)")
    args = parser.parse_args()
    if args.token_ttl < 1:
        parser.error("--token-ttl must be 1 or more")
    token_ttl = args.token_ttl
    if args.jwt_secret:
        try:
            secret = read_secret(args.jwt_secret)
        except (OSError, ValueError) as e:
            sys.exit(f"server.py: --jwt-secret {args.jwt_secret}: {e}")
    app = web.Application(client_max_size=1 << 20)
    app.router.add_route("POST", "/graphql", graphql)
    app.router.add_route("OPTIONS", "/graphql", graphql)
    app.on_cleanup.append(close_publisher)
    print(f"python example server: http://{args.host}:{args.port}/graphql", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
