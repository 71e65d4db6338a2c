"""maestro-test-adapters against hand-written Playwright and Selenium, in one process.

For each engine, on the system Chromium and a page served on 127.0.0.1:

* browser start: ours (PlaywrightAdapter.alaunch / SeleniumAdapter.create_driver)
  against the same launch written directly against Playwright / Selenium;
* a 20-step journey once the browser is up: AdvancedWebTester.run_user_journey against the
  same 20 steps written by hand (Playwright: locators + expect; Selenium: find_element +
  WebDriverWait; ActionChains with duration=0, as ours, so the pointer does not glide
  250 ms), each with a fresh page (Playwright) or the same driver (Selenium);
* a 14-step journey through a frame, a right click, an HTML5 drag and drop and a popup
  (frame, right_click, drag, switch_tab, close_tab), against the same by hand (Playwright:
  frame_locator, click(button="right"), drag_to, expect_page; Selenium: switch_to.frame,
  ActionChains.context_click, the drag events dispatched by script as a Selenium user must
  in Chromium, window handles).

Ours and by-hand alternate which goes first in every round (the machine is shared and has
two cores, so a fixed order would bill one side for the other's browser shutting down).
``--journeys-only`` skips the browser starts. Prints medians, the ratio of the medians and
the range of the per-round ratios. Aims: ours within 1.2x of hand-written; a 20-step journey
within 3 s after the browser is up. Ours is shown with the default trace mode
(retain-on-failure: Playwright tracing records every journey and keeps it on failure) and
with trace="off", which is what the hand-written code does.
"""

from __future__ import annotations

import asyncio
import http.server
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from maestro_test_adapters import AdvancedWebTester, PlaywrightAdapter, SeleniumAdapter
from maestro_test_adapters._browser import BrowserInstall, chromium_flags

RATIO_AIM = 1.2
JOURNEY_AIM_S = 3.0
STARTS = 6
SETTLE_S = 0.5
JOURNEYS = 5

PAGE = b"""<!doctype html><html><head><title>Bench</title></head><body>
<button id="login-button" onclick="document.getElementById('form').style.display='block'">
  Log in</button>
<form id="form" style="display:none" onsubmit="event.preventDefault();
  document.getElementById('out').textContent='Hello ' + document.getElementById('username').value">
  <input id="username"><input id="password" type="password">
  <select id="color"><option value="r">Red</option><option value="g">Green</option></select>
  <input type="checkbox" id="agree"><button id="submit" type="submit">Submit</button>
</form>
<div id="out"></div>
<div id="hover" onmouseover="this.textContent='hovered'">hover me</div>
<div id="dbl" ondblclick="this.textContent='double clicked'">double me</div>
<input id="keys" onkeydown="document.getElementById('lastkey').textContent=event.key">
<span id="lastkey"></span>
<button id="counter" onclick="window.n=(window.n||0)+1;
  document.getElementById('count').textContent='clicked '+window.n">Count</button>
<span id="count">clicked 0</span>
<div style="height:2000px"></div><div id="bottom">bottom</div>
</body></html>"""


EXTRA = b"""<!doctype html><html><head><title>Extra</title></head><body>
<iframe id="f" src="/frame.html"></iframe>
<div id="zone" oncontextmenu="event.preventDefault(); this.textContent='menu'">zone</div>
<div id="card" draggable="true" ondragstart="event.dataTransfer.setData('text/plain', 'c')"
  style="width:80px;height:30px">card</div>
<div id="bin" ondragover="event.preventDefault()" style="width:200px;height:60px"
  ondrop="event.preventDefault(); this.textContent='dropped ' +
    event.dataTransfer.getData('text/plain')">bin</div>
<button id="open" onclick="window.open('/popup.html')">open</button>
</body></html>"""
FRAME = b"""<!doctype html><html><body>
<button id="in" onclick="this.textContent='pressed'">in</button></body></html>"""
POPUP = b"""<!doctype html><html><head><title>Popup</title></head><body>popup</body></html>"""
PAGES = {"/extra.html": EXTRA, "/frame.html": FRAME, "/popup.html": POPUP}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE if self.path.startswith("/bench") else PAGES.get(self.path, b"")
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def journey(url: str) -> list[dict[str, Any]]:
    """The 20 steps, as data."""
    return [
        {"action": "navigate", "url": url},
        {"action": "click", "selector": "#login-button"},
        {"action": "fill", "selector": "#username", "text": "testuser"},
        {"action": "fill", "selector": "#password", "text": "secret"},
        {"action": "select", "selector": "#color", "value": "g"},
        {"action": "check", "selector": "#agree"},
        {"action": "click", "selector": "#submit"},
        {"action": "assert_text", "selector": "#out", "text": "Hello testuser"},
        {"action": "hover", "selector": "#hover"},
        {"action": "assert_text", "selector": "#hover", "text": "hovered"},
        {"action": "double_click", "selector": "#dbl"},
        {"action": "assert_text", "selector": "#dbl", "text": "double clicked"},
        {"action": "press", "selector": "#keys", "key": "Enter"},
        {"action": "assert_text", "selector": "#lastkey", "text": "Enter"},
        {"action": "click", "selector": "#counter"},
        {"action": "assert_text", "selector": "#count", "text": "clicked 1"},
        {"action": "scroll", "selector": "#bottom"},
        {"action": "assert_visible", "selector": "#bottom"},
        {"action": "assert_title", "title": "Bench"},
        {"action": "assert_url", "contains": "/bench"},
    ]


def extra_journey(url: str) -> list[dict[str, Any]]:
    """The 14 steps through a frame, a right click, a drag and a popup, as data."""
    return [
        {"action": "navigate", "url": url},
        {"action": "frame", "selector": "#f"},
        {"action": "click", "selector": "#in"},
        {"action": "assert_text", "selector": "#in", "text": "pressed"},
        {"action": "frame"},
        {"action": "right_click", "selector": "#zone"},
        {"action": "assert_text", "selector": "#zone", "text": "menu"},
        {"action": "drag", "selector": "#card", "target": "#bin"},
        {"action": "assert_text", "selector": "#bin", "text": "dropped c"},
        {"action": "click", "selector": "#open"},
        {"action": "switch_tab"},
        {"action": "assert_title", "title": "Popup"},
        {"action": "close_tab"},
        {"action": "assert_title", "title": "Extra"},
    ]


# -- hand-written equivalents ---------------------------------------------------------------

# What a Selenium user writes for HTML5 drag and drop in Chromium (pointer actions never
# start a native drag there).
DRAG_BY_SCRIPT = """
const [src, dst] = arguments, data = new DataTransfer();
const fire = (el, type) => el.dispatchEvent(new DragEvent(type,
  {bubbles: true, cancelable: true, dataTransfer: data}));
fire(src, 'dragstart'); fire(dst, 'dragenter'); fire(dst, 'dragover'); fire(dst, 'drop');
fire(src, 'dragend');
"""


async def playwright_extra_by_hand(browser: Any, url: str) -> None:
    """The 14 extra steps written directly against Playwright's async API."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    await page.goto(url)
    frame = page.frame_locator("#f")
    await frame.locator("#in").click()
    await expect(frame.locator("#in")).to_contain_text("pressed")
    await page.locator("#zone").click(button="right")
    await expect(page.locator("#zone")).to_contain_text("menu")
    await page.locator("#card").drag_to(page.locator("#bin"))
    await expect(page.locator("#bin")).to_contain_text("dropped c")
    async with context.expect_page() as opened:
        await page.locator("#open").click()
    popup = await opened.value
    await expect(popup).to_have_title("Popup")
    await popup.close()
    await expect(page).to_have_title("Extra")
    await context.close()


def selenium_extra_by_hand(driver: Any, url: str) -> None:
    """The 14 extra steps written directly against Selenium."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.wait import WebDriverWait

    wait = WebDriverWait(driver, 10)

    def find(css: str) -> Any:
        return driver.find_element(By.CSS_SELECTOR, css)

    def text_in(css: str, text: str) -> None:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))

    driver.get(url)
    driver.switch_to.frame(find("#f"))
    find("#in").click()
    text_in("#in", "pressed")
    driver.switch_to.default_content()
    ActionChains(driver, duration=0).context_click(find("#zone")).perform()
    text_in("#zone", "menu")
    driver.execute_script(DRAG_BY_SCRIPT, find("#card"), find("#bin"))
    text_in("#bin", "dropped c")
    first = driver.current_window_handle
    before = set(driver.window_handles)
    find("#open").click()
    wait.until(lambda d: set(d.window_handles) - before)
    driver.switch_to.window((set(driver.window_handles) - before).pop())
    wait.until(ec.title_is("Popup"))
    driver.close()
    driver.switch_to.window(first)
    wait.until(ec.title_is("Extra"))


async def playwright_by_hand(browser: Any, url: str) -> None:
    """The 20 steps written directly against Playwright's async API."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    await page.goto(url)
    await page.locator("#login-button").click()
    await page.locator("#username").fill("testuser")
    await page.locator("#password").fill("secret")
    await page.locator("#color").select_option("g")
    await page.locator("#agree").set_checked(True)
    await page.locator("#submit").click()
    await expect(page.locator("#out")).to_contain_text("Hello testuser")
    await page.locator("#hover").hover()
    await expect(page.locator("#hover")).to_contain_text("hovered")
    await page.locator("#dbl").dblclick()
    await expect(page.locator("#dbl")).to_contain_text("double clicked")
    await page.locator("#keys").press("Enter")
    await expect(page.locator("#lastkey")).to_contain_text("Enter")
    await page.locator("#counter").click()
    await expect(page.locator("#count")).to_contain_text("clicked 1")
    await page.locator("#bottom").scroll_into_view_if_needed()
    await expect(page.locator("#bottom")).to_be_visible()
    await expect(page).to_have_title("Bench")
    await expect(page).to_have_url(re.compile("/bench"))
    await context.close()


def selenium_by_hand(driver: Any, url: str) -> None:
    """The 20 steps written directly against Selenium."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    wait = WebDriverWait(driver, 10)

    def find(css: str) -> Any:
        return driver.find_element(By.CSS_SELECTOR, css)

    def text_in(css: str, text: str) -> None:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))

    driver.get(url)
    find("#login-button").click()
    field = find("#username")
    field.clear()
    field.send_keys("testuser")
    field = find("#password")
    field.clear()
    field.send_keys("secret")
    Select(find("#color")).select_by_value("g")
    box = find("#agree")
    if not box.is_selected():
        box.click()
    find("#submit").click()
    text_in("#out", "Hello testuser")
    ActionChains(driver, duration=0).move_to_element(find("#hover")).perform()
    text_in("#hover", "hovered")
    ActionChains(driver, duration=0).double_click(find("#dbl")).perform()
    text_in("#dbl", "double clicked")
    find("#keys").send_keys(Keys.ENTER)
    text_in("#lastkey", "Enter")
    find("#counter").click()
    text_in("#count", "clicked 1")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", find("#bottom"))
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#bottom")))
    wait.until(ec.title_is("Bench"))
    wait.until(ec.url_contains("/bench"))


# -- measuring -----------------------------------------------------------------------------


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = await fn()
    return time.perf_counter() - start, value


async def playwright_starts(install: BrowserInstall) -> tuple[list[float], list[float]]:
    from playwright.async_api import async_playwright

    async def ours() -> float:
        adapter = PlaywrightAdapter()
        seconds, _browser = await timed(adapter.alaunch)
        await adapter.aclose()
        return seconds

    async def by_hand() -> float:
        async def launch() -> Any:
            pw = await async_playwright().start()
            browser = await pw.chromium.launch(
                executable_path=install.browser,
                headless=True,
                args=[f for f in chromium_flags(headless=False) if "headless" not in f],
                chromium_sandbox=False,
            )
            return pw, browser

        seconds, (pw, browser) = await timed(launch)
        await browser.close()
        await pw.stop()
        return seconds

    times: dict[str, list[float]] = {"ours": [], "hand": []}
    for round_ in range(STARTS):
        # Alternate who goes first, and let the last browser's exit settle, so neither side
        # pays systematically for the other's shutdown on a shared 2-core machine.
        order = [("ours", ours), ("hand", by_hand)]
        for key, start in order if round_ % 2 == 0 else order[::-1]:
            await asyncio.sleep(SETTLE_S)
            times[key].append(await start())
    return times["ours"], times["hand"]


def selenium_starts(install: BrowserInstall) -> tuple[list[float], list[float]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    def ours() -> float:
        adapter = SeleniumAdapter()
        start = time.perf_counter()
        driver = adapter.create_driver(headless=True)
        seconds = time.perf_counter() - start
        driver.quit()
        return seconds

    def by_hand() -> float:
        profile = tempfile.mkdtemp(prefix="bench-profile-")
        start = time.perf_counter()
        options = webdriver.ChromeOptions()
        options.binary_location = install.browser
        for flag in chromium_flags(headless=True, window_size=(1280, 720)):
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        assert install.driver is not None
        driver = webdriver.Chrome(service=Service(install.driver), options=options)
        seconds = time.perf_counter() - start
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        return seconds

    times: dict[str, list[float]] = {"ours": [], "hand": []}
    for round_ in range(STARTS):
        order = [("ours", ours), ("hand", by_hand)]
        for key, start in order if round_ % 2 == 0 else order[::-1]:
            time.sleep(SETTLE_S)
            times[key].append(start())
    return times["ours"], times["hand"]


async def playwright_journeys(
    url: str,
    steps: list[dict[str, Any]],
    by_hand: Callable[[Any, str], Awaitable[None]],
) -> dict[str, list[float]]:
    from playwright.async_api import async_playwright

    times: dict[str, list[float]] = {"ours": [], "ours-trace-off": [], "hand": []}
    async with (
        AdvancedWebTester("playwright") as ours,
        AdvancedWebTester("playwright", trace="off") as ours_off,
        async_playwright() as pw,
    ):
        install = BrowserInstall.detect(need_driver=False)
        browser = await pw.chromium.launch(
            executable_path=install.browser,
            args=[f for f in chromium_flags(headless=False) if "headless" not in f],
            chromium_sandbox=False,
        )
        runs: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("ours", lambda: ours.run_user_journey(steps)),
            ("ours-trace-off", lambda: ours_off.run_user_journey(steps)),
            ("hand", lambda: by_hand(browser, url)),
        ]
        for round_ in range(JOURNEYS + 1):  # the first round warms up and is dropped
            shift = round_ % len(runs)
            for key, run in runs[shift:] + runs[:shift]:
                seconds, result = await timed(run)
                if result is not None and not result:
                    raise SystemExit(f"our playwright journey failed:\n{result.report()}")
                times[key].append(seconds)
        await browser.close()
    return {key: values[1:] for key, values in times.items()}


async def selenium_journeys(
    url: str, steps: list[dict[str, Any]], by_hand: Callable[[Any, str], None]
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"ours": [], "hand": []}
    adapter = SeleniumAdapter()
    driver = await asyncio.to_thread(adapter.create_driver)
    try:
        async with AdvancedWebTester("selenium") as ours:
            for round_ in range(JOURNEYS + 1):
                # Alternate who goes first, as for the starts.
                for key in ("ours", "hand") if round_ % 2 == 0 else ("hand", "ours"):
                    if key == "hand":
                        seconds, _ = await timed(lambda: asyncio.to_thread(by_hand, driver, url))
                    else:
                        seconds, result = await timed(lambda: ours.run_user_journey(steps))
                        if not result:
                            raise SystemExit(f"our selenium journey failed:\n{result.report()}")
                    times[key].append(seconds)
    finally:
        driver.quit()
    return {key: values[1:] for key, values in times.items()}


def line(engine: str, what: str, ours: list[float], hand: list[float], aim: str) -> None:
    o, h = statistics.median(ours), statistics.median(hand)
    rounds = [a / b for a, b in zip(ours, hand, strict=True)]
    spread = f"{min(rounds):.2f}-{max(rounds):.2f}x"
    print(f"{engine:<11} {what:<38} {o:>8.3f} s {h:>8.3f} s {o / h:>7.2f}x {spread:>12}   {aim}")


async def main() -> None:
    install = BrowserInstall.detect()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/bench.html"
    print(
        f"chromium {install.browser_version} ({install.browser}), chromedriver "
        f"{install.driver_version}; medians of {STARTS} starts and {JOURNEYS} journeys"
    )
    print(
        f"{'engine':<11} {'measure':<38} {'ours':>10} {'by hand':>10} {'ratio':>8} "
        f"{'per round':>12}   aim"
    )
    extra = url.replace("/bench.html", "/extra.html")
    starts = "--journeys-only" not in sys.argv[1:]
    aim = f"ratio <= {RATIO_AIM}, ours <= {JOURNEY_AIM_S} s"
    try:
        if starts:
            ours, hand = await playwright_starts(install)
            line("playwright", "browser start", ours, hand, f"ratio <= {RATIO_AIM}")
        pw = await playwright_journeys(url, journey(url), playwright_by_hand)
        line("playwright", "20 steps (trace retain-on-failure)", pw["ours"], pw["hand"], aim)
        line("playwright", "20 steps (trace off)", pw["ours-trace-off"], pw["hand"], aim)
        pw = await playwright_journeys(extra, extra_journey(extra), playwright_extra_by_hand)
        line("playwright", "14 steps frame/tab/drag (trace r-o-f)", pw["ours"], pw["hand"], aim)
        line("playwright", "14 steps frame/tab/drag (trace off)", pw["ours-trace-off"],
             pw["hand"], aim)  # fmt: skip
        if starts:
            ours, hand = await asyncio.to_thread(selenium_starts, install)
            line("selenium", "browser start", ours, hand, f"ratio <= {RATIO_AIM}")
        se = await selenium_journeys(url, journey(url), selenium_by_hand)
        line("selenium", "20 steps", se["ours"], se["hand"], aim)
        se = await selenium_journeys(extra, extra_journey(extra), selenium_extra_by_hand)
        line("selenium", "14 steps frame/tab/drag", se["ours"], se["hand"], aim)
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
