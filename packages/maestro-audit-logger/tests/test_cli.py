"""The maestro-audit CLI: verify, export, tail, stats; exit 0 only when the log verifies."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from maestro_audit_logger import AuditEvent, AuditLogger, HmacSigner
from maestro_audit_logger._cli import main


@pytest.fixture
def log_dir(audit_dir: Path) -> Path:
    """A closed, HMAC-signed log of five events."""
    with AuditLogger(audit_dir, signer=HmacSigner(b"k" * 32, "cli")) as log:
        for i in range(5):
            log.log(AuditEvent("user.login" if i % 2 else "doc.read", user_id=f"u{i}"))
    return audit_dir


def _tamper(d: Path) -> None:
    seg = next(d.glob("audit-*.jsonl"))
    seg.chmod(0o640)
    seg.write_bytes(seg.read_bytes().replace(b'"user_id":"u1"', b'"user_id":"u9"'))


def test_verify_exits_zero_on_an_intact_log(log_dir: Path, capsys) -> None:
    """verify prints OK and exits 0 for an intact log."""
    assert main(["verify", str(log_dir)]) == 0
    assert capsys.readouterr().out.startswith("OK: 5 records")


def test_verify_exits_one_and_names_the_issue_when_tampered(log_dir: Path, capsys) -> None:
    """verify exits 1 and prints the modified sequence when a record was edited."""
    _tamper(log_dir)
    assert main(["verify", str(log_dir), "--json"]) == 1
    out = orjson.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert out["issues"][0]["kind"] == "modified"
    assert out["issues"][0]["first_sequence"] == 2


def test_verify_checks_hmac_signatures_from_the_environment(
    log_dir: Path, monkeypatch, capsys
) -> None:
    """--hmac-key-env reads the key from the named variable; a wrong key exits 1."""
    monkeypatch.setenv("AUDIT_KEY", "k" * 32)
    assert main(["verify", str(log_dir), "--hmac-key-env", "AUDIT_KEY", "--key-id", "cli"]) == 0
    assert "1 signatures checked" in capsys.readouterr().out
    monkeypatch.setenv("AUDIT_KEY", "z" * 32)
    assert main(["verify", str(log_dir), "--hmac-key-env", "AUDIT_KEY", "--key-id", "cli"]) == 1


def test_export_writes_a_filtered_file(log_dir: Path, tmp_path: Path, capsys) -> None:
    """export --type 'user.*' writes only matching events and exits 0."""
    out = tmp_path / "u.json"
    assert main(["export", str(log_dir), "-o", str(out), "--type", "user.*"]) == 0
    assert [r["event_type"] for r in orjson.loads(out.read_bytes())] == ["user.login"] * 2
    assert "wrote 2 records" in capsys.readouterr().out


def test_export_of_a_tampered_log_exits_one(log_dir: Path, tmp_path: Path) -> None:
    """export still writes the file but exits 1 when the log does not verify."""
    _tamper(log_dir)
    out = tmp_path / "all.csv"
    assert main(["export", str(log_dir), "-o", str(out)]) == 1
    assert out.exists()


def test_export_needs_a_known_format(log_dir: Path, tmp_path: Path, capsys) -> None:
    """An output name without a known extension and no --format exits 2 with a hint."""
    assert main(["export", str(log_dir), "-o", str(tmp_path / "x.txt")]) == 2
    assert "--format" in capsys.readouterr().err


def test_tail_prints_the_newest_records(log_dir: Path, capsys) -> None:
    """tail -n 2 prints the last two records as JSON lines."""
    assert main(["tail", str(log_dir), "-n", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [orjson.loads(x)["sequence"] for x in lines] == [4, 5]


def test_tail_follow_prints_new_records(log_dir: Path, capsys, monkeypatch) -> None:
    """tail --follow prints records appended after it started, including in a new segment."""
    import maestro_audit_logger._cli as cli

    def append_then_sleep(seconds: float) -> None:
        with AuditLogger(log_dir, max_segment_bytes=4096) as log:
            # One event may not exceed a segment; this one fills the active segment past 4 KiB.
            log.log(AuditEvent("late.event", details={"pad": "x" * 3500}))
            log.log(AuditEvent("later.event"))

    monkeypatch.setattr(cli.time, "sleep", append_then_sleep)  # type: ignore[attr-defined]
    code = main(["tail", str(log_dir), "-n", "1", "--follow", "--max-polls", "1"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [orjson.loads(x)["event_type"] for x in lines] == [
        "doc.read",
        "late.event",
        "later.event",
    ]


def test_stats_counts_types_and_outcomes(log_dir: Path, capsys) -> None:
    """stats --json reports counts per event type and the verification status."""
    assert main(["stats", str(log_dir), "--json"]) == 0
    data = orjson.loads(capsys.readouterr().out)
    assert data["event_types"] == {"doc.read": 3, "user.login": 2}
    assert data["verified"] is True
    assert data["records"] == 5


def test_stats_of_a_tampered_log_exits_one(log_dir: Path) -> None:
    """stats exits 1 when the log does not verify."""
    _tamper(log_dir)
    assert main(["stats", str(log_dir)]) == 1


def test_missing_directory_exits_two(tmp_path: Path, capsys) -> None:
    """A directory that does not exist is a usage error (exit 2)."""
    assert main(["verify", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_console_script_is_installed(log_dir: Path) -> None:
    """The maestro-audit entry point runs and exits 0 on an intact log."""
    exe = shutil.which("maestro-audit", path=str(Path(sys.executable).parent))
    assert exe is not None
    proc = subprocess.run([exe, "verify", str(log_dir)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_version_prints_the_installed_version(capsys) -> None:
    """--version prints `maestro-audit <version>` and exits 0."""
    from maestro_testkit import package_version

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert (
        capsys.readouterr().out.strip()
        == f"maestro-audit {package_version('maestro-audit-logger')}"
    )


def test_unreadable_log_is_an_environment_error(log_dir: Path, capsys, monkeypatch) -> None:
    """A log that cannot be read exits 3 with the `maestro-audit: error:` prefix."""
    import maestro_audit_logger._cli as cli

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(log_dir))

    monkeypatch.setattr(cli, "verify", refuse)
    assert main(["verify", str(log_dir)]) == 3
    assert capsys.readouterr().err.startswith("maestro-audit: error: ")


def test_usage_errors_use_the_family_prefix(tmp_path: Path, capsys) -> None:
    """Usage errors exit 2 and start with `maestro-audit: error:`."""
    assert main(["verify", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.startswith("maestro-audit: error: ")
    with pytest.raises(SystemExit) as info:
        main(["verify"])
    assert info.value.code == 2
    assert "maestro-audit: error:" in capsys.readouterr().err
