"""RabbitMQ confirmed publishes asked for together go out in one write (issue 18, M2).

Each publish still gets its own delivery tag and its own confirm (or nack); only the socket
writes are shared, so the broker reads a window in one go instead of one segment a message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import aiormq
import pytest
from maestro_core_messaging import Event, MessageBroker, PublishNotConfirmedError
from maestro_testkit import unique_name


@pytest.fixture
def topic() -> str:
    return unique_name("mb").replace("-", "_").replace(".", "_") + ".events"


class _Writes:
    """Counts the writes put on a connection's write queue that carry ``marker``
    (``Queue.put`` goes through ``put_nowait`` too)."""

    def __init__(self, queue: asyncio.Queue[Any], marker: bytes) -> None:
        self.count = 0
        put_nowait = queue.put_nowait

        def spy(item: Any) -> None:
            self.count += marker in item.payload
            put_nowait(item)

        queue.put_nowait = spy  # type: ignore[method-assign]


async def _limited_queue(url: str, topic: str, limit: int) -> tuple[Any, Any]:
    """A queue bound to the topic that nacks publishes beyond ``limit`` messages."""
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    queue = await channel.declare_queue(
        unique_name("lq"),
        auto_delete=False,
        arguments={"x-max-length": limit, "x-overflow": "reject-publish"},
    )
    await queue.bind(topic)
    return connection, queue


@contextlib.asynccontextmanager
async def _broker_and_queue(url: str, topic: str, limit: int) -> AsyncIterator[tuple[Any, Any]]:
    """A connected broker with the topic created, and a queue bound to it that nacks
    publishes beyond ``limit``; both removed afterwards."""
    broker = MessageBroker.from_url(url, source="tests")
    async with broker:
        await broker.create_topic(topic)
        connection, queue = await _limited_queue(url, topic, limit)
        try:
            yield broker, queue
        finally:
            await queue.delete(if_unused=False, if_empty=False)
            await connection.close()
            await broker.delete_topic(topic)


async def _drain(queue: Any) -> list[bytes]:
    bodies = []
    while (msg := await queue.get(no_ack=True, fail=False)) is not None:
        bodies.append(msg.body)
    return bodies


async def test_a_window_of_publishes_goes_out_in_one_write(rabbitmq_url: str, topic: str) -> None:
    """publish_many of 50 events (window 100) writes them in one or two socket writes, not 50;
    every one is confirmed and they arrive in order."""
    async with _broker_and_queue(rabbitmq_url, topic, 1000) as (broker, queue):
        backend: Any = broker._backend
        underlay = await backend._pool[0].get_underlay_channel()
        writes = _Writes(underlay.write_queue, topic.encode())
        ids = await broker.publish_many(topic, range(50))
        assert 1 <= writes.count <= 2
        assert len(set(ids)) == 50
        assert await _drain(queue) == [str(n).encode() for n in range(50)]


async def test_publishes_written_together_keep_their_own_confirms(
    rabbitmq_url: str, topic: str
) -> None:
    """A queue that nacks beyond 3 messages: of 6 events written together the first 3 are
    confirmed and stored, the call raises PublishNotConfirmedError for the others."""
    async with _broker_and_queue(rabbitmq_url, topic, 3) as (broker, queue):
        with pytest.raises(PublishNotConfirmedError):
            await broker.publish_many(topic, range(6))
        assert await _drain(queue) == [b"0", b"1", b"2"]


async def test_batched_and_plain_publishes_on_one_channel_share_the_tag_sequence(
    rabbitmq_url: str, topic: str
) -> None:
    """Batched publishes and aiormq's own basic_publish interleaved on one channel: exactly
    the publishes the broker stored are the ones reported confirmed (tags stay aligned)."""
    async with _broker_and_queue(rabbitmq_url, topic, 7) as (broker, queue):
        backend: Any = broker._backend
        channel = backend._pool[0]
        underlay = await channel.get_underlay_channel()

        async def ours(n: int) -> bool:
            event = Event(source="tests", type=topic, data=str(n).encode())
            try:
                await backend._publish_one(topic, event, channel)
            except (PublishNotConfirmedError, aiormq.exceptions.DeliveryError):
                return False
            return True

        async def plain(n: int) -> bool:
            event = Event(source="tests", type=topic, data=str(n).encode())
            props = aiormq.spec.Basic.Properties(message_id=event.id, delivery_mode=2)
            try:
                await underlay.basic_publish(
                    event.data, exchange=topic, routing_key=topic, properties=props
                )
            except aiormq.exceptions.DeliveryError:
                return False
            return True

        calls = [ours(n) if n % 3 else plain(n) for n in range(20)]
        confirmed = await asyncio.gather(*calls)
        stored = sorted(int(b) for b in await _drain(queue))
        assert len(stored) == 7
        assert stored == [n for n, ok in enumerate(confirmed) if ok]


async def test_a_lone_publish_is_written_at_once(rabbitmq_url: str, topic: str) -> None:
    """A publish() with nothing else in flight on its channel goes straight to aiormq's
    basic_publish (no writer task, no extra loop iteration); a window still batches."""
    broker = MessageBroker.from_url(rabbitmq_url, source="tests")
    async with broker:
        await broker.create_topic(topic)
        backend: Any = broker._backend
        underlay = await backend._pool[0].get_underlay_channel()
        plain = 0
        original = underlay.basic_publish

        async def spy(*args: Any, **kwargs: Any) -> Any:
            nonlocal plain
            plain += 1
            return await original(*args, **kwargs)

        underlay.basic_publish = spy
        try:
            for n in range(3):
                await broker.publish(topic, n)
            assert plain == 3
            await broker.publish_many(topic, range(10))
            assert plain == 3
        finally:
            del underlay.basic_publish
            await broker.delete_topic(topic)
