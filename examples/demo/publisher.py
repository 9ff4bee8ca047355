#!/usr/bin/python3
"""A demo publisher: posts a chat message to a topic every few seconds,
the way a GraphQL mutation resolver would publish after saving a message.

    examples/demo/publisher.py [--endpoint EP] [--topic chat.general] [--interval 3]
"""

import argparse
import datetime
import itertools
import time

import herald

LINES = [
    "Herald is up: this message went Python -> broker -> edge -> your browser.",
    "Publish your own: build/libclient/herald pub chat.general "
    "'{\"id\":\"x\",\"channel\":\"general\",\"text\":\"hi\",\"author\":{\"name\":\"you\"}}'",
    "Or from Python: herald.Publisher().publish('chat.general', {...})",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=None,
                        help="broker ingress (default $HERALD_PUB_ENDPOINT or tcp://127.0.0.1:7400)")
    parser.add_argument("--topic", default="chat.general")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between messages")
    args = parser.parse_args()
    # A whole Message of examples/chat's schema: its channel is the topic's
    # last part (chat.{channel}), as the mutation would have stored it.
    channel = args.topic.rsplit(".", 1)[-1]
    with herald.Publisher(args.endpoint) as pub:
        for n in itertools.count(1):
            pub.publish(args.topic, {
                "id": f"demo-{n}",
                "channel": channel,
                "text": LINES[(n - 1) % len(LINES)],
                "author": {"name": "demo-bot"},
                "sentAt": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            })
            time.sleep(args.interval)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
