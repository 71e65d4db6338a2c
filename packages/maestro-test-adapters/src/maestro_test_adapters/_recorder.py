"""Import Chrome DevTools Recorder exports (``{"title": ..., "steps": [{"type": ...}]}``).

Each Recorder step becomes one or more of our steps, replayed as the Recorder would:

* ``selectors`` is a list of alternatives; each alternative is a list, a path through
  shadow roots (``["#host", "#inner"]``: ``#inner`` inside ``#host``'s shadow root), which
  becomes a ``shadow/#host >> #inner`` selector;
* ``frame`` (frame indexes from the top document) becomes ``frame`` steps, and ``target``
  (``"main"`` or the URL of another tab) becomes ``switch_tab`` steps, whenever they change;
* ``button`` ``secondary`` / ``auxiliary`` clicks with the right / middle button;
  ``offsetX`` / ``offsetY`` click at that point of the element;
* ``waitForElement`` with ``count`` / ``operator`` / ``visible`` / ``attributes`` /
  ``properties`` waits for each of them;
* ``assertedEvents`` of type ``navigation`` wait for that URL and check that title.

Timeouts are milliseconds in the Recorder and seconds here. ``keyUp`` is folded into the
preceding ``keyDown`` (our ``press`` sends both); ``close`` of the main page (the end of
the recording) is dropped, ``close`` of another tab closes it. Everything else, a step type
or field we cannot replay faithfully, is refused with the Recorder step's index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import JourneyValidationError
from ._selectors import SHADOW_SEPARATOR

__all__ = ["is_recorder", "recorder_steps"]

_SIMPLE = {"click": "click", "doubleClick": "double_click", "hover": "hover"}
_BUTTONS = {"primary": "left", "secondary": "right", "auxiliary": "middle"}
_PREFIXES = ("aria/", "xpath/", "text/", "pierce/", "css/")
_COMMON = {"type", "target", "frame", "timeout", "assertedEvents"}
# The fields of each step type we replay (besides _COMMON).
_FIELDS: dict[str, set[str]] = {
    "setViewport": {"width", "height", "deviceScaleFactor", "isMobile", "hasTouch", "isLandscape"},
    "navigate": {"url"},
    "click": {"selectors", "offsetX", "offsetY", "button", "deviceType", "duration"},
    "doubleClick": {"selectors", "offsetX", "offsetY", "button", "deviceType", "duration"},
    "hover": {"selectors", "deviceType"},
    "change": {"selectors", "value"},
    "keyDown": {"key"},
    "keyUp": {"key"},
    "scroll": {"selectors", "x", "y"},
    "waitForElement": {"selectors", "operator", "count", "visible", "attributes", "properties"},
    "waitForExpression": {"expression"},
    "close": set(),
}


def is_recorder(data: object) -> bool:
    """Whether parsed JSON looks like a Recorder export (steps carry ``type``)."""
    if not isinstance(data, Mapping):
        return False
    steps = data.get("steps")
    return (
        isinstance(steps, list)
        and bool(steps)
        and all(isinstance(s, Mapping) and "type" in s and "action" not in s for s in steps)
    )


def _refuse(index: int, field: str, message: str) -> JourneyValidationError:
    return JourneyValidationError(index, field, message)


def _selector(index: int, alternative: object) -> str:
    """One alternative: a selector string, or a shadow path of CSS selectors."""
    path = alternative if isinstance(alternative, list) else [alternative]
    if not path or not all(isinstance(part, str) and part.strip() for part in path):
        raise _refuse(index, "selectors", f"not a selector: {alternative!r}")
    if len(path) == 1:
        return str(path[0])
    for part in path:
        if str(part).startswith(_PREFIXES) or SHADOW_SEPARATOR.strip() in str(part):
            raise _refuse(
                index,
                "selectors",
                f"shadow path {alternative!r}: only CSS selectors can pass through shadow "
                "roots here (aria/, text/, xpath/ and pierce/ parts cannot)",
            )
    return "shadow/" + SHADOW_SEPARATOR.join(str(part) for part in path)


def _selectors(index: int, step: Mapping[str, Any]) -> list[str]:
    raw = step.get("selectors")
    if not isinstance(raw, list) or not raw:
        raise _refuse(index, "selectors", "missing; this step needs selectors")
    return [_selector(index, alternative) for alternative in raw]


def _pointer(index: int, step: Mapping[str, Any], out: dict[str, Any]) -> None:
    """Button, offsets, device and duration of a click, double click or hover."""
    device = step.get("deviceType", "mouse")
    if device != "mouse":
        raise _refuse(index, "deviceType", f"{device!r} input is not replayed; only mouse")
    duration = step.get("duration", 0)
    if duration:
        raise _refuse(index, "duration", "a press held for a duration is not replayed")
    button = step.get("button", "primary")
    if button not in _BUTTONS:
        raise _refuse(index, "button", f"button {button!r} is not replayed; use primary, "
                      "secondary or auxiliary")  # fmt: skip
    if button != "primary":
        if out["action"] != "click":
            raise _refuse(index, "button", f"a {step['type']} with button {button!r}")
        out["button"] = _BUTTONS[button]
    if "offsetX" in step or "offsetY" in step:
        out["x"], out["y"] = step.get("offsetX", 0), step.get("offsetY", 0)


def _viewport(index: int, step: Mapping[str, Any]) -> dict[str, Any]:
    for key, plain in (("isMobile", False), ("hasTouch", False)):
        if step.get(key, plain) != plain:
            raise _refuse(index, key, f"{key}: true (device emulation) is not replayed")
    if step.get("deviceScaleFactor", 1) != 1:
        raise _refuse(index, "deviceScaleFactor", "a device scale factor other than 1")
    return {"action": "set_viewport", "width": step.get("width"), "height": step.get("height")}


def _wait_for_element(index: int, step: Mapping[str, Any]) -> list[dict[str, Any]]:
    selectors = _selectors(index, step)
    operator, count = step.get("operator", ">="), step.get("count", 1)
    visible = step.get("visible", True)
    if operator not in ("==", ">=", "<="):
        raise _refuse(index, "operator", f"must be ==, >= or <=, got {operator!r}")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise _refuse(index, "count", f"must be a whole number >= 0, got {count!r}")
    if not isinstance(visible, bool):
        raise _refuse(index, "visible", f"must be true or false, got {visible!r}")
    out: list[dict[str, Any]] = []
    if (operator, count) in (("==", 0), ("<=", 0)):
        state = "hidden" if visible else "detached"
        out.append({"action": "wait_for", "selector": selectors, "state": state})
    elif (operator, count) in ((">=", 1), ("==", 1)):
        state = "visible" if visible else "attached"
        out.append({"action": "wait_for", "selector": selectors, "state": state})
        if operator == "==":
            out.append({"action": "assert_count", "selector": selectors[0], "count": 1})
    else:
        out.append(
            {
                "action": "assert_count",
                "selector": selectors[0],
                "count": count,
                "operator": operator,
            }
        )
    attributes = step.get("attributes", {})
    properties = step.get("properties", {})
    for field, value in (("attributes", attributes), ("properties", properties)):
        if not isinstance(value, Mapping):
            raise _refuse(index, field, f"must be an object, got {value!r}")
    if (attributes or properties) and count == 0:
        raise _refuse(index, "count", "attributes or properties of no elements")
    for name, value in attributes.items():
        if not isinstance(value, str):
            raise _refuse(index, "attributes", f"attribute {name!r}: expected a string")
        out.append(
            {
                "action": "assert_attribute",
                "selector": selectors,
                "attribute": str(name),
                "value": value,
            }
        )
    for name, value in properties.items():
        out.append(
            {
                "action": "assert_property",
                "selector": selectors,
                "property": str(name),
                "expected": value,
            }
        )
    return out


def _convert(index: int, step: Mapping[str, Any]) -> list[dict[str, Any]]:
    kind = step["type"]
    if kind not in _FIELDS:
        raise _refuse(
            index, "type", f"Recorder step type {kind!r} is not supported by maestro-journey"
        )
    for key in step:
        if key not in _FIELDS[kind] and key not in _COMMON:
            raise _refuse(index, str(key), f"field {key!r} of a {kind} step is not replayed")
    out: dict[str, Any]
    if kind == "setViewport":
        out = _viewport(index, step)
    elif kind == "navigate":
        out = {"action": "navigate", "url": step.get("url")}
    elif kind in _SIMPLE:
        out = {"action": _SIMPLE[kind], "selector": _selectors(index, step)}
        _pointer(index, step, out)
    elif kind == "change":
        out = {"action": "fill", "selector": _selectors(index, step), "text": step.get("value")}
    elif kind == "keyDown":
        out = {"action": "press", "key": step.get("key")}
    elif kind in ("keyUp", "close"):
        return []
    elif kind == "scroll":
        out = {"action": "scroll", "x": step.get("x", 0), "y": step.get("y", 0)}
        if step.get("selectors"):
            out["selector"] = _selectors(index, step)
    elif kind == "waitForElement":
        return _wait_for_element(index, step)
    else:  # waitForExpression
        out = {"action": "wait_for", "expression": step.get("expression")}
    return [out]


def _asserted(index: int, step: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The steps that check a Recorder step's ``assertedEvents`` (navigations)."""
    events = step.get("assertedEvents", [])
    if not isinstance(events, list):
        raise _refuse(index, "assertedEvents", "must be a list")
    out: list[dict[str, Any]] = []
    for event in events:
        if not isinstance(event, Mapping) or event.get("type") != "navigation":
            raise _refuse(
                index, "assertedEvents", f"only navigation events are replayed, got {event!r}"
            )
        unknown = set(event) - {"type", "url", "title"}
        if unknown:
            raise _refuse(index, "assertedEvents", f"unknown fields {sorted(unknown)}")
        if event.get("url"):
            out.append({"action": "wait_for", "url": event["url"]})
        if event.get("title"):
            out.append({"action": "assert_title", "title": event["title"]})
    return out


def _frame_path(index: int, step: Mapping[str, Any]) -> tuple[int, ...]:
    path = step.get("frame", [])
    if not isinstance(path, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in path
    ):
        raise _refuse(index, "frame", f"must be a list of frame indexes, got {path!r}")
    return tuple(path)


def recorder_steps(
    data: Mapping[str, Any], name: str | None = None
) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """A Recorder export's title and its replayable steps as ``(index in the file, step)``.

    The steps are our step mappings, not yet validated: the journey validates them with the
    Recorder's own index, so errors point into the file the user has.
    """
    title = name or str(data.get("title") or "recording")
    default_ms = data.get("timeout")
    steps: list[tuple[int, dict[str, Any]]] = []
    targets = ["main"]  # tabs in the order the recording first acted in them
    target = "main"
    frames: tuple[int, ...] = ()
    for index, step in enumerate(data["steps"]):
        converted: list[dict[str, Any]] = []
        wanted = step.get("target", "main")
        if not isinstance(wanted, str) or not wanted:
            raise _refuse(index, "target", f"must be 'main' or a page URL, got {wanted!r}")
        path = _frame_path(index, step)
        if step["type"] == "close":
            # The recording's last step closes the main page; another tab's close closes it.
            if wanted != "main":
                if wanted != target:
                    raise _refuse(index, "target", "close of a tab the recording is not on")
                converted.append({"action": "close_tab"})
                targets.remove(wanted)
                target, frames = "main", ()
        else:
            if wanted != target:
                if wanted in targets:
                    converted.append({"action": "switch_tab", "index": targets.index(wanted)})
                else:
                    converted.append({"action": "switch_tab"})
                    targets.append(wanted)
                target, frames = wanted, ()
            if step["type"] == "navigate":
                frames = ()  # navigating leaves any frame, on both engines
            if path != frames:
                if frames:
                    converted.append({"action": "frame"})
                converted.extend(
                    {"action": "frame", "selector": f"xpath=(//iframe | //frame)[{i + 1}]"}
                    for i in path
                )
                frames = path
        converted += _convert(index, step) + _asserted(index, step)
        if step["type"] == "navigate":
            frames = ()
        timeout = step.get("timeout")
        if timeout is not None:
            if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
                raise _refuse(index, "timeout", "must be a positive number of ms")
        elif isinstance(default_ms, int | float) and default_ms > 0:
            timeout = default_ms
        for out in converted:
            if timeout is not None:
                out["timeout"] = timeout / 1000.0
            steps.append((index, out))
    return title, steps
