"""Results into maestro-test-result-aggregator (optional), journeys and pytest runs alike."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from maestro_test_adapters import JourneyResult, PytestAdapter, StepResult, StepStatus

aggregator_module = pytest.importorskip(
    "maestro_test_result_aggregator", reason="maestro-test-result-aggregator is not installed"
)


def journey(passed: bool) -> JourneyResult:
    """A two-step journey result that passed or failed at its second step."""
    second = StepStatus.PASSED if passed else StepStatus.FAILED
    steps = (
        StepResult(0, "navigate", StepStatus.PASSED, 0.1),
        StepResult(1, "click", second, 0.2, "#go", None if passed else "StepTimeoutError: x"),
    )
    return JourneyResult("login", "playwright", steps, 0.3, "2026-01-01T00:00:00.000Z")


def test_journey_results_are_stored(tmp_path: Path) -> None:
    """JourneyResult.store writes one result with its status, duration and steps."""
    aggregator = aggregator_module.TestResultAggregator(db_path=str(tmp_path / "results.db"))
    try:
        journey(True).store(aggregator, orchestration_id="orch_1")
        journey(False).store(aggregator, orchestration_id="orch_2", test_id="journey::login-2")
        stored = aggregator.get_results_by_category("user_journey")
        summary = aggregator.get_summary(orchestration_id="orch_2")
    finally:
        aggregator.close()
    by_run = {r.orchestration_id: r for r in stored}
    assert by_run["orch_1"].status == aggregator_module.ResultStatus.PASSED
    assert by_run["orch_1"].test_id == "journey::login"
    assert by_run["orch_2"].status == aggregator_module.ResultStatus.FAILED
    assert by_run["orch_1"].duration == pytest.approx(0.3)
    assert by_run["orch_2"].metadata["steps"][1]["status"] == "failed"
    assert by_run["orch_1"].metadata["engine"] == "playwright"
    assert summary["failed"] == 1


def test_pytest_run_results_are_stored(tmp_path: Path) -> None:
    """PytestRunResult.store writes one result per test case with its status."""
    (tmp_path / "test_two.py").write_text(
        textwrap.dedent(
            """
            def test_up():
                pass

            def test_down():
                assert False
            """
        )
    )
    run = PytestAdapter(cwd=tmp_path).run("-p", "no:cacheprovider", "-p", "no:maestro_results")
    aggregator = aggregator_module.TestResultAggregator(db_path=str(tmp_path / "results.db"))
    try:
        assert run.store(aggregator, orchestration_id="orch_py") == 2
        summary = aggregator.get_summary(orchestration_id="orch_py")
    finally:
        aggregator.close()
    assert (summary["total"], summary["passed"], summary["failed"]) == (2, 1, 1)


def test_store_speaks_the_aggregators_keyword_api_without_importing_it() -> None:
    """store() calls store_result with the guide's keywords and status words, importing nothing."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["maestro_test_result_aggregator"] = None  # importing it would fail
        from maestro_test_adapters import JourneyResult, StepResult, StepStatus
        calls = []
        class Recorder:
            def store_result(self, **kwargs):
                calls.append(kwargs)
        steps = (StepResult(0, "navigate", StepStatus.FAILED, 0.1, None, "boom"),)
        JourneyResult("j", "playwright", steps, 0.5, "2026-01-01T00:00:00Z").store(
            Recorder(), orchestration_id="o"
        )
        (call,) = calls
        print(sorted(call), call["status"], call["test_id"], call["duration"])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("]")[0] + "]" == str(
        sorted(["test_id", "orchestration_id", "category", "status", "duration", "metadata"])
    )
    assert out.stdout.split("]")[1].split() == ["failed", "journey::j", "0.5"]
