"""Typed usage examples: mypy --strict checks them; they are never executed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol, assert_type

from maestro_test_result_aggregator import (
    DEFAULT_RULES,
    CategoryRule,
    ConfigurationError,
    FlakinessOptions,
    FlakyVerdict,
    ImportResult,
    MaestroResultsError,
    MissingExtraError,
    Report,
    ResultStatus,
    RunComparison,
    RunSummary,
    TestResult,
    TestResultAggregator,
    TrendAnalysis,
)


def guide_example() -> None:
    aggregator = TestResultAggregator(db_path="test_results.db")
    stored: TestResult = aggregator.store_result(
        test_id="test_login",
        orchestration_id="orch_001",
        category="auth_tests",
        status=ResultStatus.PASSED,
        duration=1.23,
        metadata={"browser": "chrome", "env": "staging"},
    )
    attempt: int = stored.attempt
    results: list[TestResult] = aggregator.get_results_by_category("auth_tests")
    summary: RunSummary = aggregator.get_summary(orchestration_id="orch_001")
    total: int = summary["total"] + summary["passed"] + summary["failed"] + attempt + len(results)
    rate: float | None = summary["pass_rate"]
    trends: TrendAnalysis = aggregator.analyze_trends(category="auth_tests", days=30)
    first_day: date = trends.points[0].day
    report: Report = aggregator.generate_report(orchestration_id="orch_001", include_charts=True)
    html: str = report.content
    del total, rate, first_day, html


async def from_async_code(agg: TestResultAggregator) -> int:
    stored: TestResult = await agg.astore_result("t", "o", "c", ResultStatus.FAILED, 0.5)
    summary: RunSummary = await agg.aget_summary("o")
    return summary["total"] + stored.attempt


def advanced(agg: TestResultAggregator) -> None:
    count: int = agg.store_results(
        [{"test_id": "a", "status": "passed", "duration": 0.1}],
        orchestration_id="o",
        category="c",
    )
    imported: ImportResult = agg.import_file("junit.xml", orchestration_id="o")
    warnings: tuple[str, ...] = imported.warnings
    diff: RunComparison = agg.compare_runs("o1", "o2")
    verdicts: list[FlakyVerdict] = agg.flaky_tests(options=FlakinessOptions(window=50))
    reasons: tuple[str, ...] = verdicts[0].reasons
    rules = [CategoryRule("DB", "system_issue", message="OperationalError"), *DEFAULT_RULES]
    with TestResultAggregator(db_url="postgresql://ci@db/results", category_rules=rules) as pg:
        md: str = pg.generate_report("o", format="md").content
    deleted: int = agg.purge(90)
    status: ResultStatus = ResultStatus.parse("xfailed")
    try:
        agg.store_result("t", "o", "c", "weird", 1.0)
    except MaestroResultsError as exc:
        message: str = str(exc)
    del count, warnings, diff, reasons, md, deleted, status, message


def conventions(agg: TestResultAggregator) -> None:
    imported = agg.import_file("junit.xml", orchestration_id="run")
    assert_type(imported, ImportResult)
    assert_type(imported.batches, int)
    trends = agg.analyze_trends("api", 30)
    assert_type(trends.outage_days, tuple[date, ...])
    assert_type(trends.points[0].outage, bool)
    err = MissingExtraError("pandas DataFrames", "analytics", "pandas")
    assert_type(err.feature, str)
    assert_type(ConfigurationError("bad"), ConfigurationError)


async def async_twins(agg: TestResultAggregator) -> None:
    assert_type(await agg.aimport_file("junit.xml", orchestration_id="run"), ImportResult)
    assert_type(await agg.aget_summary("run"), RunSummary)


class _ResultStore(Protocol):
    """The shape maestro-test-adapters' ``.store(aggregator)`` expects (kept in step)."""

    def store_result(
        self,
        test_id: str,
        orchestration_id: str,
        category: str,
        status: str,
        duration: float,
        metadata: Mapping[str, Any] | None = None,
    ) -> object: ...


def adapters_seam() -> None:
    store: _ResultStore = TestResultAggregator(db_path="r.db")
    assert_type(store.store_result("t", "run", "c", "passed", 1.0), object)
