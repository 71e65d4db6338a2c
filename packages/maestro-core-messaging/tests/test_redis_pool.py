"""Redis specifics: the blocking pool, the pipelined XADD path and its packers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from maestro_core_messaging import MessageBroker, PublishError
from maestro_core_messaging._redis import _pack, _resp
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


def test_the_python_packer_matches_the_c_packer() -> None:
    """Without hiredis the XADDs are packed by _resp: byte for byte what hiredis packs."""
    args: tuple[str | bytes, ...] = ("XADD", "orders.created", "MAXLEN", "~", "1000", "*")
    args += ("ce_id", "0192-é", "data", b'{"a": "\r\n$1"}', "empty", b"")
    assert _resp(args) == _pack(args)
    assert _resp(("PING",)) == b"*1\r\n$4\r\nPING\r\n"


async def test_a_refused_xadd_raises_and_the_pool_stays_usable(redis_url: str) -> None:
    """XADD on a key of another type is a PublishError; the next publish works (no stray reply)."""
    topic = unique_name("wrongtype").replace("-", "_") + ".events"
    client: Any = aioredis.Redis.from_url(redis_url)
    await client.set(topic, "not a stream")
    broker = MessageBroker.from_url(redis_url, publish_window=3)
    other = topic + "_ok"
    try:
        with pytest.raises(PublishError, match="refused"):
            await broker.publish_many(topic, list(range(7)))
        ids = await broker.publish_many(other, list(range(7)))
        entries = await client.xrange(other)
        assert [e[1][b"ce_id"].decode() for e in entries] == ids
    finally:
        await client.delete(topic, other)
        await client.aclose()
        await broker.disconnect()
