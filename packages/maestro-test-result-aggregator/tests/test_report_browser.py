"""The HTML report as users see it: headless Chromium, DOM assertions and a screenshot."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from maestro_test_result_aggregator import TestResultAggregator

from .conftest import Clock

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def history(agg: TestResultAggregator, clock: Clock) -> TestResultAggregator:
    """Five daily runs: an outage on day 3, a flaky test, a broken one, a slowdown in r5."""
    clock.advance(days=-4)
    for day in range(5):
        run = f"r{day + 1}"
        for i in range(12):
            outage = day == 2 and i < 11
            agg.store_result(
                f"pkg.api.test_mod::test_{i}",
                run,
                "api",
                "error" if outage else "passed",
                0.2,
                message="ConnectionRefusedError: db down" if outage else "",
            )
        agg.store_result(
            "pkg.ui.test_page::test_slow", run, "api", "passed", 5.0 if day == 4 else 1.0
        )
        agg.store_result("pkg.ui.test_page::test_broken", run, "api", "failed", 0.1, message="boom")
        flaky = "failed" if day % 2 else "passed"
        agg.store_result("pkg.ui.test_page::test_flaky", run, "api", flaky, 0.3, message="flap")
        if flaky == "failed":
            agg.store_result("pkg.ui.test_page::test_flaky", run, "api", "passed", 0.3)
        clock.advance(days=1)
    return agg


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium page (no sandbox, no GPU, no background networking)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing on CI")
        pytest.skip("/usr/bin/chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.mark.browser
def test_report_in_chromium_has_history_tree_filters_and_consistent_counts(
    history: TestResultAggregator, page: Any, tmp_path: Path
) -> None:
    """Counts match the table; ticks, outages, regressions, history, tree and filters work."""
    path = history.generate_report("r5").save(tmp_path / "report.html")
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.set_viewport_size({"width": 1280, "height": 2000})
    page.goto(path.resolve().as_uri())

    # The header's flaky count is the number of flaky rows in the table.
    flaky_card = page.locator(".card.flaky-count b").inner_text()
    assert int(flaky_card) == page.locator("#flaky + table tr.flaky").count() == 1
    assert int(page.locator(".card.broken-count b").inner_text()) == 1

    # Readable ticks: short labels, no scientific notation.
    ticks = page.locator("svg.chart text.tick").evaluate_all("els => els.map(e => e.textContent)")
    assert ticks
    assert all(len(t) <= 6 and "e+" not in t and "e-" not in t for t in ticks), ticks

    # The outage day is marked on the pass-rate chart and named in the text.
    assert page.locator("svg.chart rect.outage").count() == 1
    assert "outage" in page.locator("#trends + p").inner_text().lower()

    # The slowdown is flagged in the slowest-tests table.
    regressed = page.locator("#slowest + table tr.regressed")
    assert regressed.count() == 1
    assert "test_slow" in regressed.inner_text()

    # A per-test view with its history across runs.
    flaky = page.locator('.test[data-name*="test_flaky"]')
    assert flaky.count() == 1
    flaky.locator("summary").click()
    rows = flaky.locator("table.history tr.run")
    assert rows.count() == 5
    assert "r5" in rows.first.inner_text()

    # A suite tree with counts.
    tree = page.locator("#suites details")
    assert tree.count() >= 3
    assert "pkg" in page.locator("#suites").inner_text()

    # Filters by name and by status.
    visible = page.locator(".test:visible")
    total = visible.count()
    assert total == 15
    page.fill("#filter-name", "test_slow")
    assert page.locator(".test:visible").count() == 1
    page.fill("#filter-name", "")
    page.select_option("#filter-status", "failed")
    statuses = page.locator(".test:visible").evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses == ["failed"]
    page.select_option("#filter-status", "")
    assert page.locator(".test:visible").count() == total

    shot = page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert len(shot) > 10_000
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []


def test_report_stays_one_offline_file(history: TestResultAggregator) -> None:
    """No external URL, a CSP that allows only the inline script by its hash."""
    content = history.generate_report("r5").content
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", content)
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', content)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1)
    assert "script-src 'sha256-" in csp.group(1)
    assert "unsafe-eval" not in csp.group(1)
