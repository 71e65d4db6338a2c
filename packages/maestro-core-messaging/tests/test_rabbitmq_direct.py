"""RabbitMQ hot path through aiormq: the same bytes as aio-pika's messages, consumers restored.

Publishes build aiormq properties (no aio_pika.Message) and consumers take aiormq's messages
(no IncomingMessage); the wire format and the robust connection's recovery must not change.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from maestro_core_messaging import Event, Message, MessageBroker
from maestro_core_messaging._rabbitmq import (
    _RETRIES,
    _IncomingDelivery,
    _properties,
    _RabbitDelivery,
)
from maestro_testkit import unique_name


def _aio_pika_properties(
    event: Event, extra: dict[str, Any] | None, expiration: float | None
) -> aio_pika.Message:
    """How the backend built its messages before (aio_pika.Message from the ce_* headers)."""
    headers: dict[str, Any] = dict(event.to_headers())
    content_type = headers.pop("content-type")
    if extra:
        headers.update(extra)
    return aio_pika.Message(
        event.data,
        headers=headers,
        content_type=content_type,
        message_id=event.id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        expiration=expiration,
    )


_EVENTS = [
    Event(source="orders", type="order.created", data=b'{"a":1}'),
    Event(
        source="svc-ü",
        type="t",
        data=b"\x00raw",
        datacontenttype="application/octet-stream",
        subject="key-é",
        time=datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC),
        extensions={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01", "zz": "é" * 40},
    ),
    Event(source="s", type="t", extensions={"lasterror": "x" * 70_000}),  # a long header
    Event(source="s", type="t", datacontenttype="", extensions={"empty": ""}),
    Event(source="s", type="t", id="i" * 300),  # message id over 255 bytes: pamqp refuses
    Event(source="s" * 300, type="t"),
]


@pytest.mark.parametrize("event", _EVENTS)
@pytest.mark.parametrize(
    ("extra", "expiration"),
    [(None, None), ({_RETRIES: 3}, 0.5), (None, 0.0001), ({"x-foo": "bar"}, 12.3456)],
)
def test_properties_are_the_bytes_aio_pika_writes(
    event: Event, extra: dict[str, Any] | None, expiration: float | None
) -> None:
    """Every property and header byte equals what aio_pika.Message(...).properties marshals
    (or both refuse with the same TypeError)."""

    def wire(build: Any) -> bytes | str:
        try:
            return bytes(build().marshal())
        except TypeError as exc:
            return f"TypeError: {exc}"

    expected = wire(lambda: _aio_pika_properties(event, extra, expiration).properties)
    got = wire(lambda: _properties(event, extra, expiration))
    assert got == expected
    if isinstance(got, bytes):
        props = _properties(event, extra, expiration)
        assert props.message_id == event.id
        assert props.headers is not None
        assert props.headers["ce_id"] == event.id


async def test_a_consumer_the_broker_cancelled_is_recovered(rabbitmq_url: str) -> None:
    """The group's queue deleted under a running subscriber: aio-pika's recovery declares it
    again and consumes through its own wrapper; deliveries, retries and acks still work."""
    topic = unique_name("rc").replace("-", "_") + ".jobs"
    broker = MessageBroker.from_url(rabbitmq_url, backoff=0.01, drain_timeout=1)
    kinds: list[type] = []
    got: list[int] = []

    @broker.subscriber(topic, group="g")
    async def handle(n: int, message: Message) -> None:
        kinds.append(type(message._delivery))
        if n == 2 and message.delivery_count == 1:
            raise RuntimeError("once")
        got.append(n)

    async with broker:
        await broker.publish(topic, 1)
        await broker.join(timeout=10)
        connection = await aio_pika.connect(rabbitmq_url)
        try:
            channel = await connection.channel()
            await channel.queue_delete(f"g.{topic}")
        finally:
            await connection.close()
        deadline = time.monotonic() + 20
        while 2 not in got:
            assert time.monotonic() < deadline, f"the consumer was not recovered: {got}"
            await asyncio.wait_for(broker.publish(topic, 2), 5)  # unroutable until then
            await asyncio.sleep(0.5)
        await broker.join(timeout=10)
        assert await broker._backend.pending(topic, "g") == 0  # type: ignore[union-attr]
        await broker.delete_topic(topic, ["g"])
    assert got[0] == 1
    assert kinds[0] is _RabbitDelivery
    assert _IncomingDelivery in kinds  # the recovered consumer went through aio-pika


async def test_sequential_publishes_keep_one_channel_concurrent_ones_spread(
    rabbitmq_url: str,
) -> None:
    """Publishes awaited one after another stay on one pooled channel (no channel switch per
    confirm); publish calls in flight together go out on every channel of the pool."""
    topic = unique_name("ch").replace("-", "_") + ".jobs"
    broker = MessageBroker.from_url(rabbitmq_url)
    async with broker:
        backend: Any = broker._backend
        used: list[int] = []
        original = backend._basic_publish

        async def spy(channel: Any, *args: Any) -> Any:
            used.append(id(channel))
            return await original(channel, *args)

        backend._basic_publish = spy
        await broker.create_topic(topic)
        for n in range(6):
            await broker.publish(topic, n)
        await broker.publish_many(topic, [1, 2, 3])
        assert len(set(used)) == 1
        used.clear()
        await asyncio.gather(*(broker.publish(topic, n) for n in range(8)))
        assert len(set(used)) == len(backend._pool)
        assert backend._busy == [0] * len(backend._pool)
        await broker.delete_topic(topic)
