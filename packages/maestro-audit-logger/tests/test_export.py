"""Queries and streaming exports: filters, formats, manifests, atomic replace, CSV injection."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Literal

import orjson
import pytest
from maestro_audit_logger import AuditEvent, AuditLogger, ConfigurationError, export, read_events
from maestro_audit_logger._export import neutralise


@pytest.fixture
def log(audit_dir: Path, clock):
    """A logger with six events a minute apart: logins, a failure, a delete."""
    with AuditLogger(audit_dir, clock=clock) as lg:
        rows: list[tuple[str, str, Literal["success", "failure", "unknown"]]] = [
            ("alice", "user.login", "success"),
            ("bob", "user.login", "failure"),
            ("alice", "user.password.reset", "success"),
            ("alice", "doc.delete", "success"),
            ("carol", "user.logout", "success"),
            ("bob", "doc.read", "unknown"),
        ]
        for user, et, outcome in rows:
            lg.log(AuditEvent(et, user_id=user, outcome=outcome))
            clock.advance(minutes=1)
        yield lg


def test_query_filters_by_type_wildcard_actor_outcome_and_time(log: AuditLogger, clock) -> None:
    """query() combines a user.* wildcard, the actor, the outcome and a [since, until) range."""
    start = clock.now - timedelta(minutes=6)
    assert [e.event_type for e in log.query(event_type="user.*")] == [
        "user.login",
        "user.login",
        "user.password.reset",
        "user.logout",
    ]
    assert [e.sequence for e in log.query(user_id="alice")] == [1, 3, 4]
    assert [e.sequence for e in log.query(outcome="failure")] == [2]
    window = log.query(since=start + timedelta(minutes=1), until=start + timedelta(minutes=3))
    assert [e.sequence for e in window] == [2, 3]
    assert [e.sequence for e in log.query(event_type="user.*", user_id="alice")] == [1, 3]


def test_query_is_lazy(log: AuditLogger) -> None:
    """query() returns an iterator that reads records only as it is consumed."""
    it = log.query()
    assert iter(it) is it
    first = next(it)
    assert first.sequence == 1
    assert first.timestamp is not None
    assert first.timestamp.tzinfo is not None


def test_json_export_is_an_array_of_the_stored_records(log: AuditLogger, tmp_path: Path) -> None:
    """export_to_json writes a JSON array and returns the sequence range and count."""
    result = log.export_to_json(tmp_path / "out.json")
    data = orjson.loads((tmp_path / "out.json").read_bytes())
    assert isinstance(data, list)
    assert [r["sequence"] for r in data] == [1, 2, 3, 4, 5, 6]
    assert (result.count, result.first_sequence, result.last_sequence) == (6, 1, 6)


def test_export_manifest_states_range_filters_and_hash(log: AuditLogger, tmp_path: Path) -> None:
    """The manifest beside an export gives its sequence range, filters and SHA-256."""
    result = log.export_to_jsonl(tmp_path / "alice.jsonl", user_id="alice")
    manifest = orjson.loads(result.manifest_path.read_bytes())
    assert manifest["first_sequence"] == 1
    assert manifest["last_sequence"] == 4
    assert manifest["count"] == 3
    assert manifest["filters"]["user_id"] == "alice"
    assert manifest["sha256"] == hashlib.sha256(result.path.read_bytes()).hexdigest()


def test_jsonl_export_is_byte_identical_to_the_stored_lines(
    log: AuditLogger, tmp_path: Path
) -> None:
    """An unfiltered JSON Lines export is the stored records byte for byte (still verifiable)."""
    log.export_to_jsonl(tmp_path / "all.jsonl")
    stored = b"".join(p.read_bytes() for p in sorted(log.output_dir.glob("audit-*.jsonl")))
    assert (tmp_path / "all.jsonl").read_bytes() == stored


def test_empty_filtered_export_is_valid(log: AuditLogger, tmp_path: Path) -> None:
    """A filter matching nothing gives an empty array and a None range."""
    result = log.export_to_json(tmp_path / "none.json", user_id="nobody")
    assert orjson.loads(result.path.read_bytes()) == []
    assert (result.count, result.first_sequence, result.last_sequence) == (0, None, None)


def test_csv_export_has_a_header_and_one_row_per_event(log: AuditLogger, tmp_path: Path) -> None:
    """export_to_csv writes the documented columns and every matching event."""
    log.export_to_csv(tmp_path / "out.csv", outcome="success")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert [r["sequence"] for r in rows] == ["1", "3", "4", "5"]
    assert rows[0]["user_id"] == "alice"
    assert rows[0]["event_type"] == "user.login"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_formula_cells_are_neutralised(prefix: str) -> None:
    """A cell starting with = + - @ tab or CR gets a leading quote; others are unchanged."""
    assert neutralise(prefix + "cmd|' /C calc'!A0") == "'" + prefix + "cmd|' /C calc'!A0"
    assert neutralise("plain") == "plain"


def test_csv_export_neutralises_injected_values(audit_dir: Path, tmp_path: Path) -> None:
    """User-controlled text like =HYPERLINK(...) arrives in the CSV as inert text."""
    with AuditLogger(audit_dir) as lg:
        lg.log(AuditEvent("user.login", user_id='=HYPERLINK("http://x")', reason="@SUM(1)"))
        lg.export_to_csv(tmp_path / "x.csv")
    row = next(csv.DictReader(io.StringIO((tmp_path / "x.csv").read_text())))
    assert row["user_id"].startswith("'=")
    assert row["reason"] == "'@SUM(1)"


def test_failed_export_leaves_no_partial_file(
    log: AuditLogger, tmp_path: Path, monkeypatch
) -> None:
    """If an export fails midway the previous file is untouched and no temp file remains."""
    target = tmp_path / "keep.json"
    target.write_text("old")
    import maestro_audit_logger._export as ex

    def boom(*a: object, **k: object):
        yield b"{}", {"sequence": 1}
        raise RuntimeError("disk went away")

    monkeypatch.setattr(ex, "iter_records", boom)
    with pytest.raises(RuntimeError, match="disk went away"):
        log.export_to_json(target)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".keep")) == []


def test_module_level_export_and_read_events_work_without_a_logger(
    log: AuditLogger, tmp_path: Path
) -> None:
    """export() and read_events() read a directory directly (e.g. a shipped copy)."""
    log.flush()
    res = export(log.output_dir, tmp_path / "f.csv", "csv", event_type="doc.*")
    assert res.count == 2
    assert [e.event_type for e in read_events(log.output_dir, user_id="bob")] == [
        "user.login",
        "doc.read",
    ]


def test_bad_export_arguments_raise_config_errors(log: AuditLogger, tmp_path: Path) -> None:
    """An unknown format, a naive datetime or a bad outcome raise ConfigurationError."""
    from datetime import datetime

    with pytest.raises(ConfigurationError, match="format"):
        export(log.output_dir, tmp_path / "x", "xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        list(log.query(since=datetime(2026, 1, 1)))
    with pytest.raises(ConfigurationError, match="outcome"):
        list(log.query(outcome="meh"))  # type: ignore[arg-type]


def test_unfiltered_jsonl_export_verifies_on_its_own(log: AuditLogger, tmp_path: Path) -> None:
    """verify() on an exported JSON Lines file checks its chain; an edit in it is reported."""
    from maestro_audit_logger import verify

    path = log.export_to_jsonl(tmp_path / "copy.jsonl").path
    result = verify(path)
    assert result, result.summary()
    assert result.records == 6
    path.write_bytes(path.read_bytes().replace(b'"user_id":"bob"', b'"user_id":"eve"', 1))
    assert verify(path).kinds() == {"modified"}
