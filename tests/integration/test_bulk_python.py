"""Bulk from Python: 100,000 messages published from one Python process
reach a Python asyncio subscriber in order, none lost."""

import asyncio
import time

import herald
from conftest import PYTHON, py_env

COUNT = 100_000

# The documented way to publish in bulk: on backpressure (ErrorCode.AGAIN,
# the queue to the broker stayed full for the send timeout) retry.
PUBLISHER = """
import sys, herald
endpoint, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with herald.Publisher(endpoint) as pub:
    for seq in range(count):
        while True:
            try:
                pub.publish(topic, {"seq": seq, "text": "x" * 60})
                break
            except herald.HeraldError as e:
                if e.code != herald.ErrorCode.AGAIN:
                    raise
"""


def test_bulk_in_order(broker):
    async def main():
        async with herald.Subscriber(broker.egress, ["bulk"]) as sub:
            await sub.ready(10)
            start = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                PYTHON, "-c", PUBLISHER, broker.ingress, "bulk", str(COUNT), env=py_env()
            )
            expect = 0

            async def consume():
                nonlocal expect
                async for topic, event in sub:
                    assert topic == "bulk"
                    assert event["seq"] == expect, f"got {event['seq']}, expected {expect}"
                    expect += 1
                    if expect == COUNT:
                        return

            await asyncio.wait_for(consume(), 300)
            assert await proc.wait() == 0
            elapsed = time.monotonic() - start
            print(f"\n{COUNT} messages in {elapsed:.2f} s ({COUNT / elapsed:,.0f}/s)")
            assert sub.recv_nowait() is None
            assert sub.skipped == 0

    asyncio.run(main())
    stats = broker.stats()
    assert stats["messages_in_push"] == COUNT
    assert stats["messages_dropped"] == 0
