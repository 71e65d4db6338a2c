"""Retention: old segments go (or are archived) and the rest still verifies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from maestro_audit_logger import AuditEvent, AuditLogger, ConfigurationError, verify


def _fill(log: AuditLogger, clock, days: int) -> None:
    for _ in range(days):
        for i in range(5):
            log.log(AuditEvent("tick.tock", details={"i": i}))
        clock.advance(days=1)


def test_retention_deletes_old_segments_and_the_log_still_verifies(
    audit_dir: Path, clock, records
) -> None:
    """Segments older than N days are deleted, an audit.retention event says so, verify passes."""
    with AuditLogger(audit_dir, clock=clock) as log:
        _fill(log, clock, 5)
        removed = log.apply_retention(older_than=timedelta(days=2))
        log.log(AuditEvent("after.retention"))
    assert len(removed) == 3
    assert all(not (audit_dir / name).exists() for name in removed)
    recs = records(audit_dir)
    retention = [r for r in recs if r["event_type"] == "audit.retention"]
    assert retention[0]["details"]["segments"] == removed
    assert retention[0]["details"]["first_sequence"] == 1
    assert retention[0]["details"]["last_sequence"] == 15
    result = verify(audit_dir)
    assert result, result.summary()
    assert result.first_sequence == 16
    assert any("removed by retention" in w for w in result.warnings)


def test_retention_can_archive_instead_of_delete(audit_dir: Path, tmp_path: Path, clock) -> None:
    """With archive_dir the old segments are moved there and still verify on their own chain."""
    archive = tmp_path / "archive"
    with AuditLogger(audit_dir, clock=clock) as log:
        _fill(log, clock, 3)
        moved = log.apply_retention(older_than=timedelta(days=1), archive_dir=archive)
    assert sorted(p.name for p in archive.iterdir()) == moved
    assert verify(audit_dir)


def test_retention_never_removes_the_active_segment(audit_dir: Path, clock) -> None:
    """Even with older_than=0 the segment being written stays."""
    with AuditLogger(audit_dir, clock=clock) as log:
        log.log(AuditEvent("tick.tock"))
        clock.advance(days=30)
        assert log.apply_retention(older_than=0) == []
    assert verify(audit_dir)


def test_segment_deleted_outside_retention_is_still_flagged(audit_dir: Path, clock) -> None:
    """A segment removed by hand (no audit.retention record) is a deleted segment."""
    with AuditLogger(audit_dir, clock=clock) as log:
        _fill(log, clock, 3)
    first = sorted(audit_dir.glob("audit-*.jsonl"))[0]
    first.unlink()
    assert verify(audit_dir).kinds() == {"deleted_segment"}


def test_retention_setting_prunes_on_rotation(audit_dir: Path, clock) -> None:
    """With retention=2 days each daily rotation removes segments older than two days."""
    with AuditLogger(audit_dir, clock=clock, retention=timedelta(days=2)) as log:
        _fill(log, clock, 6)
        log.log(AuditEvent("final.event"))
    names = sorted(p.name for p in audit_dir.glob("audit-*.jsonl"))
    assert len(names) == 3
    result = verify(audit_dir)
    assert result, result.summary()
    assert result.last_sequence is not None
    assert result.first_sequence is not None
    assert result.first_sequence > 1


def test_retention_record_alone_explains_removed_segments(audit_dir: Path, clock) -> None:
    """If a crash lost the trailing retention-* checkpoints, the audit.retention record covers."""
    with AuditLogger(audit_dir, clock=clock, checkpoint_on_close=False) as log:
        _fill(log, clock, 4)
        assert len(log.apply_retention(older_than=86400)) == 3
    path = audit_dir / "checkpoints.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    kept = [x for x in lines if b'"reason":"retention-' not in x]
    assert len(kept) == len(lines) - 3
    path.write_bytes(b"".join(kept))
    result = verify(audit_dir)
    assert result, result.summary()
    assert sum("removed by retention" in w for w in result.warnings) == 3


def test_the_days_spellings_are_deprecated_aliases(audit_dir: Path, clock) -> None:
    """retention_days= and apply_retention(days) still work as days, and warn once each."""
    with pytest.warns(DeprecationWarning, match=r"retention= \(seconds"):
        configured = AuditLogger(audit_dir / "configured", clock=clock, retention_days=2)
    with configured:
        assert configured._retention == 2 * 86400
    with AuditLogger(audit_dir, clock=clock) as log:
        _fill(log, clock, 4)
        with pytest.warns(DeprecationWarning, match=r"apply_retention\(older_than="):
            removed = log.apply_retention(1)
    assert len(removed) == 3
    assert verify(audit_dir)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"older_than": -1}, "finite number of seconds >= 0"),
        ({"older_than": float("nan")}, "finite number of seconds >= 0"),
        ({"older_than": float("inf")}, "finite number of seconds >= 0"),
        ({"older_than": "90d"}, "seconds .a number. or a timedelta"),
        ({"older_than": True}, "seconds .a number. or a timedelta"),
        ({}, "needs older_than="),
    ],
)
def test_bad_retention_ages_are_configuration_errors(
    audit_dir: Path, kwargs: dict[str, object], message: str
) -> None:
    """A negative, NaN, infinite or non-numeric age names the argument; nothing is removed."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("kept.event"))
        with pytest.raises(ConfigurationError, match=message):
            log.apply_retention(**kwargs)  # type: ignore[arg-type]
    assert verify(audit_dir).last_sequence == 1


def test_a_bad_retention_setting_fails_at_construction(audit_dir: Path) -> None:
    """AuditLogger(retention=...) is checked up front, like every other argument."""
    with pytest.raises(ConfigurationError, match="retention must be seconds"):
        AuditLogger(audit_dir, retention="forever")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="retention must be a finite"):
        AuditLogger(audit_dir, retention=timedelta(days=-1))
