"""Reports: self-contained HTML (checked in headless Chromium), Markdown, JSON and CTRF."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from maestro_test_result_aggregator import Report, TestResultAggregator

from .conftest import Clock


@pytest.fixture
def run(agg: TestResultAggregator, clock: Clock) -> TestResultAggregator:
    """A store with three runs over three days: failures, a flaky and a broken test."""
    for day, run_id in enumerate(("r1", "r2", "r3")):
        if day:
            clock.advance(days=1)
        for i in range(20):
            agg.store_result(f"tests.test_mod::test_{i}", run_id, "api", "passed", 0.1 * i + day)
        agg.store_result(
            "tests.test_mod::test_broken",
            run_id,
            "api",
            "failed",
            1.0,
            message="assert 1 == 2",
            trace="E   assert 1 == 2\n" + "x" * 5000,
        )
    agg.store_result(
        "tests.test_mod::test_net",
        "r3",
        "api",
        "error",
        2.0,
        message="ConnectionRefusedError: connection refused <script>alert(1)</script>",
    )
    agg.store_result("tests.test_mod::test_flaky", "r3", "api", "failed", 0.5, message="flaky")
    agg.store_result("tests.test_mod::test_flaky", "r3", "api", "passed", 0.5)
    agg.store_result("tests.test_mod::test_0", "r3", "api", "passed", 0.1)
    return agg


def test_html_report_is_self_contained_with_problems_first(
    run: TestResultAggregator, tmp_path: Path
) -> None:
    """The HTML has summary, failures by category, flaky, trends charts and slowest; no network."""
    report = run.generate_report(
        orchestration_id="r3", include_charts=True, output=tmp_path / "r.html"
    )
    assert isinstance(report, Report)
    assert report.format == "html"
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page == report.content == str(report)
    assert '<span class="badge bad">FAILED</span>' in page
    order = [
        page.index(marker)
        for marker in ('id="failures"', 'id="flaky"', 'id="trends"', 'id="slowest"')
    ]
    assert order == sorted(order)
    assert page.count("<svg") == 3
    assert "<polyline" in page
    assert "Infrastructure and network" in page
    assert "Product defects" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    # One script only, the report's own filter (allowed by the CSP through its hash).
    assert page.replace("&lt;script", "").count("<script") == 1
    assert "characters truncated" in page
    assert report.data["summary"]["flaky"] == 1


def test_report_without_charts(run: TestResultAggregator) -> None:
    """include_charts=False leaves the SVG charts and trend data out."""
    report = run.generate_report("r3", include_charts=False)
    assert "<svg" not in report.content
    assert "trends" not in report.data


def test_json_report(run: TestResultAggregator) -> None:
    """The JSON report parses and carries summary, groups, flaky, slowest, trends and the diff."""
    data = json.loads(run.generate_report("r3", format="json").content)
    assert data["summary"]["total"] == 23
    assert {g["name"] for g in data["failure_groups"]} == {
        "Infrastructure and network",
        "Product defects",
    }
    assert [v["test_id"] for v in data["flaky"]] == [
        "tests.test_mod::test_broken",
        "tests.test_mod::test_flaky",
    ]
    assert data["comparison"]["base"] == "r2"
    assert data["comparison"]["added"]
    assert len(data["trends"]["points"]) == 3


def test_markdown_fits_a_pr_comment_and_truncates_with_a_footer(agg: TestResultAggregator) -> None:
    """Markdown stays under the limit; a long one ends with a truncation footer."""
    agg.store_results(
        [
            {"test_id": f"t{i}", "status": "failed", "duration": 1, "message": f"assert {i} | pipe"}
            for i in range(2000)
        ],
        orchestration_id="big",
        category="c",
    )
    md = agg.generate_report("big", format="md", max_chars=2000).content
    assert len(md) <= 2000
    assert md.startswith("## ❌ Test results: `big`")
    assert "Report truncated to fit a comment" in md
    assert "\\|" in md
    full = agg.generate_report("big", format="md").content
    assert len(full) <= 60_000


def test_ctrf_report_format(run: TestResultAggregator) -> None:
    """format='ctrf' gives the CTRF export as the report content."""
    report = run.generate_report("r3", format="ctrf")
    assert json.loads(report.content)["reportFormat"] == "CTRF"


def test_unknown_format_is_refused(run: TestResultAggregator) -> None:
    """An unknown report format raises ValueError naming the valid ones."""
    with pytest.raises(ValueError, match="html, md"):
        run.generate_report("r3", format="pdf")  # type: ignore[arg-type]


@pytest.mark.slow
def test_reports_stay_small_and_fast_on_100k_results(agg: TestResultAggregator) -> None:
    """On 100,000 results (10% failing, long logs) the reports stay small."""
    trace = "Traceback\n" + "frame\n" * 2000
    agg.store_results(
        [
            {
                "test_id": f"suite.mod{i % 50}::test_{i}",
                "status": "failed" if i % 10 == 0 else "passed",
                "duration": i % 97 / 10,
                "message": f"assert {i}",
                "trace": trace if i % 10 == 0 else "",
            }
            for i in range(100_000)
        ],
        orchestration_id="huge",
        category="c",
    )
    # No timed assertion (the family rule): speed is measured in benchmarks/aggregator.py.
    html = agg.generate_report("huge").content
    md = agg.generate_report("huge", format="md").content
    assert len(html) < 2_000_000
    assert len(md) <= 60_000
    assert "…and 9950 more in this category." in html


@pytest.mark.browser
def test_html_report_renders_in_headless_chromium(
    run: TestResultAggregator, tmp_path: Path
) -> None:
    """Chromium renders the report with its charts, no console errors and no network requests."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if __import__("os").environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing on CI")
        pytest.skip("/usr/bin/chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    path = run.generate_report("r3").save(tmp_path / "report.html")
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # Playwright passes it as --user-data-dir
            executable_path=str(chromium),
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
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri())
            assert page.title() == "Test results r3"
            charts = page.locator("svg.chart")
            assert charts.count() == 3
            box = charts.nth(1).bounding_box()
            assert box is not None
            assert box["width"] > 600
            assert box["height"] > 200
            assert page.locator("svg.chart polyline.series").count() == 3
            assert page.locator("#failures").is_visible()
            assert "Broken and flaky tests" in page.inner_text("body")
        finally:
            browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []
