"""Typed usage examples of maestro-test-adapters; mypy --strict checks them (never executed)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any, assert_type

from maestro_test_adapters import (
    AdvancedWebTester,
    BrowserInstall,
    CaseStatus,
    Journey,
    JourneyResult,
    JourneyValidationError,
    MissingExtraError,
    PlaywrightAdapter,
    PytestAdapter,
    PytestCaseResult,
    PytestRunResult,
    ResultStore,
    SeleniumAdapter,
    StepResult,
    StepStatus,
    SyncWebTester,
    parse_junit_xml,
)
from maestro_test_adapters.advanced_web_testing import AdvancedWebTester as GuideTester
from selenium.webdriver.remote.webdriver import WebDriver


def selenium_driver() -> str:
    adapter = SeleniumAdapter(browser_path="/usr/bin/chromium", driver_path="/usr/bin/chromedriver")
    driver: WebDriver = adapter.create_driver(headless=True, window_size=(800, 600))
    try:
        driver.get("http://127.0.0.1:8000/")
        title: str = driver.title
    finally:
        driver.quit()
    with SeleniumAdapter() as managed, managed.driver() as other:
        other.get("http://127.0.0.1:8000/")
    return title


def playwright_sync() -> str:
    with PlaywrightAdapter(headless=True) as adapter, adapter.page() as page:
        page.goto("http://127.0.0.1:8000/")
        return page.title()


async def playwright_async() -> str:
    async with PlaywrightAdapter() as adapter, adapter.apage() as page:
        await page.goto("http://127.0.0.1:8000/")
        return await page.title()


async def journeys() -> bool:
    tester = GuideTester()
    result: JourneyResult = await tester.run_user_journey(
        [
            {"action": "navigate", "url": "http://127.0.0.1:8000/"},
            {"action": "click", "selector": ["#login-button", "text=Log in"]},
            {"action": "type", "selector": "#username", "text": "testuser"},
        ]
    )
    step: StepResult = result.steps[0]
    status: StepStatus = step.status
    counts: tuple[int, int, int] = (result.passed_count, result.failed_count, result.skipped_count)
    async with AdvancedWebTester("selenium", timeout=5.0, base_url="http://127.0.0.1:8000") as t:
        again = await t.run_user_journey(Path("journey.yaml"), continue_on_failure=True)
    print(status, counts, again.report(), again.to_dict())
    return bool(result) and result.passed


def sync_journey() -> None:
    journey = Journey.from_file("recording.json")
    try:
        result = AdvancedWebTester(trace="off").sync.run_user_journey(journey)
    except (JourneyValidationError, MissingExtraError) as exc:
        print(exc)
    else:
        result.raise_for_failure()


def pytest_runs() -> int:
    run: PytestRunResult = PytestAdapter(cwd="tests", timeout=600.0).run("-k", "login")
    failures: tuple[PytestCaseResult, ...] = run.failures
    cases = parse_junit_xml(Path("junit.xml"))
    passed = sum(1 for case in cases if case.status is CaseStatus.PASSED)
    return run.exit_code + len(failures) + passed


async def pytest_async() -> bool:
    return bool(await PytestAdapter().arun("tests/"))


def browser() -> str:
    install = BrowserInstall.detect()
    return install.browser_version


class ResultsDB:
    """Anything with the aggregator's store_result is a ResultStore (no import needed)."""

    def store_result(
        self,
        test_id: str,
        orchestration_id: str,
        category: str,
        status: str,
        duration: float,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        print(test_id, orchestration_id, category, status, duration, metadata)


async def typed_twins() -> None:
    tester = AdvancedWebTester()
    assert_type(tester.sync, SyncWebTester)
    steps = [{"action": "navigate", "url": "http://127.0.0.1:8000/"}]
    assert_type(await tester.run_user_journey(steps, timeout=2.0), JourneyResult)
    assert_type(tester.sync.run_user_journey(steps, timeout=2.0), JourneyResult)
    adapter = PytestAdapter()
    assert_type(adapter.run("-q"), PytestRunResult)
    assert_type(await adapter.arun("-q"), PytestRunResult)
    store: ResultStore = ResultsDB()
    (await tester.run_user_journey(steps)).store(store, orchestration_id="run-1")
    assert_type(adapter.run().store(ResultsDB(), orchestration_id="run-1"), int)


asyncio.run(journeys())
