"""Launch failures are the package's own errors with the fix (issue 13, item 5): a headed run
without a display, and a browser path that is not a browser, on both engines."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from maestro_test_adapters import (
    BrowserLaunchError,
    MaestroTestAdaptersError,
    PlaywrightAdapter,
    SeleniumAdapter,
)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@pytest.fixture
def not_a_browser(tmp_path: Path) -> str:
    """An executable that exits at once, as a wrong MAESTRO_BROWSER__PATH would."""
    script = tmp_path / "not-a-browser"
    script.write_text("#!/bin/sh\necho 'I am not a browser' >&2\nexit 3\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.usefixtures("no_display")
def test_headed_playwright_without_a_display_says_how_to_fix_it() -> None:
    with PlaywrightAdapter(CHROMIUM) as adapter, pytest.raises(BrowserLaunchError) as caught:
        adapter.launch(headless=False)
    message = str(caught.value)
    assert "Playwright" in message
    assert "DISPLAY" in message
    assert "xvfb-run" in message
    assert "headless" in message
    assert isinstance(caught.value, MaestroTestAdaptersError)


@pytest.mark.usefixtures("no_display")
def test_headed_playwright_async_without_a_display_is_refused_too() -> None:
    async def launch() -> None:
        adapter = PlaywrightAdapter(CHROMIUM)
        try:
            await adapter.alaunch(headless=False)
        finally:
            await adapter.aclose()

    with pytest.raises(BrowserLaunchError, match="DISPLAY"):
        asyncio.run(launch())


@pytest.mark.usefixtures("no_display")
def test_headed_selenium_without_a_display_says_how_to_fix_it() -> None:
    with SeleniumAdapter(CHROMIUM) as adapter, pytest.raises(BrowserLaunchError) as caught:
        adapter.create_driver(headless=False)
    assert "Selenium" in str(caught.value)
    assert "xvfb-run" in str(caught.value)


def test_headless_needs_no_display(no_display: None) -> None:
    """The check refuses only what cannot work: headless runs go on without a display."""
    with PlaywrightAdapter(CHROMIUM) as adapter:
        browser = adapter.launch(headless=True)
        assert browser.is_connected()


def test_playwright_with_a_binary_that_is_not_a_browser(not_a_browser: str) -> None:
    with PlaywrightAdapter(not_a_browser) as adapter, pytest.raises(BrowserLaunchError) as caught:
        adapter.launch()
    message = str(caught.value)
    assert not_a_browser in message
    assert "MAESTRO_BROWSER__PATH" in message
    assert "/usr/bin/chromium" in message
    assert caught.value.__cause__ is not None  # the engine's own error stays chained
    assert caught.value.engine == "Playwright"
    assert caught.value.browser == not_a_browser


def test_selenium_with_a_binary_that_is_not_a_browser(not_a_browser: str) -> None:
    with SeleniumAdapter(not_a_browser) as adapter, pytest.raises(BrowserLaunchError) as caught:
        adapter.create_driver()
    message = str(caught.value)
    assert not_a_browser in message
    assert "MAESTRO_BROWSER__PATH" in message
    assert caught.value.__cause__ is not None
    assert caught.value.engine == "Selenium"


def test_selenium_errors_stay_catchable_after_selenium_is_imported_again(
    not_a_browser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver class built before selenium's modules were dropped and imported again
    (pytester's in-process sessions restore ``sys.modules`` this way; so does a reload)
    raised the old module's exception classes, which the new ``except`` clauses missed."""
    import sys

    with SeleniumAdapter(CHROMIUM) as adapter:
        adapter.create_driver().quit()  # the driver class is built on today's modules
    for name in [m for m in sys.modules if m == "selenium" or m.startswith("selenium.")]:
        monkeypatch.delitem(sys.modules, name)
    with SeleniumAdapter(not_a_browser) as adapter, pytest.raises(BrowserLaunchError):
        adapter.create_driver()
