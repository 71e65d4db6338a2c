"""Streaming imports: parse, store and forget in batches; capped output per case."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from maestro_test_result_aggregator import TestResultAggregator, _importers
from maestro_test_result_aggregator._importers import read_report
from maestro_test_result_aggregator._importers.parsed import ParsedAttempt
from maestro_test_result_aggregator._schema import RESULT_COLUMNS as _RESULT_COLUMNS


def _junit(path: Path, cases: int, *, fail_every: int = 0, body: str = "") -> Path:
    with path.open("w") as fh:
        fh.write("<testsuites><testsuite name='s'>\n")
        for i in range(cases):
            inner = ""
            if fail_every and i % fail_every == 0:
                inner = '<failure message="boom">trace</failure>'
            fh.write(
                f'<testcase classname="pkg.C" name="t{i}" time="0.01">{inner}{body}</testcase>\n'
            )
        fh.write("</testsuite></testsuites>")
    return path


def test_parser_hands_batches_to_the_sink_and_keeps_none(tmp_path: Path) -> None:
    """With a sink, attempts leave the parser in batches of at most batch_size."""
    path = _junit(tmp_path / "r.xml", 2_500, fail_every=7)
    batches: list[int] = []

    def sink(batch: list[ParsedAttempt]) -> None:
        batches.append(len(batch))

    report = read_report(path, sink=sink, batch_size=1_000)
    assert batches == [1_000, 1_000, 500]
    assert report.attempts == []
    assert (report.attempt_count, report.tests) == (2_500, 2_500)


def test_import_stores_in_batches_inside_one_transaction(tmp_path: Path, monkeypatch) -> None:
    """import_file stores each batch as it is parsed; the totals match an all-at-once import."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 300)
    path = _junit(tmp_path / "r.xml", 1_000, fail_every=10)
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        result = agg.import_file(path, orchestration_id="run")
        summary = agg.get_summary("run")
        flushes = result.batches
    assert flushes == 4
    assert (result.tests, result.attempts) == (1_000, 1_000)
    assert (summary["total"], summary["failed"]) == (1_000, 100)


def test_a_bad_case_in_a_late_batch_stores_nothing(tmp_path: Path, monkeypatch) -> None:
    """A file that fails after earlier batches were stored leaves the store unchanged."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 100)
    path = tmp_path / "r.xml"
    _junit(path, 500)
    text = path.read_text().replace('name="t450" time="0.01"', 'name="t450" time="-1"')
    path.write_text(text)
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        with pytest.raises(Exception, match="t450"):
            agg.import_file(path, orchestration_id="run")
        assert agg.get_summary("run")["total"] == 0


def test_a_retry_across_a_batch_boundary_is_one_test(tmp_path: Path, monkeypatch) -> None:
    """A failed case ending one batch and its rerun starting the next stay one test."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 2)
    xml = (
        "<testsuite name='s'>"
        '<testcase classname="C" name="a"/>'
        '<testcase classname="C" name="b"><failure message="x"/></testcase>'
        '<testcase classname="C" name="b"/>'
        "</testsuite>"
    )
    path = tmp_path / "r.xml"
    path.write_text(xml)
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        result = agg.import_file(path, orchestration_id="run")
        summary = agg.get_summary("run")
    assert (result.tests, result.attempts) == (2, 3)
    assert (summary["total"], summary["passed"], summary["flaky"]) == (2, 2, 1)


def test_huge_output_is_capped_while_parsing_with_marker_and_size(tmp_path: Path) -> None:
    """8 MB of system-out is never held whole: the stored text keeps head, tail and the size."""
    out = "a" * 4_000_000 + "MIDDLE" + "z" * 4_000_000
    path = _junit(tmp_path / "r.xml", 1, body=f"<system-out>{out}</system-out>")
    tracemalloc.start()
    report = read_report(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    (attempt,) = report.attempts
    stdout = attempt.metadata["stdout"]
    assert len(stdout) < 10_000
    assert stdout.startswith("aaa")
    assert stdout.endswith("zzz")
    assert "MIDDLE" not in stdout
    assert "8000006 characters" in stdout
    assert attempt.metadata["stdout_chars"] == 8_000_006
    assert peak < 3_000_000


def test_huge_failure_text_is_capped_too(tmp_path: Path) -> None:
    """A failure body of several MB is capped while parsing, and says it was."""
    path = tmp_path / "r.xml"
    path.write_text(
        '<testsuite><testcase classname="C" name="t"><failure message="m">'
        + "x" * 3_000_000
        + "</failure></testcase></testsuite>"
    )
    (attempt,) = read_report(path).attempts
    assert len(attempt.trace) < 40_000
    assert "3000000 characters" in attempt.trace


def test_memory_does_not_grow_with_the_number_of_cases(tmp_path: Path) -> None:
    """Parsing with a sink: peak memory for 40k cases stays near the peak for 10k."""

    def peak_for(cases: int) -> int:
        path = _junit(tmp_path / f"r{cases}.xml", cases, fail_every=50)
        tracemalloc.start()
        read_report(path, sink=lambda batch: None, batch_size=1_000)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak

    small, large = peak_for(10_000), peak_for(40_000)
    # Only repeat detection grows (a few dozen bytes per distinct test).
    assert large < small + 40_000 * 120


def test_repeat_table_keeps_every_key_through_growth() -> None:
    """The compact repeat table finds every stored key after growing, and nothing else."""
    from maestro_test_result_aggregator._importers.junit import _Seen

    seen = _Seen(size=8)
    keys = [hash(("pkg.C", f"t{i}", "")) for i in range(20_000)]
    for n, key in enumerate(keys):
        seen.put(key, 8 + n % 6)
    assert all(seen.get(key) == 8 + n % 6 for n, key in enumerate(keys))
    assert seen.get(hash(("pkg.C", "absent", ""))) == 0
    seen.put(keys[0], 16 + 3)
    assert seen.get(keys[0]) == 19
    assert seen.count == 20_000


def test_repeat_table_add_keeps_the_first_value_and_says_so() -> None:
    """add stores a new key (answering 0) and leaves a known key's value, answering it."""
    from maestro_test_result_aggregator._importers.junit import _Seen

    seen = _Seen(size=8)
    keys = [hash(("pkg.C", f"t{i}", "")) for i in range(20_000)] + [0, -1]
    assert all(seen.add(key, 8 + n % 6) == 0 for n, key in enumerate(keys))
    assert all(seen.add(key, 30) == 8 + n % 6 for n, key in enumerate(keys))
    assert all(seen.get(key) == 8 + n % 6 for n, key in enumerate(keys))
    assert seen.count == len(keys)


def test_the_import_fast_path_stores_what_validate_would(tmp_path: Path) -> None:
    """import_rows (the per-batch path of import_file) gives validate's values, field by field,
    and hands anything unusual (NUL, a non-string, a bad number) back to validate."""
    from datetime import UTC, datetime

    from maestro_test_result_aggregator._model import ResultStatus, TestIdentity, format_ts
    from maestro_test_result_aggregator._store import _IMPORT_COLUMNS, import_rows, validate

    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    stamp = format_ts(now)
    batch = [
        ParsedAttempt(TestIdentity("t", "pkg.C", "a::b", "S"), ResultStatus.PASSED, "ok", 0.5),
        ParsedAttempt(
            TestIdentity("u", "", "", ""),
            ResultStatus.TIMEOUT,
            "failure",
            1.0,
            "m" * 40_000,
            "trace",
            {"stdout": "x", "line": 3},
        ),
    ]
    rows = import_rows(batch, run="r", category="c", stamp=stamp, commit="abc", branch="")
    assert rows is not None
    for attempt, row in zip(batch, rows, strict=True):
        pending = validate(
            attempt.identity.key,
            "r",
            "c",
            attempt.status,
            attempt.duration,
            attempt.metadata,
            raw_status=attempt.raw_status,
            message=attempt.message,
            trace=attempt.trace,
            suite=attempt.identity.suite,
            class_name=attempt.identity.class_name,
            name=attempt.identity.name,
            parameters=attempt.identity.parameters,
            commit="abc",
            branch="",
            now=now,
        )
        expected = dict(zip(_RESULT_COLUMNS, pending.row(1, True), strict=True))
        got = dict(zip(_IMPORT_COLUMNS, (*row, "r", 1, 1), strict=True))
        assert got == expected
    for bad in (
        ParsedAttempt(TestIdentity("t\x00", "C"), ResultStatus.PASSED, "passed", 0.0),
        ParsedAttempt(TestIdentity("t", "C"), ResultStatus.PASSED, "passed", float("nan")),
        ParsedAttempt(TestIdentity("t", "C"), ResultStatus.PASSED, "passed", 1),
        ParsedAttempt(TestIdentity("t", "C"), ResultStatus.PASSED, 3, 0.0),  # type: ignore[arg-type]
        ParsedAttempt(TestIdentity(" ", ""), ResultStatus.PASSED, "passed", 0.0),
        ParsedAttempt(TestIdentity("t", "C"), ResultStatus.PASSED, "", 0.0, "", "", {"x": 1e400}),
    ):
        assert (
            import_rows([batch[0], bad], run="r", category="c", stamp=stamp, commit="", branch="")
            is None
        )
    assert import_rows(batch, run=" ", category="c", stamp=stamp, commit="", branch="") is None
