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
    """Each Recorder step type maps to our action; keyUp and close are folded away."""
    path = tmp_path / "recording.json"
    path.write_text(json.dumps(RECORDING))
    journey = Journey.from_file(path)
    assert journey.name == "Log in flow"
    assert [s.action for s in journey.steps] == [
        "set_viewport", "navigate", "click", "fill", "press", "double_click", "hover",
        "scroll", "wait_for", "wait_for", "wait_for",
    ]  # fmt: skip
    assert [s.index for s in journey.steps] == list(range(len(journey.steps)))


def test_recorder_selectors_keep_every_alternative_in_order() -> None:
    """The first element of each selector list becomes one alternative, prefixes parsed."""
    click = Journey.from_data(RECORDING).steps[2]
    assert [s.kind for s in click.selectors] == ["aria", "css", "xpath", "pierce", "text"]
    assert click.selectors[2].value == '//*[@id="login-button"]'


def test_recorder_timeouts_are_milliseconds() -> None:
    """Step timeouts (and the flow default) convert from ms to seconds."""
    steps = Journey.from_data(RECORDING).steps
    assert steps[8].timeout == 1.5
    assert steps[0].timeout == 7.0
    assert steps[9].params["state"] == "detached"


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
