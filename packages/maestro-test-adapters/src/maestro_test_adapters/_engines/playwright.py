"""The Playwright (async) engine: Playwright's own auto-waiting, plus polling assertions."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maestro_test_adapters._errors import StepError, StepTimeoutError
from maestro_test_adapters._journey import Step
from maestro_test_adapters._playwright import PlaywrightAdapter
from maestro_test_adapters._selectors import Selector

from ._base import POLL_INTERVAL, Engine, first_lines, normalize_space, preview

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Locator, Page

__all__ = ["PlaywrightEngine"]


class PlaywrightEngine(Engine):
    """Runs journey steps on the system Chromium through Playwright's async API."""

    name = "playwright"

    def __init__(
        self,
        *,
        headless: bool = True,
        browser_path: str | os.PathLike[str] | None = None,
        viewport: tuple[int, int] = (1280, 720),
    ) -> None:
        self._adapter = PlaywrightAdapter(browser_path, headless=headless)
        self._viewport = viewport
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._console: list[str] = []
        self._tracing = False

    async def start(self) -> None:
        if self._browser is None:
            self._browser = await self._adapter.alaunch()

    async def begin(self, *, trace: bool, blank: bool = True) -> None:
        await self.start()
        assert self._browser is not None
        width, height = self._viewport
        self._context = await self._browser.new_context(viewport={"width": width, "height": height})
        self._console = []
        if trace:
            # DOM snapshots only: the screencast costs ~20% per journey and the failure
            # screenshot is taken separately anyway.
            await self._context.tracing.start(screenshots=False, snapshots=True, sources=False)
        self._tracing = trace
        self._page = await self._context.new_page()
        self._page.on("console", lambda m: self._console.append(f"{m.type}: {m.text}"))
        self._page.on("pageerror", lambda e: self._console.append(f"pageerror: {e}"))

    async def end(self, trace_path: Path | None) -> list[Path]:
        saved: list[Path] = []
        context, self._context, self._page = self._context, None, None
        if context is None:
            return saved
        try:
            if self._tracing:
                if trace_path is not None:
                    await context.tracing.stop(path=trace_path)
                    saved.append(trace_path)
                else:
                    await context.tracing.stop()
        finally:
            await context.close()
        return saved

    @property
    def page(self) -> Page:
        """The journey's page (only between begin() and end())."""
        if self._page is None:
            raise StepError("no page is open; the engine's journey has not begun")
        return self._page

    async def close(self) -> None:
        if self._context is not None:
            await self.end(None)
        self._browser = None
        await self._adapter.aclose()

    async def screenshot(self, path: Path, *, full_page: bool) -> None:
        await self.page.screenshot(path=path, full_page=full_page)

    async def page_html(self) -> str:
        return await self.page.content()

    async def console(self) -> list[str]:
        return list(self._console)

    # -- locating ------------------------------------------------------------------------

    def _locator(self, selector: Selector) -> Locator:
        page = self.page
        if selector.kind in ("css", "pierce"):
            return page.locator(selector.value).first
        if selector.kind == "text":
            return page.get_by_text(selector.value).first
        if selector.kind == "role" and selector.role:
            if selector.value:
                return page.get_by_role(selector.role, name=selector.value).first  # type: ignore[arg-type]
            return page.get_by_role(selector.role).first  # type: ignore[arg-type]
        return page.locator(f"xpath={selector.to_xpath()}").first

    async def _choose(
        self, selectors: tuple[Selector, ...], deadline: float, state: str = "visible"
    ) -> tuple[Locator, Selector]:
        """The first alternative that is present (and visible): polled, never cached."""
        if len(selectors) == 1:
            return self._locator(selectors[0]), selectors[0]
        while True:
            for selector in selectors:
                locator = self._locator(selector)
                try:
                    ok = await (locator.is_visible() if state == "visible" else locator.count())
                except Exception as exc:
                    raise StepError(
                        f"selector {selector.raw!r}: {first_lines(str(exc), 2)}"
                    ) from None
                if ok:
                    return locator, selector
            if time.monotonic() >= deadline:
                tried = ", ".join(repr(s.raw) for s in selectors)
                raise StepTimeoutError(f"no element matched any of {tried}")
            await asyncio.sleep(POLL_INTERVAL)

    # -- steps ---------------------------------------------------------------------------

    async def perform(self, step: Step, timeout: float) -> str | None:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        deadline = time.monotonic() + timeout
        try:
            return await self._perform(step, deadline)
        except PlaywrightTimeout as exc:
            raise StepTimeoutError(
                f"timed out after {timeout:g}s: {first_lines(str(exc))}"
            ) from None
        except PlaywrightError as exc:
            raise StepError(first_lines(str(exc))) from None

    async def _perform(self, step: Step, deadline: float) -> str | None:
        page, p, action = self.page, step.params, step.action

        def ms() -> float:
            return max(1.0, (deadline - time.monotonic()) * 1000)

        if action == "navigate":
            await page.goto(p["url"], timeout=ms())
            return None
        if action == "set_viewport":
            await page.set_viewport_size({"width": int(p["width"]), "height": int(p["height"])})
            return None
        if action == "press" and not step.selectors:
            await page.keyboard.press(p["key"])
            return None
        if action == "scroll" and not step.selectors:
            await page.evaluate("([x, y]) => window.scrollTo(x, y)", [p.get("x", 0), p.get("y", 0)])
            return None
        if action == "wait_for" and not step.selectors:
            await self._wait_page(step, deadline, ms)
            return None
        if action == "assert_url":
            matcher = step.matcher("url")
            await _poll(
                deadline, lambda: _sync(page.url), matcher, f"page URL {matcher.describe()}"
            )
            return None
        if action == "assert_title":
            matcher = step.matcher("title")
            await _poll(deadline, page.title, matcher, f"page title {matcher.describe()}")
            return None
        if action == "assert_text" and not step.selectors:
            await self._assert_text(page.locator("body"), step, deadline)
            return None
        if action == "wait_for" and p.get("state") in ("hidden", "detached"):
            await self._wait_gone(step, deadline, ms)
            return step.selector_text
        state = "attached" if p.get("state") == "attached" else "visible"
        locator, selector = await self._choose(step.selectors, deadline, state)
        if action == "click":
            await locator.click(timeout=ms())
        elif action == "double_click":
            await locator.dblclick(timeout=ms())
        elif action == "hover":
            await locator.hover(timeout=ms())
        elif action == "fill":
            await self._fill(locator, p["text"], ms)
        elif action == "type":
            await locator.press_sequentially(p["text"], timeout=ms())
        elif action == "press":
            await locator.press(p["key"], timeout=ms())
        elif action == "select":
            await locator.select_option(p["value"], timeout=ms())
        elif action == "check":
            await locator.set_checked(p.get("checked", True), timeout=ms())
        elif action == "scroll":
            if "x" in p or "y" in p:
                await locator.evaluate(
                    "(e, [x, y]) => e.scrollTo(x, y)", [p.get("x", 0), p.get("y", 0)], timeout=ms()
                )
            else:
                await locator.scroll_into_view_if_needed(timeout=ms())
        elif action in ("wait_for", "assert_visible"):
            await locator.wait_for(state=state, timeout=ms())  # type: ignore[arg-type]
        elif action == "assert_text":
            await self._assert_text(locator, step, deadline)
        else:  # pragma: no cover - validation makes this unreachable
            raise StepError(f"action {action!r} is not implemented by the playwright engine")
        return selector.raw

    async def _fill(self, locator: Locator, text: str, ms: Callable[[], float]) -> None:
        from playwright.async_api import Error as PlaywrightError

        try:
            await locator.fill(text, timeout=ms())
        except PlaywrightError as exc:
            # A Recorder "change" on a <select> arrives as fill: choose the option instead.
            if "not an <input>" not in str(exc):
                raise
            if await locator.evaluate("e => e.tagName") != "SELECT":
                raise
            await locator.select_option(text, timeout=ms())

    async def _assert_text(self, locator: Locator, step: Step, deadline: float) -> None:
        expected = step.params["text"]
        exact = bool(step.params.get("exact", False))

        def check(actual: str) -> bool:
            actual = normalize_space(actual)
            return actual == normalize_space(expected) if exact else expected in actual

        what = f"text {'equal to' if exact else 'containing'} {expected!r}"

        def read() -> Awaitable[str]:
            return locator.inner_text(timeout=max(1.0, (deadline - time.monotonic()) * 1000))

        await _poll(deadline, read, check, what)

    async def _wait_page(self, step: Step, deadline: float, ms: Callable[[], float]) -> None:
        p, page = step.params, self.page
        if "url" in p:
            matcher = step.matcher("url")
            await _poll(deadline, lambda: _sync(page.url), matcher, f"URL {matcher.describe()}")
        elif "text" in p:
            body = page.locator("body")
            await _poll(deadline, body.inner_text, lambda t: p["text"] in t, f"text {p['text']!r}")
        else:
            await page.wait_for_function(p["expression"], timeout=ms(), polling=50)

    async def _wait_gone(self, step: Step, deadline: float, ms: Callable[[], float]) -> None:
        state = step.params["state"]
        if len(step.selectors) == 1:
            await self._locator(step.selectors[0]).wait_for(state=state, timeout=ms())
            return

        async def present() -> bool:
            for selector in step.selectors:
                locator = self._locator(selector)
                if await (locator.is_visible() if state == "hidden" else locator.count()):
                    return True
            return False

        await _poll(deadline, present, lambda shown: not shown, f"every alternative {state}")


async def _sync(value: Any) -> Any:
    return value


async def _poll(
    deadline: float,
    read: Callable[[], Awaitable[Any]],
    check: Callable[[Any], bool],
    what: str,
) -> None:
    """Retry ``read`` until ``check`` accepts it or the deadline passes (assertions retry)."""
    start = time.monotonic()
    while True:
        actual = await read()
        if check(actual):
            return
        if time.monotonic() >= deadline:
            shown = preview(actual) if isinstance(actual, str) else repr(actual)
            raise StepTimeoutError(
                f"expected {what} within {deadline - start:.1f}s; last saw {shown}"
            )
        await asyncio.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
