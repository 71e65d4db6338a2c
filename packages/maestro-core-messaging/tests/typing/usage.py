"""Typed usage of maestro-core-messaging; mypy --strict checks it (never executed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_type

from maestro_core_messaging import (
    AckPolicy,
    BrokerType,
    Event,
    Inbox,
    Message,
    MessageBroker,
    MessagingStats,
    Outbox,
    Reject,
    Retry,
)


@dataclass
class OrderCreated:
    order_id: str
    total: float


broker = MessageBroker.from_url("memory://", source="orders")
assert_type(broker, MessageBroker)
assert_type(MessageBroker(BrokerType.RABBITMQ, "amqp://guest:guest@localhost:5672/"), MessageBroker)


@broker.subscriber("orders.created", group="billing", max_deliveries=5, backoff=(1, 5, 30))
async def bill(event: OrderCreated, message: Message) -> None:
    assert_type(message.delivery_count, int)
    assert_type(message.id, str)
    assert_type(message.key, str | None)
    if not event.total:
        raise Reject("zero")
    raise Retry(delay=1.5)


@broker.subscriber("orders.created", group="audit", ack_policy=AckPolicy.MANUAL)
async def audit(body: bytes, message: Message) -> None:
    await message.in_progress()
    await message.ack()


async def main() -> None:
    async with broker:
        event_id = await broker.publish("orders.created", OrderCreated("o-1", 9.5), key="o-1")
        assert_type(event_id, str)
        ids = await broker.publish_many("orders.created", [OrderCreated("o-2", 1.0)])
        assert_type(ids, list[str])
        dead = await broker.dead_letters("orders.created", "billing")
        assert_type(dead, list[Event])
        assert_type(await broker.requeue_dead_letters("orders.created", "billing"), int)
        assert_type(broker.stats(), MessagingStats)
        await broker.join(timeout=5)
    outbox = Outbox(source="orders")
    inbox = Inbox("billing")
    assert_type(outbox.source, str)
    assert_type(inbox.consumer, str)
