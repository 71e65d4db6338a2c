"""The audit event: who did what, to which resource, when, from where, and did it work."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from maestro_audit_logger._errors import InvalidEventError

Outcome = Literal["success", "failure", "unknown"]
OUTCOMES: frozenset[str] = frozenset(get_args(Outcome))

#: Event types the logger writes itself; callers may not use them.
RESERVED_EVENT_TYPES = frozenset({"audit.recovery", "audit.dropped", "audit.retention"})

_EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_*-]+)*")


def new_event_id() -> str:
    """Return a UUIDv7 string: 48 bits of Unix milliseconds then randomness, so ids sort by time."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62)
    value |= rand & ((1 << 62) - 1)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class Resource:
    """The object acted upon, e.g. ``Resource("invoice", "INV-42")``."""

    type: str
    id: str

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise InvalidEventError("Resource.type must be a non-empty string, e.g. 'invoice'")
        if not isinstance(self.id, str):
            raise InvalidEventError(
                f"Resource.id must be a string, got {type(self.id).__name__}; use str(id)"
            )


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit event. Only ``event_type`` is required.

    ``timestamp`` defaults to the logger's clock at ``log()`` time, ``user_id`` and the
    other actor fields default to the enclosing :func:`audit_context`. ``sequence`` is
    set only on events read back from a log.
    """

    event_type: str
    user_id: str | None = None
    details: Mapping[str, Any] | None = None
    outcome: Outcome = "unknown"
    on_behalf_of: str | None = None
    resource: Resource | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    correlation_id: str | None = None
    service: str | None = None
    reason: str | None = None
    changes: Mapping[str, tuple[Any, Any] | list[Any]] | None = None
    timestamp: datetime | None = None
    event_id: str = field(default_factory=new_event_id)
    sequence: int | None = None

    def __post_init__(self) -> None:
        et = self.event_type
        if not isinstance(et, str):
            raise InvalidEventError(
                f"event_type must be a string, got {type(et).__name__}; "
                "give a dotted name such as 'user.login'"
            )
        if not et.strip():
            raise InvalidEventError("event_type is empty; give a dotted name such as 'user.login'")
        if len(et) > 200 or _EVENT_TYPE.fullmatch(et) is None or "*" in et:
            raise InvalidEventError(
                f"event_type {et!r} is not a dotted name of letters, digits, '_' and '-' "
                "(at most 200 characters), e.g. 'user.login'"
            )
        if self.outcome not in OUTCOMES:
            raise InvalidEventError(
                f"outcome {self.outcome!r} is not one of 'success', 'failure', 'unknown'"
            )
        for name in (
            "user_id",
            "on_behalf_of",
            "source_ip",
            "user_agent",
            "correlation_id",
            "service",
            "reason",
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidEventError(
                    f"{name} must be a string or None, got {type(value).__name__}; use str()"
                )
            if value is not None and not value.isascii() and _has_surrogate(value):
                raise InvalidEventError(
                    f"{name} contains a lone surrogate (text that is not valid Unicode); "
                    "decode the input with errors='replace' first"
                )
        if self.details is not None and not isinstance(self.details, Mapping):
            raise InvalidEventError(
                f"details must be a mapping (dict), got {type(self.details).__name__}"
            )
        if self.resource is not None and not isinstance(self.resource, Resource):
            raise InvalidEventError("resource must be a Resource(type, id)")
        if self.changes is not None:
            if not isinstance(self.changes, Mapping):
                raise InvalidEventError("changes must be a mapping {field: (old, new)}")
            for key, pair in self.changes.items():
                if not isinstance(pair, tuple | list) or len(pair) != 2:
                    raise InvalidEventError(
                        f"changes[{key!r}] must be a pair (old, new), got {pair!r:.60}"
                    )
        if self.timestamp is not None and (
            not isinstance(self.timestamp, datetime) or self.timestamp.utcoffset() is None
        ):
            raise InvalidEventError(
                "timestamp must be a timezone-aware datetime; attach a timezone, "
                "e.g. datetime.now(UTC)"
            )


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def utc_now() -> datetime:
    """The default clock: the current time in UTC."""
    return datetime.now(UTC)


def format_ts(ts: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``, the same width for every record."""
    if ts.tzinfo is not UTC:
        ts = ts.astimezone(UTC)
    return ts.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_ts(text: str) -> datetime:
    """Parse a stored timestamp back into an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
