"""Import Chrome DevTools Recorder exports (``{"title": ..., "steps": [{"type": ...}]}``).

Each Recorder step becomes one of our steps. ``selectors`` is a list of alternatives, and
each alternative is itself a list (a path through shadow roots / frames): we take the first
element of each. Timeouts are milliseconds in the Recorder and seconds here. ``keyUp`` is
folded into the preceding ``keyDown`` (our ``press`` sends both); ``close`` is dropped;
``assertedEvents`` are not replayed (they record the URL of the recording session).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import JourneyValidationError

__all__ = ["is_recorder", "recorder_steps"]

_SIMPLE = {"click": "click", "doubleClick": "double_click", "hover": "hover"}


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


def _selectors(index: int, step: Mapping[str, Any]) -> list[str]:
    raw = step.get("selectors")
    if not isinstance(raw, list) or not raw:
        raise JourneyValidationError(index, "selectors", "missing; this step needs selectors")
    out: list[str] = []
    for alternative in raw:
        first = alternative[0] if isinstance(alternative, list) and alternative else alternative
        if not isinstance(first, str):
            raise JourneyValidationError(index, "selectors", f"not a selector: {alternative!r}")
        out.append(first)
    return out


def _convert(index: int, step: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = step["type"]
    out: dict[str, Any]
    if kind == "setViewport":
        out = {"action": "set_viewport", "width": step.get("width"), "height": step.get("height")}
    elif kind == "navigate":
        out = {"action": "navigate", "url": step.get("url")}
    elif kind in _SIMPLE:
        out = {"action": _SIMPLE[kind], "selector": _selectors(index, step)}
    elif kind == "change":
        out = {"action": "fill", "selector": _selectors(index, step), "text": step.get("value")}
    elif kind == "keyDown":
        out = {"action": "press", "key": step.get("key")}
    elif kind in ("keyUp", "close"):
        return None
    elif kind == "scroll":
        out = {"action": "scroll", "x": step.get("x", 0), "y": step.get("y", 0)}
        if step.get("selectors"):
            out["selector"] = _selectors(index, step)
    elif kind == "waitForElement":
        operator, count = step.get("operator", ">="), step.get("count", 1)
        if (operator, count) == ("==", 0):
            state = "detached"
        elif (operator == ">=" and count == 1) or (operator == "==" and count == 1):
            state = "visible" if step.get("visible", True) else "attached"
        else:
            raise JourneyValidationError(
                index, "count", f"waitForElement with count {operator} {count} is not supported"
            )
        out = {"action": "wait_for", "selector": _selectors(index, step), "state": state}
    elif kind == "waitForExpression":
        out = {"action": "wait_for", "expression": step.get("expression")}
    else:
        raise JourneyValidationError(
            index, "type", f"Recorder step type {kind!r} is not supported by maestro-journey"
        )
    if "timeout" in step:
        timeout = step["timeout"]
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise JourneyValidationError(index, "timeout", "must be a positive number of ms")
        out["timeout"] = timeout / 1000.0
    return out


def recorder_steps(
    data: Mapping[str, Any], name: str | None = None
) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """A Recorder export's title and its replayable steps as ``(index in the file, step)``.

    The steps are our step mappings, not yet validated: the journey validates them with the
    Recorder's own index, so errors point into the file the user has.
    """
    title = name or str(data.get("title") or "recording")
    default_ms = data.get("timeout")
    steps = []
    for index, step in enumerate(data["steps"]):
        converted = _convert(index, step)
        if converted is None:
            continue
        if "timeout" not in converted and isinstance(default_ms, int | float) and default_ms > 0:
            converted["timeout"] = default_ms / 1000.0
        steps.append((index, converted))
    return title, steps
