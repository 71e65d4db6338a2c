"""The outbox relay and the fulfilment consumer: exactly-once effect, dead letters."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from maestro_core_messaging import OutboxRelay
from reference_service.models import Order, OrderCreated
from sqlalchemy import func, select, text

from .conftest import Orders, await_until


async def test_a_relay_crash_after_publishing_confirms_the_order_once(orders: Orders) -> None:
    """The relay dies between publish and mark-sent; the event arrives twice, applies once."""
    svc = orders.svc
    await svc.relay.stop()  # this test drives the relay by hand
    auth = await orders.bearer()
    created = await orders.client.post("/orders", json={"sku": "X-1", "quantity": 1}, headers=auth)
    order_id = uuid.UUID(created.json()["id"])

    def crash() -> datetime:  # called only once the batch is published: the test hook
        raise RuntimeError("relay killed before marking the batch sent")

    crashing = OutboxRelay(svc.db.engine, svc.broker, clock=crash, attach=False)
    with pytest.raises(RuntimeError, match="relay killed"):
        await crashing.relay_once()
    assert await svc.relay.relay_once() == 1  # the same row, the same event id, again
    await svc.broker.join(timeout=5)

    async with svc.db.session() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        assert order.status == "confirmed"
        assert order.version == 2  # inserted, then updated exactly once
        inbox = await session.scalar(text("select count(*) from maestro_inbox"))
        unsent = await session.scalar(
            text("select count(*) from maestro_outbox where sent_at is null")
        )
    assert (inbox, unsent) == (1, 0)
    assert svc.broker.stats().acked_total >= 2  # both deliveries were handled and acknowledged


async def test_a_poison_event_is_dead_lettered_and_readiness_stays_pass(orders: Orders) -> None:
    """An event for an unknown order fails max_deliveries times, then waits in the DLQ."""
    svc = orders.svc
    poison = OrderCreated(order_id=uuid.uuid4(), sku="P-1", quantity=1, total=Decimal("1.00"))
    await svc.broker.publish(svc.settings.topic, poison, key=str(poison.order_id))

    async def dead() -> list[object]:
        return list(await svc.broker.dead_letters(svc.settings.topic, "fulfilment"))

    [letter] = await await_until(dead, 10.0, "the poison event to be dead-lettered")
    assert letter.extensions["deliverycount"] in (3, "3")
    assert "LookupError" in str(letter.extensions["lasterror"])
    ready = await orders.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "pass"}
    async with svc.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0
