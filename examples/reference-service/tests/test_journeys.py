"""Behaviour 9: the journeys on Playwright and Selenium against the running service, the
pytest run recorded by the aggregator's plugin, and its summary checked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from maestro_test_adapters import PytestAdapter
from maestro_test_result_aggregator import TestResultAggregator
from maestro_testkit import unique_name

from .conftest import CLERK, Served

TESTS = Path(__file__).resolve().parent


@pytest.mark.browser
@pytest.mark.slow
def test_the_journeys_pass_on_both_engines_and_the_run_is_recorded(
    served: Served, tmp_path: Path
) -> None:
    """Both journeys pass; the aggregator holds the run's tests and journeys, all passed."""
    run_id = unique_name("orders-e2e")
    results = tmp_path / "results.db"
    env = {
        **os.environ,
        "ORDERS_URL": served.url,
        "ORDERS_CLERK_PASSWORD": served.secrets.password(CLERK),
        "ORDERS_RESULTS_DB": str(results),
        "ORDERS_RUN_ID": run_id,
    }
    run = PytestAdapter(cwd=TESTS, env=env, timeout=240).run(
        str(TESTS / "journeys_browser.py"),
        "-p",
        "no:cacheprovider",
        "--results-db",
        str(results),
        "--results-category",
        "reference-service",
        "--results-run",
        run_id,
    )
    assert run, [(t.test_id, t.status, t.message) for t in run.tests]
    assert len(run.tests) == 2

    with TestResultAggregator(db_path=results) as aggregator:
        summary = aggregator.get_summary(orchestration_id=run_id)
        journeys = aggregator.get_results_by_category("user_journey", orchestration_id=run_id)
    assert sorted(r.test_id for r in journeys) == [
        "journey::denied delete",
        "journey::login and order",
    ]
    assert (summary["total"], summary["passed"], summary["failed"]) == (4, 4, 0)
