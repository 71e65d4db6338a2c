"""Trends, run comparison, slowest tests, failure categories and flaky / broken verdicts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from maestro_test_result_aggregator import (
    CategoryRule,
    FlakinessOptions,
    InvalidResultError,
    ResultStatus,
    TestResult,
    TestResultAggregator,
    categorize,
)
from maestro_test_result_aggregator._analytics import classify, percentile

from .conftest import Clock


def test_trends_per_day_with_pass_rate_and_percentiles(
    agg: TestResultAggregator, clock: Clock
) -> None:
    """Each UTC day gets final-outcome counts, a pass rate and duration p50 / p95."""
    clock.advance(days=-2)
    for i in range(10):
        agg.store_result(f"t{i}", "r1", "api", "passed", float(i + 1))
    clock.advance(days=2)
    for i in range(10):
        agg.store_result(f"t{i}", "r2", "api", "failed" if i < 5 else "passed", 1.0)
    agg.store_result("t0", "r2", "api", "passed", 1.0)  # a retry: only the final attempt counts
    agg.store_result("other", "r2", "ui", "failed", 1.0)
    trends = agg.analyze_trends(category="api", days=30)
    assert [p.day for p in trends.points] == [date(2026, 3, 13), date(2026, 3, 15)]
    first, last = trends.points
    assert (first.total, first.passed, first.pass_rate) == (10, 10, 1.0)
    assert first.duration_p50 == pytest.approx(5.5)
    assert first.duration_p95 == pytest.approx(9.55)
    assert (last.total, last.passed, last.failed) == (10, 6, 4)
    assert last.pass_rate == pytest.approx(0.6)
    assert trends.direction == "degrading"
    assert "fell 40.0 points" in trends.explanation
    assert trends.total == 20
    assert agg.analyze_trends(days=30).total == 21


def test_trends_window_and_empty_store(agg: TestResultAggregator, clock: Clock) -> None:
    """Results older than the window are left out; no data says so."""
    assert agg.analyze_trends("x", 7).direction == "no data"
    agg.store_result("t", "r", "c", "passed", 1)
    clock.advance(days=10)
    assert agg.analyze_trends("c", 7).points == ()
    assert len(agg.analyze_trends("c", 11).points) == 1
    with pytest.raises(InvalidResultError):
        agg.analyze_trends("c", 0)


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50), st.floats(0, 100))
def test_percentile_lies_between_min_and_max(values: list[float], q: float) -> None:
    """Any percentile of a list lies between its smallest and largest value."""
    ordered = sorted(values)
    assert ordered[0] - 1e-6 <= percentile(ordered, q) <= ordered[-1] + 1e-6


def test_compare_runs(agg: TestResultAggregator) -> None:
    """New failures, fixed, still failing, added and removed between two runs."""
    for test_id, status in [("a", "passed"), ("b", "failed"), ("c", "failed"), ("gone", "passed")]:
        agg.store_result(test_id, "base", "c", status, 1)
    for test_id, status in [("a", "failed"), ("b", "passed"), ("c", "error"), ("new", "passed")]:
        agg.store_result(test_id, "head", "c", status, 1)
    diff = agg.compare_runs("base", "head")
    assert diff.new_failures == ("a",)
    assert diff.fixed == ("b",)
    assert diff.still_failing == ("c",)
    assert diff.added == ("new",)
    assert diff.removed == ("gone",)


def test_slowest_tests_of_a_run_and_over_time(agg: TestResultAggregator, clock: Clock) -> None:
    """Slowest tests of one run, and by mean over the last days."""
    for i in range(5):
        agg.store_result(f"t{i}", "r1", "c", "passed", float(i))
    clock.advance(days=1)
    agg.store_result("t0", "r2", "c", "passed", 100.0)
    assert [s.test_id for s in agg.slowest_tests("r1", limit=2)] == ["t4", "t3"]
    over_time = agg.slowest_tests(days=7, limit=1)
    assert over_time[0].test_id == "t0"
    assert over_time[0].mean == 50.0
    assert over_time[0].runs == 2


def _result(
    message: str, status: ResultStatus = ResultStatus.FAILED, trace: str = ""
) -> TestResult:
    return TestResult("t", "o", "c", status, 1.0, message=message, trace=trace)


@pytest.mark.parametrize(
    ("result", "category"),
    [
        (_result("", ResultStatus.TIMEOUT), "Timeouts"),
        (
            _result("psycopg.OperationalError: connection refused", ResultStatus.ERROR),
            "Infrastructure and network",
        ),
        (_result("NoSuchElementException: #login"), "Test code and environment"),
        (
            _result("AttributeError: 'NoneType' object has no attribute 'x'", ResultStatus.ERROR),
            "Test code and environment",
        ),
        (_result("assert 404 == 204"), "Product defects"),
        (_result("", trace="Traceback...\nAssertionError"), "Product defects"),
        (_result("segfault in libfoo"), "To investigate"),
    ],
)
def test_default_rules_follow_reportportal_defect_types(result: TestResult, category: str) -> None:
    """The default ordered rules put each failure in the expected category."""
    (group,) = categorize([result])
    assert group.name == category


def test_categories_of_a_run_with_custom_rules(db_path: Any, clock: Clock) -> None:
    """Custom rules apply first-match-wins, passing results are ignored, bigger groups first."""
    rules = [
        CategoryRule("Flaky backend", "system_issue", message=r"backend \d+"),
        CategoryRule("Other", "to_investigate"),
    ]
    with TestResultAggregator(db_path=db_path, clock=clock, category_rules=rules) as agg:
        agg.store_result("a", "r", "c", "failed", 1, message="backend 503")
        agg.store_result("b", "r", "c", "failed", 1, message="backend 500")
        agg.store_result("c", "r", "c", "failed", 1, message="nope")
        agg.store_result("d", "r", "c", "passed", 1)
        groups = agg.failure_categories("r")
    assert [(g.name, g.count) for g in groups] == [("Flaky backend", 2), ("Other", 1)]


def test_retry_flake_is_flaky_with_evidence(agg: TestResultAggregator) -> None:
    """A test that passed after a failed attempt in one run is flaky, naming that run."""
    agg.store_result("t", "r1", "c", "failed", 1)
    agg.store_result("t", "r1", "c", "passed", 1)
    (verdict,) = agg.flaky_tests()
    assert verdict.verdict == "flaky"
    assert verdict.evidence == ("r1",)
    assert "passed on retry" in verdict.reasons[0]
    assert verdict.score == 1.0


def test_same_commit_both_ways_is_flaky(agg: TestResultAggregator, clock: Clock) -> None:
    """Passing and failing on one commit is flaky, with both runs as evidence."""
    agg.store_result("t", "r1", "c", "passed", 1, commit="abc123")
    clock.advance(minutes=5)
    agg.store_result("t", "r2", "c", "failed", 1, commit="abc123")
    (verdict,) = agg.flaky_tests("c")
    assert "commit abc123" in verdict.reasons[0]
    assert set(verdict.evidence) == {"r1", "r2"}


def _runs(
    agg: TestResultAggregator, clock: Clock, outcomes: str, test: str = "t", extra: int = 0
) -> None:
    for i, outcome in enumerate(outcomes):
        clock.advance(minutes=1)
        agg.store_result(
            test, f"run{i:02d}", "c", "passed" if outcome == "P" else "failed", 1, commit=f"c{i}"
        )
        for j in range(extra):
            agg.store_result(f"other{j}", f"run{i:02d}", "c", "passed", 1)


def test_flip_rate_needs_threshold_and_sample_size(agg: TestResultAggregator, clock: Clock) -> None:
    """Alternating outcomes over enough runs are flaky; too few runs are not judged."""
    _runs(agg, clock, "PFPF")
    assert agg.flaky_tests() == []
    _runs(agg, clock, "PFPFPP", test="u")
    (verdict,) = agg.flaky_tests()
    assert verdict.test_id == "u"
    assert "flip rate 0.80" in verdict.reasons[0]
    assert verdict.score == 0.8


def test_broken_outranks_flaky(agg: TestResultAggregator, clock: Clock) -> None:
    """A test failing in each of the last k runs is broken even if it flipped before."""
    _runs(agg, clock, "PFPFFF")
    (verdict,) = agg.flaky_tests()
    assert verdict.verdict == "broken"
    assert verdict.evidence == ("run03", "run04", "run05")
    assert "last 3 runs" in verdict.reasons[0]


def test_infrastructure_runs_are_left_out(agg: TestResultAggregator, clock: Clock) -> None:
    """A run where most tests failed does not make its tests flaky."""
    _runs(agg, clock, "PPPP", extra=12)
    clock.advance(minutes=1)
    for j in range(12):
        agg.store_result(f"other{j}", "infra", "c", "error", 1, commit="c1")
    agg.store_result("t", "infra", "c", "error", 1, commit="c1")
    assert agg.flaky_tests() == []
    options = FlakinessOptions(infra_failure_ratio=1.1)
    assert {v.test_id for v in agg.flaky_tests(options=options)} >= {"t"}


outcome_lists = st.lists(
    st.lists(st.sampled_from(["passed", "failed", "skipped", "FP"]), min_size=1, max_size=12),
    min_size=1,
    max_size=5,
)


@settings(deadline=None)  # pure, but CI machines can stall for longer than 200 ms
@given(outcome_lists, st.integers(1, 5), st.integers(2, 6))
def test_classification_invariants(
    timelines: list[list[str]], broken_runs: int, min_runs: int
) -> None:
    """Scores lie in [0, 1]; broken means the last k failed; all-pass tests are never listed."""
    runs = [(f"r{i:02d}", "") for i in range(12)]
    rows = []
    for t, line in enumerate(timelines):
        for i, outcome in enumerate(line):
            if outcome == "FP":
                rows += [
                    (f"r{i:02d}", f"t{t}", 1, 0, "failed"),
                    (f"r{i:02d}", f"t{t}", 2, 1, "passed"),
                ]
            else:
                rows.append((f"r{i:02d}", f"t{t}", 1, 1, outcome))
    rows.sort()
    options = FlakinessOptions(broken_runs=broken_runs, min_runs=min_runs, infra_min_tests=100)
    verdicts, excluded = classify(runs, rows, options)
    assert excluded == []
    assert len({v.test_id for v in verdicts}) == len(verdicts)
    for v in verdicts:
        line = [o for o in timelines[int(v.test_id[1:])] if o != "skipped"]
        assert 0.0 <= v.score <= 1.0
        assert v.reasons
        assert v.evidence
        if v.verdict == "broken":
            assert all(o == "failed" for o in line[-broken_runs:])
        else:
            assert "failed" in line or "FP" in line
    for t, line in enumerate(timelines):
        if all(o in ("passed", "skipped") for o in line):
            assert f"t{t}" not in {v.test_id for v in verdicts}


def test_long_flip_history_then_three_failures_is_flaky_not_broken(
    agg: TestResultAggregator, clock: Clock
) -> None:
    """After a long history of flips, failing the last 3 runs is more of the same: flaky."""
    _runs(agg, clock, "PFPFPFPFP" + "FFF")
    (verdict,) = agg.flaky_tests()
    assert verdict.verdict == "flaky"
    assert any("last 3 runs" in r and "flipped" in r for r in verdict.reasons), verdict.reasons


def test_a_streak_longer_than_the_flip_history_explains_is_broken(
    agg: TestResultAggregator, clock: Clock
) -> None:
    """A failing streak well beyond the test's usual failures is broken even after flips."""
    _runs(agg, clock, "PFPFPFPFP" + "FFFFF")
    (verdict,) = agg.flaky_tests()
    assert verdict.verdict == "broken"


def test_trends_name_a_single_outage_day_that_drives_the_change(
    agg: TestResultAggregator, clock: Clock
) -> None:
    """One day where most tests failed is marked; the verdict says it drives the change."""
    clock.advance(days=-5)
    for day in range(6):
        for i in range(20):
            failing = day == 4 and i < 18
            agg.store_result(f"t{i}", f"r{day}", "api", "failed" if failing else "passed", 1.0)
        clock.advance(days=1)
    trends = agg.analyze_trends("api", 30)
    outage = [p.day for p in trends.points if p.outage]
    assert outage == [date(2026, 3, 14)]
    assert trends.outage_days == (date(2026, 3, 14),)
    assert trends.direction == "degrading"
    assert "outage" in trends.explanation
    assert "2026-03-14" in trends.explanation
    assert "without it" in trends.explanation
    assert trends.to_dict()["outage_days"] == ["2026-03-14"]
