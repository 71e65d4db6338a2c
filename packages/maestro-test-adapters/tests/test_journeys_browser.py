"""Journeys on a real Chromium: the same journey, the same results, on both engines."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from maestro_test_adapters import AdvancedWebTester, EventLoopError, Journey, StepStatus

pytestmark = pytest.mark.browser
ENGINES = pytest.mark.parametrize("engine", ["playwright", "selenium"])


def every_action(site: str) -> list[dict[str, Any]]:
    """A journey that uses every action at least once on the loopback login page."""
    value = "document.getElementById('username').value"
    return [
        {"action": "navigate", "url": f"{site}/"},
        {"action": "set_viewport", "width": 800, "height": 600},
        {"action": "wait_for", "expression": "window.innerWidth === 800"},
        {"action": "assert_title", "title": "Login page"},
        {"action": "assert_url", "url": f"{site}/"},
        {"action": "click", "selector": "#login-button"},
        {"action": "assert_visible", "selector": "#username"},
        {"action": "fill", "selector": "#username", "text": "someone"},
        {"action": "fill", "selector": "#username", "text": "testuser"},
        {"action": "type", "selector": "#username", "text": "!"},
        {"action": "wait_for", "expression": f"{value} === 'testuser!'"},
        {"action": "select", "selector": "#color", "value": "Green"},
        {"action": "wait_for", "expression": "document.getElementById('color').value === 'g'"},
        {"action": "check", "selector": "#agree"},
        {"action": "wait_for", "expression": "document.getElementById('agree').checked"},
        {"action": "uncheck", "selector": "#agree"},
        {"action": "wait_for", "expression": "!document.getElementById('agree').checked"},
        {"action": "click", "selector": ["#nope", "testid=submit"]},
        {"action": "assert_text", "selector": "#out", "text": "Hello testuser!", "exact": True},
        {"action": "double_click", "selector": "#dbl"},
        {"action": "assert_text", "selector": "#dbl", "text": "double clicked"},
        {"action": "hover", "selector": "#hover"},
        {"action": "assert_text", "selector": "#hover", "text": "hovered"},
        {"action": "press", "selector": "#keys", "key": "Enter"},
        {"action": "assert_text", "selector": "#lastkey", "text": "Enter", "exact": True},
        {"action": "press", "key": "a"},
        {"action": "assert_text", "selector": "#lastkey", "text": "a", "exact": True},
        {"action": "scroll", "y": 500},
        {"action": "assert_title", "contains": "scrolled 500"},
        {"action": "scroll", "selector": "#bottom"},
        {"action": "assert_visible", "selector": "text=bottom"},
        {"action": "screenshot", "name": "end of page"},
        {"action": "click", "selector": 'role=link[name="Next"]'},
        {"action": "wait_for", "url": f"{site}/next.html"},
        {"action": "assert_url", "contains": "/next"},
        {"action": "assert_title", "pattern": "^Next"},
        {"action": "wait_for", "text": "made it"},
        {"action": "wait_for", "selector": "#msg", "state": "visible"},
        {"action": "assert_text", "text": "You made it"},
    ]


@ENGINES
async def test_every_action_passes(engine: str, site: str, tmp_path: Path) -> None:
    """Every action runs and passes; the selector that matched is recorded."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path)  # type: ignore[arg-type]
    result = await tester.run_user_journey(every_action(site), name="every action")
    assert result, result.report()
    assert result.engine == engine
    assert result.passed_count == len(result.steps) == 39
    click = result.steps[17]
    assert (click.action, click.selector) == ("click", "testid=submit")
    assert all(step.duration >= 0 for step in result.steps)
    screenshots = [p for p in result.artifacts if p.suffix == ".png"]
    assert len(screenshots) == 1
    assert screenshots[0].read_bytes().startswith(b"\x89PNG")
    assert screenshots[0].name == "step-31-end-of-page.png"


@ENGINES
async def test_failure_stops_skips_and_keeps_artifacts(
    engine: str, site: str, tmp_path: Path
) -> None:
    """The first failure stops the journey, the rest are skipped, and artifacts are kept."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path, timeout=5)  # type: ignore[arg-type]
    result = await tester.run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/"},
            {"action": "click", "selector": "#missing", "timeout": 0.5},
            {"action": "click", "selector": "#login-button"},
            {"action": "assert_title", "title": "Login page"},
        ]
    )
    assert not result
    assert [s.status for s in result.steps] == [
        StepStatus.PASSED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.SKIPPED,
    ]
    failed = result.steps[1]
    assert failed.error is not None
    assert failed.error.startswith("StepTimeoutError")
    assert "#missing" in failed.error
    assert 0.4 < failed.duration < 4
    folder = result.artifacts_dir
    assert folder is not None
    assert folder.parent == tmp_path
    assert (folder / "step-01-failure.png").read_bytes().startswith(b"\x89PNG")
    assert "login-button" in (folder / "step-01-page.html").read_text()
    assert "login page loaded" in (folder / "console.log").read_text()
    assert (folder / "trace.zip").exists() == (engine == "playwright")
    assert "login page loaded" in "\n".join(result.console)


@ENGINES
async def test_waits_on_missing_elements_end_at_the_step_timeout(
    engine: str, site: str, tmp_path: Path
) -> None:
    """Assertions and actions on an element that never appears fail at the step timeout."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path, trace="off")  # type: ignore[arg-type]
    result = await tester.run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/"},
            {"action": "assert_text", "selector": "#never", "text": "x", "timeout": 0.5},
            {"action": "scroll", "selector": "#never", "y": 10, "timeout": 0.5},
            {"action": "assert_visible", "selector": ["#never", "#nor-this"], "timeout": 0.5},
            {"action": "wait_for", "selector": "#never", "state": "attached", "timeout": 0.5},
        ],
        continue_on_failure=True,
    )
    assert [s.status for s in result.steps[1:]] == [StepStatus.FAILED] * 4
    for step in result.steps[1:]:
        assert step.error is not None
        assert step.error.startswith("StepTimeoutError"), step.error
        assert 0.4 < step.duration < 3.5, (step.index, step.duration)


@ENGINES
async def test_continue_on_failure_runs_every_step(engine: str, site: str, tmp_path: Path) -> None:
    """With continue_on_failure the steps after a failure still run."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path, trace="off")  # type: ignore[arg-type]
    result = await tester.run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/"},
            {"action": "assert_title", "title": "Wrong", "timeout": 0.3},
            {"action": "assert_title", "title": "Login page"},
        ],
        continue_on_failure=True,
    )
    assert [s.status for s in result.steps] == [
        StepStatus.PASSED,
        StepStatus.FAILED,
        StepStatus.PASSED,
    ]
    assert "last saw 'Login page'" in (result.steps[1].error or "")
    assert result.artifacts_dir is not None
    assert not (result.artifacts_dir / "trace.zip").exists()


@ENGINES
async def test_actions_wait_until_actionable(engine: str, site: str, tmp_path: Path) -> None:
    """Late, disabled and disappearing elements are waited for; assertions retry."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path)  # type: ignore[arg-type]
    result = await tester.run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/delayed.html"},
            {"action": "click", "selector": "#late"},
            {"action": "assert_text", "selector": "#status", "text": "late clicked 1"},
            {"action": "click", "selector": "#late-enabled"},
            {"action": "assert_text", "selector": "#status", "text": "enabled click"},
            {"action": "wait_for", "selector": "#spinner", "state": "detached"},
            {"action": "wait_for", "text": "ready now"},
        ],
        timeout=5,
    )
    assert result, result.report()


@ENGINES
async def test_assertions_retry_until_the_page_catches_up(
    engine: str, site: str, tmp_path: Path
) -> None:
    """An assertion on text that appears 300 ms later passes without an explicit wait."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path)  # type: ignore[arg-type]
    result = await tester.run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/delayed.html"},
            {"action": "assert_text", "text": "ready now"},
            {"action": "assert_visible", "selector": "text=Late"},
        ]
    )
    assert result, result.report()
    assert result.steps[1].duration > 0.05


@ENGINES
async def test_actions_are_never_repeated(engine: str, site: str, tmp_path: Path) -> None:
    """A click that succeeded happens exactly once, even when followed by a retried assertion."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path)  # type: ignore[arg-type]
    result = await tester.run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/"},
            {"action": "click", "selector": "#counter"},
            {"action": "assert_text", "selector": "#count", "text": "clicked 1", "exact": True},
            {"action": "wait_for", "expression": "window.clicks === 1"},
            {"action": "click", "selector": "#counter"},
            {"action": "assert_text", "selector": "#count", "text": "clicked 2", "exact": True},
        ]
    )
    assert result, result.report()


@ENGINES
async def test_rerendered_elements_are_located_afresh(
    engine: str, site: str, tmp_path: Path
) -> None:
    """A button re-rendered every 150 ms is re-located for each step, never cached."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path)  # type: ignore[arg-type]
    steps: list[dict[str, Any]] = [{"action": "navigate", "url": f"{site}/rerender.html"}]
    steps += [{"action": "assert_visible", "selector": "button.rr"}] * 2
    steps += [{"action": "hover", "selector": "button.rr"}] * 2
    steps += [{"action": "click", "selector": "button.rr"}] * 3
    steps += [{"action": "assert_text", "selector": "#hits", "text": "3", "exact": True}]
    result = await tester.run_user_journey(steps, timeout=5)
    assert result, result.report()


@ENGINES
async def test_pierce_reaches_into_shadow_roots(engine: str, site: str, tmp_path: Path) -> None:
    """pierce/ and plain CSS selectors find elements inside open shadow roots, as Playwright's."""
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path)  # type: ignore[arg-type]
    result = await tester.run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/shadow.html"},
            {"action": "click", "selector": "pierce/#inner"},
            {"action": "assert_text", "selector": "#shadow-out", "text": "inside"},
            {"action": "assert_visible", "selector": "#inner"},
        ]
    )
    assert result, result.report()


@ENGINES
async def test_recorder_export_replays(engine: str, site: str, tmp_path: Path) -> None:
    """A DevTools Recorder export, aria selectors first, replays as is."""
    recording = {
        "title": "recorded login",
        "steps": [
            {"type": "setViewport", "width": 1000, "height": 700, "deviceScaleFactor": 1,
             "isMobile": False, "hasTouch": False, "isLandscape": False},
            {"type": "navigate", "url": f"{site}/"},
            {"type": "click", "selectors": [["aria/Log in"], ["#login-button"]]},
            {"type": "change", "value": "testuser",
             "selectors": [["aria/User name"], ["#username"]]},
            {"type": "change", "value": "g", "selectors": [["#color"]]},
            {"type": "click", "selectors": [['aria/Submit[role="button"]'], ["text/Submit"]]},
            {"type": "waitForElement",
             "selectors": [["xpath///div[@id='out' and text()='Hello testuser']"]]},
            {"type": "keyDown", "key": "Tab"},
            {"type": "keyUp", "key": "Tab"},
            {"type": "waitForExpression",
             "expression": "document.getElementById('color').value === 'g'"},
        ],
    }  # fmt: skip
    path = tmp_path / "recording.json"
    path.write_text(json.dumps(recording))
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path)  # type: ignore[arg-type]
    result = await tester.run_user_journey(str(path))
    assert result, result.report()
    assert result.name == "recorded login"
    assert result.steps[2].selector == "aria/Log in"


@ENGINES
async def test_recorder_shadow_frames_tabs_buttons_and_waits_replay(
    engine: str, site: str, tmp_path: Path
) -> None:
    """Shadow paths, frame indexes, another tab as target, a secondary-button click,
    waitForElement with count/attributes/properties and asserted navigations replay on
    both engines."""
    next_page = f"{site}/next.html"
    recording = {
        "title": "recorded everything",
        "timeout": 5000,
        "steps": [
            {"type": "navigate", "url": f"{site}/shadow.html",
             "assertedEvents": [{"type": "navigation", "url": f"{site}/shadow.html",
                                 "title": "Shadow"}]},
            {"type": "click", "selectors": [["shadow-host", "#inner"]], "offsetX": 2,
             "offsetY": 2},
            {"type": "waitForElement", "selectors": [["#shadow-out"]],
             "properties": {"textContent": "inside"}},
            {"type": "navigate", "url": f"{site}/frames.html"},
            {"type": "click", "frame": [0], "selectors": [["#in-frame"]]},
            {"type": "waitForElement", "frame": [0, 0], "selectors": [["#deep"]],
             "attributes": {"id": "deep"}},
            {"type": "waitForElement", "selectors": [["#outer"]], "operator": "==", "count": 1},
            {"type": "navigate", "url": f"{site}/tabs.html"},
            {"type": "click", "selectors": [["#popup"]]},
            {"type": "waitForElement", "target": next_page, "selectors": [["#msg"]]},
            {"type": "close", "target": next_page},
            {"type": "navigate", "url": f"{site}/clicks.html"},
            {"type": "click", "button": "secondary", "selectors": [["#zone"]]},
            {"type": "waitForElement", "selectors": [["#clicked"]],
             "properties": {"textContent": "context menu 1"}},
            {"type": "click", "offsetX": 7, "offsetY": 8, "selectors": [["#zone"]]},
            {"type": "waitForElement", "selectors": [["#clicked"]],
             "properties": {"textContent": "left click 1 at 7,8", "dataset": {}}},
            {"type": "waitForElement", "selectors": [["div"]], "operator": ">=", "count": 1},
            {"type": "waitForElement", "selectors": [["#nothing"]], "operator": "==",
             "count": 0},
            {"type": "close", "target": "main"},
        ],
    }  # fmt: skip
    tester = AdvancedWebTester(engine, artifacts_dir=tmp_path)  # type: ignore[arg-type]
    result = await tester.run_user_journey(Journey.from_data(recording))
    assert result, result.report()
    assert [step.action for step in result.steps].count("switch_tab") == 1
    assert [step.action for step in result.steps].count("close_tab") == 1


async def test_selenium_never_blocks_the_event_loop(site: str, tmp_path: Path) -> None:
    """While a Selenium journey runs, other tasks on the loop keep running."""
    stamps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            stamps.append(time.monotonic())
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    result = await AdvancedWebTester("selenium", artifacts_dir=tmp_path).run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/delayed.html"},
            {"action": "click", "selector": "#late"},
            {"action": "wait_for", "text": "ready now"},
        ]
    )
    stop.set()
    await task
    assert result, result.report()
    # The click waits ~300 ms for #late to appear: a blocked loop would not tick meanwhile.
    assert len(stamps) > 10, "the event loop hardly ran during the journey"
    longest_gap = max(b - a for a, b in itertools.pairwise(stamps))
    assert longest_gap < 0.25, f"the event loop stalled for {longest_gap:.3f}s"
    assert result.steps[1].duration > 0.1


async def test_one_browser_many_journeys_fresh_state(site: str, tmp_path: Path) -> None:
    """Inside async with, journeys share a browser but not cookies."""
    async with AdvancedWebTester(artifacts_dir=tmp_path, base_url=site) as tester:
        first = await tester.run_user_journey(
            [
                {"action": "navigate", "url": "/next.html"},
                {"action": "wait_for", "expression": "(document.cookie = 'seen=1', true)"},
            ]
        )
        second = await tester.run_user_journey(
            [
                {"action": "navigate", "url": "/next.html"},
                {"action": "wait_for", "expression": "!document.cookie.includes('seen=1')"},
            ]
        )
    assert first, first.report()
    assert second, second.report()


@ENGINES
async def test_shared_browser_runs_journeys_concurrently(
    engine: str, site: str, tmp_path: Path
) -> None:
    """Two journeys on one kept browser each wait for a flag that only the other raises:
    both pass only if they run at the same time (taking turns, the first would time out)."""
    token = secrets.token_hex(4)

    def journey(mine: str, theirs: str) -> list[dict[str, Any]]:
        raised = (
            "(() => { const r = new XMLHttpRequest(); "
            f"r.open('GET', '/flag/{token}-{theirs}', false); r.send(); "
            "return r.responseText === 'set'; })()"
        )
        return [
            {"action": "navigate", "url": f"{site}/flag/set/{token}-{mine}"},
            {"action": "wait_for", "expression": raised, "timeout": 30},
            {"action": "wait_for", "expression": "(document.cookie = 'who=" + mine + "', true)"},
        ]

    async with AdvancedWebTester(engine, artifacts_dir=tmp_path) as tester:  # type: ignore[arg-type]
        first, second = await asyncio.gather(
            tester.run_user_journey(journey("a", "b"), name="a"),
            tester.run_user_journey(journey("b", "a"), name="b"),
        )
        # The sessions are kept: a later journey runs on one of them, with fresh cookies.
        third = await tester.run_user_journey(
            [
                {"action": "navigate", "url": f"{site}/next.html"},
                {"action": "wait_for", "expression": "!document.cookie.includes('who=')"},
            ]
        )
    assert first, first.report()
    assert second, second.report()
    assert third, third.report()


async def test_sync_runner_refuses_a_running_loop(site: str) -> None:
    """sync.run_user_journey() inside an event loop raises EventLoopError, naming the async API."""
    with pytest.raises(EventLoopError, match=r"await tester\.run_user_journey"):
        AdvancedWebTester().sync.run_user_journey([{"action": "navigate", "url": f"{site}/"}])


def test_sync_runner_outside_a_loop(site: str, tmp_path: Path) -> None:
    """sync.run_user_journey() runs a journey from plain synchronous code."""
    result = AdvancedWebTester("selenium", artifacts_dir=tmp_path).sync.run_user_journey(
        [
            {"action": "navigate", "url": f"{site}/next.html"},
            {"action": "assert_title", "title": "Next page"},
        ]
    )
    assert result, result.report()
