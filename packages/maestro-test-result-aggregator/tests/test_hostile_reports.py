"""Hostile and unusual reports: absurd numbers, deep nesting, CTRF flaky/retries, repeats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from maestro_test_result_aggregator import ReportFileError, ResultStatus, TestResultAggregator
from maestro_test_result_aggregator._importers import read_report


def _ctrf(tests: list[dict[str, Any]], **results: Any) -> dict[str, Any]:
    return {
        "reportFormat": "CTRF",
        "specVersion": "0.0.0",
        "results": {"tool": {"name": "playwright"}, "summary": {}, "tests": tests, **results},
    }


def _write(tmp_path: Path, doc: object, name: str = "r.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            '{"results": {"tests": [{"name": "t", "status": "passed", "duration": 1e400}]}}',
            "duration",
        ),
        (
            '{"results": {"tests": [{"name": "t", "status": "passed", "duration": 1e308}]}}',
            "duration",
        ),
        (
            '{"results": {"tests": [{"name": "t", "status": "passed", "retries": -3}]}}',
            "retries",
        ),
        (
            '{"results": {"tests": [{"name": "t", "status": "passed", "retries": 1.5}]}}',
            "retries",
        ),
        ('{"results": {"tests": [{"name": "t", "status": "passed", "start": 1e400}]}}', "start"),
        ('{"results": {"tests": [{"name": "t", "status": "passed", "flaky": "yes"}]}}', "flaky"),
    ],
)
def test_bad_ctrf_numbers_name_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    """Absurd CTRF numbers become ReportFileError naming the file and the field."""
    path = _write(tmp_path, text)
    with pytest.raises(ReportFileError, match=rf"r\.json.*results\.tests\[0\]\.{field}"):
        read_report(path)


def test_deeply_nested_json_is_a_report_file_error(tmp_path: Path) -> None:
    """100k nested arrays do not escape as RecursionError."""
    path = _write(tmp_path, '{"results": {"tests": ' + "[" * 100_000 + "]" * 100_000 + "}}")
    with pytest.raises(ReportFileError, match=r"r\.json.*nest"):
        read_report(path)


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ('<testsuite><testcase name="a" classname="K" time="1e308"/></testsuite>', "time"),
        ('<testsuite><testcase name="a" classname="K" time="1e400"/></testsuite>', "time"),
        (
            '<testsuite><testcase name="a" classname="K" time="1e308"><failure/></testcase>'
            "</testsuite>",
            "time",
        ),
        ('<testsuite tests="1e400"><testcase name="a" classname="K"/></testsuite>', "tests"),
        ('<testsuites failures="1e400"><testsuite/></testsuites>', "failures"),
    ],
)
def test_bad_junit_numbers_name_file_and_field(tmp_path: Path, xml: str, field: str) -> None:
    """JUnit times beyond a year and absurd counts become ReportFileError naming the field."""
    path = _write(tmp_path, xml, "r.xml")
    with pytest.raises(ReportFileError, match=rf"r\.xml.*{field}"):
        read_report(path)


def test_deep_suite_nesting_is_capped_with_a_clear_error(tmp_path: Path) -> None:
    """Suites nested deeper than the cap are refused, naming the depth."""
    from maestro_test_result_aggregator._importers.junit import MAX_SUITE_DEPTH

    depth = MAX_SUITE_DEPTH + 1
    xml = '<testsuite name="s">' * depth + "</testsuite>" * depth
    path = _write(tmp_path, xml, "deep.xml")
    with pytest.raises(ReportFileError, match=rf"deep\.xml.*{MAX_SUITE_DEPTH}"):
        read_report(path)


def test_nesting_up_to_the_cap_keeps_paths_short_and_linear(tmp_path: Path) -> None:
    """Nested suite paths are built once per level (no quadratic string growth)."""
    from maestro_test_result_aggregator._importers.junit import MAX_SUITE_DEPTH

    xml = (
        '<testsuite name="s">' * MAX_SUITE_DEPTH
        + '<testcase name="t" classname="K"/>'
        + "</testsuite>" * MAX_SUITE_DEPTH
    )
    report = read_report(_write(tmp_path, xml, "ok.xml"))
    (attempt,) = report.attempts
    assert attempt.identity.suite.count("s") == MAX_SUITE_DEPTH


def test_ctrf_flaky_and_retries_without_attempt_details(tmp_path: Path) -> None:
    """retries=N without retryAttempts keeps N failed attempts before the final pass; flaky kept."""
    doc = _ctrf(
        [
            {"name": "t", "status": "passed", "duration": 10, "flaky": True, "retries": 2},
            {"name": "u", "status": "passed", "duration": 5},
        ]
    )
    report = read_report(_write(tmp_path, doc))
    t = [a for a in report.attempts if a.identity.name == "t"]
    assert [a.status for a in t] == [ResultStatus.FAILED, ResultStatus.FAILED, ResultStatus.PASSED]
    assert t[-1].metadata["flaky"] is True
    assert t[-1].metadata["retries"] == 2
    assert all(a.metadata.get("rerun") for a in t[:-1])
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        agg.import_file(report.path, orchestration_id="run")
        summary = agg.get_summary("run")
    assert (summary["total"], summary["flaky"], summary["retried"]) == (2, 1, 1)


def test_ctrf_flaky_flag_alone_is_kept_and_counted(tmp_path: Path) -> None:
    """flaky: true with no retries still makes the test flaky in the summary."""
    doc = _ctrf([{"name": "t", "status": "passed", "duration": 10, "flaky": True}])
    path = _write(tmp_path, doc)
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        agg.import_file(path, orchestration_id="run")
        summary = agg.get_summary("run")
    assert summary["flaky"] == 1


def test_ctrf_retries_agree_with_retry_attempts(tmp_path: Path) -> None:
    """retries beyond the listed retryAttempts is a warning, not silently dropped."""
    doc = _ctrf(
        [
            {
                "name": "t",
                "status": "passed",
                "retries": 3,
                "retryAttempts": [{"status": "failed", "duration": 1}],
            }
        ]
    )
    report = read_report(_write(tmp_path, doc))
    assert any("retries=3" in w for w in report.warnings)
    assert len(report.attempts) == 4


def test_playwright_repeat_each_runs_are_kept_apart_with_a_warning(tmp_path: Path) -> None:
    """The same CTRF test listed three times (repeat-each) becomes three tests, and says so."""
    test = {"name": "login works", "status": "passed", "duration": 3, "suite": ["auth.spec.ts"]}
    doc = _ctrf([test, {**test, "status": "failed"}, test])
    report = read_report(_write(tmp_path, doc))
    assert [a.identity.parameters for a in report.attempts] == ["", "#2", "#3"]
    assert [a.status for a in report.attempts] == [
        ResultStatus.PASSED,
        ResultStatus.FAILED,
        ResultStatus.PASSED,
    ]
    assert any("repeat-each" in w for w in report.warnings)


def test_junit_repeat_after_a_failure_is_not_collapsed_silently(tmp_path: Path) -> None:
    """A JUnit testcase repeated after a failure is a retry, with a warning naming repeat-each."""
    xml = (
        '<testsuite name="pw">'
        '<testcase name="a" classname="x.spec.ts"><failure message="boom"/></testcase>'
        '<testcase name="a" classname="x.spec.ts"/>'
        "</testsuite>"
    )
    report = read_report(_write(tmp_path, xml, "pw.xml"))
    assert len(report.attempts) == 2
    assert any("repeat-each" in w for w in report.warnings)


def test_a_test_really_named_unnamed_gets_no_warning(tmp_path: Path) -> None:
    """Only an empty name is reported; a test literally called '(unnamed)' is just a name."""
    xml = '<testsuite><testcase name="(unnamed)" classname="K"><failure/></testcase></testsuite>'
    report = read_report(_write(tmp_path, xml, "n.xml"))
    assert not report.warnings
    empty = read_report(
        _write(tmp_path, '<testsuite><testcase classname="K"/></testsuite>', "e.xml")
    )
    assert any("empty name" in w for w in empty.warnings)
