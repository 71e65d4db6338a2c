"""PlaywrightAdapter: Playwright's Chromium is the system Chromium, launched by path."""

from __future__ import annotations

import atexit
import contextlib
import os
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._browser import BrowserInstall, chromium_flags
from ._deprecation import deprecated_alias
from ._errors import check_display, launch_failed
from ._extras import forbid_running_loop, require

if TYPE_CHECKING:
    from playwright.async_api import Browser as AsyncBrowser
    from playwright.async_api import BrowserContext as AsyncBrowserContext
    from playwright.async_api import Page as AsyncPage
    from playwright.async_api import Playwright as AsyncPlaywright
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

__all__ = ["PlaywrightAdapter"]

_open_adapters: weakref.WeakSet[PlaywrightAdapter] = weakref.WeakSet()


def _close_open_adapters() -> None:
    for adapter in list(_open_adapters):
        with contextlib.suppress(Exception):
            adapter.close()


atexit.register(_close_open_adapters)


class PlaywrightAdapter:
    """Launches the system Chromium through Playwright, sync or async.

    Playwright gives every launched browser a fresh temporary profile and never downloads
    anything here: the browser is the system one, passed by ``executable_path``.
    ``launch()`` / ``await alaunch()`` return a Playwright ``Browser``; ``page()`` /
    ``apage()`` are context managers that give a fresh context and page and close
    them. Everything still open is closed by ``close()`` / ``aclose()``, by leaving the
    adapter's ``with`` block, or at interpreter exit.
    """

    def __init__(
        self,
        browser_path: str | os.PathLike[str] | None = None,
        *,
        headless: bool = True,
        arguments: Sequence[str] = (),
    ) -> None:
        self._browser_path = browser_path
        self._headless = headless
        self._arguments = tuple(arguments)
        self._install: BrowserInstall | None = None
        self._sync: Playwright | None = None
        self._async: AsyncPlaywright | None = None
        self._sync_browsers: list[Browser] = []
        self._async_browsers: list[AsyncBrowser] = []

    @property
    def install(self) -> BrowserInstall:
        """The resolved browser (resolved offline on first use)."""
        if self._install is None:
            self._install = BrowserInstall.detect(self._browser_path, need_driver=False)
        return self._install

    def _launch_kwargs(self, headless: bool | None) -> dict[str, Any]:
        headless = self._headless if headless is None else headless
        # Playwright adds its own --headless / --user-data-dir; we add the rest.
        flags = [f for f in chromium_flags(headless=False) if not f.startswith("--headless")]
        return {
            "executable_path": self.install.browser,
            "headless": headless,
            "args": [*flags, *self._arguments],
            "chromium_sandbox": False,
        }

    # -- sync ---------------------------------------------------------------------------

    def launch(self, headless: bool | None = None) -> Browser:
        """Launch Chromium with the sync API and return the Browser."""
        forbid_running_loop("PlaywrightAdapter.launch()", "await PlaywrightAdapter.alaunch()")
        require("playwright", "playwright.sync_api")
        from playwright.sync_api import sync_playwright

        kwargs = self._launch_kwargs(headless)
        check_display("Playwright", kwargs["executable_path"], kwargs["headless"])
        if self._sync is None:
            self._sync = sync_playwright().start()
            _open_adapters.add(self)
        from playwright.sync_api import Error as PlaywrightError

        try:
            browser = self._sync.chromium.launch(**kwargs)
        except PlaywrightError as exc:
            raise launch_failed("Playwright", kwargs["executable_path"], exc) from exc
        self._sync_browsers.append(browser)
        return browser

    @contextlib.contextmanager
    def page(self, headless: bool | None = None, **context_options: Any) -> Iterator[Page]:
        """A fresh browser, context and page; all three are closed on the way out."""
        browser = self.launch(headless)
        context: BrowserContext = browser.new_context(**context_options)
        try:
            yield context.new_page()
        finally:
            with contextlib.suppress(Exception):
                context.close()
            self._close_sync_browser(browser)

    def _close_sync_browser(self, browser: Browser) -> None:
        with contextlib.suppress(Exception):
            browser.close()
        with contextlib.suppress(ValueError):
            self._sync_browsers.remove(browser)

    def close(self) -> None:
        """Close every sync browser and stop the sync Playwright driver."""
        for browser in list(self._sync_browsers):
            self._close_sync_browser(browser)
        if self._sync is not None:
            with contextlib.suppress(Exception):
                self._sync.stop()
            self._sync = None
        _open_adapters.discard(self)

    def __enter__(self) -> PlaywrightAdapter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- async --------------------------------------------------------------------------

    async def alaunch(self, headless: bool | None = None) -> AsyncBrowser:
        """Launch Chromium with the async API and return the Browser."""
        require("playwright", "playwright.async_api")
        from playwright.async_api import async_playwright

        kwargs = self._launch_kwargs(headless)
        check_display("Playwright", kwargs["executable_path"], kwargs["headless"])
        if self._async is None:
            self._async = await async_playwright().start()
        from playwright.async_api import Error as PlaywrightError

        try:
            browser = await self._async.chromium.launch(**kwargs)
        except PlaywrightError as exc:
            raise launch_failed("Playwright", kwargs["executable_path"], exc) from exc
        self._async_browsers.append(browser)
        return browser

    @contextlib.asynccontextmanager
    async def apage(
        self, headless: bool | None = None, **context_options: Any
    ) -> AsyncIterator[AsyncPage]:
        """A fresh browser, context and page (async); all three are closed on the way out."""
        browser = await self.alaunch(headless)
        context: AsyncBrowserContext = await browser.new_context(**context_options)
        try:
            yield await context.new_page()
        finally:
            with contextlib.suppress(Exception):
                await context.close()
            await self._close_async_browser(browser)

    launch_async = deprecated_alias(
        alaunch, "PlaywrightAdapter.launch_async()", "PlaywrightAdapter.alaunch()"
    )
    async_page = deprecated_alias(
        apage, "PlaywrightAdapter.async_page()", "PlaywrightAdapter.apage()"
    )

    async def _close_async_browser(self, browser: AsyncBrowser) -> None:
        with contextlib.suppress(Exception):
            await browser.close()
        with contextlib.suppress(ValueError):
            self._async_browsers.remove(browser)

    async def aclose(self) -> None:
        """Close every async browser and stop the async Playwright driver."""
        for browser in list(self._async_browsers):
            await self._close_async_browser(browser)
        if self._async is not None:
            with contextlib.suppress(Exception):
                await self._async.stop()
            self._async = None

    async def __aenter__(self) -> PlaywrightAdapter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
