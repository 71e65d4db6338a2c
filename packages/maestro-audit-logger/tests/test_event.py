"""AuditEvent validation, UUIDv7 ids and timestamps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from maestro_audit_logger import AuditEvent, InvalidEventError, Resource
from maestro_audit_logger._event import format_ts, new_event_id, parse_ts


@pytest.mark.parametrize("bad", ["", "   ", "user login", "user..login", ".user", "user.*"])
def test_bad_event_type_is_rejected(bad: str) -> None:
    """An empty, spaced, doubly dotted or wildcard event_type raises InvalidEventError."""
    with pytest.raises(InvalidEventError, match="event_type"):
        AuditEvent(event_type=bad)


def test_empty_event_type_message_says_what_to_do() -> None:
    """The empty event_type error names the field and gives an example."""
    with pytest.raises(InvalidEventError, match=r"event_type is empty.*user\.login"):
        AuditEvent("")


def test_invalid_event_error_is_a_value_error() -> None:
    """InvalidEventError is also a ValueError."""
    with pytest.raises(ValueError, match="outcome"):
        AuditEvent("user.login", outcome="maybe")  # type: ignore[arg-type]


def test_changes_must_be_pairs() -> None:
    """A changes entry that is not an (old, new) pair is rejected."""
    with pytest.raises(InvalidEventError, match=r"changes\['role'\]"):
        AuditEvent("user.update", changes={"role": ("admin",)})  # type: ignore[dict-item]


def test_naive_timestamp_is_rejected() -> None:
    """A timestamp without a time zone is rejected rather than guessed."""
    with pytest.raises(InvalidEventError, match="timezone-aware"):
        AuditEvent("user.login", timestamp=datetime(2026, 1, 1))


def test_non_string_actor_is_rejected() -> None:
    """user_id must be text; an int is refused with a hint."""
    with pytest.raises(InvalidEventError, match="user_id must be a string"):
        AuditEvent("user.login", user_id=42)  # type: ignore[arg-type]


def test_resource_requires_type() -> None:
    """A Resource needs a non-empty type."""
    with pytest.raises(InvalidEventError, match=r"Resource\.type"):
        Resource("", "1")


def test_event_ids_are_uuid7_and_time_sortable() -> None:
    """Event ids parse as version-7 UUIDs and sort in creation order across milliseconds."""
    import time

    first = new_event_id()
    time.sleep(0.002)
    second = new_event_id()
    assert uuid.UUID(first).version == 7
    assert uuid.UUID(first).variant == uuid.RFC_4122
    assert first < second


def test_timestamps_round_trip_in_utc() -> None:
    """format_ts writes fixed-width UTC with Z and parse_ts reads it back."""
    from datetime import timedelta, timezone

    local = datetime(2026, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    text = format_ts(local)
    assert text == "2026-05-01T12:00:00.000000Z"
    assert parse_ts(text) == local
    assert parse_ts(text).tzinfo is not None
    assert format_ts(datetime(2026, 5, 1, tzinfo=UTC)).endswith("Z")
