"""The small base both engines implement; the runner drives it step by step."""

from __future__ import annotations

import abc
import re
from pathlib import Path

from maestro_test_adapters._errors import StepError
from maestro_test_adapters._journey import Step

__all__ = [
    "POLL_INTERVAL",
    "Engine",
    "check_evaluated",
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
