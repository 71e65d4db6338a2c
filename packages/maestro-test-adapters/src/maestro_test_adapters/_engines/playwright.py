"""The Playwright (async) engine: Playwright's own auto-waiting, plus polling assertions."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from maestro_test_adapters._errors import StepError, StepTimeoutError
from maestro_test_adapters._journey import Step
from maestro_test_adapters._playwright import PlaywrightAdapter
from maestro_test_adapters._selectors import Selector

from ._base import (
    POLL_INTERVAL,
    PROPERTY_MATCH,
    Engine,
    NetworkLog,
    check_evaluated,
    count_matches,
    count_wanted,
    file_input_refused,
    first_lines,
    normalize_space,
    playwright_failure,
    preview,
    unexpected_dialog,
)

if TYPE_CHECKING:
    from playwright.async_api import (
        Browser,
        BrowserContext,
        Dialog,
        ElementHandle,
        Frame,
        Locator,
        Page,
        Position,
        Request,
        Response,
    )

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
        self._dialogs: list[Dialog] = []
        self._background: set[asyncio.Future[Any]] = set()
        self._opened = asyncio.Event()
        self._frames: list[Frame] = []  # the frames entered, outermost first
        self._visited: list[Page] = []  # tabs the journey has been on
        self._history: list[Page] = []  # the tabs it left, for close_tab
        self._watched: set[int] = set()
        self._network = NetworkLog()

    async def start(self) -> None:
        if self._browser is None:
            self._browser = await self._adapter.alaunch()

    async def fork(self) -> PlaywrightEngine:
        """A sibling for a concurrent journey: its own context on this engine's browser."""
        await self.start()
        child = PlaywrightEngine(viewport=self._viewport)
        child._adapter, child._browser = self._adapter, self._browser
        return child

    async def join(self, child: Engine) -> None:
        """Nothing to give back: the child's context closed when its journey ended."""

    async def begin(self, *, trace: bool, blank: bool = True) -> None:
        await self.start()
        assert self._browser is not None
        width, height = self._viewport
        self._context = await self._browser.new_context(viewport={"width": width, "height": height})
        self._console = []
        self._network = NetworkLog()
        network = self._network
        self._context.on("response", lambda r: _seen_response(network, r))
        self._context.on("requestfailed", lambda r: _seen_failure(network, r))
        self._context.on("page", self._watch)
        if trace:
            # DOM snapshots only: the screencast costs ~20% per journey and the failure
            # screenshot is taken separately anyway.
            await self._context.tracing.start(screenshots=False, snapshots=True, sources=False)
        self._tracing = trace
        self._dialogs = []
        self._opened = asyncio.Event()
        self._watched = set()
        self._frames, self._history = [], []
        self._page = await self._context.new_page()
        self._watch(self._page)
        self._visited = [self._page]

    def _watch(self, page: Page) -> None:
        """Listen to a tab of the journey (its first page, and every tab or popup it opens)."""
        if id(page) in self._watched:
            return
        self._watched.add(id(page))
        page.on("console", lambda m: self._console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self._console.append(f"pageerror: {e}"))
        # Keep dialogs open (Playwright would dismiss them silently) so that a dialog the
        # journey did not expect fails its next step, as on Selenium.
        page.on("dialog", self._on_dialog)

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

    async def current_url(self) -> str:
        return self.page.url

    async def screenshot(self, path: Path, *, full_page: bool) -> None:
        await self._dismiss_dialogs()
        await self.page.screenshot(path=path, full_page=full_page)

    async def page_html(self) -> str:
        return await self.page.content()

    async def console(self) -> list[str]:
        return list(self._console)

    # -- locating ------------------------------------------------------------------------

    def _locator(self, selector: Selector) -> Locator:
        return self._all(selector).first

    @property
    def _root(self) -> Frame:
        """The document steps act in: the innermost frame entered, else the page's."""
        return self._frames[-1] if self._frames else self.page.main_frame

    def _all(self, selector: Selector) -> Locator:
        """Every element the selector matches (in the current frame)."""
        page = self._root
        if selector.kind in ("css", "pierce"):
            return page.locator(selector.value)
        if selector.kind == "shadow":
            # Playwright's CSS reaches into open shadow roots, so each part is searched
            # under the element the previous part found.
            first, *rest = selector.parts
            locator = page.locator(first)
            for part in rest:
                locator = locator.locator(part)
            return locator
        if selector.kind == "text":
            return page.get_by_text(selector.value)
        if selector.kind == "role" and selector.role:
            if selector.value:
                return page.get_by_role(selector.role, name=selector.value)  # type: ignore[arg-type]
            return page.get_by_role(selector.role)  # type: ignore[arg-type]
        return page.locator(f"xpath={selector.to_xpath()}")

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
        if self._dialogs and step.action not in ("accept_dialog", "dismiss_dialog"):
            dialog = self._dialogs[0]
            await self._dismiss_dialogs()
            raise StepError(unexpected_dialog(dialog.type, dialog.message))
        try:
            return await self._perform_or_dialog(step, deadline)
        except PlaywrightTimeout as exc:
            raise StepTimeoutError(
                f"timed out after {timeout:g}s: {playwright_failure(str(exc))}"
            ) from None
        except PlaywrightError as exc:
            raise StepError(first_lines(str(exc))) from None

    async def _perform_or_dialog(self, step: Step, deadline: float) -> str | None:
        """Run the step; an action that opens a dialog is done once the dialog is open
        (Playwright's own call only returns after the dialog closes)."""
        if step.action not in _MAY_OPEN_DIALOG:
            return await self._perform(step, deadline)
        task = asyncio.ensure_future(self._perform(step, deadline))
        opened = asyncio.ensure_future(self._opened.wait())
        try:
            await asyncio.wait({task, opened}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            opened.cancel()
        if task.done() or not self._dialogs:
            return await task
        self._background.add(task)
        task.add_done_callback(_forget(self._background))
        return step.selector_text

    async def _perform(self, step: Step, deadline: float) -> str | None:
        page, p, action = self.page, step.params, step.action

        def ms() -> float:
            return max(1.0, (deadline - time.monotonic()) * 1000)

        if action in ("navigate", "reload", "back", "forward"):
            self._frames = []  # a new document: steps act at its top again, as on Selenium
        if action == "navigate":
            await page.goto(p["url"], timeout=ms())
            return None
        if action in ("accept_dialog", "dismiss_dialog"):
            await self._handle_dialog(step, deadline)
            return None
        if action in ("switch_tab", "close_tab"):
            await self._tab(step, deadline)
            return None
        if action in ("wait_for_response", "assert_request_failed"):
            network = self._network
            seen = network.response_seen if action == "wait_for_response" else network.failure_seen
            await _poll(deadline, lambda: _sync(step), seen, "", lambda: network.describe(step))
            return None
        if action == "frame" and not step.selectors:
            self._frames = []
            return None
        if action == "reload":
            await page.reload(timeout=ms())
            return None
        if action in ("back", "forward"):
            go = page.go_back if action == "back" else page.go_forward
            if await go(timeout=ms()) is None:
                raise StepError(f"there is no page to go {action} to")
            return None
        if action == "evaluate":
            value = await self._root.evaluate(p["expression"])
            check_evaluated(step, value)
            return None
        if action == "assert_count":
            locator = self._all(step.selectors[0])
            await _poll(
                deadline, locator.count, lambda n: count_matches(step, n), count_wanted(step)
            )
            return step.selectors[0].raw
        if action == "set_viewport":
            await page.set_viewport_size({"width": int(p["width"]), "height": int(p["height"])})
            return None
        if action == "press" and not step.selectors:
            await page.keyboard.press(p["key"])
            return None
        if action == "scroll" and not step.selectors:
            await self._root.evaluate(
                "([x, y]) => window.scrollTo(x, y)", [p.get("x", 0), p.get("y", 0)]
            )
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
            await self._assert_text(self._root.locator("body"), step, deadline)
            return None
        if action == "wait_for" and p.get("state") in ("hidden", "detached"):
            await self._wait_gone(step, deadline, ms)
            return step.selector_text
        attached = p.get("state") == "attached" or action in (
            "upload",
            "assert_attribute",
            "assert_value",
            "assert_property",
            "frame",
        )
        state = "attached" if attached else "visible"
        locator, selector = await self._choose(step.selectors, deadline, state)
        position: Position | None = {"x": float(p["x"]), "y": float(p["y"])} if "x" in p else None
        if action == "click":
            button: Literal["left", "middle", "right"] = p.get("button", "left")
            await locator.click(button=button, position=position, timeout=ms())
        elif action == "double_click":
            await locator.dblclick(position=position, timeout=ms())
        elif action == "frame":
            handle = await locator.element_handle(timeout=ms())
            await self._enter(handle, selector)
        elif action == "drag":
            target, _ = await self._choose(p["target"], deadline)
            await locator.drag_to(target, timeout=ms())
        elif action == "assert_property":
            await self._assert_js_property(locator, step, deadline)
        elif action == "hover":
            await locator.hover(timeout=ms())
        elif action == "fill":
            await self._fill(locator, p["text"], ms)
        elif action == "type":
            if await locator.evaluate("e => e.type === 'file'", timeout=ms()):
                raise StepError(file_input_refused("type", self.name))
            await locator.press_sequentially(p["text"], timeout=ms())
        elif action == "upload":
            files = p["files"] if isinstance(p["files"], list) else [p["files"]]
            await locator.set_input_files(files, timeout=ms())
        elif action in ("assert_attribute", "assert_value"):
            await self._assert_property(locator, step, deadline)
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
            if 'type "file"' in str(exc):
                raise StepError(file_input_refused("fill", self.name)) from None
            if "not an <input>" not in str(exc):
                raise
            if await locator.evaluate("e => e.tagName") != "SELECT":
                raise
            await locator.select_option(text, timeout=ms())

    async def _enter(self, handle: ElementHandle, selector: Selector) -> None:
        try:
            frame = await handle.content_frame()
        finally:
            await handle.dispose()
        if frame is None:
            raise StepError(f"{selector.raw!r} is not a frame (an <iframe> or <frame> element)")
        self._frames.append(frame)

    async def _tab(self, step: Step, deadline: float) -> None:
        """switch_tab / close_tab: tabs in the order they opened; a new tab is one the
        journey has not been on yet."""
        assert self._context is not None
        context, current = self._context, self.page
        if step.action == "close_tab":
            if len(context.pages) <= 1:
                raise StepError("close_tab cannot close the journey's only tab")
            await current.close()
            while self._history and self._history[-1].is_closed():
                self._history.pop()
            self._page = self._history.pop() if self._history else context.pages[-1]
            self._frames = []
            await self._page.bring_to_front()
            return
        if "index" in step.params:
            index = step.params["index"]
            await _poll(
                deadline,
                lambda: _sync(len(context.pages)),
                lambda n: n > index,
                f"a tab at index {index}",
            )
            target = context.pages[index]
        else:
            await _poll(
                deadline,
                lambda: _sync([page for page in context.pages if page not in self._visited]),
                bool,
                "a new tab or popup to open",
            )
            target = [page for page in context.pages if page not in self._visited][-1]
        if target is not current:
            self._history.append(current)
            self._page = target
            if target not in self._visited:
                self._visited.append(target)
            self._watch(target)
            await target.bring_to_front()
        self._frames = []

    def _on_dialog(self, dialog: Dialog) -> None:
        self._dialogs.append(dialog)
        self._opened.set()

    async def _dismiss_dialogs(self) -> None:
        dialogs, self._dialogs[:] = list(self._dialogs), []
        self._opened.clear()
        for dialog in dialogs:
            try:
                await dialog.dismiss()
            except Exception:  # the page closed it already
                continue

    async def _handle_dialog(self, step: Step, deadline: float) -> None:
        while not self._dialogs:
            if time.monotonic() >= deadline:
                raise StepTimeoutError("no dialog opened (alert, confirm or prompt)")
            await asyncio.sleep(POLL_INTERVAL)
        dialog = self._dialogs.pop(0)
        if not self._dialogs:
            self._opened.clear()
        if step.action == "dismiss_dialog":
            await dialog.dismiss()
        elif "text" in step.params:
            await dialog.accept(step.params["text"])
        else:
            await dialog.accept()

    async def _assert_property(self, locator: Locator, step: Step, deadline: float) -> None:
        p = step.params
        if step.action == "assert_value":
            what, expected = "value", p["value"]

            def read() -> Awaitable[Any]:
                return locator.input_value(timeout=max(1.0, (deadline - time.monotonic()) * 1000))

        else:
            what, expected = f"attribute {p['attribute']!r}", p.get("value")

            def read() -> Awaitable[Any]:
                return locator.get_attribute(
                    p["attribute"], timeout=max(1.0, (deadline - time.monotonic()) * 1000)
                )

        def check(actual: Any) -> bool:
            return actual is not None if expected is None else actual == expected

        shown = "present" if expected is None else f"equal to {expected!r}"
        await _poll(deadline, read, check, f"{what} {shown}")

    async def _assert_js_property(self, locator: Locator, step: Step, deadline: float) -> None:
        name, expected = step.params["property"], step.params["expected"]
        script = PROPERTY_MATCH + "return {ok: same(e[name], expected), seen: shown(e[name])};"
        function = f"(e, [name, expected]) => {{ {script} }}"

        last: list[Any] = []

        async def read() -> Any:
            from playwright.async_api import TimeoutError as PlaywrightTimeout

            try:
                found = await locator.evaluate(
                    function,
                    [name, expected],
                    timeout=max(1.0, (deadline - time.monotonic()) * 1000),
                )
            except PlaywrightTimeout:
                if not last:  # never found the element: Playwright's own message says so
                    raise
                return last[0]  # found before, time ran out on the last read
            last[:] = [found]
            return found

        await _poll(
            deadline,
            read,
            lambda found: bool(found["ok"]),
            f"property {name!r} equal to {expected!r}",
        )

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
            body = self._root.locator("body")
            await _poll(deadline, body.inner_text, lambda t: p["text"] in t, f"text {p['text']!r}")
        else:
            await self._root.wait_for_function(p["expression"], timeout=ms(), polling=50)

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


_MAY_OPEN_DIALOG = ("click", "double_click", "press", "evaluate", "navigate", "reload")


def _forget(pending: set[asyncio.Future[Any]]) -> Callable[[asyncio.Future[Any]], None]:
    def done(task: asyncio.Future[Any]) -> None:
        pending.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: the step already counted as done

    return done


async def _sync(value: Any) -> Any:
    return value


def _seen_response(network: NetworkLog, response: Response) -> None:
    network.responses.append((response.url, response.status))


def _seen_failure(network: NetworkLog, request: Request) -> None:
    network.failed.append((request.url, request.failure or "failed"))


async def _poll(
    deadline: float,
    read: Callable[[], Awaitable[Any]],
    check: Callable[[Any], bool],
    what: str,
    explain: Callable[[], str] | None = None,
) -> None:
    """Retry ``read`` until ``check`` accepts it or the deadline passes (assertions retry).

    ``explain`` words the failure itself (instead of "expected <what>; last saw ...").
    """
    start = time.monotonic()
    while True:
        actual = await read()
        if check(actual):
            return
        if time.monotonic() >= deadline:
            if explain is not None and explain():
                raise StepTimeoutError(f"{explain()} within {deadline - start:.1f}s")
            if isinstance(actual, dict) and "seen" in actual:
                shown = str(actual["seen"])
            else:
                shown = preview(actual) if isinstance(actual, str) else repr(actual)
            raise StepTimeoutError(
                f"expected {what} within {deadline - start:.1f}s; last saw {shown}"
            )
        await asyncio.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
