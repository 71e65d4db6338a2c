"""What a backend provides to the backend-neutral runtime: deliveries, publishing, topology."""

from __future__ import annotations

import abc
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ._errors import ConfigurationError
from ._event import Event

__all__ = ["Backend", "Consumer", "Delivery", "Spec", "check_group", "check_topic"]

_TOPIC = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


def check_topic(topic: object) -> str:
    """A topic name: dot-separated words of letters, digits, '_' and '-' (no wildcards)."""
    if not isinstance(topic, str) or not _TOPIC.match(topic) or len(topic) > 200:
        raise ConfigurationError(
            f"invalid topic name {topic!r}: use dot-separated words of letters, digits, '_' "
            "and '-' (no spaces, no '#', '*', '>' and no empty segment such as '..')"
        )
    return topic


def check_group(group: object) -> str:
    """A group name: letters, digits, '_', '-' and '.'."""
    if not isinstance(group, str) or not _TOPIC.match(group) or len(group) > 120:
        raise ConfigurationError(
            f"invalid group name {group!r}: use letters, digits, '_', '-' and single dots"
        )
    return group


@dataclass(frozen=True, slots=True)
class Spec:
    """One subscription as the backend sees it."""

    topic: str
    group: str
    durable: bool
    concurrency: int
    max_deliveries: int


class Delivery(abc.ABC):
    """One delivery of one message to one consumer; settled exactly once."""

    __slots__ = ("delivery_count", "event", "settled")

    def __init__(self, event: Event, delivery_count: int) -> None:
        self.event = event
        self.delivery_count = delivery_count
        self.settled = False

    @abc.abstractmethod
    async def ack(self) -> None:
        """Remove the message from the group's queue."""

    @abc.abstractmethod
    async def retry(self, delay: float) -> None:
        """Redeliver after ``delay`` seconds; the broker counts the next delivery."""

    @abc.abstractmethod
    async def dead_letter(self, event: Event) -> None:
        """Store ``event`` (the dead letter) in the dead-letter queue, then remove the message."""

    @abc.abstractmethod
    async def in_progress(self) -> None:
        """Extend the lease: the broker must not redeliver while the handler still works."""

    async def release(self) -> None:
        """Give the message back at once (drain ran out of time)."""
        await self.retry(0.0)


DeliverFn = Callable[[Delivery], Awaitable[None]]


class Consumer(abc.ABC):
    """A running subscription; ``stop()`` stops fetching (in-flight deliveries stay valid)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop fetching new deliveries."""


class Backend(abc.ABC):
    """A broker engine behind MessageBroker."""

    name: str = ""
    reconnects: int = 0

    @abc.abstractmethod
    async def connect(self) -> None:
        """Open connections (raise BrokerConnectionError when the broker is unreachable)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close connections; idempotent."""

    @abc.abstractmethod
    async def publish(
        self, topic: str, events: Sequence[Event], confirm: bool, window: int
    ) -> None:
        """Publish events in order; return after the broker confirmed each (if ``confirm``)."""

    @abc.abstractmethod
    async def declare(self, topic: str) -> None:
        """Create the topic's topology (idempotent)."""

    @abc.abstractmethod
    async def consume(self, spec: Spec, deliver: DeliverFn) -> Consumer:
        """Create the group (idempotent) and start delivering to ``deliver``."""

    @abc.abstractmethod
    async def dead_letters(self, topic: str, group: str) -> list[Event]:
        """The dead letters of one group, oldest first (not removed)."""

    @abc.abstractmethod
    async def requeue_dead_letters(self, topic: str, group: str) -> int:
        """Move a group's dead letters back for delivery (count reset); returns how many."""

    @abc.abstractmethod
    async def pending(self, topic: str, group: str) -> int:
        """Messages of the group not yet acknowledged (ready, delayed or in flight)."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the broker answers."""

    async def remove_group(self, topic: str, group: str) -> None:  # noqa: B027
        """Delete a non-durable group's queue (groupless subscribers, on close)."""

    async def delete_topic(self, topic: str) -> None:  # noqa: B027
        """Delete a topic and its groups' queues (tests and tooling)."""
