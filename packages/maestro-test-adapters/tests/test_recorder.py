"""Chrome DevTools Recorder exports import as journeys, selectors and timeouts included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from maestro_test_adapters import Journey, JourneyValidationError

RECORDING: dict[str, Any] = {
    "title": "Log in flow",
    "timeout": 7000,
    "steps": [
        {"type": "setViewport", "width": 1024, "height": 700, "deviceScaleFactor": 1,
         "isMobile": False, "hasTouch": False, "isLandscape": False},
        {"type": "navigate", "url": "http://127.0.0.1:1/",
         "assertedEvents": [{"type": "navigation", "url": "http://127.0.0.1:1/", "title": "x"}]},
        {"type": "click", "target": "main", "offsetX": 5, "offsetY": 5,
         "selectors": [["aria/Log in"], ["#login-button"], ["xpath///*[@id=\"login-button\"]"],
                       ["pierce/#login-button"], ["text/Log in"]]},
        {"type": "change", "value": "testuser", "selectors": [["#username"]], "target": "main"},
        {"type": "keyDown", "key": "Enter", "target": "main"},
        {"type": "keyUp", "key": "Enter", "target": "main"},
        {"type": "doubleClick", "selectors": [["#dbl"]], "offsetX": 1, "offsetY": 1},
        {"type": "hover", "selectors": [["#hover"]]},
        {"type": "scroll", "x": 0, "y": 200},
        {"type": "waitForElement", "selectors": [["#out"]], "timeout": 1500},
        {"type": "waitForElement", "selectors": [["#gone"]], "operator": "==", "count": 0},
        {"type": "waitForExpression", "expression": "document.readyState === 'complete'"},
        {"type": "close"},
    ],
}  # fmt: skip


def test_recorder_export_converts_step_by_step(tmp_path: Path) -> None:
    """Each Recorder step type maps to our action; keyUp and close are folded away, and an
    asserted navigation waits for its URL and checks its title."""
    path = tmp_path / "recording.json"
    path.write_text(json.dumps(RECORDING))
    journey = Journey.from_file(path)
    assert journey.name == "Log in flow"
    assert [s.action for s in journey.steps] == [
        "set_viewport", "navigate", "wait_for", "assert_title", "click", "fill", "press",
        "double_click", "hover", "scroll", "wait_for", "wait_for", "wait_for",
    ]  # fmt: skip
    assert journey.steps[2].params == {"url": "http://127.0.0.1:1/"}
    assert journey.steps[3].params == {"title": "x"}
    assert journey.steps[4].params == {"x": 5, "y": 5}
    assert [s.index for s in journey.steps] == list(range(len(journey.steps)))


def test_recorder_selectors_keep_every_alternative_in_order() -> None:
    """The first element of each selector list becomes one alternative, prefixes parsed."""
    click = Journey.from_data(RECORDING).steps[4]
    assert [s.kind for s in click.selectors] == ["aria", "css", "xpath", "pierce", "text"]
    assert click.selectors[2].value == '//*[@id="login-button"]'


def test_recorder_timeouts_are_milliseconds() -> None:
    """Step timeouts (and the flow default) convert from ms to seconds."""
    steps = Journey.from_data(RECORDING).steps
    assert steps[10].timeout == 1.5
    assert steps[0].timeout == 7.0
    # == 0 with the default visible: true means no *visible* element, as the Recorder's.
    assert steps[11].params["state"] == "hidden"


def test_unsupported_recorder_step_names_its_index() -> None:
    """A step type we cannot replay is an error naming the Recorder step index."""
    data = {
        "title": "t",
        "steps": [
            {"type": "navigate", "url": "http://x"},
            {"type": "customStep", "name": "x", "parameters": {}},
        ],
    }
    with pytest.raises(JourneyValidationError) as info:
        Journey.from_data(data)
    assert (info.value.index, info.value.field) == (1, "type")


def test_recorder_step_without_selectors_is_refused() -> None:
    """A click without selectors names the step and the 'selectors' field."""
    data = {"title": "t", "steps": [{"type": "click", "offsetX": 1}]}
    with pytest.raises(JourneyValidationError) as info:
        Journey.from_data(data)
    assert (info.value.index, info.value.field) == (0, "selectors")


def _steps(*steps: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    journey = Journey.from_data({"title": "t", "steps": list(steps)})
    return [
        (step.action, {**step.params, **({"selector": step.selector_text} if step.selectors
                                          else {})})
        for step in journey.steps
    ]  # fmt: skip


def test_shadow_paths_become_shadow_selectors() -> None:
    """A selector path walks through shadow roots; only CSS parts can."""
    steps = _steps({"type": "click", "selectors": [["#host", "#inner"], ["pierce/#inner"]]})
    assert steps == [("click", {"selector": "shadow/#host >> #inner | pierce/#inner"})]
    with pytest.raises(JourneyValidationError) as info:
        _steps({"type": "navigate", "url": "http://x/"},
               {"type": "click", "selectors": [["aria/Host", "aria/Inner"]]})  # fmt: skip
    assert (info.value.index, info.value.field) == (1, "selectors")


def test_frames_and_tabs_become_frame_and_switch_tab_steps() -> None:
    """frame indexes enter frames from the top; a new target switches to the newest tab,
    "main" back to the first; closing another tab closes it."""
    steps = _steps(
        {"type": "click", "frame": [0, 1], "selectors": [["#a"]]},
        {"type": "click", "frame": [0, 1], "selectors": [["#b"]]},
        {"type": "click", "selectors": [["#c"]]},
        {"type": "click", "target": "http://x/popup", "selectors": [["#d"]]},
        {"type": "click", "target": "main", "frame": [2], "selectors": [["#e"]]},
        {"type": "click", "target": "http://x/popup", "selectors": [["#f"]]},
        {"type": "close", "target": "http://x/popup"},
        {"type": "close", "target": "main"},
    )
    first = "xpath=(//iframe | //frame)[1]"
    assert steps == [
        ("frame", {"selector": first}),
        ("frame", {"selector": "xpath=(//iframe | //frame)[2]"}),
        ("click", {"selector": "#a"}),
        ("click", {"selector": "#b"}),
        ("frame", {}),
        ("click", {"selector": "#c"}),
        ("switch_tab", {}),
        ("click", {"selector": "#d"}),
        ("switch_tab", {"index": 0}),
        ("frame", {"selector": "xpath=(//iframe | //frame)[3]"}),
        ("click", {"selector": "#e"}),
        ("switch_tab", {"index": 1}),
        ("click", {"selector": "#f"}),
        ("close_tab", {}),
    ]


def test_buttons_offsets_and_waits_convert() -> None:
    """secondary is a right click; waitForElement's count, operator, attributes and
    properties each become a check."""
    steps = _steps(
        {"type": "click", "button": "secondary", "offsetX": 3, "offsetY": 4,
         "selectors": [["#a"]]},
        {"type": "click", "button": "auxiliary", "selectors": [["#a"]]},
        {"type": "waitForElement", "selectors": [["li"]], "operator": ">=", "count": 3},
        {"type": "waitForElement", "selectors": [["#one"]], "operator": "==", "count": 1,
         "visible": False, "attributes": {"data-state": "on"},
         "properties": {"value": "x", "dataset": {"k": "v"}}},
    )  # fmt: skip
    assert steps == [
        ("click", {"selector": "#a", "button": "right", "x": 3, "y": 4}),
        ("click", {"selector": "#a", "button": "middle"}),
        ("assert_count", {"selector": "li", "count": 3, "operator": ">="}),
        ("wait_for", {"selector": "#one", "state": "attached"}),
        ("assert_count", {"selector": "#one", "count": 1}),
        ("assert_attribute", {"selector": "#one", "attribute": "data-state", "value": "on"}),
        ("assert_property", {"selector": "#one", "property": "value", "expected": "x"}),
        ("assert_property", {"selector": "#one", "property": "dataset", "expected": {"k": "v"}}),
    ]


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"type": "click", "selectors": [["#a"]], "button": "back"}, "button"),
        ({"type": "doubleClick", "selectors": [["#a"]], "button": "secondary"}, "button"),
        ({"type": "click", "selectors": [["#a"]], "deviceType": "touch"}, "deviceType"),
        ({"type": "click", "selectors": [["#a"]], "duration": 800}, "duration"),
        ({"type": "click", "selectors": [["#a"]], "shiftKey": True}, "shiftKey"),
        ({"type": "setViewport", "width": 400, "height": 800, "isMobile": True}, "isMobile"),
        ({"type": "setViewport", "width": 400, "height": 800, "deviceScaleFactor": 2},
         "deviceScaleFactor"),
        ({"type": "navigate", "url": "http://x/", "assertedEvents": [{"type": "download"}]},
         "assertedEvents"),
        ({"type": "click", "selectors": [["#a"]], "frame": ["0"]}, "frame"),
        ({"type": "click", "selectors": [["#a"]], "target": 3}, "target"),
        ({"type": "waitForElement", "selectors": [["#a"]], "operator": "!="}, "operator"),
        ({"type": "waitForElement", "selectors": [["#a"]], "attributes": ["x"]}, "attributes"),
        ({"type": "emulateNetworkConditions", "download": 1, "upload": 1, "latency": 1},
         "type"),
    ],
)  # fmt: skip
def test_what_cannot_be_replayed_is_refused_with_its_step(step: dict[str, Any], field: str) -> None:
    """A step type, field or value we cannot replay faithfully is an error naming the
    Recorder step's index and field, never dropped."""
    with pytest.raises(JourneyValidationError) as info:
        Journey.from_data({"title": "t", "steps": [{"type": "navigate", "url": "http://x/"}, step]})
    assert (info.value.index, info.value.field) == (1, field)
