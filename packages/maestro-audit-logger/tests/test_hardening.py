"""Hostile input: exports aimed at the evidence, unrepresentable values, huge events, CSV tricks."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from maestro_audit_logger import (
    AuditEvent,
    AuditLogger,
    ConfigurationError,
    InvalidEventError,
    export,
    verify,
)
from maestro_audit_logger._cli import main
from maestro_audit_logger._export import neutralise


@pytest.fixture
def log_dir(audit_dir: Path) -> Path:
    """An audit directory holding three events and a checkpoint."""
    with AuditLogger(audit_dir) as log:
        for i in range(3):
            log.log(AuditEvent("a.tick", details={"i": i}))
    return audit_dir


@pytest.mark.parametrize(
    "name", ["checkpoints.jsonl", "audit-999999999999-20991231.jsonl", "sub/x.csv", "x.json"]
)
def test_export_into_the_log_directory_is_refused(log_dir: Path, name: str) -> None:
    """An export target inside the audit directory is refused and the evidence is untouched."""
    before = {p.name: p.read_bytes() for p in log_dir.iterdir() if p.is_file()}
    with pytest.raises(ConfigurationError, match="inside the audit directory"):
        export(log_dir, log_dir / name, "jsonl")
    after = {p.name: p.read_bytes() for p in log_dir.iterdir() if p.is_file()}
    assert after == before
    assert verify(log_dir, require_signatures=False)


def test_export_through_a_symlink_into_the_log_directory_is_refused(
    log_dir: Path, tmp_path: Path
) -> None:
    """A symlinked path that resolves into the audit directory is refused too."""
    link = tmp_path / "link"
    link.symlink_to(log_dir)
    with pytest.raises(ConfigurationError, match="inside the audit directory"):
        export(log_dir, link / "checkpoints.jsonl", "json")


def test_cli_export_into_the_log_directory_exits_two(log_dir: Path, capsys) -> None:
    """`maestro-audit export -o <dir>/checkpoints.jsonl` is a usage error that keeps the file."""
    before = (log_dir / "checkpoints.jsonl").read_bytes()
    code = main(["export", str(log_dir), "-o", str(log_dir / "checkpoints.jsonl")])
    assert code == 2
    assert "maestro-audit: error:" in capsys.readouterr().err
    assert (log_dir / "checkpoints.jsonl").read_bytes() == before


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(audit_dir: Path, value: float) -> None:
    """NaN and ±Infinity are refused with the path of the value, not stored as null."""
    with AuditLogger(audit_dir) as log, pytest.raises(InvalidEventError, match=r"details\['x'\]"):
        log.log(AuditEvent("a.bad", details={"z": 1, "x": value}))


def test_non_finite_float_in_changes_is_refused(audit_dir: Path) -> None:
    """A NaN inside changes is refused and names 'not a finite number'."""
    with AuditLogger(audit_dir) as log, pytest.raises(InvalidEventError, match="finite"):
        log.log(AuditEvent("a.bad", changes={"price": (1.0, math.nan)}))


def test_none_values_are_still_stored_as_null(audit_dir: Path, records) -> None:
    """A real None is not mistaken for a refused float."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.ok", details={"x": None, "y": 1.5}))
    assert records(audit_dir)[0]["details"] == {"x": None, "y": 1.5}


def test_unsafe_integers_are_refused_with_a_reason(audit_dir: Path) -> None:
    """An int beyond JSON's safe range (2**53) says so and suggests a string."""
    with AuditLogger(audit_dir) as log:
        with pytest.raises(InvalidEventError, match=r"details\['n'\].*2\*\*53.*str"):
            log.log(AuditEvent("a.bad", details={"n": 2**60}))
        with pytest.raises(InvalidEventError, match="2\\*\\*53"):
            log.log(AuditEvent("a.bad", details={"n": -(2**70)}))
        log.log(AuditEvent("a.ok", details={"n": 2**53 - 1}))


def test_lone_surrogates_are_refused_with_a_reason(audit_dir: Path) -> None:
    """A lone surrogate (undecodable text) names the field and the problem."""
    with (
        AuditLogger(audit_dir) as log,
        pytest.raises(InvalidEventError, match=r"details\['s'\].*surrogate"),
    ):
        log.log(AuditEvent("a.bad", details={"s": "ok\ud800"}))


def test_lone_surrogate_in_an_actor_field_is_refused() -> None:
    """Actor fields with lone surrogates fail when the event is built."""
    with pytest.raises(InvalidEventError, match=r"user_id.*surrogate"):
        AuditEvent("a.bad", user_id="\udcff")


@pytest.mark.parametrize("bad", [42, None, b"user.login", ["a"]])
def test_non_string_event_type_says_so(bad: object) -> None:
    """A non-string event_type names its type instead of calling it empty."""
    with pytest.raises(
        InvalidEventError, match=f"event_type must be a string.*{type(bad).__name__}"
    ):
        AuditEvent(bad)  # type: ignore[arg-type]


def test_events_over_the_size_cap_are_refused(audit_dir: Path, records) -> None:
    """An event above max_event_bytes (256 KB default) is refused with both sizes."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.ok", details={"pad": "x" * 200_000}))
        with pytest.raises(InvalidEventError, match=r"262144"):
            log.log(AuditEvent("a.big", details={"pad": "x" * 300_000}))
    assert [r["event_type"] for r in records(audit_dir)] == ["a.ok"]


def test_size_cap_is_configurable_and_never_exceeds_a_segment(audit_dir: Path) -> None:
    """max_event_bytes is configurable; larger than max_segment_bytes is a config error."""
    with AuditLogger(audit_dir, max_event_bytes=1000) as log:
        with pytest.raises(InvalidEventError, match="1000"):
            log.log(AuditEvent("a.big", details={"pad": "x" * 2000}))
        log.log(AuditEvent("a.ok", details={"pad": "x" * 500}))
    with pytest.raises(ConfigurationError, match="max_segment_bytes"):
        AuditLogger(audit_dir, max_segment_bytes=8192, max_event_bytes=10_000)
    # The default cap follows a small segment size down.
    with (
        AuditLogger(audit_dir, max_segment_bytes=8192) as log,
        pytest.raises(InvalidEventError, match="8192"),
    ):
        log.log(AuditEvent("a.big", details={"pad": "x" * 9000}))


@pytest.mark.parametrize(
    "cell",
    [
        " =1+2",
        "\n=HYPERLINK(1)",
        "\t\t+1",
        "  @SUM(A1)",
        "\uff1d1+1",
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
        " \uff1dcmd",
        "\r\n-2",
    ],
)
def test_hidden_formulas_are_neutralised(cell: str) -> None:
    """Formulas after whitespace or newlines and full-width ＝＋－＠ are prefixed with '."""
    assert neutralise(cell).startswith("'")


def test_plain_cells_are_left_alone() -> None:
    """Text, numbers in words and interior operators are not changed."""
    for cell in ("alice", "a=b", "1+1", "user@example.org", " hello", ""):
        assert neutralise(cell) == cell


def test_bidi_override_characters_are_escaped() -> None:
    """Bidirectional override/isolate characters are written as visible escapes."""
    out = neutralise("invoice\u202egpj.exe and \u2066x\u2069")
    assert "\u202e" not in out
    assert "\u2066" not in out
    assert "\\u202e" in out
    assert "\\u2066" in out


def test_csv_export_escapes_injections_and_can_write_a_bom(audit_dir: Path, tmp_path: Path) -> None:
    """CSV exports neutralise the new cases and write a UTF-8 BOM when asked (for Excel)."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.tick", user_id=" =cmd|' /C calc'!A0", reason="\uff0b1\u202e"))
        plain = log.export_to_csv(tmp_path / "plain.csv")
        bom = log.export_to_csv(tmp_path / "bom.csv", bom=True)
    assert not plain.path.read_bytes().startswith(b"\xef\xbb\xbf")
    data = bom.path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    with open(bom.path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["user_id"].startswith("'")
    assert rows[0]["reason"] == "'\uff0b1\\u202e"


def test_cli_csv_bom_option(log_dir: Path, tmp_path: Path) -> None:
    """`maestro-audit export --bom` writes the BOM."""
    out = tmp_path / "x.csv"
    assert main(["export", str(log_dir), "-o", str(out), "--bom"]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
