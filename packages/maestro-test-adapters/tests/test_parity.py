"""The parity matrix: every journey runs on both engines with the same outcome per step."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from maestro_test_adapters import AdvancedWebTester, JourneyResult

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

OK = "passed"
FAIL = "StepError"
TIMEOUT = "StepTimeoutError"
Steps = list[dict[str, Any]]


def _login(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/signin.html"},
        {"action": "fill", "selector": 'role=textbox[name="User name"]', "text": "testuser"},
        {"action": "fill", "selector": 'role=textbox[name="Password"]', "text": "pw"},
        {"action": "click", "selector": "text=Go"},
        {"action": "assert_url", "contains": "/account.html"},
        {"action": "assert_text", "selector": "#who", "text": "Signed in as testuser"},
        {"action": "navigate", "url": f"{site}/account.html"},
        {"action": "assert_text", "text": "Signed in as testuser"},
    ]


def _late(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/delayed.html"},
        {"action": "assert_text", "text": "ready now"},
        {"action": "click", "selector": "#late"},
        {"action": "assert_text", "selector": "#status", "text": "late clicked 1"},
        {"action": "assert_text", "selector": "#status", "text": "never", "timeout": 0.3},
    ]


def _native_dialog(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/native-dialog.html"},
        {"action": "assert_visible", "selector": "#dlg-text", "timeout": 0.3},
        {"action": "click", "selector": "#open"},
        {"action": "assert_text", "selector": "#dlg-text", "text": "Are you sure?"},
        {"action": "click", "selector": "text=Close it"},
        {"action": "wait_for", "selector": "#dlg-text", "state": "hidden"},
    ]


def _iframe(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/frames.html"},
        {"action": "assert_text", "selector": "#outer", "text": "outside"},
        # Without switching into the frame, neither engine sees inside it.
        {"action": "click", "selector": "#in-frame", "timeout": 0.3},
    ]


def _file_input(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/upload.html"},
        {"action": "fill", "selector": "#file", "text": str(files / "a.txt"), "timeout": 0.5},
        {"action": "type", "selector": "#file", "text": str(files / "a.txt"), "timeout": 0.5},
        {"action": "assert_text", "selector": "#picked", "text": "none", "exact": True},
    ]


def _select(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/upload.html"},
        {"action": "select", "selector": "#size", "value": "Large"},
        {"action": "wait_for", "expression": "document.getElementById('size').value === 'l'"},
        {"action": "select", "selector": "#size", "value": "s"},
        {"action": "wait_for", "expression": "document.getElementById('size').value === 's'"},
        {"action": "select", "selector": "#size", "value": "Huge", "timeout": 0.3},
    ]


def _new_tab(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/tabs.html"},
        {"action": "click", "selector": "#blank"},
        {"action": "click", "selector": "#popup"},
        # The journey stays on the opener until it switches.
        {"action": "assert_title", "title": "Opener"},
    ]


def _failing_fetch(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/fetching.html"},
        {"action": "click", "selector": "#fetch"},
        {"action": "assert_text", "selector": "#result", "text": "status 500"},
        {"action": "click", "selector": "#fetch-down"},
        {"action": "assert_text", "selector": "#result", "text": "network failed"},
    ]


def _unexpected_alert(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/dialogs.html"},
        {"action": "click", "selector": "#alert"},
        {"action": "assert_text", "selector": "#said", "text": "alerted"},
        {"action": "assert_text", "selector": "#said", "text": "alerted"},
    ]


def _shadow(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/shadow.html"},
        {"action": "click", "selector": "pierce/#inner"},
        {"action": "assert_text", "selector": "#shadow-out", "text": "inside"},
        {"action": "assert_visible", "selector": "#inner"},
        {"action": "assert_visible", "selector": "pierce/#absent", "timeout": 0.3},
    ]


def _closed_port(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": "http://127.0.0.1:9/"},
        {"action": "navigate", "url": f"{site}/next.html"},
        {"action": "assert_title", "title": "Next page"},
    ]


def _dialogs(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/dialogs.html"},
        {"action": "click", "selector": "#alert"},
        {"action": "accept_dialog"},
        {"action": "assert_text", "selector": "#said", "text": "alerted"},
        {"action": "click", "selector": "#confirm"},
        {"action": "dismiss_dialog"},
        {"action": "assert_text", "selector": "#said", "text": "cancelled"},
        {"action": "click", "selector": "#prompt"},
        {"action": "accept_dialog", "text": "Ada"},
        {"action": "assert_text", "selector": "#said", "text": "hello Ada"},
        {"action": "accept_dialog", "timeout": 0.3},
    ]


def _more_actions(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/upload.html"},
        {"action": "upload", "selector": "#file", "files": [str(files / "a.txt")]},
        {"action": "assert_text", "selector": "#picked", "text": "a.txt", "exact": True},
        {"action": "assert_value", "selector": "#size", "value": "s"},
        {"action": "assert_attribute", "selector": "#file", "attribute": "multiple"},
        {"action": "assert_attribute", "selector": "#file", "attribute": "type", "value": "file"},
        {"action": "assert_count", "selector": "option", "count": 2},
        {"action": "evaluate", "expression": "1 + 1", "expected": 2},
        {"action": "evaluate", "expression": "1 + 1", "expected": 3},
        {"action": "navigate", "url": f"{site}/next.html"},
        {"action": "back"},
        {"action": "assert_title", "title": "Upload"},
        {"action": "forward"},
        {"action": "reload"},
        {"action": "assert_title", "title": "Next page"},
        {"action": "assert_count", "selector": "#msg", "count": 2, "timeout": 0.3},
    ]


def _frames(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/frames.html"},
        {"action": "frame", "selector": "#frame"},
        {"action": "click", "selector": "#in-frame"},
        {"action": "assert_text", "selector": "#in-frame", "text": "pressed in frame"},
        {"action": "evaluate", "expression": "document.title", "expected": "Framed"},
        # URL and title are the top-level page's, inside a frame too.
        {"action": "assert_title", "title": "Frames"},
        {"action": "frame", "selector": ["#absent", "#nested"]},
        {"action": "assert_text", "text": "deep inside"},
        {"action": "assert_count", "selector": "#deep", "count": 1},
        {"action": "frame"},
        {"action": "assert_text", "selector": "#outer", "text": "outside"},
        {"action": "click", "selector": "#in-frame", "timeout": 0.3},
        {"action": "frame", "selector": "#outer"},
        {"action": "frame", "selector": "#no-such-frame", "timeout": 0.3},
        # Navigating returns to the top document.
        {"action": "frame", "selector": "#frame"},
        {"action": "navigate", "url": f"{site}/frames.html"},
        {"action": "assert_text", "selector": "#outer", "text": "outside"},
    ]


def _tabs(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/tabs.html"},
        {"action": "click", "selector": "#blank"},
        {"action": "switch_tab"},
        {"action": "assert_title", "title": "Next page"},
        {"action": "switch_tab", "index": 0},
        {"action": "assert_title", "title": "Opener"},
        {"action": "click", "selector": "#late-popup"},
        # Waits for the popup the page opens 300 ms later.
        {"action": "switch_tab"},
        {"action": "assert_text", "selector": "#popped", "text": "a popup"},
        {"action": "close_tab"},
        {"action": "assert_title", "title": "Opener"},
        {"action": "switch_tab", "index": 1},
        {"action": "assert_title", "title": "Next page"},
        {"action": "close_tab"},
        {"action": "assert_title", "title": "Opener"},
        {"action": "close_tab"},
        {"action": "switch_tab", "timeout": 0.3},
        {"action": "switch_tab", "index": 3, "timeout": 0.3},
        {"action": "click", "selector": "#popup"},
        {"action": "switch_tab"},
        {"action": "assert_url", "url": f"{site}/next.html"},
    ]


def _buttons(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/clicks.html"},
        {"action": "click", "selector": "#zone"},
        {"action": "assert_text", "selector": "#clicked", "text": "left click 1 at 100,50"},
        {"action": "click", "selector": "#zone", "button": "right"},
        {"action": "assert_text", "selector": "#clicked", "text": "context menu 1"},
        {"action": "right_click", "selector": "#zone"},
        {"action": "assert_text", "selector": "#clicked", "text": "context menu 2"},
        {"action": "click", "selector": "#zone", "button": "middle"},
        {"action": "assert_text", "selector": "#clicked", "text": "middle click 1"},
        {"action": "click", "selector": "#zone", "button": "left", "x": 5, "y": 6},
        {"action": "assert_text", "selector": "#clicked", "text": "left click 2 at 5,6"},
        {"action": "double_click", "selector": "#zone", "x": 10, "y": 10},
        {"action": "assert_text", "selector": "#clicked", "text": "double click 1"},
        {"action": "right_click", "selector": "#nowhere", "timeout": 0.3},
    ]


def _drag(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/drag.html"},
        {"action": "drag", "selector": "#card", "target": "#bin"},
        {"action": "assert_text", "selector": "#bin", "text": "dropped card-7", "exact": True},
        {"action": "drag", "selector": "#knob", "target": ["#absent", "#rail"]},
        {"action": "assert_text", "selector": "#moved", "text": "knob on rail"},
        {"action": "drag", "selector": "#card", "target": "#no-bin", "timeout": 0.3},
    ]


def _refused_port() -> int:
    """A loopback port nothing listens on (bound, then released), so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _network(site: str, files: Path) -> Steps:
    refused = f"http://127.0.0.1:{_refused_port()}/refused"
    return [
        {"action": "navigate", "url": f"{site}/fetching.html"},
        # Seen since the journey started: the page itself.
        {"action": "wait_for_response", "url": f"{site}/fetching.html", "status": 200},
        {"action": "click", "selector": "#fetch"},
        {"action": "wait_for_response", "url": "*/api/broken", "status": 500},
        {"action": "wait_for_response", "pattern": "/api/bro+ken$"},
        {"action": "wait_for_response", "pattern": "/api/broken", "status": 200, "timeout": 0.3},
        {"action": "assert_request_failed", "url": "*/api/broken", "timeout": 0.3},
        {"action": "click", "selector": "#fetch-down"},
        {"action": "assert_request_failed", "url": "http://127.0.0.1:9/"},
        {"action": "wait_for_response", "url": "*/never", "timeout": 0.3},
        {"action": "navigate", "url": refused},
        {"action": "assert_request_failed", "url": refused},
    ]


def _recorder_checks(site: str, files: Path) -> Steps:
    return [
        {"action": "navigate", "url": f"{site}/shadow.html"},
        {"action": "click", "selector": "shadow/shadow-host >> #inner"},
        {"action": "assert_property", "selector": "#shadow-out", "property": "textContent",
         "expected": "inside"},
        {"action": "assert_count", "selector": "shadow/shadow-host >> button", "count": 1},
        {"action": "assert_count", "selector": "span", "count": 1, "operator": ">="},
        {"action": "assert_count", "selector": "span", "count": 5, "operator": "<="},
        {"action": "assert_property", "selector": "shadow-host", "property": "shadowRoot",
         "expected": {"mode": "open"}},
        {"action": "assert_count", "selector": "span", "count": 2, "operator": ">=",
         "timeout": 0.3},
        {"action": "assert_property", "selector": "#shadow-out", "property": "textContent",
         "expected": "outside", "timeout": 0.3},
        {"action": "click", "selector": "shadow/#shadow-out >> #inner", "timeout": 0.3},
    ]  # fmt: skip


# name -> (journey, the outcome of each step on both engines)
MATRIX: dict[str, tuple[Callable[[str, Path], Steps], list[str]]] = {
    "login with cookie and redirect": (_login, [OK] * 8),
    "late-rendered content": (_late, [OK, OK, OK, OK, TIMEOUT]),
    "native dialog element": (_native_dialog, [OK, TIMEOUT, OK, OK, OK, OK]),
    "iframe without switching": (_iframe, [OK, OK, TIMEOUT]),
    "file input refuses fill and type": (_file_input, [OK, FAIL, FAIL, OK]),
    "select by label and value": (_select, [OK, OK, OK, OK, OK, TIMEOUT]),
    "new tab and window.open": (_new_tab, [OK, OK, OK, OK]),
    "failing fetch": (_failing_fetch, [OK] * 5),
    "unexpected alert": (_unexpected_alert, [OK, OK, FAIL, OK]),
    "shadow DOM": (_shadow, [OK, OK, OK, OK, TIMEOUT]),
    "closed port": (_closed_port, [FAIL, OK, OK]),
    "alert, confirm and prompt handled": (_dialogs, [OK] * 10 + [TIMEOUT]),
    "upload, evaluate, history, attribute, count, value": (
        _more_actions,
        [OK] * 8 + [FAIL] + [OK] * 6 + [TIMEOUT],
    ),
    "frames entered, nested and left": (
        _frames,
        [OK] * 11 + [TIMEOUT, FAIL, TIMEOUT] + [OK] * 3,
    ),
    "tabs and popups": (_tabs, [OK] * 15 + [FAIL, TIMEOUT, TIMEOUT] + [OK] * 3),
    "mouse buttons and click offsets": (_buttons, [OK] * 13 + [TIMEOUT]),
    "drag and drop": (_drag, [OK] * 5 + [TIMEOUT]),
    "shadow paths, properties and count operators": (
        _recorder_checks,
        [OK] * 7 + [TIMEOUT] * 3,
    ),
    "network responses and failed requests": (
        _network,
        [OK] * 5 + [TIMEOUT, TIMEOUT] + [OK] * 2 + [TIMEOUT, FAIL, OK],
    ),
}


def outcomes(result: JourneyResult) -> list[str]:
    """Each step's status, or the kind of error it failed with."""
    return [
        step.status.value if step.error is None else step.error.split(":", 1)[0]
        for step in result.steps
    ]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with two small files to upload."""
    folder = tmp_path_factory.mktemp("uploads")
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["playwright", "selenium"])
async def tester(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AdvancedWebTester]:
    """One shared browser per engine for the whole matrix."""
    folder = tmp_path_factory.mktemp(f"parity-{request.param}")
    async with AdvancedWebTester(
        request.param, artifacts_dir=folder, trace="off", timeout=3
    ) as shared:
        yield shared


@pytest.mark.parametrize("journey", sorted(MATRIX))
async def test_same_outcome_on_both_engines(
    journey: str, tester: AdvancedWebTester, site: str, files: Path
) -> None:
    """The journey gives the matrix's status and failure kind at every step on this engine."""
    build, expected = MATRIX[journey]
    result = await tester.run_user_journey(
        build(site, files), name=journey, continue_on_failure=True
    )
    assert outcomes(result) == expected, result.report()
    for step in result.steps:
        if step.error is not None and not step.error.startswith("StepTimeoutError"):
            assert tester.engine in step.error, step.error
