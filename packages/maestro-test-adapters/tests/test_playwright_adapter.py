"""PlaywrightAdapter: sync and async on the system Chromium, never a download."""

from __future__ import annotations

import pytest
from maestro_test_adapters import EventLoopError, PlaywrightAdapter

pytestmark = pytest.mark.browser


def test_sync_page_loads_a_loopback_page(site: str) -> None:
    """page() yields a working sync Page on the system Chromium and closes it after."""
    with PlaywrightAdapter() as adapter, adapter.page() as page:
        page.goto(f"{site}/next.html")
        assert page.title() == "Next page"
        assert adapter.install.browser == "/usr/bin/chromium"
        browser = page.context.browser
        assert browser is not None
        assert browser.version.split(".")[0] == adapter.install.browser_version.split(".")[0]


async def test_apage_loads_a_loopback_page(site: str) -> None:
    """apage() yields a working async Page and the adapter closes everything."""
    async with PlaywrightAdapter() as adapter, adapter.apage() as page:
        await page.goto(f"{site}/next.html")
        assert await page.locator("#msg").inner_text() == "You made it"


async def test_sync_api_inside_event_loop_is_refused() -> None:
    """Calling the blocking launch() inside a running loop raises EventLoopError."""
    with pytest.raises(EventLoopError, match="alaunch"):
        PlaywrightAdapter().launch()


def test_close_closes_browsers_the_caller_left_open(site: str) -> None:
    """Browsers from launch() that the caller never closed are closed by close()."""
    adapter = PlaywrightAdapter()
    browser = adapter.launch()
    page = browser.new_page()
    page.goto(f"{site}/next.html")
    adapter.close()
    assert not browser.is_connected()
