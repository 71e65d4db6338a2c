"""Message: what a handler sees of one delivery (event, broker-counted delivery, settlement)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from ._backend import Delivery
from ._event import Event
from ._types import seconds

if TYPE_CHECKING:
    from ._broker import _Runtime, _Subscriber

__all__ = ["Message"]


class Message:
    """One delivery of an event to a handler.

    ``delivery_count`` comes from the broker (1 on the first delivery) and survives a crash of
    the consumer. With ``AckPolicy.MANUAL`` the handler settles it with ``ack()``,
    ``nack(delay=)`` or ``term()``; any policy may call ``in_progress()`` to extend the lease.
    """

    __slots__ = ("_delivery", "_runtime", "_subscriber", "group", "topic")

    def __init__(
        self, delivery: Delivery, subscriber: _Subscriber, runtime: _Runtime, group: str
    ) -> None:
        self._delivery = delivery
        self._subscriber = subscriber
        self._runtime = runtime
        self.topic = subscriber.topic
        self.group = group

    def __repr__(self) -> str:
        return (
            f"Message(topic={self.topic!r}, group={self.group!r}, id={self.id!r}, "
            f"delivery_count={self.delivery_count})"
        )

    @property
    def event(self) -> Event:
        """The CloudEvent (attributes, extensions and the encoded ``data``)."""
        return self._delivery.event

    @property
    def id(self) -> str:
        """The event id (UUIDv7), the same on every redelivery: deduplicate by it."""
        return self._delivery.event.id

    @property
    def key(self) -> str | None:
        """The key given to ``publish`` (the CloudEvents ``subject``)."""
        return self._delivery.event.subject

    @property
    def headers(self) -> Mapping[str, str]:
        """The event's extension attributes (``traceparent``, custom headers)."""
        return self._delivery.event.extensions

    @property
    def body(self) -> bytes:
        """The encoded payload."""
        return self._delivery.event.data

    @property
    def delivery_count(self) -> int:
        """How often the broker delivered this message to the group (1 = first delivery)."""
        return self._delivery.delivery_count

    @property
    def settled(self) -> bool:
        """True once acked, nacked, terminated or dead-lettered."""
        return self._delivery.settled

    async def ack(self) -> None:
        """Acknowledge: the group is done with the message."""
        if not self._delivery.settled:
            await self._delivery.ack()
            self._runtime.count("acked_total")

    async def nack(self, delay: float | timedelta = 0.0) -> None:
        """Redeliver after ``delay`` seconds (dead-lettered once ``max_deliveries`` is reached)."""
        await self._runtime.retry_or_dead_letter(
            self._subscriber, self._delivery, seconds(delay, "nack(delay=)"), None, self.group
        )

    async def term(self, reason: str = "terminated") -> None:
        """Stop delivering this message: it goes to the dead-letter queue with ``reason``."""
        await self._runtime.dead_letter(self._delivery, "terminated", reason, self.group)

    async def in_progress(self) -> None:
        """Extend the lease so the broker does not redeliver while the work goes on."""
        if not self._delivery.settled:
            await self._delivery.in_progress()
