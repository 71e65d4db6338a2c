"""Lazy, filtered reading of the records in an audit directory."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from maestro_audit_logger._errors import AuditCorruptionError, ConfigurationError
from maestro_audit_logger._event import OUTCOMES, AuditEvent, format_ts
from maestro_audit_logger._record import record_to_event
from maestro_audit_logger._storage import list_segments


@dataclass(frozen=True, slots=True)
class Filters:
    """Which records to keep: time range [since, until), event type pattern, actor, outcome."""

    since: datetime | None = None
    until: datetime | None = None
    event_type: str | None = None
    user_id: str | None = None
    outcome: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
                raise ConfigurationError(
                    f"{name} must be a timezone-aware datetime; attach a timezone, "
                    "e.g. datetime(2026, 1, 1, tzinfo=UTC)"
                )
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise ConfigurationError(
                f"outcome {self.outcome!r} is not one of 'success', 'failure', 'unknown'"
            )

    def as_dict(self) -> dict[str, str | None]:
        """The filters as text, for an export manifest."""
        return {
            "since": format_ts(self.since) if self.since else None,
            "until": format_ts(self.until) if self.until else None,
            "event_type": self.event_type,
            "user_id": self.user_id,
            "outcome": self.outcome,
        }


class _Matcher:
    __slots__ = ("f", "since", "type_re", "until")

    def __init__(self, f: Filters) -> None:
        self.f = f
        # Stored timestamps have one fixed width, so text comparison is time comparison.
        self.since = format_ts(f.since) if f.since else None
        self.until = format_ts(f.until) if f.until else None
        self.type_re = (
            re.compile(fnmatch.translate(f.event_type)) if f.event_type is not None else None
        )

    def __call__(self, rec: dict[str, Any]) -> bool:
        ts = rec.get("timestamp", "")
        if self.since is not None and ts < self.since:
            return False
        if self.until is not None and ts >= self.until:
            return False
        if self.type_re is not None and not self.type_re.match(rec.get("event_type", "")):
            return False
        if self.f.user_id is not None and rec.get("user_id") != self.f.user_id:
            return False
        return self.f.outcome is None or rec.get("outcome") == self.f.outcome


def iter_records(
    directory: str | os.PathLike[str], filters: Filters | None = None
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """Yield ``(line, record)`` of matching records, oldest first, in bounded memory.

    The set of segments and their sizes are fixed when iteration starts, so records
    appended meanwhile are not included and a line still being written is never read.
    """
    d = Path(directory)
    snapshot = []
    for _, name in list_segments(d):
        try:
            snapshot.append((name, (d / name).stat().st_size))
        except FileNotFoundError:  # removed by retention meanwhile
            continue
    match = _Matcher(filters) if filters is not None else None
    for name, size in snapshot:
        try:
            f = open(d / name, "rb")  # noqa: SIM115 - closed in finally, generator-safe
        except FileNotFoundError:
            continue
        try:
            left = size
            for n, raw in enumerate(f, 1):
                if len(raw) > left or not raw.endswith(b"\n"):
                    break
                left -= len(raw)
                line = raw[:-1]
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise AuditCorruptionError(
                        f"line {n} of {d / name} is not valid JSON; run "
                        f"`maestro-audit verify {d}` to see the damage"
                    ) from None
                if match is None or match(rec):
                    yield line, rec
        finally:
            f.close()


def read_events(
    directory: str | os.PathLike[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    event_type: str | None = None,
    user_id: str | None = None,
    outcome: str | None = None,
) -> Iterator[AuditEvent]:
    """Iterate the events of an audit directory lazily, oldest first.

    ``event_type`` accepts shell wildcards (``"user.*"``); ``since`` is inclusive and
    ``until`` exclusive; events come back with ``sequence`` set.
    """
    filters = Filters(since, until, event_type, user_id, outcome)
    for _, rec in iter_records(directory, filters):
        yield record_to_event(rec)
