"""CTRF and pytest-json-report files stream like JUnit XML (issue 12: any report in bounded
memory): the test array is read one element at a time, batches leave for the store, and
every chunk boundary reads the same as the whole file."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from maestro_test_result_aggregator import ReportFileError, TestResultAggregator, _importers
from maestro_test_result_aggregator._importers import jsonstream, read_report
from maestro_test_result_aggregator._importers.ctrf import parse_ctrf
from maestro_test_result_aggregator._importers.parsed import ParsedAttempt
from maestro_test_result_aggregator._importers.pytest_json import parse_pytest_json


def _ctrf_test(i: int) -> dict[str, Any]:
    test: dict[str, Any] = {"name": f"t{i}", "status": "passed", "duration": 12.5 + i}
    if i % 7 == 0:
        test.update(status="failed", message=f'boom {i} ☃ "quoted"\n', trace="line\\1")
    if i % 11 == 0:
        test.update(status="passed", flaky=True, retries=1, suite=["s", f"ü{i}"])
    return test


def _ctrf(path: Path, count: int, *, env_last: bool = True, indent: int | None = None) -> Path:
    results: dict[str, Any] = {"tool": {"name": "playwright"}}
    env = {"commit": "abc123", "branchName": "main"}
    if not env_last:
        results["environment"] = env
    results["summary"] = {"tests": count}
    results["tests"] = [_ctrf_test(i) for i in range(count)]
    if env_last:
        results["environment"] = env  # after the tests, as many producers write it
    doc = {"reportFormat": "CTRF", "specVersion": "1.0.0", "results": results, "runId": "r-9"}
    path.write_text(json.dumps(doc, indent=indent, ensure_ascii=False), encoding="utf-8")
    return path


def _ctrf_streamed(path: Path, count: int) -> Path:
    """A big CTRF file written test by test (never held whole by the test either)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"reportFormat": "CTRF", "results": {"tool": {"name": "x"}, "tests": [\n')
        for i in range(count):
            fh.write(("," if i else "") + json.dumps(_ctrf_test(i)) + "\n")
        fh.write('], "environment": {"commit": "c"}}, "runId": "big"}')
    return path


def _pytest_json(path: Path, count: int) -> Path:
    tests = [
        {
            "nodeid": f"tests/test_m.py::test_{i % (count - 3)}[a::b]",
            "outcome": "failed" if i % 5 == 0 else "passed",
            "call": {"duration": 0.25, "outcome": "failed" if i % 5 == 0 else "passed"},
        }
        for i in range(count)
    ]
    path.write_text(json.dumps({"created": 1.0, "summary": {}, "tests": tests}, indent=1))
    return path


def _rows(report: Any) -> list[tuple[Any, ...]]:
    return [
        (a.identity, a.status, a.raw_status, a.duration, a.message, a.trace, a.metadata)
        for a in report.attempts
    ]


def test_ctrf_hands_batches_to_the_sink_and_keeps_none(tmp_path: Path) -> None:
    path = _ctrf(tmp_path / "r.json", 2_500)
    batches: list[int] = []

    def sink(batch: list[ParsedAttempt]) -> None:
        batches.append(len(batch))

    report = read_report(path, sink=sink, batch_size=1_000)
    attempts = 2_500 + len(range(0, 2_500, 11))  # a flaky test's failed attempt comes first
    assert sum(batches) == attempts
    assert batches[:2] == [1_000, 1_000]
    assert report.attempts == []
    assert (report.attempt_count, report.tests) == (attempts, 2_500)
    assert (report.run_id, report.commit, report.branch) == ("r-9", "abc123", "main")


def test_pytest_json_hands_batches_to_the_sink(tmp_path: Path) -> None:
    path = _pytest_json(tmp_path / "p.json", 2_503)
    batches: list[int] = []
    report = read_report(path, sink=lambda b: batches.append(len(b)), batch_size=1_000)
    assert batches == [1_000, 1_000, 503]
    assert report.attempts == []
    assert (report.attempt_count, report.tests) == (2_503, 2_500)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 13, 64, 1000])
def test_every_chunk_boundary_reads_as_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Numbers, escapes and multi-byte characters cut at any byte read the same."""
    ctrf = _ctrf(tmp_path / "r.json", 60, indent=2)
    pyjson = _pytest_json(tmp_path / "p.json", 40)
    whole_ctrf = parse_ctrf(ctrf, json.loads(ctrf.read_text("utf-8")))
    whole_py = parse_pytest_json(pyjson, json.loads(pyjson.read_text()))
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", chunk)
    streamed_ctrf = read_report(ctrf)
    streamed_py = read_report(pyjson)
    assert _rows(streamed_ctrf) == _rows(whole_ctrf)
    assert streamed_ctrf.warnings == whole_ctrf.warnings
    assert (streamed_ctrf.run_id, streamed_ctrf.commit) == ("r-9", "abc123")
    assert _rows(streamed_py) == _rows(whole_py)
    assert streamed_ctrf.tests == whole_ctrf.tests == 60
    assert streamed_py.tests == whole_py.tests


def test_memory_does_not_grow_with_the_number_of_tests(tmp_path: Path) -> None:
    """Peak memory for 40k CTRF tests stays near the peak for 10k (was: the whole document)."""

    def peak_for(count: int) -> int:
        path = _ctrf_streamed(tmp_path / f"r{count}.json", count)
        tracemalloc.start()
        read_report(path, sink=lambda batch: None, batch_size=1_000)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak

    small, large = peak_for(10_000), peak_for(40_000)
    # Only the repeat table grows (about 20 bytes per distinct test).
    assert large < small + 40_000 * 120


def test_run_facts_after_the_tests_reach_every_stored_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CTRF environment and runId written after the tests still apply to the first batch."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 100)
    path = _ctrf(tmp_path / "r.json", 450)
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        result = agg.import_file(path)
        assert result.orchestration_id == "r-9"
        assert result.batches > 4
        rows = agg.get_results("r-9")
    assert len(rows) == result.tests == 450
    assert {(r.commit, r.branch) for r in rows} == {("abc123", "main")}


def test_a_malformed_tail_stores_nothing_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The skeleton pass reads the whole file first: a syntax error near the end stores
    nothing, and its line and column are json's own."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 50)
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 512)
    path = _ctrf(tmp_path / "r.json", 400, indent=1)
    text = path.read_text("utf-8")
    broken = text.replace('"name": "t390"', '"name": "t390",,', 1)
    path.write_text(broken, "utf-8")
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(broken)
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        with pytest.raises(ReportFileError) as caught:
            agg.import_file(path)
        assert agg.get_summary("r-9")["total"] == 0
    assert (caught.value.line, caught.value.column) == (
        expected.value.lineno,
        expected.value.colno,
    )
    assert "malformed JSON" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"results": {"tests": []}} {}', "Extra data"),
        ('{"results": {"tests": [1}}', "Expecting ',' delimiter"),
        ('{"results": {"tests": [', "Expecting value"),
        ('{"results": {"tests": [{"name": "a", "status": "passed"}', "the file ends early"),
        ('{"results" {"tests": []}}', "Expecting ':' delimiter"),
        ('{"results": {1: []}}', "property name"),
        ('{"results": {"tests": [], "tests": []}}', "appears twice"),
        ('{"results": {"tests": [{"name": "a", "status": "passed"},]}}', "Expecting value"),
    ],
)
def test_malformed_documents_are_report_file_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ReportFileError, match=message) as caught:
        read_report(path, "ctrf")
    assert caught.value.path == str(path)
    assert caught.value.line == 1


def test_not_utf8_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"results": {"tests": [{"name": "caf\xe9", "status": "passed"}]}}')
    with pytest.raises(ReportFileError, match="not UTF-8"):
        read_report(path)


def test_a_test_bigger_than_a_chunk_is_read_whole_and_its_output_capped(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    out = "x" * (3 * jsonstream.CHUNK_BYTES)
    doc = {"results": {"tests": [{"name": "a", "status": "passed", "stdout": [out]}]}}
    path.write_text(json.dumps(doc))
    report = read_report(path)
    (attempt,) = report.attempts
    assert len(attempt.metadata["stdout"]) < 5_000


def test_deep_nesting_inside_a_test_is_refused_without_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"results": {"tests": [{"name": "a", "extra": ' + "[" * 100_000 + "]}}")
    with pytest.raises(ReportFileError, match="nest too deeply"):
        read_report(path)
