"""The backend contract: memory, Redis Streams, RabbitMQ and NATS JetStream behave alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from maestro_core_messaging import AckPolicy, Message, MessageBroker, Reject, Retry
from pydantic import BaseModel

Factory = Callable[..., MessageBroker]


class OrderCreated(BaseModel):
    """A typed payload."""

    order_id: str
    total: float


@dataclass
class Shipment:
    """A dataclass payload."""

    order_id: str
    parcels: int


async def test_publish_subscribe_round_trip(make_broker: Factory, topic: str) -> None:
    """A pydantic payload arrives validated, in a CloudEvent with the key and a traceparent."""
    broker = make_broker()
    got: list[tuple[OrderCreated, Message]] = []

    @broker.subscriber(topic, group="billing")
    async def bill(event: OrderCreated, message: Message) -> None:
        got.append((event, message))

    async with broker:
        event_id = await broker.publish(topic, OrderCreated(order_id="o-1", total=9.5), key="o-1")
        await broker.join(timeout=10)
    assert [(e.order_id, e.total) for e, _ in got] == [("o-1", 9.5)]
    message = got[0][1]
    assert message.id == event_id
    assert event_id[14] == "7"  # UUIDv7
    assert message.key == "o-1"
    assert message.event.source == "tests"
    assert message.event.type == topic
    assert message.event.specversion == "1.0"
    assert message.headers["traceparent"].startswith("00-")
    assert message.delivery_count == 1


async def test_groups_fan_out_and_compete(make_broker: Factory, topic: str) -> None:
    """Every group gets every message; the consumers inside one group share them without overlap."""
    broker = make_broker(prefetch=1)
    billing: list[tuple[str, int]] = []
    audit: list[int] = []

    def member(name: str) -> None:
        @broker.subscriber(topic, group="billing")
        async def handle(n: int) -> None:
            billing.append((name, n))
            await asyncio.sleep(0.002)

    member("a")
    member("b")

    @broker.subscriber(topic, group="audit")
    async def record(n: int) -> None:
        audit.append(n)

    async with broker:
        await broker.publish_many(topic, range(20))
        await broker.join(timeout=10)
    assert sorted(n for _, n in billing) == list(range(20))
    assert sorted(audit) == list(range(20))
    assert {name for name, _ in billing} == {"a", "b"}


async def test_failures_retry_with_backoff_then_one_dead_letter(
    make_broker: Factory, topic: str
) -> None:
    """An always-failing handler runs max_deliveries times (counts 1..n), then one dead letter."""
    broker = make_broker()
    counts: list[int] = []
    times: list[float] = []

    @broker.subscriber(topic, group="g", max_deliveries=3, backoff=(0.05, 0.1))
    async def fail(event: Shipment, message: Message) -> None:
        counts.append(message.delivery_count)
        times.append(time.monotonic())
        raise RuntimeError(f"parcel {event.parcels} lost")

    async with broker:
        event_id = await broker.publish(topic, Shipment(order_id="o-1", parcels=2))
        await broker.join(timeout=10)
        dead = await broker.dead_letters(topic, "g")
    assert counts == [1, 2, 3]
    assert times[1] - times[0] >= 0.04
    assert times[2] - times[1] >= 0.08
    assert len(dead) == 1
    assert dead[0].id == event_id
    assert dead[0].extensions["deadletterreason"] == "max_deliveries"
    assert dead[0].extensions["deliverycount"] == "3"
    assert dead[0].extensions["lasterror"] == "RuntimeError: parcel 2 lost"
    stats = broker.stats()
    assert (stats.retried_total, stats.dead_lettered_total) == (2, 1)


async def test_reject_dead_letters_at_once(make_broker: Factory, topic: str) -> None:
    """Reject sends the message to the dead-letter queue on the first delivery, without retries."""
    broker = make_broker()
    calls: list[int] = []

    @broker.subscriber(topic, group="psp", max_deliveries=5)
    async def capture(amount: int) -> None:
        calls.append(amount)
        raise Reject("amount is zero")

    async with broker:
        await broker.publish(topic, 0)
        await broker.join(timeout=10)
        dead = await broker.dead_letters(topic, "psp")
    assert calls == [0]
    assert [d.extensions["deadletterreason"] for d in dead] == ["rejected"]
    assert dead[0].extensions["lasterror"] == "amount is zero"


async def test_retry_with_delay_redelivers_later_and_counts(
    make_broker: Factory, topic: str
) -> None:
    """Retry(delay=) redelivers no earlier than the delay, with the delivery count increased."""
    broker = make_broker()
    seen: list[tuple[int, float]] = []

    @broker.subscriber(topic, group="g")
    async def busy(n: int, message: Message) -> None:
        seen.append((message.delivery_count, time.monotonic()))
        if message.delivery_count == 1:
            raise Retry(delay=0.2)

    async with broker:
        await broker.publish(topic, 1)
        await broker.join(timeout=10)
    assert [c for c, _ in seen] == [1, 2]
    assert seen[1][1] - seen[0][1] >= 0.19


async def test_invalid_payloads_are_dead_lettered_and_consumption_goes_on(
    make_broker: Factory, topic: str
) -> None:
    """Wrong fields and invalid JSON are dead-lettered at once with reason validation."""
    broker = make_broker()
    good: list[str] = []

    @broker.subscriber(topic, group="g")
    async def handle(event: OrderCreated) -> None:
        good.append(event.order_id)

    async with broker:
        await broker.publish(topic, {"order": "x"})
        await broker.publish(topic, b"{not json")
        await broker.publish(topic, {"order_id": "o-2", "total": 1})
        await broker.join(timeout=10)
        dead = await broker.dead_letters(topic, "g")
    assert good == ["o-2"]
    assert [d.extensions["deadletterreason"] for d in dead] == ["validation", "validation"]
    assert all(d.extensions["deliverycount"] == "1" for d in dead)


async def test_requeue_dead_letters_replays_the_same_event(
    make_broker: Factory, topic: str
) -> None:
    """requeue_dead_letters delivers a dead letter again with the same id and a fresh count."""
    broker = make_broker()
    seen: list[tuple[str, int]] = []
    healthy = asyncio.Event()

    @broker.subscriber(topic, group="g", max_deliveries=1)
    async def handle(n: int, message: Message) -> None:
        seen.append((message.id, message.delivery_count))
        if not healthy.is_set():
            raise RuntimeError("down")

    async with broker:
        event_id = await broker.publish(topic, 7)
        await broker.join(timeout=10)
        assert len(await broker.dead_letters(topic, "g")) == 1
        healthy.set()
        assert await broker.requeue_dead_letters(topic, "g") == 1
        await broker.join(timeout=10)
        assert await broker.dead_letters(topic, "g") == []
    assert seen == [(event_id, 1), (event_id, 1)]


async def test_ack_first_never_redelivers(make_broker: Factory, topic: str) -> None:
    """AckPolicy.ACK_FIRST acks before the handler: a failure is not retried (at-most-once)."""
    broker = make_broker()
    calls: list[int] = []

    @broker.subscriber(topic, group="g", ack_policy=AckPolicy.ACK_FIRST)
    async def handle(n: int) -> None:
        calls.append(n)
        raise RuntimeError("lost on purpose")

    async with broker:
        await broker.publish(topic, 1)
        await broker.join(timeout=10)
        assert await broker.dead_letters(topic, "g") == []
    assert calls == [1]


async def test_manual_policy_nack_and_ack(make_broker: Factory, topic: str) -> None:
    """With AckPolicy.MANUAL the handler's nack(delay=) redelivers and ack() settles."""
    broker = make_broker()
    counts: list[int] = []

    @broker.subscriber(topic, group="g", ack_policy=AckPolicy.MANUAL)
    async def handle(n: int, message: Message) -> None:
        counts.append(message.delivery_count)
        await message.in_progress()
        if message.delivery_count < 2:
            await message.nack(delay=0.01)
        else:
            await message.ack()

    async with broker:
        await broker.publish(topic, 1)
        await broker.join(timeout=10)
    assert counts == [1, 2]


async def test_bytes_and_headers_pass_through(make_broker: Factory, topic: str) -> None:
    """Bytes arrive unchanged as application/octet-stream; headers become CloudEvents extensions."""
    broker = make_broker()
    got: list[Message] = []

    @broker.subscriber(topic, group="raw")
    async def handle(body: bytes, message: Message) -> None:
        got.append(message)

    async with broker:
        await broker.publish(topic, b"\x00\xffraw", headers={"x": "1", "requestid": "r-9"})
        await broker.join(timeout=10)
    assert got[0].body == b"\x00\xffraw"
    assert got[0].event.datacontenttype == "application/octet-stream"
    assert got[0].headers["x"] == "1"
    assert got[0].headers["requestid"] == "r-9"


async def test_publish_many_keeps_order_and_counts(make_broker: Factory, topic: str) -> None:
    """publish_many returns one id each; one consumer sees them in order; stats count them."""
    broker = make_broker(publish_window=7)
    got: list[int] = []

    @broker.subscriber(topic, group="g")
    async def handle(n: int) -> None:
        got.append(n)

    async with broker:
        ids = await broker.publish_many(topic, range(50))
        await broker.join(timeout=10)
    assert len(set(ids)) == 50
    assert got == list(range(50))
    stats = broker.stats()
    assert stats.published_total == 50
    assert stats.consumed_total == 50
    assert stats.acked_total == 50
    assert stats.in_flight == 0


async def test_concurrency_runs_handlers_in_parallel(make_broker: Factory, topic: str) -> None:
    """concurrency=4 lets four handlers of one subscriber run at the same time, never more."""
    broker = make_broker(prefetch=8)
    running = 0
    peak = 0

    @broker.subscriber(topic, group="g", concurrency=4)
    async def handle(n: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    async with broker:
        await broker.publish_many(topic, range(12))
        await broker.join(timeout=10)
    assert peak == 4


async def test_groupless_subscribers_each_get_every_message(
    make_broker: Factory, topic: str
) -> None:
    """Without a group every broker instance receives every message."""
    first, second = make_broker(), make_broker()
    got: list[str] = []

    @first.subscriber(topic)
    async def one(n: int) -> None:
        got.append("first")

    @second.subscriber(topic)
    async def two(n: int) -> None:
        got.append("second")

    async with first, second:
        await first.publish(topic, 1)
        await first.join(timeout=10)
        await second.join(timeout=10)
    assert sorted(got) == ["first", "second"]


async def test_health_and_ping(make_broker: Factory) -> None:
    """health_check returns the original dict and ping answers True on a live broker."""
    broker = make_broker()
    async with broker:
        assert await broker.ping() is True
        health = await broker.health_check()
    assert health["status"] == "healthy"
    assert health["connected"] is True
    assert "password" not in repr(broker)


@pytest.mark.parametrize("bad", ["a b", "orders.#", "orders.*", "a..b", "", ">"])
async def test_invalid_topic_names_fail_before_io(make_broker: Factory, bad: str) -> None:
    """Topic names with spaces, wildcards or empty segments raise ValueError before any I/O."""
    broker = make_broker()
    with pytest.raises(ValueError, match="invalid topic name"):
        await broker.publish(bad, 1)
    assert broker._backend is None


class _Seen:
    """A minimal dedupe store: async add(key, value, ttl) -> True only the first time."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    async def add(self, key: str, value: str, ttl: float) -> bool:
        fresh = key not in self.keys
        self.keys.add(key)
        return fresh


async def test_the_same_event_published_twice_is_applied_once(
    make_broker: Factory, topic: str, backend: str
) -> None:
    """A re-published event (lost confirm) is handled once with dedupe=; NATS drops it itself."""
    broker = make_broker(dedupe=_Seen())
    applied: list[str] = []

    @broker.subscriber(topic, group="g")
    async def handle(n: int, message: Message) -> None:
        applied.append(message.id)

    async with broker:
        event = broker._event(topic, 1, None, "k", None)
        await broker.publish(topic, event)
        await broker.publish(topic, event)
        await broker.join(timeout=10)
    assert applied == [event.id]
    consumed = broker.stats().consumed_total
    assert consumed == (1 if backend == "nats" else 2)


async def test_a_long_handler_keeps_its_lease(make_broker: Factory, topic: str) -> None:
    """A handler working 4x reclaim_idle (calling in_progress()) is not redelivered meanwhile,
    not even to a second consumer of the group waiting for idle messages."""
    first, second = make_broker(), make_broker()
    calls: list[int] = []

    async def handle(n: int, message: Message) -> None:
        calls.append(message.delivery_count)
        for _ in range(10):
            await asyncio.sleep(0.2)  # 2 s in all; reclaim_idle is 0.5 s
            await message.in_progress()

    first.subscriber(topic, group="g")(handle)
    second.subscriber(topic, group="g")(handle)
    async with first, second:
        await first.publish(topic, 1)
        await first.join(timeout=15)
        await second.join(timeout=15)
    assert calls == [1]
