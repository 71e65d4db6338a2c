"""CTRF import and export, and pytest-json-report import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from maestro_test_result_aggregator import (
    ReportFileError,
    ResultStatus,
    TestResultAggregator,
    UnsupportedFormatError,
)
from maestro_test_result_aggregator._importers import read_report

from .conftest import DATA, shared_fixtures

# file: (tests, attempts, passed, failed, skipped, flaky in the run)
EXPECTED = {
    "01-ctrf-minimal.json": (1, 1, 1, 0, 0, 0),
    "02-ctrf-comprehensive.json": (3, 4, 2, 1, 0, 1),
    "03-ctrf-with-retries.json": (2, 4, 2, 0, 0, 1),
    "04-ctrf-with-insights.json": (2, 2, 2, 0, 0, 0),
    "05-ctrf-with-diagnostics.json": (1, 1, 0, 1, 0, 0),
}


def test_every_shared_ctrf_fixture_is_covered() -> None:
    """The expectations name every CTRF file in the shared fixtures."""
    assert {p.name for p in shared_fixtures("ctrf")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_ctrf_files_import(name: str, tmp_path: Path) -> None:
    """Each CTRF example imports with the expected tests, attempts, outcomes and flaky count."""
    path = next(p for p in shared_fixtures("ctrf") if p.name == name)
    tests, attempts, passed, failed, skipped, flaky = EXPECTED[name]
    with TestResultAggregator(db_path=tmp_path / "r.db") as agg:
        result = agg.import_file(path, orchestration_id="run")
        s = agg.get_summary("run")
    assert result.format == "ctrf"
    assert not result.warnings
    assert (result.tests, result.attempts) == (tests, attempts)
    assert (s["total"], s["passed"], s["failed"], s["skipped"], s["flaky"]) == (
        tests,
        passed,
        failed,
        skipped,
        flaky,
    )


def test_ctrf_durations_are_normalised_to_seconds_and_retries_kept(tmp_path: Path) -> None:
    """Milliseconds become seconds; the flaky test's failed attempts come before its pass."""
    path = next(p for p in shared_fixtures("ctrf") if p.name.startswith("03-"))
    report = read_report(path)
    flaky = [
        (a.status, a.duration, a.message)
        for a in report.attempts
        if a.identity.name == "flaky test"
    ]
    assert flaky == [
        (ResultStatus.FAILED, 0.12, "Connection timeout"),
        (ResultStatus.FAILED, 0.13, "Connection timeout"),
        (ResultStatus.PASSED, 0.14, ""),
    ]


def test_ctrf_identity_environment_and_metadata() -> None:
    """Suites form the class, commit and branch come from the environment, extras are kept."""
    path = next(p for p in shared_fixtures("ctrf") if p.name.startswith("02-"))
    report = read_report(path)
    assert (report.commit, report.branch, report.run_id) == (
        "a1b2c3d4e5f6",
        "feature/new-dashboard",
        "run-2025-11-24-pr-123",
    )
    failed = next(
        a
        for a in report.attempts
        if a.status is ResultStatus.FAILED and not a.metadata.get("rerun")
    )
    assert (
        failed.identity.key
        == "Admin > Dashboard::admin dashboard loads[userRole=admin,environment=staging]"
    )
    assert failed.metadata["filePath"] == "tests/admin/dashboard.test.js"
    assert "Timeout waiting" in failed.metadata["stderr"]
    assert failed.duration == 8.0


def test_ctrf_run_id_is_used_when_no_orchestration_id_is_given(tmp_path: Path) -> None:
    """import_file without orchestration_id takes the CTRF runId; without one it asks for it."""
    comprehensive = next(p for p in shared_fixtures("ctrf") if p.name.startswith("02-"))
    minimal = next(p for p in shared_fixtures("ctrf") if p.name.startswith("01-"))
    with TestResultAggregator(db_path=tmp_path / "r.db") as agg:
        assert agg.import_file(comprehensive).orchestration_id == "run-2025-11-24-pr-123"
        with pytest.raises(ValueError, match="orchestration_id"):
            agg.import_file(minimal)


def ctrf(tests: list[dict[str, Any]], summary: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "reportFormat": "CTRF",
        "specVersion": "1.0.0",
        "results": {"tool": {"name": "t"}, "summary": summary or {}, "tests": tests},
    }


def write_json(tmp_path: Path, doc: object, name: str = "r.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_ctrf_summary_disagreement_warns(tmp_path: Path) -> None:
    """A summary claiming other totals than the tests list gives a warning."""
    path = write_json(
        tmp_path,
        ctrf([{"name": "a", "status": "passed", "duration": 1}], {"tests": 3, "passed": 3}),
    )
    report = read_report(path)
    assert len(report.warnings) == 2
    assert "tests=3" in report.warnings[0]


@pytest.mark.parametrize(
    ("test", "match"),
    [
        ({"status": "passed"}, r"tests\[0\] has no name"),
        ({"name": "a", "status": "weird"}, r"status is 'weird'"),
        ({"name": "a", "status": "passed", "duration": -5}, "duration"),
        ({"name": "a", "status": "passed", "retryAttempts": {}}, "retryAttempts"),
    ],
)
def test_bad_ctrf_tests_reject_the_file(tmp_path: Path, test: dict[str, Any], match: str) -> None:
    """A test without a name, with an unknown status or a negative duration rejects the file."""
    with pytest.raises(ReportFileError, match=match):
        read_report(write_json(tmp_path, ctrf([test])))


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    """A JSON syntax error gives the file, line and column."""
    path = tmp_path / "bad.json"
    path.write_text('{\n  "reportFormat": "CTRF",\n  "results": {,}\n}', encoding="utf-8")
    with pytest.raises(ReportFileError, match=r"bad\.json:3:\d+: malformed JSON") as info:
        read_report(path)
    assert info.value.line == 3


def test_unknown_json_is_unsupported(tmp_path: Path) -> None:
    """JSON that is neither CTRF nor pytest-json-report is refused."""
    with pytest.raises(UnsupportedFormatError, match="neither CTRF"):
        read_report(write_json(tmp_path, {"hello": 1}))
    with pytest.raises(UnsupportedFormatError, match=r"results\.tests"):
        read_report(write_json(tmp_path, {"x": 1}), format="ctrf")


def test_pytest_json_report_import(tmp_path: Path) -> None:
    """pytest-json-report outcomes, durations, messages and identities map like pytest's JUnit."""
    report = read_report(DATA / "pytest-json-report.json")
    assert report.format == "pytest-json"
    by = {a.identity.key: a for a in report.attempts}
    assert set(by) == {
        "tests.test_api::test_health",
        "tests.test_api.TestUsers::test_create[admin]",
        "tests.test_api.TestUsers::test_delete",
        "tests.test_db::test_migrate",
        "tests.test_db::test_vacuum",
        "tests.test_db::test_known_bug",
    }
    assert by["tests.test_api::test_health"].duration == pytest.approx(0.1206)
    delete = by["tests.test_api.TestUsers::test_delete"]
    assert delete.status is ResultStatus.FAILED
    assert delete.message == "AssertionError: assert 404 == 204"
    assert by["tests.test_db::test_migrate"].status is ResultStatus.ERROR
    assert by["tests.test_db::test_vacuum"].status is ResultStatus.SKIPPED
    known = by["tests.test_db::test_known_bug"]
    assert (known.status, known.raw_status) == (ResultStatus.SKIPPED, "xfailed")
    with TestResultAggregator(db_path=tmp_path / "r.db") as agg:
        agg.import_file(DATA / "pytest-json-report.json", orchestration_id="r")
        s = agg.get_summary("r")
    assert (s["passed"], s["failed"], s["error"], s["skipped"]) == (2, 1, 1, 2)


def test_ctrf_export_round_trips(agg: TestResultAggregator, tmp_path: Path) -> None:
    """Exporting a run to CTRF and importing it again gives the same summary and attempts."""
    agg.store_result("t1", "run", "c", "failed", 1.5, message="flake")
    agg.store_result("t1", "run", "c", "passed", 1.0)
    agg.store_result("t2", "run", "c", "error", 0.25, message="boom", trace="Traceback")
    agg.store_result("t3", "run", "c", "timeout", 9.0)
    agg.store_result("t4", "run", "c", "cancelled", 0)
    doc = agg.export_ctrf("run")
    assert doc["reportFormat"] == "CTRF"
    assert doc["results"]["summary"]["tests"] == 4
    flaky = next(t for t in doc["results"]["tests"] if t["name"] == "t1")
    assert flaky["flaky"] is True
    assert [a["status"] for a in flaky["retryAttempts"]] == [
        "failed",
        "passed",
    ]
    path = write_json(tmp_path, doc, "export.json")
    agg.import_file(path, orchestration_id="again")
    before, after = agg.get_summary("run"), agg.get_summary("again")
    for key in ("total", "passed", "failed", "error", "timeout", "cancelled", "attempts", "flaky"):
        assert before[key] == after[key], key


statuses = st.sampled_from(["passed", "failed", "skipped", "pending", "other"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=10),
            statuses,
            st.integers(0, 10**7),
            st.lists(statuses, max_size=3),
        ),
        max_size=10,
        unique_by=lambda t: t[0],
    )
)
def test_generated_ctrf_counts_match_the_tests(
    tmp_path: Path, tests: list[tuple[str, str, int, list[str]]]
) -> None:
    """For any CTRF document: one test per entry, attempts = retries + 1, durations in seconds."""
    doc = ctrf(
        [
            {
                "name": n,
                "status": s,
                "duration": d,
                "retryAttempts": [
                    {"attempt": i + 1, "status": r, "duration": 1} for i, r in enumerate(retries)
                ],
            }
            for n, s, d, retries in tests
        ]
    )
    report = read_report(write_json(tmp_path, doc))
    assert report.tests == len(tests)
    finals = {a.identity.key: a for a in report.attempts}
    same = {"passed": "p", "failed": "f", "skipped": "s", "pending": "s", "other": "o"}
    for n, s, d, retries in tests:
        listed_final = bool(retries) and same[retries[-1]] == same[s]
        expected_attempts = len(retries) + (0 if listed_final else 1)
        assert sum(1 for a in report.attempts if a.identity.key == n) == expected_attempts
        if not listed_final:
            assert finals[n].duration == d / 1000
