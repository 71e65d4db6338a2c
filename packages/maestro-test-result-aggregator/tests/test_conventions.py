"""Family conventions: errors, environment names, the CLI's version, prefix and exit codes."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from maestro_test_result_aggregator import (
    ConfigurationError,
    MaestroResultsError,
    MissingExtraError,
    TestResultAggregator,
    _deprecation,
)
from maestro_test_result_aggregator._cli import main
from maestro_test_result_aggregator._importers import read_report
from maestro_testkit import package_version


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the once-per-process deprecation warnings afresh."""
    monkeypatch.setattr(_deprecation, "_warned", set())


def test_bad_arguments_raise_configuration_error(tmp_path: Path) -> None:
    """A bad format is ConfigurationError, in the family and a ValueError."""
    assert issubclass(ConfigurationError, MaestroResultsError)
    assert issubclass(ConfigurationError, ValueError)
    with pytest.raises(ConfigurationError, match="format must be one of"):
        read_report(tmp_path / "x.xml", "yaml")
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        agg.store_result("t", "r", "c", "passed", 1.0)
        with pytest.raises(ConfigurationError, match="format"):
            agg.generate_report("r", format="pdf")  # type: ignore[arg-type]


def test_missing_extra_error_has_the_family_shape() -> None:
    """MissingExtraError(feature, extra, module) with the one message form."""
    err = MissingExtraError("PostgreSQL stores", "postgres", "psycopg")
    assert str(err) == (
        "PostgreSQL stores needs the postgres extra: "
        "pip install 'maestro-test-result-aggregator[postgres]'"
    )
    assert err.name == "psycopg"


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints `maestro-results <version>`."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    version = package_version("maestro-test-result-aggregator")
    assert capsys.readouterr().out.strip() == f"maestro-results {version}"


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """0 ok, 1 a report not imported, 2 usage, 3 unreadable file; errors carry the prefix."""
    db = str(tmp_path / "s.db")
    good = tmp_path / "good.xml"
    good.write_text('<testsuite><testcase name="a" classname="K"/></testsuite>')
    bad = tmp_path / "bad.xml"
    bad.write_text("<testsuite><testcase")
    assert main(["--db", db, "import", str(good), "--run", "r"]) == 0
    assert main(["--db", db, "import", str(bad), "--run", "r"]) == 1
    assert capsys.readouterr().err.startswith("maestro-results: error: ")
    assert main(["--db", db, "import", str(tmp_path / "missing.xml")]) == 3
    assert "cannot read the file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["--db", db, "summary"])
    assert info.value.code == 2
    assert "maestro-results: error:" in capsys.readouterr().err


def test_family_environment_name_selects_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """MAESTRO_RESULTS__DB names the store; the old MAESTRO_RESULTS_DB warns once."""
    db = tmp_path / "env.db"
    monkeypatch.setenv("MAESTRO_RESULTS__DB", str(db))
    assert main(["summary", "r"]) == 0
    assert db.exists()
    monkeypatch.delenv("MAESTRO_RESULTS__DB")
    old = tmp_path / "old.db"
    monkeypatch.setenv("MAESTRO_RESULTS_DB", str(old))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert main(["summary", "r"]) == 0
        assert main(["summary", "r"]) == 0
    assert old.exists()
    messages = [str(w.message) for w in record if w.category is DeprecationWarning]
    assert messages == [
        "the environment variable MAESTRO_RESULTS_DB is deprecated; use MAESTRO_RESULTS__DB instead"
    ]


def test_naive_datetimes_are_errors_that_say_to_attach_a_timezone(tmp_path: Path) -> None:
    """A naive recorded_at or a clock returning naive datetimes is refused, never guessed."""
    from datetime import datetime

    from maestro_test_result_aggregator import InvalidResultError

    naive = datetime(2026, 1, 1)
    with (
        TestResultAggregator(db_path=tmp_path / "s.db") as agg,
        pytest.raises(InvalidResultError, match="attach a timezone"),
    ):
        agg.store_result("t", "r", "c", "passed", 1.0, recorded_at=naive)
    with (
        TestResultAggregator(db_path=tmp_path / "n.db", clock=lambda: naive) as agg,
        pytest.raises(ConfigurationError, match="attach a timezone"),
    ):
        agg.store_result("t", "r", "c", "passed", 1.0)
