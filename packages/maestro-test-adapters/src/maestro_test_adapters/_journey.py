"""Journeys as data: steps as dicts, validated as a whole before any browser starts."""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._errors import JourneyFileError, JourneyValidationError
from ._recorder import is_recorder, recorder_steps
from ._selectors import Selector, parse_selector

__all__ = ["ACTIONS", "Journey", "Matcher", "Step"]

_STR = (str,)
_NUM = (int, float)
_BOOL = (bool,)

# action -> (required fields, optional fields, "exactly one of" group)
_SCHEMA: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "navigate": (("url",), (), ()),
    "click": (("selector",), ("button", "x", "y"), ()),
    "right_click": (("selector",), ("x", "y"), ()),
    "double_click": (("selector",), ("x", "y"), ()),
    "type": (("selector", "text"), (), ()),
    "fill": (("selector", "text"), (), ()),
    "press": (("key",), ("selector",), ()),
    "hover": (("selector",), (), ()),
    "select": (("selector", "value"), (), ()),
    "check": (("selector",), ("checked",), ()),
    "uncheck": (("selector",), (), ()),
    "scroll": ((), ("selector", "x", "y"), ()),
    "wait_for": ((), ("state",), ("selector", "text", "url", "expression")),
    "assert_text": (("text",), ("selector", "exact"), ()),
    "assert_visible": (("selector",), (), ()),
    "assert_url": ((), (), ("url", "contains", "pattern")),
    "assert_title": ((), (), ("title", "contains", "pattern")),
    "screenshot": ((), ("full_page",), ()),
    "set_viewport": (("width", "height"), (), ()),
    "accept_dialog": ((), ("text",), ()),
    "dismiss_dialog": ((), (), ()),
    "upload": (("selector", "files"), (), ()),
    "evaluate": (("expression",), ("expected",), ()),
    "reload": ((), (), ()),
    "back": ((), (), ()),
    "forward": ((), (), ()),
    "assert_attribute": (("selector", "attribute"), ("value",), ()),
    "assert_count": (("selector", "count"), ("operator",), ()),
    "assert_value": (("selector", "value"), (), ()),
    "assert_property": (("selector", "property", "expected"), (), ()),
    "frame": ((), ("selector",), ()),
    "switch_tab": ((), ("index",), ()),
    "close_tab": ((), (), ()),
    "drag": (("selector", "target"), (), ()),
    "wait_for_response": ((), ("status",), ("url", "pattern")),
    "assert_request_failed": ((), (), ("url", "pattern")),
}
ACTIONS: tuple[str, ...] = tuple(sorted(_SCHEMA))
_ALIASES = {
    "goto": "navigate",
    "dblclick": "double_click",
    "doubleclick": "double_click",
    "rightclick": "right_click",
    "context_click": "right_click",
}
_COMMON = ("action", "timeout", "name")
_TYPES: dict[str, tuple[type, ...]] = {
    "url": _STR,
    "text": _STR,
    "key": _STR,
    "value": _STR,
    "state": _STR,
    "expression": _STR,
    "contains": _STR,
    "pattern": _STR,
    "title": _STR,
    "name": _STR,
    "checked": _BOOL,
    "exact": _BOOL,
    "full_page": _BOOL,
    "x": _NUM,
    "y": _NUM,
    "width": _NUM,
    "height": _NUM,
    "timeout": _NUM,
    "attribute": _STR,
    "count": (int,),
    "index": (int,),
    "status": (int,),
    "button": _STR,
    "operator": _STR,
    "property": _STR,
}
_STATES = ("visible", "hidden", "attached", "detached")
BUTTONS = ("left", "right", "middle")
OPERATORS = ("==", ">=", "<=")


@dataclass(frozen=True, slots=True)
class Matcher:
    """How a URL or title is compared: exactly (a glob when it has ``*``), by substring,
    or by regular expression."""

    mode: str  # "exact" | "contains" | "pattern"
    expected: str

    def __call__(self, actual: str) -> bool:
        if self.mode == "exact":
            if "*" in self.expected:
                return fnmatchcase(actual, self.expected)
            return actual == self.expected
        if self.mode == "contains":
            return self.expected in actual
        return re.search(self.expected, actual) is not None

    def describe(self) -> str:
        """A phrase such as ``equal to 'x'`` for messages."""
        verb = {"exact": "equal to", "contains": "containing", "pattern": "matching"}[self.mode]
        return f"{verb} {self.expected!r}"


@dataclass(frozen=True, slots=True)
class Step:
    """One validated step; ``params`` holds the action's fields other than selector/timeout."""

    index: int
    action: str
    selectors: tuple[Selector, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    name: str | None = None

    @property
    def selector_text(self) -> str | None:
        """The selector (or alternatives) as written, for reports."""
        if not self.selectors:
            return None
        return " | ".join(s.raw for s in self.selectors)

    def matcher(self, exact_field: str) -> Matcher:
        """The URL/title matcher of an assert_url / assert_title / wait_for url step."""
        for mode, key in (("exact", exact_field), ("contains", "contains"), ("pattern", "pattern")):
            if key in self.params:
                return Matcher(mode, str(self.params[key]))
        raise KeyError(exact_field)


def _selectors(index: int, value: object, name: str = "selector") -> tuple[Selector, ...]:
    items: list[object] = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise JourneyValidationError(index, name, "the list of alternatives is empty")
    parsed = []
    for item in items:
        if isinstance(item, Selector):
            parsed.append(item)
            continue
        if not isinstance(item, str):
            raise JourneyValidationError(
                index, name, f"expected a string or a list of strings, got {item!r}"
            )
        try:
            parsed.append(parse_selector(item))
        except ValueError as exc:
            raise JourneyValidationError(index, name, str(exc)) from None
    return tuple(parsed)


_URL_SCHEMES = ("http", "https", "file", "about", "data", "blob")


def _check_url(index: int, url: str) -> None:
    """A navigate URL is absolute with a browser scheme, or relative (to base_url)."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise JourneyValidationError(index, "url", f"{url!r} is not a URL: {exc}") from None
    if scheme and scheme not in _URL_SCHEMES:
        raise JourneyValidationError(
            index,
            "url",
            f"{url!r} has no usable scheme ({scheme!r} is read as one); "
            f"write it as http://{url} or https://{url}",
        )


def _check_files(index: int, files: object) -> None:
    """``upload`` takes a path or a list of paths to files that exist now."""
    items = files if isinstance(files, list) else [files]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise JourneyValidationError(index, "files", "must be a path or a list of paths")
    for item in items:
        if not Path(str(item)).is_file():
            raise JourneyValidationError(index, "files", f"{item!r} is not a file")


def validate_step(index: int, raw: object) -> Step:
    """Validate one step mapping and return it as a Step."""
    if isinstance(raw, Step):
        return Step(index, raw.action, raw.selectors, raw.params, raw.timeout, raw.name)
    if not isinstance(raw, Mapping):
        raise JourneyValidationError(index, None, f"a step must be a mapping, got {raw!r}")
    action = raw.get("action")
    if action is None:
        raise JourneyValidationError(index, "action", "missing; every step needs an action")
    if not isinstance(action, str):
        raise JourneyValidationError(index, "action", f"must be a string, got {action!r}")
    action = _ALIASES.get(action, action)
    if action not in _SCHEMA:
        close = difflib.get_close_matches(action, ACTIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise JourneyValidationError(
            index, "action", f"unknown action {action!r}{hint}; known: {', '.join(ACTIONS)}"
        )
    required, optional, one_of = _SCHEMA[action]
    allowed = set(required) | set(optional) | set(one_of) | set(_COMMON)
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise JourneyValidationError(
                index, str(key), f"unknown field for action {action!r}{hint}"
            )
    for key in required:
        if key not in raw or (raw[key] is None and key != "expected"):
            raise JourneyValidationError(index, key, f"missing; action {action!r} needs it")
    if one_of:
        present = [key for key in one_of if key in raw]
        if len(present) != 1:
            raise JourneyValidationError(
                index,
                one_of[0] if not present else present[1],
                f"action {action!r} needs exactly one of {', '.join(one_of)}",
            )
    for key, value in raw.items():
        expected = _TYPES.get(key)
        if expected is None:
            continue
        if isinstance(value, bool) and bool not in expected:
            ok = False
        else:
            ok = isinstance(value, expected)
        if not ok:
            names = " or ".join(t.__name__ for t in expected)
            raise JourneyValidationError(index, key, f"must be a {names}, got {value!r}")
    timeout = raw.get("timeout")
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise JourneyValidationError(
            index, "timeout", f"must be a positive, finite number of seconds, got {timeout!r}"
        )
    if action == "navigate":
        _check_url(index, raw["url"])
    if action == "set_viewport" and (raw["width"] <= 0 or raw["height"] <= 0):
        raise JourneyValidationError(index, "width", "width and height must be positive")
    if "state" in raw:
        if raw["state"] not in _STATES:
            raise JourneyValidationError(index, "state", f"must be one of {', '.join(_STATES)}")
        if "selector" not in raw:
            raise JourneyValidationError(index, "state", "only applies to a selector wait")
    if "pattern" in raw:
        try:
            re.compile(raw["pattern"])
        except re.error as exc:
            raise JourneyValidationError(index, "pattern", f"invalid regex: {exc}") from None
    if action == "upload":
        _check_files(index, raw["files"])
    if action == "assert_count" and raw["count"] < 0:
        raise JourneyValidationError(index, "count", "must be 0 or more")
    if "operator" in raw and raw["operator"] not in OPERATORS:
        raise JourneyValidationError(index, "operator", f"must be one of {', '.join(OPERATORS)}")
    if "button" in raw and raw["button"] not in BUTTONS:
        raise JourneyValidationError(index, "button", f"must be one of {', '.join(BUTTONS)}")
    if "index" in raw and raw["index"] < 0:
        raise JourneyValidationError(index, "index", "must be 0 or more (0 is the first tab)")
    if "status" in raw and not 100 <= raw["status"] <= 599:
        raise JourneyValidationError(index, "status", "must be an HTTP status from 100 to 599")
    if action in ("click", "right_click", "double_click") and ("x" in raw) != ("y" in raw):
        raise JourneyValidationError(
            index, "y" if "x" in raw else "x", "a click offset needs both x and y"
        )
    if action in ("evaluate", "assert_property") and "expected" in raw:
        try:
            json.dumps(raw["expected"])
        except (TypeError, ValueError):
            raise JourneyValidationError(
                index, "expected", "must be a JSON value (string, number, bool, null, list, dict)"
            ) from None
    if "key" in raw and not raw["key"]:
        raise JourneyValidationError(index, "key", "must not be empty")
    selectors = _selectors(index, raw["selector"]) if "selector" in raw else ()
    params = {k: v for k, v in raw.items() if k not in ("action", "selector", "timeout", "name")}
    if action == "drag":
        # The drop target is parsed like a selector (a string or a list of alternatives).
        params["target"] = _selectors(index, raw["target"], "target")
    if action == "uncheck":
        action, params = "check", {"checked": False}
    if action == "right_click":
        action, params = "click", {**params, "button": "right"}
    return Step(
        index=index,
        action=action,
        selectors=selectors,
        params=params,
        timeout=float(timeout) if timeout is not None else None,
        name=raw.get("name"),
    )


@dataclass(frozen=True, slots=True)
class Journey:
    """A named, validated list of steps."""

    steps: tuple[Step, ...]
    name: str = "journey"

    @classmethod
    def from_steps(
        cls, steps: Iterable[Mapping[str, Any] | Step], name: str = "journey"
    ) -> Journey:
        """Validate every step (raising JourneyValidationError on the first bad one)."""
        if isinstance(steps, str | bytes | Mapping) or not isinstance(steps, Iterable):
            raise JourneyValidationError(
                None, None, f"steps must be a list of step mappings, got {type(steps).__name__}"
            )
        validated = tuple(validate_step(i, raw) for i, raw in enumerate(steps))
        if not validated:
            raise JourneyValidationError(None, "steps", "a journey needs at least one step")
        return cls(validated, name)

    @classmethod
    def from_data(cls, data: object, name: str | None = None) -> Journey:
        """Build a journey from parsed JSON/YAML: a list of steps, a {name, steps} mapping,
        or a Chrome DevTools Recorder export (detected by its ``type`` steps)."""
        if is_recorder(data):
            assert isinstance(data, Mapping)
            title, recorded = recorder_steps(data, name=name)
            # Validate with the Recorder's own index so errors point into the file the user
            # has, then renumber to positions in the journey that runs.
            checked = [validate_step(index, step) for index, step in recorded]
            if not checked:
                raise JourneyValidationError(None, "steps", "the recording has no replayable steps")
            return cls(tuple(validate_step(i, s) for i, s in enumerate(checked)), title)
        if isinstance(data, Mapping):
            if "steps" not in data:
                raise JourneyValidationError(None, "steps", "missing; a journey needs steps")
            steps = data["steps"]
            if not isinstance(steps, list):
                raise JourneyValidationError(None, "steps", "must be a list")
            title = name or data.get("name") or data.get("title") or "journey"
            return cls.from_steps(steps, name=str(title))
        if isinstance(data, list):
            return cls.from_steps(data, name=name or "journey")
        raise JourneyValidationError(None, None, "a journey is a list of steps or {steps: [...]}")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Journey:
        """Load a journey from a .json, .yaml/.yml or Chrome DevTools Recorder file."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise JourneyFileError(f"cannot read journey file {file}: {exc.strerror}") from exc
        if file.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                from ._errors import MissingExtraError

                raise MissingExtraError("Reading a YAML journey", "yaml", "yaml") from None
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise JourneyFileError(f"{file} is not valid YAML: {exc}") from None
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise JourneyFileError(
                    f"{file} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                ) from None
        return cls.from_data(data, name=None if isinstance(data, Mapping) else file.stem)

    def __len__(self) -> int:
        return len(self.steps)


def coerce_journey(
    steps: Journey | Sequence[Mapping[str, Any]] | str | os.PathLike[str], name: str | None
) -> Journey:
    """Accept a Journey, a list of step mappings, or a path to a journey file."""
    if isinstance(steps, Journey):
        return steps if name is None else Journey(steps.steps, name)
    if isinstance(steps, str | os.PathLike):
        journey = Journey.from_file(steps)
        return journey if name is None else Journey(journey.steps, name)
    return Journey.from_steps(steps, name=name or "journey")
