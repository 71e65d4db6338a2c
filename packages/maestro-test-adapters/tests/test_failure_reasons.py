"""Failure messages keep the reason (issue 13, item 5): Playwright's reason sits deep in a
call log that repeats per retry, so its first lines never showed it; the exact timeout in
milliseconds made equal failures read differently."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import pytest
from maestro_test_adapters import AdvancedWebTester
from maestro_test_adapters._engines._base import playwright_failure

COVERED = """Locator.click: Timeout 1499.870567000471ms exceeded.
Call log:
  - waiting for locator("#b").first
    - locator resolved to <button id="b">Press</button>
  - attempting click action
    2 × waiting for element to be visible, enabled and stable
      - element is visible, enabled and stable
      - scrolling into view if needed
      - done scrolling
      - <div id="overlay"></div> intercepts pointer events
    - retrying click action
    - waiting 20ms
    2 × waiting for element to be visible, enabled and stable
      - element is visible, enabled and stable
      - scrolling into view if needed
      - done scrolling
      - <div id="overlay"></div> intercepts pointer events
    - retrying click action
      - waiting 500ms
"""

DISABLED = """Locator.click: Timeout 1500ms exceeded.
Call log:
  - waiting for locator("#d").first
    - locator resolved to <button id="d" disabled>Dis</button>
  - attempting click action
    2 × waiting for element to be visible, enabled and stable
      - element is not enabled
    - retrying click action
    - waiting 20ms
    3 × waiting for element to be visible, enabled and stable
      - element is not enabled
    - retrying click action
      - waiting 500ms
"""

MISSING = """Locator.click: Timeout 1500ms exceeded.
Call log:
  - waiting for locator("#nope").first
"""


def test_the_reason_survives_the_call_log() -> None:
    assert playwright_failure(COVERED) == (
        'Locator.click: <button id="b">Press</button>: '
        '<div id="overlay"></div> intercepts pointer events'
    )
    assert playwright_failure(DISABLED) == (
        'Locator.click: <button id="d" disabled>Dis</button>: element is not enabled'
    )
    assert playwright_failure(MISSING) == 'Locator.click: no element matched locator("#nope").first'


def test_equal_failures_read_the_same_whatever_the_milliseconds() -> None:
    other = COVERED.replace("1499.870567000471ms", "1500.0001ms")
    assert playwright_failure(other) == playwright_failure(COVERED)
    assert "ms" not in playwright_failure(COVERED).split(":")[0]


OVERLAY = (
    '(document.body.innerHTML = \'<button id="b">Press</button>'
    '<button id="d" disabled>Dis</button><div id="overlay" '
    'style="position:fixed;inset:0;background:rgba(0,0,0,.3)"></div>\', true)'
)


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["playwright", "selenium"])
def test_covered_and_disabled_say_why_on_both_engines(
    engine: Literal["playwright", "selenium"], site: str
) -> None:
    async def run() -> list[Any]:
        async with AdvancedWebTester(engine, timeout=1.0, trace="off") as tester:
            results = []
            for selector in ("#b", "#d"):
                results.append(
                    await tester.run_user_journey(
                        [
                            {"action": "navigate", "url": f"{site}/"},
                            {"action": "evaluate", "expression": OVERLAY, "expected": True},
                            {"action": "click", "selector": selector},
                        ]
                    )
                )
            return results

    covered, disabled = asyncio.run(run())
    covered_error = covered.steps[2].error or ""
    disabled_error = disabled.steps[2].error or ""
    assert covered.steps[2].status == "failed"
    assert "overlay" in covered_error  # the element that takes the click is named
    assert "disabled" in disabled_error or "not enabled" in disabled_error
    for error in (covered_error, disabled_error):
        assert error.startswith("StepTimeoutError: ")  # the same failure kind on both
        assert f"on {engine} at {site}/" in error
