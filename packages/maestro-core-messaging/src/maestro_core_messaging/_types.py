"""Small public value types: BrokerType, AckPolicy, Reject, Retry, MessagingStats."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import timedelta

from ._errors import ConfigurationError, MaestroMessagingError, UnsupportedBackendError

__all__ = ["AckPolicy", "BrokerType", "MessagingStats", "Reject", "Retry", "seconds"]


class BrokerType(enum.StrEnum):
    """The supported backends; ``BrokerType("kafka")`` raises UnsupportedBackendError."""

    MEMORY = "memory"
    RABBITMQ = "rabbitmq"
    REDIS = "redis"
    NATS = "nats"

    @classmethod
    def _missing_(cls, value: object) -> BrokerType:
        text = str(value).lower()
        for member in cls:
            if member.value == text:
                return member
        raise UnsupportedBackendError(str(value))


class AckPolicy(enum.StrEnum):
    """When a delivery is acknowledged (the meanings FastStream uses).

    - ``ACK_FIRST``: ack before the handler runs (at-most-once).
    - ``ACK``: ack after the handler returns; on an exception redeliver with backoff until
      ``max_deliveries`` (counted by the broker), then dead-letter. The default.
    - ``REJECT_ON_ERROR``: on an exception dead-letter at once.
    - ``NACK_ON_ERROR``: on an exception requeue at once (no backoff; discouraged).
    - ``MANUAL``: the handler calls ``message.ack()`` / ``nack(delay=)`` / ``term()`` itself.
    """

    ACK_FIRST = "ack_first"
    ACK = "ack"
    REJECT_ON_ERROR = "reject_on_error"
    NACK_ON_ERROR = "nack_on_error"
    MANUAL = "manual"


def seconds(value: float | timedelta, name: str, *, allow_zero: bool = True) -> float:
    """A duration in seconds from a float or a timedelta; ConfigurationError when negative."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be seconds (float) or a timedelta, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero) or math.isnan(value):
        raise ConfigurationError(f"{name} must be {'>=' if allow_zero else '>'} 0, got {value!r}")
    return float(value)


class Reject(MaestroMessagingError):
    """Raised by a handler: the message is poison; dead-letter it now, without retries."""

    def __init__(self, reason: str = "rejected") -> None:
        self.reason = reason
        super().__init__(reason)


class Retry(MaestroMessagingError):
    """Raised by a handler: redeliver after ``delay`` seconds (counted as a delivery)."""

    def __init__(self, delay: float | timedelta = 0.0, reason: str = "retry requested") -> None:
        self.delay = seconds(delay, "Retry(delay=)")
        self.reason = reason
        super().__init__(f"{reason} (delay {self.delay:g}s)")


@dataclass(frozen=True, slots=True)
class MessagingStats:
    """Counters of one broker object since it was created (``broker.stats()``)."""

    published_total: int
    consumed_total: int
    acked_total: int
    retried_total: int
    dead_lettered_total: int
    in_flight: int
    reconnects_total: int
