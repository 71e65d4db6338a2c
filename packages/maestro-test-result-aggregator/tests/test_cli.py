"""The maestro-results command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from maestro_test_result_aggregator._cli import main

from .conftest import DATA, shared_fixtures


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_summary_trends_flaky_report_purge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every subcommand works on one store, in text and JSON."""
    db = str(tmp_path / "r.db")
    junit = [p for p in shared_fixtures("junit") if p.name.startswith(("03-", "17-"))]
    code, out, err = run(
        capsys, "--db", db, "import", *map(str, junit), "--run", "r1", "--commit", "abc"
    )
    assert code == 0
    assert "10 tests" in out
    assert "-> r1" in out
    assert "warning:" in err
    assert "declares tests=15" in err
    code, out, _ = run(capsys, "--db", db, "summary", "r1")
    assert code == 0
    assert "16 tests, 7 passed, 5 failed, 0 error, 1 timeout" in out
    code, out, _ = run(capsys, "--db", db, "summary", "r1", "--json")
    assert json.loads(out)["total"] == 16
    code, out, _ = run(capsys, "--db", db, "trends", "--days", "7")
    assert code == 0
    assert out.splitlines()[0].startswith("stable: 1 day(s) of data")
    assert out.splitlines()[1].split() == [
        "day",
        "total",
        "passed",
        "failing",
        "rate",
        "p50",
        "p95",
    ]
    assert json.loads(run(capsys, "--db", db, "trends", "--json")[1])["days"] == 30
    code, out, _ = run(capsys, "--db", db, "flaky")
    assert code == 0
    assert out.strip() == "no flaky or broken tests"
    assert json.loads(run(capsys, "--db", db, "flaky", "--json")[1]) == []
    for fmt in ("html", "md", "json", "ctrf"):
        code, out, _ = run(capsys, "--db", db, "report", "r1", "--format", fmt)
        assert code == 0
        assert out
    target = tmp_path / "r.html"
    code, out, _ = run(capsys, "--db", db, "report", "r1", "-o", str(target))
    assert code == 0
    assert target.read_text().startswith("<!DOCTYPE html>")
    code, out, _ = run(capsys, "--db", db, "purge", "--older-than", "0")
    assert code == 0
    assert out.strip() == "deleted 16 results"


def test_flaky_output_explains_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The flaky command prints verdict, score, reasons and runs."""
    db = str(tmp_path / "r.db")
    ctrf = next(p for p in shared_fixtures("ctrf") if p.name.startswith("03-"))
    assert run(capsys, "--db", db, "import", str(ctrf), "--run", "r9")[0] == 0
    out = run(capsys, "--db", db, "flaky")[1]
    assert "flaky   1.00  flaky test" in out
    assert "passed on retry" in out
    assert "runs: r9" in out


def test_bad_file_exits_1_and_stores_the_good_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unsupported file is reported on stderr with exit 1; other files are still imported."""
    db = str(tmp_path / "r.db")
    neg = next(p for p in shared_fixtures("junit") if p.name.startswith("neg07"))
    code, _, err = run(
        capsys, "--db", db, "import", str(neg), str(DATA / "pytest-json-report.json"), "--run", "r"
    )
    assert code == 1
    assert "neg07" in err
    assert "not JUnit" in err
    assert "6 tests" in run(capsys, "--db", db, "summary", "r")[1]


def test_ctrf_run_id_and_generated_run_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --run a CTRF file's runId is used, otherwise a new import-... id."""
    db = str(tmp_path / "r.db")
    ctrf = next(p for p in shared_fixtures("ctrf") if p.name.startswith("02-"))
    assert "-> run-2025-11-24-pr-123" in run(capsys, "--db", db, "import", str(ctrf))[1]
    assert (
        "-> import-" in run(capsys, "--db", db, "import", str(DATA / "pytest-json-report.json"))[1]
    )


def test_store_errors_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A database that is not a store is an environment error: exit status 3, family prefix."""
    bad = tmp_path / "bad.db"
    bad.write_text("nope" * 100)
    code, _, err = run(capsys, "--db", str(bad), "summary", "x")
    assert code == 3
    assert "bad.db" in err
    assert err.startswith("maestro-results: error: ")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_console_script_is_installed(tmp_path: Path) -> None:
    """The maestro-results entry point runs from the environment's bin directory."""
    exe = shutil.which("maestro-results", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run(
        [
            exe,
            "--db",
            str(tmp_path / "r.db"),
            "import",
            str(DATA / "pytest-json-report.json"),
            "--run",
            "x",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "pytest-json, 6 tests" in done.stdout
