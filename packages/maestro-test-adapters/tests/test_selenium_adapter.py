"""SeleniumAdapter on the system Chromium: a working driver, never Selenium Manager, no leaks."""

from __future__ import annotations

from pathlib import Path

import pytest
from maestro_test_adapters import SeleniumAdapter
from maestro_test_adapters._selenium import _live, _quit_all_live

from .conftest import _our_chromium

pytestmark = pytest.mark.browser


def test_create_driver_drives_a_loopback_page(site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """create_driver(headless=True) returns a WebDriver that loads and reads a page."""
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Selenium Manager must never run")

    monkeypatch.setattr(SeleniumManager, "binary_paths", refuse)
    adapter = SeleniumAdapter()
    driver = adapter.create_driver(headless=True)
    try:
        driver.get(f"{site}/next.html")
        assert driver.title == "Next page"
        args = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        assert args.startswith(("localhost:", "127.0.0.1:"))
    finally:
        driver.quit()
    assert id(driver) not in _live


def test_quit_removes_the_fresh_profile(site: str) -> None:
    """Each driver gets its own profile directory, removed by quit()."""
    adapter = SeleniumAdapter()
    with adapter.driver() as first, adapter.driver() as second:
        profiles = [Path(d._maestro_profile) for d in (first, second)]  # type: ignore[attr-defined]
        assert profiles[0] != profiles[1]
        assert all(p.is_dir() for p in profiles)
    assert not any(p.exists() for p in profiles)


def test_adapter_close_quits_forgotten_drivers() -> None:
    """Drivers the caller never quit are quit when the adapter's with-block ends."""
    before = _our_chromium()
    with SeleniumAdapter() as adapter:
        adapter.create_driver()
        assert _our_chromium() - before
    assert not (_our_chromium() - before)


def test_interpreter_exit_hook_quits_every_live_driver() -> None:
    """The atexit hook quits drivers created without any cleanup by the caller."""
    before = _our_chromium()
    SeleniumAdapter().create_driver()
    assert _live
    _quit_all_live()
    assert not _live
    assert not (_our_chromium() - before)
