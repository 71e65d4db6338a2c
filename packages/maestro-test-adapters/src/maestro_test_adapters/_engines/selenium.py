"""The Selenium engine: blocking WebDriver calls run in one worker thread per browser.

Every action locates its element afresh (one script round trip that also checks
visibility and enabled state), waits until it is actionable, and retries only when the
browser reports that the action did not happen (stale, intercepted, not interactable).
"""

from __future__ import annotations

import asyncio
import base64
import functools
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
    POLL_INTERVAL,
    Engine,
    check_evaluated,
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
    return {index: i, el: el, visible: vis, enabled: !el.disabled,
            tag: el.tagName.toLowerCase(), checked: !!el.checked, type: el.type || '',
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
return document.evaluate('count(' + value + ')', document, null,
  XPathResult.NUMBER_TYPE, null).numberValue;
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
            self._driver = await self._call(self._adapter.create_driver, self._headless)

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
        # WebDriver's delete_all_cookies() only reaches the current domain; CDP clears all.
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        if blank:
            driver.get("about:blank")
        if self._current_viewport != self._viewport:
            self._set_viewport(*self._viewport)
        self._console = []
        self._drain_console()

    async def end(self, trace_path: Path | None) -> list[Path]:
        return []

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        try:
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
        if action == "reload":
            driver.refresh()
            return None
        if action in ("back", "forward"):
            if action == "back":
                driver.back()
            else:
                driver.forward()
            return None
        if action == "evaluate":
            check_evaluated(step, driver.execute_script(f"return ({p['expression']});"))
            return None
        if action == "assert_count":
            selector = step.selectors[0]
            kind = "css" if selector.kind in ("css", "pierce") else "xpath"
            value = selector.value if kind == "css" else selector.to_xpath()
            _poll(
                deadline,
                lambda: int(driver.execute_script(_COUNT, kind, value)),
                lambda n: n == p["count"],
                f"{p['count']} elements",
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
        )
        state = "attached" if attached else "visible"
        needs_enabled = action in (
            "click",
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
        if action == "click":
            element.click()
        elif action == "double_click":
            # duration=0: move the pointer at once, as Playwright does (the default glides 250 ms).
            ActionChains(self.driver, duration=0).double_click(element).perform()
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
        alts = [
            [
                "css" if s.kind == "css" else "pierce" if s.kind == "pierce" else "xpath",
                s.value if s.kind in ("css", "pierce") else s.to_xpath(),
            ]
            for s in selectors
        ]
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
