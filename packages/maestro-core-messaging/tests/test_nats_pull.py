"""The NATS pull consumer: requests keep coming as credit is used, a lost consumer is restored."""

from __future__ import annotations

import asyncio
import time

import nats
import nats.errors
import nats.js.errors
import pytest
from maestro_core_messaging import MessageBroker, PublishError
from maestro_core_messaging._nats import NatsBackend, durable_name, stream_name
from maestro_testkit import unique_name
from nats.aio.msg import Msg


def _topic() -> str:
    return unique_name("pull").replace("-", "_").replace(".", "_") + ".events"


async def test_many_small_pulls_deliver_everything_once(nats_url: str) -> None:
    """200 messages through prefetch=7 and 3 concurrent handlers: each handled exactly once."""
    topic = _topic()
    broker = MessageBroker.from_url(nats_url, prefetch=7, reclaim_idle=5)
    seen: list[int] = []

    @broker.subscriber(topic, group="g", concurrency=3)
    async def handle(n: int) -> None:
        await asyncio.sleep(0)
        seen.append(n)

    try:
        async with broker:
            await broker.publish_many(topic, list(range(200)))
            await broker.join(timeout=30)
    finally:
        await broker.delete_topic(topic, ["g"])
        await broker.disconnect()
    assert sorted(seen) == list(range(200))


async def test_a_consumer_the_server_lost_is_created_again(nats_url: str) -> None:
    """Deleting the durable consumer under a running subscriber: it is re-created and consumes."""
    topic = _topic()
    broker = MessageBroker.from_url(nats_url, reclaim_idle=2)
    seen: list[int] = []

    @broker.subscriber(topic, group="g")
    async def handle(n: int) -> None:
        seen.append(n)

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        async with broker:
            await broker.publish(topic, 1)
            await broker.join(timeout=10)
            for _ in range(20):  # the file store may still be writing ("directory not empty")
                try:
                    await js.delete_consumer(stream_name(topic), durable_name("g"))
                    break
                except nats.js.errors.ServerError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the server did not delete the consumer")
            deadline = time.monotonic() + 10
            while True:  # the open pull request ends with 409 Consumer Deleted: restored
                try:
                    await js.consumer_info(stream_name(topic), durable_name("g"))
                    break
                except nats.js.errors.NotFoundError:
                    assert time.monotonic() < deadline, "the consumer was not re-created"
                    await asyncio.sleep(0.05)
            await broker.publish_many(topic, [2, 3])
            deadline = time.monotonic() + 10
            while len(seen) < 3:
                assert time.monotonic() < deadline, seen
                await asyncio.sleep(0.02)
    finally:
        await nc.close()
        await broker.delete_topic(topic, ["g"])
        await broker.disconnect()
    assert sorted(seen) == [1, 2, 3]


async def test_publish_acks_map_to_confirmed_refused_or_unconfirmed() -> None:
    """An ack resolves its publish; an error reply is a PublishError; 503 means unconfirmed."""
    broker = MessageBroker.from_url("nats://127.0.0.1:4222")
    backend = NatsBackend("nats://127.0.0.1:4222", broker)
    loop = asyncio.get_running_loop()
    replies = {
        "ok": Msg(_client=None, subject="ok", data=b'{"stream":"s","seq":7}'),  # type: ignore[arg-type]
        "bad": Msg(
            _client=None,  # type: ignore[arg-type]
            subject="bad",
            data=b'{"error":{"code":503,"description":"maximum messages exceeded"}}',
        ),
        "gone": Msg(_client=None, subject="gone", data=b"", headers={"Status": "503"}),  # type: ignore[arg-type]
    }
    futures = {name: loop.create_future() for name in replies}
    backend._acks.update(futures)
    for msg in replies.values():
        await backend._on_ack(msg)
    assert futures["ok"].result() is None
    with pytest.raises(PublishError, match="maximum messages exceeded"):
        futures["bad"].result()
    with pytest.raises(nats.errors.NoRespondersError):
        futures["gone"].result()
    assert backend._acks == {}
