"""The on-disk record: one JSON object per line, chained by the SHA-256 of the previous line.

A record's line starts ``{"sequence":N,"prev_hash":"<64 hex>",`` followed by the event's
fields; ``prev_hash`` is the SHA-256 of the previous record's exact bytes (without the
newline), and ``GENESIS_HASH`` for sequence 1. The body is serialised before the
directory lock is taken; only the prefix is added under it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import orjson

from maestro_audit_logger._context import CONTEXT_FIELDS
from maestro_audit_logger._errors import InvalidEventError
from maestro_audit_logger._event import AuditEvent, Resource, format_ts, parse_ts
from maestro_audit_logger._masking import Masker

GENESIS_HASH = "0" * 64

#: Bytes the chain prefix adds to a body, at most: ``{"sequence":<20 digits>,"prev_hash":"<64>",``
CHAIN_PREFIX_BYTES = len(b'{"sequence":') + 20 + len(b',"prev_hash":"') + 64 + len(b'",') - 1

#: JSON's safe integer range (IEEE 754 doubles): beyond it other readers lose precision.
MAX_SAFE_INT = 2**53 - 1

#: Field order of a record after ``sequence`` and ``prev_hash``.
FIELDS = (
    "event_id",
    "timestamp",
    "event_type",
    "outcome",
    "user_id",
    "on_behalf_of",
    "resource",
    "source_ip",
    "user_agent",
    "correlation_id",
    "service",
    "reason",
    "changes",
    "details",
)


def line_hash(line: bytes) -> str:
    """SHA-256 hex of one record's bytes, newline excluded."""
    return hashlib.sha256(line).hexdigest()


def _culprit(value: Any, path: str) -> str | None:
    """Return what is wrong with the first value that cannot be stored, or None."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{path} has a non-string key {k!r:.40} ({type(k).__name__})"
            found = _culprit(k, f"{path} key {k!r:.40}") or _culprit(v, f"{path}[{k!r}]")
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = _culprit(v, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return (
            f"{path} is {value!r}, not a finite number (JSON has no NaN or Infinity); "
            "store None or a string instead"
        )
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INT:
        return (
            f"{path} is an integer beyond JSON's safe range (±(2**53 - 1)); "
            "store it as a str so no reader rounds it"
        )
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"{path} contains a lone surrogate (text that is not valid Unicode)"
        return None
    try:
        orjson.dumps(value)
    except TypeError:
        return f"{path} is a {type(value).__name__}"
    return None


def _non_finite(value: Any) -> bool:
    """True when a NaN or infinity hides in ``value`` (orjson would write it as null)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_non_finite(v) for v in value)
    return False


def encode_body(
    event: AuditEvent,
    timestamp: str,
    context: Mapping[str, Any],
    masker: Masker,
) -> bytes:
    """Serialise an event (masked, context applied) to ``{...}`` without sequence and hash."""
    e = event
    body: dict[str, Any] = {
        "event_id": e.event_id,
        "timestamp": timestamp,
        "event_type": e.event_type,
        "outcome": e.outcome,
    }
    get = context.get
    if context:
        value = e.user_id or get("user_id")
        if value is not None:
            body["user_id"] = value
        value = e.on_behalf_of or get("on_behalf_of")
        if value is not None:
            body["on_behalf_of"] = value
    else:
        if e.user_id is not None:
            body["user_id"] = e.user_id
        if e.on_behalf_of is not None:
            body["on_behalf_of"] = e.on_behalf_of
    if e.resource is not None:
        body["resource"] = {"type": e.resource.type, "id": e.resource.id}
    if context:
        for name in ("source_ip", "user_agent", "correlation_id", "service"):
            value = getattr(e, name)
            if value is None:
                value = get(name)
            if value is not None:
                body[name] = value
    else:
        if e.source_ip is not None:
            body["source_ip"] = e.source_ip
        if e.user_agent is not None:
            body["user_agent"] = e.user_agent
        if e.correlation_id is not None:
            body["correlation_id"] = e.correlation_id
        if e.service is not None:
            body["service"] = e.service
    if e.reason is not None:
        body["reason"] = e.reason
    if e.changes is not None:
        body["changes"] = masker.mask_changes(e.changes)
    if e.details is not None:
        body["details"] = masker.mask(e.details) if masker.enabled else e.details
    try:
        data = orjson.dumps(body, option=orjson.OPT_STRICT_INTEGER)
    except TypeError as exc:
        where = _culprit(body.get("changes"), "changes") or _culprit(body.get("details"), "details")
        what = where or str(exc)
        raise InvalidEventError(
            f"event {event.event_type!r} cannot be serialised to JSON: {what}; "
            "convert it to str, int, float, bool, None, list or dict first"
        ) from None
    # orjson writes NaN and infinities as null: look closer only when a null is present.
    if b"null" in data and (_non_finite(body.get("details")) or _non_finite(body.get("changes"))):
        where = _culprit(body.get("changes"), "changes") or _culprit(body.get("details"), "details")
        raise InvalidEventError(f"event {event.event_type!r} cannot be stored: {where}")
    return data


def with_chain(seq: int, prev: str, body: bytes) -> bytes:
    """Prefix a serialised body with its sequence number and the previous record's hash."""
    return b'{"sequence":%d,"prev_hash":"%s",%s' % (seq, prev.encode(), body[1:])


def record_to_event(rec: Mapping[str, Any]) -> AuditEvent:
    """Rebuild an :class:`AuditEvent` (with ``sequence``) from a parsed record."""
    res = rec.get("resource")
    changes = rec.get("changes")
    return AuditEvent(
        event_type=rec["event_type"],
        user_id=rec.get("user_id"),
        details=rec.get("details"),
        outcome=rec.get("outcome", "unknown"),
        on_behalf_of=rec.get("on_behalf_of"),
        resource=Resource(res["type"], res["id"]) if isinstance(res, dict) else None,
        source_ip=rec.get("source_ip"),
        user_agent=rec.get("user_agent"),
        correlation_id=rec.get("correlation_id"),
        service=rec.get("service"),
        reason=rec.get("reason"),
        changes={k: tuple(v) for k, v in changes.items()} if isinstance(changes, dict) else None,
        timestamp=parse_ts(rec["timestamp"]),
        event_id=rec["event_id"],
        sequence=rec["sequence"],
    )


def system_body(event_type: str, details: Mapping[str, Any], timestamp: str) -> bytes:
    """Serialise an event the logger writes about itself (recovery, drops, retention)."""
    event = AuditEvent(event_type="audit.system", details=details, outcome="success")
    body = {
        "event_id": event.event_id,
        "timestamp": timestamp,
        "event_type": event_type,
        "outcome": "success",
        "service": "maestro-audit-logger",
        "details": dict(details),
    }
    return orjson.dumps(body)


__all__ = [
    "CONTEXT_FIELDS",
    "FIELDS",
    "GENESIS_HASH",
    "encode_body",
    "format_ts",
    "line_hash",
    "record_to_event",
    "system_body",
    "with_chain",
]
