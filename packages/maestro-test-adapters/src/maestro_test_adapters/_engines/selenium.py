"""The Selenium engine: blocking WebDriver calls run in one worker thread per browser.

Every action locates its element afresh (one script round trip that also checks
visibility and enabled state), waits until it is actionable, and retries only when the
browser reports that the action did not happen (stale, intercepted, not interactable).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from maestro_test_adapters._errors import StepError, StepTimeoutError
from maestro_test_adapters._journey import Step
from maestro_test_adapters._selectors import Selector
from maestro_test_adapters._selenium import SeleniumAdapter

from ._base import (
    DRAG_AND_DROP,
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
    preview,
    unexpected_dialog,
)

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

__all__ = ["SeleniumEngine"]

T = TypeVar("T")

_LOCATE = """
const alts = arguments[0], want = arguments[1], withText = arguments[2];
function deep(root, sel) {
  const hit = root.querySelector(sel);
  if (hit) return hit;
  for (const node of root.querySelectorAll('*')) {
    if (node.shadowRoot) { const inner = deep(node.shadowRoot, sel); if (inner) return inner; }
  }
  return null;
}
function find(kind, value) {
  // Like Playwright's CSS engine, plain CSS also reaches into open shadow roots.
  if (kind === 'css') return document.querySelector(value) || deep(document, value);
  if (kind === 'pierce') return deep(document, value);
  if (kind === 'shadow') {
    let el = document.querySelector(value[0]) || deep(document, value[0]);
    for (let i = 1; el && i < value.length; i++) {
      el = el.shadowRoot ? el.shadowRoot.querySelector(value[i]) : null;
    }
    return el;
  }
  return document.evaluate(value, document, null,
    XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
}
function visible(el) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  return getComputedStyle(el).visibility !== 'hidden';
}
let present = false, shown = false;
for (let i = 0; i < alts.length; i++) {
  let el;
  try { el = find(alts[i][0], alts[i][1]); } catch (e) { return {error: String(e), index: i}; }
  if (!el || !(el instanceof Element)) continue;
  present = true;
  const vis = visible(el);
  shown = shown || vis;
  if (want === 'attached' || vis) {
    const box = el.getBoundingClientRect();
    return {index: i, el: el, visible: vis, enabled: !el.disabled,
            tag: el.tagName.toLowerCase(), checked: !!el.checked, type: el.type || '',
            draggable: !!el.draggable, width: box.width, height: box.height,
            text: withText ? el.innerText : null};
  }
}
return {index: -1, present: present, shown: shown};
"""

_NET_ERROR = """
if (!location.href.startsWith('chrome-error:')) return null;
const code = document.querySelector('.error-code');
return code ? code.textContent.trim() : 'the browser showed its error page';
"""

_COUNT = """
const kind = arguments[0], value = arguments[1];
if (kind === 'css') return document.querySelectorAll(value).length;
if (kind === 'pierce') {
  let n = 0;
  const walk = root => {
    n += root.querySelectorAll(value).length;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  return n;
}
if (kind === 'shadow') {
  let roots = [document];
  for (let i = 0; i < value.length - 1; i++) {
    roots = roots.flatMap(r => Array.from(r.querySelectorAll(value[i])))
      .map(el => el.shadowRoot).filter(Boolean);
  }
  return roots.reduce((n, r) => n + r.querySelectorAll(value[value.length - 1]).length, 0);
}
return document.evaluate('count(' + value + ')', document, null,
  XPathResult.NUMBER_TYPE, null).numberValue;
"""


_PROPERTY = (
    PROPERTY_MATCH
    + """
const e = arguments[0], name = arguments[1], expected = arguments[2];
return {ok: same(e[name], expected), seen: shown(e[name])};
"""
)

# Scrolls an element into view for pointer actions (W3C actions never scroll by themselves).
_INTO_VIEW = """
const r = arguments[0].getBoundingClientRect();
if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
  arguments[0].scrollIntoView({block: 'center', inline: 'center'});
}
"""


class _NotYet(Exception):
    """The element is there but not ready for this action yet (retried until the deadline)."""


_SELECT = """
const el = arguments[0], wanted = arguments[1];
if (el.tagName !== 'SELECT') return 'not a <select> element';
for (const opt of el.options) {
  if (opt.value === wanted || opt.label === wanted || opt.text.trim() === wanted) {
    el.value = opt.value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
    return null;
  }
}
return 'no option with value or label ' + JSON.stringify(wanted);
"""

_KEYS = {
    "enter": "ENTER",
    "tab": "TAB",
    "escape": "ESCAPE",
    "esc": "ESCAPE",
    "backspace": "BACKSPACE",
    "delete": "DELETE",
    "space": "SPACE",
    " ": "SPACE",
    "arrowup": "ARROW_UP",
    "arrowdown": "ARROW_DOWN",
    "arrowleft": "ARROW_LEFT",
    "arrowright": "ARROW_RIGHT",
    "home": "HOME",
    "end": "END",
    "pageup": "PAGE_UP",
    "pagedown": "PAGE_DOWN",
    "shift": "SHIFT",
    "control": "CONTROL",
    "alt": "ALT",
    "meta": "META",
    "insert": "INSERT",
    **{f"f{n}": f"F{n}" for n in range(1, 13)},
}
_MODIFIERS = ("shift", "control", "alt", "meta")


def _key(name: str) -> str:
    from selenium.webdriver.common.keys import Keys

    attr = _KEYS.get(name.lower())
    if attr is not None:
        return str(getattr(Keys, attr))
    if len(name) == 1:
        return name
    raise StepError(f"unknown key {name!r}; use Playwright key names such as Enter, Tab, ArrowDown")


class SeleniumEngine(Engine):
    """Runs journey steps on the system Chromium through Selenium WebDriver."""

    name = "selenium"

    def __init__(
        self,
        *,
        headless: bool = True,
        browser_path: str | os.PathLike[str] | None = None,
        driver_path: str | os.PathLike[str] | None = None,
        viewport: tuple[int, int] = (1280, 720),
    ) -> None:
        self._adapter = SeleniumAdapter(browser_path, driver_path)
        self._headless = headless
        self._viewport = viewport
        self._driver: WebDriver | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="maestro-selenium")
        self._console: list[str] = []
        self._page_load_timeout: float | None = None
        self._current_viewport: tuple[int, int] | None = None
        self._tabs: list[str] = []  # window handles in the order they opened
        self._visited: set[str] = set()  # tabs the journey has been on
        self._history: list[str] = []  # the tabs it left, for close_tab
        self._network = NetworkLog()
        self._requests: dict[str, str] = {}  # CDP request id -> URL
        self._busy = False  # this engine's own session runs a journey
        self._idle: list[SeleniumEngine] = []  # sessions forked for concurrent journeys
        self._children: list[SeleniumEngine] = []
        self._browser_path, self._driver_path = browser_path, driver_path

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    @property
    def driver(self) -> WebDriver:
        """The WebDriver (only after start())."""
        if self._driver is None:
            raise StepError("the selenium engine has not started")
        return self._driver

    async def start(self) -> None:
        if self._driver is None:
            # The performance log carries the Network.* events of wait_for_response and
            # assert_request_failed (WebDriver has no network events of its own).
            self._driver = await self._call(
                functools.partial(self._adapter._create, self._headless, network_log=True)
            )

    async def fork(self) -> SeleniumEngine:
        """A WebDriver session of its own for a concurrent journey (WebDriver runs one
        command at a time per session): this engine's own when it is free, else an idle
        one that an earlier journey gave back, else a new one (started by its journey)."""
        if not self._busy:
            self._busy = True
            return self
        if self._idle:
            return self._idle.pop()
        child = SeleniumEngine(
            headless=self._headless,
            browser_path=self._browser_path,
            driver_path=self._driver_path,
            viewport=self._viewport,
        )
        self._children.append(child)
        return child

    async def join(self, child: Engine) -> None:
        if child is self:
            self._busy = False
        elif isinstance(child, SeleniumEngine):
            self._idle.append(child)

    async def begin(self, *, trace: bool, blank: bool = True) -> None:
        await self.start()
        await self._call(self._begin, blank)

    def _begin(self, blank: bool) -> None:
        driver = self.driver
        # Tabs and popups a previous journey opened are closed, as a Playwright context's.
        handles = driver.window_handles
        if len(handles) > 1 or driver.current_window_handle != handles[0]:
            for handle in handles[1:]:
                driver.switch_to.window(handle)
                driver.close()
            driver.switch_to.window(handles[0])
        self._tabs, self._visited, self._history = [handles[0]], {handles[0]}, []
        # WebDriver's delete_all_cookies() only reaches the current domain; CDP clears all.
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        if blank:
            driver.get("about:blank")
        if self._current_viewport != self._viewport:
            self._set_viewport(*self._viewport)
        self._console = []
        self._drain_console()
        self._network = NetworkLog()
        self._requests = {}
        self._drain_network(keep=False)

    async def end(self, trace_path: Path | None) -> list[Path]:
        return []

    async def close(self) -> None:
        children, self._children, self._idle = self._children, [], []
        driver, self._driver = self._driver, None
        try:
            for child in children:
                await child.close()
            if driver is not None:
                await self._call(driver.quit)
        finally:
            self._adapter.close()
            self._executor.shutdown(wait=False)

    async def current_url(self) -> str:
        return await self._call(lambda: str(self.driver.current_url))

    async def screenshot(self, path: Path, *, full_page: bool) -> None:
        await self._call(self._screenshot, path, full_page)

    def _dismiss_alert(self) -> None:
        from selenium.common.exceptions import WebDriverException

        try:
            self.driver.switch_to.alert.dismiss()
        except WebDriverException:
            return

    def _screenshot(self, path: Path, full_page: bool) -> None:
        # An open alert blocks the renderer: a CDP screenshot would wait for the read timeout.
        self._dismiss_alert()
        data = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full_page}
        )
        path.write_bytes(base64.b64decode(data["data"]))

    async def page_html(self) -> str:
        return await self._call(lambda: str(self.driver.page_source))

    async def console(self) -> list[str]:
        await self._call(self._drain_console)
        return list(self._console)

    def _drain_console(self) -> None:
        try:
            entries = self.driver.get_log("browser")  # type: ignore[attr-defined]
        except Exception:  # a driver without the log endpoint: no console, not a failure
            return
        for entry in entries:
            self._console.append(f"{str(entry.get('level', '')).lower()}: {entry.get('message')}")

    def _drain_network(self, *, keep: bool = True) -> None:
        """Read the performance log's Network events into the journey's network log."""
        try:
            entries = self.driver.get_log("performance")  # type: ignore[attr-defined]
        except Exception:  # a driver without the performance log: no events
            return
        if not keep:
            return
        for entry in entries:
            try:
                message = json.loads(entry["message"])["message"]
            except (KeyError, TypeError, ValueError):
                continue
            method, params = message.get("method"), message.get("params") or {}
            if method == "Network.requestWillBeSent":
                self._requests[params.get("requestId", "")] = params["request"]["url"]
            elif method == "Network.responseReceived":
                response = params.get("response") or {}
                status = response.get("status")
                self._network.responses.append(
                    (str(response.get("url", "")), int(status) if status is not None else 0)
                )
            elif method == "Network.loadingFailed":
                url = self._requests.get(params.get("requestId", ""), "")
                self._network.failed.append((url, str(params.get("errorText", "failed"))))

    def _network_step(self, step: Step, deadline: float) -> None:
        seen = (
            self._network.response_seen
            if step.action == "wait_for_response"
            else self._network.failure_seen
        )
        start = time.monotonic()
        while True:
            self._drain_network()
            if seen(step):
                return
            if time.monotonic() >= deadline:
                raise StepTimeoutError(
                    f"{self._network.describe(step)} within {deadline - start:.1f}s"
                )
            time.sleep(POLL_INTERVAL)

    def _refresh_tabs(self) -> list[str]:
        """The open tabs in the order they opened (new ones appended as the driver lists them)."""
        handles = self.driver.window_handles
        self._tabs = [h for h in self._tabs if h in handles] + [
            h for h in handles if h not in self._tabs
        ]
        return self._tabs

    def _tab(self, step: Step, deadline: float) -> None:
        driver = self.driver
        current = driver.current_window_handle
        if step.action == "close_tab":
            tabs = self._refresh_tabs()
            if len(tabs) <= 1:
                raise StepError("close_tab cannot close the journey's only tab")
            driver.close()
            tabs.remove(current)
            while self._history and self._history[-1] not in tabs:
                self._history.pop()
            driver.switch_to.window(self._history.pop() if self._history else tabs[-1])
            return
        if "index" in step.params:
            index = step.params["index"]
            _poll(deadline, lambda: len(self._refresh_tabs()), lambda n: n > index,
                  f"a tab at index {index}")  # fmt: skip
            target = self._tabs[index]
        else:
            _poll(
                deadline,
                lambda: [h for h in self._refresh_tabs() if h not in self._visited],
                bool,
                "a new tab or popup to open",
            )
            target = [h for h in self._tabs if h not in self._visited][-1]
        if target != current:
            self._history.append(current)
            self._visited.add(target)
            driver.switch_to.window(target)
        else:
            driver.switch_to.default_content()

    def _set_viewport(self, width: int, height: int) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self._current_viewport = (width, height)

    # -- steps ---------------------------------------------------------------------------

    async def perform(self, step: Step, timeout: float) -> str | None:
        return await self._call(self._perform_sync, step, timeout)

    def _perform_sync(self, step: Step, timeout: float) -> str | None:
        from selenium.common.exceptions import (
            TimeoutException,
            UnexpectedAlertPresentException,
            WebDriverException,
        )

        deadline = time.monotonic() + timeout
        try:
            return self._perform(step, timeout, deadline)
        except UnexpectedAlertPresentException as exc:
            self._dismiss_alert()
            raise StepError(unexpected_dialog("alert", exc.alert_text or "")) from None
        except TimeoutException as exc:
            raise StepTimeoutError(
                f"timed out after {timeout:g}s: {first_lines(exc.msg or str(exc))}"
            ) from None
        except WebDriverException as exc:
            raise StepError(first_lines(exc.msg or str(exc))) from None

    def _perform(self, step: Step, timeout: float, deadline: float) -> str | None:
        driver, p, action = self.driver, step.params, step.action
        if action == "navigate":
            if self._page_load_timeout != timeout:
                driver.set_page_load_timeout(timeout)
                self._page_load_timeout = timeout
            driver.get(p["url"])
            problem = driver.execute_script(_NET_ERROR)
            if problem:
                raise StepError(f"navigating to {p['url']} failed: net::{problem}")
            return None
        if action in ("accept_dialog", "dismiss_dialog"):
            self._handle_dialog(step, deadline)
            return None
        if action in ("switch_tab", "close_tab"):
            self._tab(step, deadline)
            return None
        if action in ("wait_for_response", "assert_request_failed"):
            self._network_step(step, deadline)
            return None
        if action == "frame" and not step.selectors:
            driver.switch_to.default_content()
            return None
        if action == "reload":
            driver.refresh()
            driver.switch_to.default_content()
            return None
        if action in ("back", "forward"):
            if action == "back":
                driver.back()
            else:
                driver.forward()
            driver.switch_to.default_content()
            return None
        if action == "evaluate":
            check_evaluated(step, driver.execute_script(f"return ({p['expression']});"))
            return None
        if action == "assert_count":
            selector = step.selectors[0]
            kind, value = _script_selector(selector)
            _poll(
                deadline,
                lambda: int(driver.execute_script(_COUNT, kind, value)),
                lambda n: count_matches(step, n),
                count_wanted(step),
            )
            return selector.raw
        if action == "set_viewport":
            self._set_viewport(int(p["width"]), int(p["height"]))
            return None
        if action == "press" and not step.selectors:
            self._press(None, p["key"])
            return None
        if action == "scroll" and not step.selectors:
            driver.execute_script(
                "window.scrollTo(arguments[0], arguments[1])", p.get("x", 0), p.get("y", 0)
            )
            return None
        if action == "wait_for" and not step.selectors:
            if "url" in p:
                matcher = step.matcher("url")
                _poll(deadline, lambda: driver.current_url, matcher, f"URL {matcher.describe()}")
            elif "text" in p:
                _poll(deadline, self._body_text, lambda t: p["text"] in t, f"text {p['text']!r}")
            else:
                script = f"return !!({p['expression']});"
                _poll(deadline, lambda: driver.execute_script(script), bool, "expression truthy")
            return None
        if action == "assert_url":
            matcher = step.matcher("url")
            _poll(deadline, lambda: driver.current_url, matcher, f"page URL {matcher.describe()}")
            return None
        if action == "assert_title":
            matcher = step.matcher("title")
            _poll(deadline, lambda: driver.title, matcher, f"page title {matcher.describe()}")
            return None
        if action == "assert_text":
            return self._assert_text(step, deadline)
        if action == "wait_for" and p.get("state") in ("hidden", "detached"):
            want = "visible" if p["state"] == "hidden" else "attached"
            _poll(
                deadline,
                lambda: self._locate(step.selectors, want, with_text=False),
                lambda found: found["index"] < 0,
                f"every alternative {p['state']}",
            )
            return step.selector_text
        attached = p.get("state") == "attached" or action in (
            "upload",
            "assert_attribute",
            "assert_value",
            "assert_property",
            "frame",
        )
        state = "attached" if attached else "visible"
        needs_enabled = action in (
            "click",
            "drag",
            "double_click",
            "type",
            "fill",
            "select",
            "check",
            "upload",
        )
        return self._act(step, deadline, state, needs_enabled)

    def _act(self, step: Step, deadline: float, state: str, needs_enabled: bool) -> str:
        from selenium.common.exceptions import (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            StaleElementReferenceException,
        )

        last = ""
        while True:
            found = self._locate(step.selectors, state, with_text=False)
            if found["index"] >= 0 and (found["enabled"] or not needs_enabled):
                selector: Selector = step.selectors[found["index"]]
                try:
                    self._do(step, found)
                    return selector.raw
                except (
                    _NotYet,
                    StaleElementReferenceException,
                    ElementClickInterceptedException,
                    ElementNotInteractableException,
                ) as exc:
                    # The browser refused before acting, so trying again never repeats it.
                    last = first_lines(getattr(exc, "msg", None) or str(exc), 1)
            elif found["index"] >= 0:
                last = "the element is disabled"
            elif found.get("present"):
                last = "the element is not visible"
            else:
                last = "no element matched"
            if time.monotonic() >= deadline:
                tried = " | ".join(s.raw for s in step.selectors)
                raise StepTimeoutError(f"waiting for {tried!r} to be {state}: {last}")
            time.sleep(POLL_INTERVAL)

    def _do(self, step: Step, found: dict[str, Any]) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        element: WebElement = found["el"]
        action, p = step.action, step.params
        if action == "click" and p.get("button", "left") == "left" and "x" not in p:
            element.click()
        elif action in ("click", "double_click"):
            self._pointer_click(step, found)
        elif action == "frame":
            if found["tag"] not in ("iframe", "frame"):
                raise StepError(
                    f"{step.selector_text!r} is not a frame (an <iframe> or <frame> element)"
                )
            self.driver.switch_to.frame(element)
        elif action == "drag":
            self._drag(step, found)
        elif action == "assert_property":
            seen = self.driver.execute_script(_PROPERTY, element, p["property"], p["expected"])
            if not seen["ok"]:
                raise _NotYet(
                    f"expected property {p['property']!r} equal to {p['expected']!r}; "
                    f"last saw {seen['seen']}"
                )
        elif action == "hover":
            ActionChains(self.driver, duration=0).move_to_element(element).perform()
        elif action in ("fill", "type") and found["type"] == "file":
            raise StepError(file_input_refused(action, self.name))
        elif action == "upload":
            files = p["files"] if isinstance(p["files"], list) else [p["files"]]
            element.send_keys("\n".join(str(Path(f).resolve()) for f in files))
        elif action in ("assert_attribute", "assert_value"):
            if action == "assert_value":
                what, expected = "value", p["value"]
                actual = element.get_property("value")
            else:
                what, expected = f"attribute {p['attribute']!r}", p.get("value")
                actual = element.get_dom_attribute(p["attribute"])
            if (actual is None) if expected is None else (actual != expected):
                shown = "present" if expected is None else f"equal to {expected!r}"
                raise _NotYet(f"expected {what} {shown}; last saw {actual!r}")
        elif action == "fill":
            if found["tag"] == "select":
                self._select(element, p["text"])
            else:
                element.clear()
                element.send_keys(p["text"])
        elif action == "type":
            element.send_keys(p["text"])
        elif action == "press":
            self._press(element, p["key"])
        elif action == "select":
            self._select(element, p["value"])
        elif action == "check":
            if bool(found["checked"]) != bool(p.get("checked", True)):
                element.click()
        elif action == "scroll":
            if "x" in p or "y" in p:
                self.driver.execute_script(
                    "arguments[0].scrollTo(arguments[1], arguments[2])",
                    element,
                    p.get("x", 0),
                    p.get("y", 0),
                )
            else:
                self.driver.execute_script(
                    "arguments[0].scrollIntoView({block: 'center'})", element
                )
        # wait_for / assert_visible: locating the element in the right state was the work.

    def _pointer_click(self, step: Step, found: dict[str, Any]) -> None:
        """A click with another button or at an offset, or a double click, as W3C actions
        (duration=0: the pointer moves at once, as Playwright's; the default glides 250 ms)."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.actions.mouse_button import MouseButton

        element: WebElement = found["el"]
        p = step.params
        self.driver.execute_script(_INTO_VIEW, element)
        chain = ActionChains(self.driver, duration=0)
        if "x" in p:
            # Offsets are from the element's top-left corner (as Playwright's position);
            # W3C actions measure them from its centre.
            dx = round(float(p["x"]) - found["width"] / 2)
            dy = round(float(p["y"]) - found["height"] / 2)
            chain.move_to_element_with_offset(element, dx, dy)
        else:
            chain.move_to_element(element)
        button = p.get("button", "left")
        if step.action == "double_click":
            chain.double_click()
        elif button == "right":
            chain.context_click()
        elif button == "middle":
            pointer = chain.w3c_actions.pointer_action
            pointer.pointer_down(MouseButton.MIDDLE)  # type: ignore[no-untyped-call]
            pointer.pointer_up(MouseButton.MIDDLE)  # type: ignore[no-untyped-call]
        else:
            chain.click()
        chain.perform()

    def _drag(self, step: Step, found: dict[str, Any]) -> None:
        """HTML5 drag and drop as script events (chromedriver's pointer actions never start
        a native drag in Chromium); a plain mouse drag for elements that are not draggable."""
        from selenium.webdriver.common.action_chains import ActionChains

        targets: tuple[Selector, ...] = step.params["target"]
        dropped = self._locate(targets, "visible", with_text=False)
        if dropped["index"] < 0:
            raise _NotYet(f"the drop target {' | '.join(t.raw for t in targets)!r} is not visible")
        source: WebElement = found["el"]
        target: WebElement = dropped["el"]
        if found["draggable"]:
            problem = self.driver.execute_script(DRAG_AND_DROP, source, target)
            if problem:
                raise StepError(f"drag failed: {problem}")
            return
        self.driver.execute_script(_INTO_VIEW, source)
        ActionChains(self.driver, duration=0).drag_and_drop(source, target).perform()

    def _select(self, element: WebElement, value: str) -> None:
        problem = self.driver.execute_script(_SELECT, element, value)
        if problem:
            # As Playwright's select_option: wait for the option to appear.
            raise _NotYet(str(problem))

    def _handle_dialog(self, step: Step, deadline: float) -> None:
        from selenium.common.exceptions import NoAlertPresentException

        while True:
            try:
                alert = self.driver.switch_to.alert
                break
            except NoAlertPresentException:
                if time.monotonic() >= deadline:
                    raise StepTimeoutError("no dialog opened (alert, confirm or prompt)") from None
                time.sleep(POLL_INTERVAL)
        if step.action == "dismiss_dialog":
            alert.dismiss()
            return
        if "text" in step.params:
            alert.send_keys(step.params["text"])
        alert.accept()

    def _press(self, element: WebElement | None, combo: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        parts = ["+"] if combo == "+" else combo.split("+")
        *modifiers, main = parts
        for part in modifiers:
            if part.lower() not in _MODIFIERS:
                raise StepError(
                    f"{part!r} in {combo!r} is not a modifier (Shift, Control, Alt, Meta)"
                )
        if element is not None and not modifiers:
            element.send_keys(_key(main))
            return
        chain = ActionChains(self.driver, duration=0)
        for part in modifiers:
            chain.key_down(_key(part))
        if element is not None:
            chain.send_keys_to_element(element, _key(main))
        else:
            chain.send_keys(_key(main))
        for part in reversed(modifiers):
            chain.key_up(_key(part))
        chain.perform()

    def _locate(
        self, selectors: tuple[Selector, ...], want: str, *, with_text: bool
    ) -> dict[str, Any]:
        alts = [list(_script_selector(s)) for s in selectors]
        found: dict[str, Any] = self.driver.execute_script(_LOCATE, alts, want, with_text)
        if "error" in found:
            raise StepError(
                f"selector {selectors[found['index']].raw!r} is invalid: {found['error']}"
            )
        return found

    def _body_text(self) -> str:
        return str(
            self.driver.execute_script("return document.body ? document.body.innerText : ''")
        )

    def _assert_text(self, step: Step, deadline: float) -> str | None:
        expected = step.params["text"]
        exact = bool(step.params.get("exact", False))

        def check(actual: str | None) -> bool:
            if actual is None:
                return False
            actual = normalize_space(actual)
            return actual == normalize_space(expected) if exact else expected in actual

        what = f"text {'equal to' if exact else 'containing'} {expected!r}"
        if not step.selectors:
            _poll(deadline, self._body_text, check, what)
            return None
        used: list[str] = []

        def read() -> str | None:
            found = self._locate(step.selectors, "visible", with_text=True)
            if found["index"] < 0:
                return None
            used[:] = [step.selectors[found["index"]].raw]
            return str(found["text"])

        _poll(deadline, read, check, what)
        return used[0] if used else None


def _script_selector(selector: Selector) -> tuple[str, Any]:
    """The (kind, value) pair the locating scripts take."""
    if selector.kind in ("css", "pierce"):
        return selector.kind, selector.value
    if selector.kind == "shadow":
        return "shadow", list(selector.parts)
    return "xpath", selector.to_xpath()


def _poll(
    deadline: float, read: Callable[[], Any], check: Callable[[Any], bool], what: str
) -> None:
    start = time.monotonic()
    while True:
        actual = read()
        if check(actual):
            return
        if time.monotonic() >= deadline:
            shown = preview(actual) if isinstance(actual, str) else repr(actual)
            raise StepTimeoutError(
                f"expected {what} within {deadline - start:.1f}s; last saw {shown}"
            )
        time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
