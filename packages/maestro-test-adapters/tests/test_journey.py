"""Journey validation and loading: every problem is found before a browser starts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from maestro_test_adapters import (
    ACTIONS,
    AdvancedWebTester,
    Journey,
    JourneyFileError,
    JourneyValidationError,
)


def errors_of(steps: Any) -> tuple[int | None, str | None, str]:
    """Validate steps and return (index, field, message) of the error raised."""
    with pytest.raises(JourneyValidationError) as info:
        Journey.from_steps(steps)
    return info.value.index, info.value.field, str(info.value)


def test_issue_actions_are_all_known() -> None:
    """Every action the issue lists is accepted."""
    wanted = {
        "navigate", "click", "double_click", "type", "fill", "press", "hover", "select",
        "check", "scroll", "wait_for", "assert_text", "assert_visible", "assert_url",
        "assert_title", "screenshot", "set_viewport",
    }  # fmt: skip
    assert wanted <= set(ACTIONS)


def test_issue_13_actions_are_all_known() -> None:
    """Frames, tabs, mouse buttons, drag and network actions are accepted."""
    wanted = {
        "frame", "switch_tab", "close_tab", "right_click", "drag", "wait_for_response",
        "assert_request_failed", "assert_property",
    }  # fmt: skip
    assert wanted <= set(ACTIONS)


def test_unknown_action_names_index_and_suggests() -> None:
    """An unknown action is reported with its step index and a close match."""
    index, field, message = errors_of(
        [{"action": "navigate", "url": "http://x"}, {"action": "clik", "selector": "#a"}]
    )
    assert (index, field) == (1, "action")
    assert "did you mean 'click'" in message


def test_missing_field_names_index_and_field() -> None:
    """A missing required field names the step and the field."""
    assert errors_of([{"action": "navigate", "url": "u"}, {"action": "type", "selector": "#a"}])[
        :2
    ] == (
        1,
        "text",
    )


def test_missing_action_is_reported() -> None:
    """A step without an action is an error on field 'action'."""
    assert errors_of([{"url": "http://x"}])[:2] == (0, "action")


def test_unknown_field_is_reported_with_suggestion() -> None:
    """A misspelt field is refused, naming it and suggesting the right one."""
    index, field, message = errors_of([{"action": "click", "selecter": "#a"}])
    assert (index, field) == (0, "selecter")
    assert "'selector'" in message


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"action": "click", "selector": 5}, "selector"),
        ({"action": "click", "selector": []}, "selector"),
        ({"action": "click", "selector": "#a", "timeout": "5"}, "timeout"),
        ({"action": "click", "selector": "#a", "timeout": 0}, "timeout"),
        ({"action": "check", "selector": "#a", "checked": "yes"}, "checked"),
        ({"action": "set_viewport", "width": True, "height": 10}, "width"),
        ({"action": "set_viewport", "width": 0, "height": 10}, "width"),
        ({"action": "wait_for"}, "selector"),
        ({"action": "wait_for", "text": "a", "url": "b"}, "url"),
        ({"action": "wait_for", "text": "a", "state": "visible"}, "state"),
        ({"action": "wait_for", "selector": "#a", "state": "gone"}, "state"),
        ({"action": "assert_url", "pattern": "("}, "pattern"),
        ({"action": "press", "key": ""}, "key"),
        ({"action": "click", "selector": "role=Bad!"}, "selector"),
        ({"action": "click", "selector": "#a", "button": "back"}, "button"),
        ({"action": "click", "selector": "#a", "x": 3}, "y"),
        ({"action": "right_click", "selector": "#a", "button": "left"}, "button"),
        ({"action": "switch_tab", "index": -1}, "index"),
        ({"action": "switch_tab", "index": "1"}, "index"),
        ({"action": "drag", "selector": "#a"}, "target"),
        ({"action": "drag", "selector": "#a", "target": []}, "target"),
        ({"action": "wait_for_response", "url": "/a", "status": 99}, "status"),
        ({"action": "wait_for_response", "status": 200}, "url"),
        ({"action": "wait_for_response", "url": "/a", "pattern": "a"}, "pattern"),
        ({"action": "assert_request_failed", "pattern": "("}, "pattern"),
        ({"action": "assert_count", "selector": "#a", "count": 1, "operator": ">"}, "operator"),
        ({"action": "assert_property", "selector": "#a", "property": "value"}, "expected"),
        ({"action": "frame", "selector": "shadow/#a >> "}, "selector"),
    ],
)
def test_bad_values_name_the_field(step: dict[str, Any], field: str) -> None:
    """Wrong types, empty lists, bad states and bad regexes name the offending field."""
    assert errors_of([step])[:2] == (0, field)


def test_empty_and_non_list_journeys_are_refused() -> None:
    """A journey needs a list with at least one step."""
    assert errors_of([])[1] == "steps"
    assert errors_of("navigate")[0] is None


def test_valid_steps_become_typed_steps() -> None:
    """Selectors are parsed, aliases resolved, timeouts kept in seconds."""
    journey = Journey.from_steps(
        [
            {"action": "goto", "url": "http://x"},
            {"action": "click", "selector": ["#a", "text=Go"], "timeout": 2},
            {"action": "uncheck", "selector": "#c"},
        ],
        name="demo",
    )
    assert [s.action for s in journey.steps] == ["navigate", "click", "check"]
    assert [s.kind for s in journey.steps[1].selectors] == ["css", "text"]
    assert journey.steps[1].timeout == 2.0
    assert journey.steps[2].params == {"checked": False}
    assert journey.name == "demo"


def test_new_actions_become_typed_steps() -> None:
    """right_click is a right-button click; drag targets parse like selectors."""
    journey = Journey.from_steps(
        [
            {"action": "right_click", "selector": "#a", "x": 1, "y": 2},
            {"action": "drag", "selector": "#a", "target": ["#b", "text=Bin"]},
            {"action": "frame"},
            {"action": "switch_tab", "index": 0},
            {"action": "wait_for_response", "url": "*/api", "status": 201},
            {"action": "assert_property", "selector": "#a", "property": "x", "expected": None},
            {"action": "click", "selector": "shadow/#host >> #inner"},
        ]
    )
    click, drag, frame, tab, response, prop, shadow = journey.steps
    assert (click.action, click.params) == ("click", {"x": 1, "y": 2, "button": "right"})
    assert [s.kind for s in drag.params["target"]] == ["css", "text"]
    assert (frame.action, frame.selectors) == ("frame", ())
    assert tab.params == {"index": 0}
    assert response.matcher("url")("http://h/api")
    assert response.params["status"] == 201
    assert prop.params["expected"] is None
    assert shadow.selectors[0].parts == ("#host", "#inner")


def test_matcher_modes() -> None:
    """URL matchers compare exactly (glob with *), by substring, or by regex."""
    steps = Journey.from_steps(
        [
            {"action": "assert_url", "url": "http://h/*.html"},
            {"action": "assert_url", "contains": "/next"},
            {"action": "assert_title", "pattern": "^Ne.t"},
        ]
    ).steps
    assert steps[0].matcher("url")("http://h/next.html")
    assert not steps[0].matcher("url")("http://h/next.htm")
    assert steps[1].matcher("url")("http://h/next.html")
    assert steps[2].matcher("title")("Next page")


async def test_validation_happens_before_any_browser(tmp_path: Path) -> None:
    """A bad step is reported even when the browser path does not exist (no browser started)."""
    tester = AdvancedWebTester(browser_path=tmp_path / "no-browser")
    with pytest.raises(JourneyValidationError) as info:
        await tester.run_user_journey(
            [{"action": "navigate", "url": "http://127.0.0.1/"}, {"action": "hover"}]
        )
    assert (info.value.index, info.value.field) == (1, "selector")


async def test_relative_url_needs_base_url(tmp_path: Path) -> None:
    """A relative navigate URL without base_url is a validation error, before a browser."""
    tester = AdvancedWebTester(browser_path=tmp_path / "no-browser")
    with pytest.raises(JourneyValidationError) as info:
        await tester.run_user_journey([{"action": "navigate", "url": "/login"}])
    assert (info.value.index, info.value.field) == (0, "url")


def test_json_and_yaml_files_load(tmp_path: Path) -> None:
    """Journeys load from JSON (list or mapping) and from YAML."""
    steps = [{"action": "navigate", "url": "http://x"}, {"action": "assert_title", "title": "T"}]
    (tmp_path / "a.json").write_text(json.dumps(steps))
    (tmp_path / "b.json").write_text(json.dumps({"name": "named", "steps": steps}))
    (tmp_path / "c.yaml").write_text(
        "name: yaml journey\nsteps:\n  - action: navigate\n    url: http://x\n"
        "  - action: click\n    selector: ['#a', 'text=Go']\n"
    )
    assert Journey.from_file(tmp_path / "a.json").name == "a"
    assert Journey.from_file(tmp_path / "b.json").name == "named"
    yaml_journey = Journey.from_file(tmp_path / "c.yaml")
    assert yaml_journey.name == "yaml journey"
    assert len(yaml_journey.steps[1].selectors) == 2


def test_bad_files_raise_file_errors(tmp_path: Path) -> None:
    """Unreadable or unparsable files raise JourneyFileError with the position."""
    with pytest.raises(JourneyFileError, match="cannot read"):
        Journey.from_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('[{"action": }]')
    with pytest.raises(JourneyFileError, match="line 1"):
        Journey.from_file(tmp_path / "bad.json")
    (tmp_path / "bad.yaml").write_text("steps: [unclosed\n")
    with pytest.raises(JourneyFileError, match="not valid YAML"):
        Journey.from_file(tmp_path / "bad.yaml")


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["action", "selector", "url", "text", "timeout", "key", "bogus"]),
            st.one_of(st.text(max_size=5), st.integers(), st.none(), st.sampled_from(ACTIONS)),
            max_size=4,
        ),
        max_size=4,
    )
)
def test_validator_only_ever_raises_validation_errors(steps: list[dict[str, Any]]) -> None:
    """Whatever the input, validation either succeeds or raises JourneyValidationError."""
    error: JourneyValidationError | None = None
    try:
        journey = Journey.from_steps(steps)
    except JourneyValidationError as exc:
        error = exc
    if error is not None:
        assert error.index is None or 0 <= error.index < len(steps)
    else:
        assert len(journey.steps) == len(steps)


@pytest.mark.parametrize("bad", [42, None, 3.5, object()])
def test_a_journey_that_is_not_a_list_is_a_validation_error(bad: object) -> None:
    """42, None or any non-iterable is refused with JourneyValidationError, not a TypeError."""
    index, field, message = errors_of(bad)
    assert index is None
    assert field is None
    assert "must be a list of step mappings" in message
    assert type(bad).__name__ in message


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -float("inf"), 0, -1])
def test_step_timeout_must_be_positive_and_finite(timeout: float) -> None:
    """NaN, infinite, zero and negative step timeouts name the step and the field."""
    index, field, message = errors_of(
        [{"action": "wait_for", "selector": "#x", "timeout": timeout}]
    )
    assert (index, field) == (0, "timeout")
    assert "positive, finite" in message


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 0.0])
def test_tester_timeout_must_be_positive_and_finite(timeout: float) -> None:
    """The tester's default timeout refuses NaN, infinity and zero with ConfigurationError."""
    from maestro_test_adapters import ConfigurationError

    with pytest.raises(ConfigurationError, match="positive, finite"):
        AdvancedWebTester(timeout=timeout)


@pytest.mark.parametrize(
    "url", ["localhost:8000/login", "example.com:8080/", "javascript:alert(1)"]
)
def test_navigate_url_without_a_browser_scheme_is_refused(url: str) -> None:
    """A host:port URL without http:// is refused, suggesting the scheme to write."""
    index, field, message = errors_of([{"action": "navigate", "url": url}])
    assert (index, field) == (0, "url")
    assert "no usable scheme" in message


async def test_raise_on_failure_raises_the_first_failure(site: str) -> None:
    """run_user_journey(raise_on_failure=True) raises StepError for a failed journey."""
    pytest.importorskip("selenium")
    from maestro_test_adapters import StepError

    tester = AdvancedWebTester("selenium", base_url=site)
    failing: list[dict[str, Any]] = [
        {"action": "navigate", "url": "/next.html"},
        {"action": "assert_title", "title": "Nope", "timeout": 0.3},
    ]
    result = await tester.run_user_journey(failing)
    assert not result.passed
    with pytest.raises(StepError, match="assert_title"):
        await tester.run_user_journey(failing, raise_on_failure=True)
