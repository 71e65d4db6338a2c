"""The browser journeys, run by test_journeys.py in a recorded pytest run (not collected alone).

The service's URL, the clerk's password and the aggregator come from the environment the
outer test sets: ORDERS_URL, ORDERS_CLERK_PASSWORD, ORDERS_RESULTS_DB, ORDERS_RUN_ID.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from maestro_test_adapters import AdvancedWebTester, Journey, JourneyResult
from maestro_test_result_aggregator import TestResultAggregator

JOURNEYS = Path(__file__).resolve().parents[1] / "journeys"
RECORDED_ORIGIN = "http://127.0.0.1:8000"


def load(name: str) -> Journey:
    """A journey file with this run's secret and origin filled in (files never hold them)."""
    text = (JOURNEYS / name).read_text()
    text = text.replace("${CLERK_PASSWORD}", os.environ["ORDERS_CLERK_PASSWORD"])
    text = text.replace(RECORDED_ORIGIN, os.environ["ORDERS_URL"])
    data: Any = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    return Journey.from_data(data)


def record(result: JourneyResult) -> None:
    with TestResultAggregator(db_path=os.environ["ORDERS_RESULTS_DB"]) as aggregator:
        result.store(aggregator, orchestration_id=os.environ["ORDERS_RUN_ID"])
    result.raise_for_failure()


@pytest.mark.browser
async def test_login_and_order_on_playwright(tmp_path: Path) -> None:
    """A clerk logs in, orders, and sees `Order confirmed` (Playwright, system Chromium)."""
    tester = AdvancedWebTester(base_url=os.environ["ORDERS_URL"], artifacts_dir=tmp_path)
    record(await tester.run_user_journey(load("login_and_order.yaml")))


@pytest.mark.browser
async def test_denied_delete_on_selenium(tmp_path: Path) -> None:
    """A clerk's delete is refused with 403 (a DevTools Recorder export, on Selenium)."""
    tester = AdvancedWebTester(
        "selenium", base_url=os.environ["ORDERS_URL"], artifacts_dir=tmp_path
    )
    record(await tester.run_user_journey(load("denied_delete.json")))
