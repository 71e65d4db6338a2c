"""SeleniumAdapter: a Chrome WebDriver on the system Chromium, never downloading anything."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._browser import BrowserInstall, chromium_flags, new_profile_dir
from ._errors import check_display, launch_failed
from ._extras import require

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = ["SeleniumAdapter"]

_live_lock = threading.Lock()
_live: dict[int, WebDriver] = {}


def _quit_all_live() -> None:
    """Quit every driver still open (atexit: the caller forgot ``quit()``)."""
    with _live_lock:
        drivers = list(_live.values())
    for driver in drivers:
        with contextlib.suppress(Exception):
            driver.quit()


atexit.register(_quit_all_live)


def _maestro_chrome() -> type[Any]:
    """A webdriver.Chrome whose quit() also removes its profile and forgets it.

    Built once per ``selenium.webdriver`` module object, not once per process: if selenium's
    modules are dropped from ``sys.modules`` and imported again (a reload, pytester's
    in-process sessions), a class kept from the old modules would raise the old exception
    classes, which no ``except`` written against the new ones catches.
    """
    return _chrome_class(require("selenium", "selenium.webdriver"))


@functools.lru_cache(maxsize=4)  # one per import of selenium; old ones may go
def _chrome_class(webdriver: Any) -> type[Any]:
    class MaestroChrome(webdriver.Chrome):  # type: ignore[misc]
        _maestro_profile: Path | None = None

        def quit(self) -> None:
            try:
                super().quit()
            finally:
                with _live_lock:
                    _live.pop(id(self), None)
                if self._maestro_profile is not None:
                    shutil.rmtree(self._maestro_profile, ignore_errors=True)
                    self._maestro_profile = None

    return MaestroChrome


class SeleniumAdapter:
    """Creates Chrome WebDrivers on the system Chromium and chromedriver.

    The driver path is always given to Selenium, so Selenium Manager never runs and nothing
    is downloaded. Every driver gets a fresh profile that ``quit()`` removes; drivers still
    open when the adapter closes (or the interpreter exits) are quit for you.
    """

    def __init__(
        self,
        browser_path: str | os.PathLike[str] | None = None,
        driver_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self._browser_path = browser_path
        self._driver_path = driver_path
        self._install: BrowserInstall | None = None
        self._drivers: list[WebDriver] = []

    @property
    def install(self) -> BrowserInstall:
        """The resolved browser and driver (resolved on first use, checked for versions)."""
        if self._install is None:
            self._install = BrowserInstall.detect(self._browser_path, self._driver_path)
        return self._install

    def create_driver(
        self,
        headless: bool = True,
        *,
        window_size: tuple[int, int] = (1280, 720),
        arguments: Sequence[str] = (),
        page_load_timeout: float = 30.0,
    ) -> WebDriver:
        """Start Chromium under chromedriver and return the WebDriver (call ``quit()``)."""
        return self._create(
            headless,
            window_size=window_size,
            arguments=arguments,
            page_load_timeout=page_load_timeout,
        )

    def _create(
        self,
        headless: bool = True,
        *,
        window_size: tuple[int, int] = (1280, 720),
        arguments: Sequence[str] = (),
        page_load_timeout: float = 30.0,
        network_log: bool = False,
    ) -> WebDriver:
        """create_driver(); ``network_log`` also records Network.* events in the driver's
        performance log (the journey engine's network steps read them)."""
        require("selenium", "selenium")
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        install = self.install
        assert install.driver is not None
        check_display("Selenium", install.browser, headless)
        profile = new_profile_dir()
        options = Options()
        options.binary_location = install.browser
        for flag in [*chromium_flags(headless=headless, window_size=window_size), *arguments]:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        if network_log:
            options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
            options.add_experimental_option(
                "perfLoggingPrefs", {"enableNetwork": True, "enablePage": False}
            )
        else:
            options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=install.driver, log_output=subprocess.DEVNULL)
        from selenium.common.exceptions import SessionNotCreatedException

        try:
            driver = _maestro_chrome()(service=service, options=options)
        except SessionNotCreatedException as exc:
            shutil.rmtree(profile, ignore_errors=True)
            raise launch_failed("Selenium", install.browser, exc) from exc
        except BaseException:
            shutil.rmtree(profile, ignore_errors=True)
            raise
        driver._maestro_profile = profile
        driver.set_page_load_timeout(page_load_timeout)
        with _live_lock:
            _live[id(driver)] = driver
        self._drivers.append(driver)
        return driver  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def driver(self, headless: bool = True, **kwargs: Any) -> Iterator[WebDriver]:
        """``with adapter.driver() as driver:`` quits the driver on the way out."""
        driver = self.create_driver(headless=headless, **kwargs)
        try:
            yield driver
        finally:
            driver.quit()

    def close(self) -> None:
        """Quit every driver this adapter created that is still open."""
        drivers, self._drivers = self._drivers, []
        for driver in drivers:
            with _live_lock:
                open_ = id(driver) in _live
            if open_:
                with contextlib.suppress(Exception):
                    driver.quit()

    def __enter__(self) -> SeleniumAdapter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
