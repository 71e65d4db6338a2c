"""Redis specifics: 1,000 concurrent publishes share a blocking connection pool."""

from __future__ import annotations

import asyncio

from maestro_core_messaging import MessageBroker
from maestro_testkit import unique_name


async def test_many_concurrent_publishes_share_the_connection_pool(redis_url: str) -> None:
    """1,000 concurrent publish() calls on Redis all succeed (no MaxConnectionsError)."""
    topic = unique_name("pool").replace("-", "_") + ".events"
    broker = MessageBroker.from_url(redis_url)
    got: list[int] = []

    @broker.subscriber(topic, group="g", concurrency=16)
    async def handle(n: int) -> None:
        got.append(n)

    try:
        async with broker:
            await asyncio.gather(*(broker.publish(topic, i) for i in range(1000)))
            await broker.join(timeout=30)
    finally:
        await broker.delete_topic(topic, ["g"])
        await broker.disconnect()
    assert sorted(got) == list(range(1000))
