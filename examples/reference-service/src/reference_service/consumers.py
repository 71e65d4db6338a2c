"""The ``fulfilment`` group: confirms each new order once, however often its event arrives."""

from __future__ import annotations

from maestro_core_db import DatabaseManager
from maestro_core_logging import get_logger
from maestro_core_messaging import Inbox, Message, MessageBroker

from .models import OrderCreated, OrderRepository
from .orders import load_order

log = get_logger("reference_service.fulfilment")


def subscribe(broker: MessageBroker, db: DatabaseManager, *, topic: str) -> None:
    """Register the consumer; the broker starts it with ``async with broker``."""
    inbox = Inbox(consumer="fulfilment")

    @broker.subscriber(topic, group="fulfilment")  # retries: settings.broker
    async def confirm(event: OrderCreated, message: Message) -> None:
        async with db.transaction() as session:
            if not await inbox.claim(session, message):
                log.info("duplicate event ignored", event_id=message.id)
                return  # already applied: acknowledge and do nothing
            order = await OrderRepository(session).get(event.order_id)
            if order is None:  # raising retries, then dead-letters after max_deliveries
                raise LookupError(f"order {event.order_id} does not exist")
            order.status = "confirmed"
        await load_order.invalidate(db, order_id=event.order_id)
        log.info("order confirmed", order_id=str(event.order_id))
