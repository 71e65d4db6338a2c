"""Journey results: truthiness, counts, the report, JSON export and raise_for_failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from maestro_test_adapters import JourneyResult, StepError, StepResult, StepStatus


def make(*statuses: StepStatus) -> JourneyResult:
    """A result whose steps have the given statuses."""
    steps = tuple(
        StepResult(i, "click", status, 0.01 * i, "#a", "boom" if status == "failed" else None)
        for i, status in enumerate(statuses)
    )
    return JourneyResult("demo", "playwright", steps, 1.5, "2026-01-01T00:00:00.000Z",
                         artifacts_dir=Path("/tmp/run"))  # fmt: skip


def test_bool_is_whether_every_step_passed() -> None:
    """bool(result) is True only when every step passed."""
    assert make(StepStatus.PASSED, StepStatus.PASSED)
    assert not make(StepStatus.PASSED, StepStatus.FAILED, StepStatus.SKIPPED)


def test_counts_and_failures() -> None:
    """The counts add up and failures lists the failed steps."""
    result = make(StepStatus.PASSED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.SKIPPED)
    assert (result.passed_count, result.failed_count, result.skipped_count) == (1, 1, 2)
    assert [s.index for s in result.failures] == [1]


def test_report_shows_every_step_and_the_error() -> None:
    """The report has a verdict line, one line per step, the error and the artifacts."""
    report = make(StepStatus.PASSED, StepStatus.FAILED, StepStatus.SKIPPED).report()
    assert report.splitlines()[0].startswith("journey 'demo' on playwright: FAILED")
    assert "[FAIL]   1 click #a" in report
    assert "boom" in report
    assert "artifacts: /tmp/run" in report


def test_to_dict_is_json_ready() -> None:
    """to_dict() serialises to JSON with counts and steps."""
    data = json.loads(json.dumps(make(StepStatus.PASSED).to_dict()))
    assert data["passed"] is True
    assert data["counts"] == {"passed": 1, "failed": 0, "skipped": 0}
    assert data["steps"][0]["status"] == "passed"


def test_raise_for_failure() -> None:
    """raise_for_failure raises StepError with the report only when a step failed."""
    make(StepStatus.PASSED).raise_for_failure()
    with pytest.raises(StepError, match="FAILED"):
        make(StepStatus.FAILED).raise_for_failure()
