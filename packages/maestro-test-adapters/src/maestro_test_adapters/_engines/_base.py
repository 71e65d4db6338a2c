"""The small base both engines implement; the runner drives it step by step."""

from __future__ import annotations

import abc
import re
from pathlib import Path

from maestro_test_adapters._errors import StepError
from maestro_test_adapters._journey import Step

__all__ = [
    "DRAG_AND_DROP",
    "POLL_INTERVAL",
    "PROPERTY_MATCH",
    "Engine",
    "NetworkLog",
    "check_evaluated",
    "count_matches",
    "file_input_refused",
    "first_lines",
    "normalize_space",
    "unexpected_dialog",
]

# Assertions and waits without a native equivalent poll at this interval.
POLL_INTERVAL = 0.05
_SPACE = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace, as browsers render them."""
    return _SPACE.sub(" ", text).strip()


def first_lines(text: str, count: int = 4, width: int = 300) -> str:
    """The first non-empty lines of a long driver message, each cut to ``width``."""
    lines = [line.rstrip()[:width] for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[:count])


_PW_TIMEOUT = re.compile(r"\s*Timeout \d+(?:\.\d+)?ms exceeded\.?")
_PW_NOISE = re.compile(
    r"^(waiting for |retrying |waiting \d+ms|attempting |scrolling into view|done scrolling"
    r"|element is visible, enabled and stable|locator resolved to |\d+ × )"
)


def playwright_failure(text: str, width: int = 300) -> str:
    """A Playwright timeout message with its reason kept and its noise dropped.

    Playwright puts the reason (``element is not enabled``, ``<div id="overlay">
    intercepts pointer events``) deep in a call log that repeats for every retry, after
    the lines that only say what it was waiting for; the first lines alone never show it.
    This keeps the API name, the element the locator resolved to and the last reason, and
    drops the exact milliseconds (the step already says its timeout), so equal failures
    read the same and group together.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    head = _PW_TIMEOUT.sub("", lines[0]).rstrip(":").strip()
    resolved = ""
    waiting = ""
    reason = ""
    for line in lines[1:]:
        item = line.removeprefix("- ").strip()
        if item.startswith("locator resolved to "):
            resolved = item.removeprefix("locator resolved to ")[:width]
        elif item.startswith("waiting for ") and not waiting:
            waiting = item.removeprefix("waiting for ")[:width]
        elif item != "Call log:" and not _PW_NOISE.match(item):
            reason = item[:width]
    if reason:
        target = f" {resolved}:" if resolved else ""
        return f"{head}:{target} {reason}"
    if resolved:
        return f"{head}: {resolved} never became actionable"
    if waiting:
        return f"{head}: no element matched {waiting}"
    return first_lines(text)


def preview(text: str, width: int = 200) -> str:
    """A short quoted preview of page text for assertion messages."""
    flat = normalize_space(text)
    return repr(flat if len(flat) <= width else flat[:width] + "...")


def unexpected_dialog(kind: str, message: str) -> str:
    """The failure of a step that found a dialog the journey did not expect."""
    return (
        f"an unexpected {kind} dialog {message!r} is open (dismissed now); "
        "add an accept_dialog or dismiss_dialog step after the step that opens it"
    )


def file_input_refused(action: str, engine: str) -> str:
    """The failure of fill / type on an <input type=file>."""
    return f"{action} cannot set a file input on {engine}; use the upload action"


def check_evaluated(step: Step, value: object) -> None:
    """An evaluate step with ``expected`` fails unless the script returned it."""
    if "expected" in step.params and value != step.params["expected"]:
        raise StepError(
            f"expected the expression to return {step.params['expected']!r}; it returned {value!r}"
        )


def count_matches(step: Step, actual: int) -> bool:
    """Whether an element count satisfies an assert_count step (``operator``, default ==)."""
    expected, operator = step.params["count"], step.params.get("operator", "==")
    if operator == ">=":
        return bool(actual >= expected)
    if operator == "<=":
        return bool(actual <= expected)
    return bool(actual == expected)


def count_wanted(step: Step) -> str:
    """``3 elements`` / ``>= 3 elements`` for assert_count messages."""
    operator = step.params.get("operator", "==")
    return f"{'' if operator == '==' else operator + ' '}{step.params['count']} elements"


# Compares a property of element ``e`` with a JSON value: objects match when every key
# they name matches (as the Recorder's waitForElement ``properties``), the rest by ===.
PROPERTY_MATCH = """
function same(actual, expected) {
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || actual === undefined || typeof actual !== 'object') return false;
    return Object.keys(expected).every(k => same(actual[k], expected[k]));
  }
  return actual === expected;
}
function shown(value) {
  try { const text = JSON.stringify(value); return text === undefined ? String(value) : text; }
  catch (err) { return String(value); }
}
"""

# HTML5 drag and drop as script events sharing one DataTransfer: for engines whose mouse
# input does not start a native drag (chromedriver's actions never fire dragstart).
DRAG_AND_DROP = """
const src = arguments[0], dst = arguments[1];
const data = new DataTransfer();
function fire(el, type) {
  const r = el.getBoundingClientRect();
  return el.dispatchEvent(new DragEvent(type, {
    bubbles: true, cancelable: true, composed: true, dataTransfer: data,
    clientX: r.left + r.width / 2, clientY: r.top + r.height / 2}));
}
if (!fire(src, 'dragstart')) return 'the page cancelled the dragstart event';
fire(src, 'drag');
fire(dst, 'dragenter');
if (!fire(dst, 'dragover')) { fire(dst, 'drop'); } else { fire(dst, 'dragleave'); }
fire(src, 'dragend');
return null;
"""


class NetworkLog:
    """Responses and failed requests seen since the journey began (both engines)."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, int]] = []
        self.failed: list[tuple[str, str]] = []

    def clear(self) -> None:
        self.responses = []
        self.failed = []

    def response_seen(self, step: Step) -> bool:
        """Whether a response matching a wait_for_response step has arrived."""
        matcher, status = step.matcher("url"), step.params.get("status")
        return any(
            matcher(url) and (status is None or code == status) for url, code in self.responses
        )

    def failure_seen(self, step: Step) -> bool:
        """Whether a request matching an assert_request_failed step has failed."""
        matcher = step.matcher("url")
        return any(matcher(url) for url, _error in self.failed)

    def describe(self, step: Step) -> str:
        """The failure of a network step that saw nothing matching, with what it did see."""
        matcher = step.matcher("url")
        if step.action == "assert_request_failed":
            seen = [f"{url} ({error})" for url, error in self.failed[-5:]]
            return (
                f"no request with a URL {matcher.describe()} failed; "
                f"failed requests: {', '.join(seen) or 'none'}"
            )
        status = step.params.get("status")
        wanted = f" and status {status}" if status is not None else ""
        close = [f"{url} {code}" for url, code in self.responses if matcher(url)][-5:]
        last = [f"{url} {code}" for url, code in self.responses[-5:]]
        return f"no response with a URL {matcher.describe()}{wanted}; " + (
            f"matching URLs answered: {', '.join(close)}"
            if close
            else f"last responses: {', '.join(last) or 'none'}"
        )


class Engine(abc.ABC):
    """One browser, one page per journey; every method raises StepError on failure."""

    name: str

    @abc.abstractmethod
    async def start(self) -> None:
        """Start the browser (once)."""

    @abc.abstractmethod
    async def begin(self, *, trace: bool, blank: bool = True) -> None:
        """Open a fresh page (and context) for one journey; ``blank=False`` allows keeping
        the previous document when the journey starts by navigating away anyway."""

    @abc.abstractmethod
    async def end(self, trace_path: Path | None) -> list[Path]:
        """Close the journey's page; save the trace there when a path is given."""

    @abc.abstractmethod
    async def perform(self, step: Step, timeout: float) -> str | None:
        """Run one step within ``timeout`` seconds; return the selector that matched."""

    @abc.abstractmethod
    async def current_url(self) -> str:
        """The URL of the page the journey is on."""

    @abc.abstractmethod
    async def screenshot(self, path: Path, *, full_page: bool) -> None:
        """Save a PNG screenshot of the page."""

    @abc.abstractmethod
    async def page_html(self) -> str:
        """The page's current HTML."""

    @abc.abstractmethod
    async def console(self) -> list[str]:
        """Console messages and page errors seen so far in this journey."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the browser and everything it started."""

    @abc.abstractmethod
    async def fork(self) -> Engine:
        """An engine for one more concurrent journey on this engine's browser (Playwright: a
        new context on the same browser; Selenium: an idle or a new WebDriver session)."""

    @abc.abstractmethod
    async def join(self, child: Engine) -> None:
        """Take back an engine that :meth:`fork` gave out, once its journey has ended."""
