"""``capture_logs()``: the structured events logged inside a block, for tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._config import _LOCK, PROCESSORS, STATE, ensure_configured
from ._levels import parse_level
from ._logger import BoundLogger, install_level
from ._render import JSONRenderer

if TYPE_CHECKING:
    from structlog.typing import EventDict, WrappedLogger


class _Capture:
    """Final processor while capturing: record the event as a JSON line would carry it."""

    def __init__(self, renderer: JSONRenderer, events: list[dict[str, Any]]) -> None:
        from structlog import DropEvent

        self.renderer = renderer
        self.events = events
        self.drop = DropEvent

    def __call__(self, logger: WrappedLogger, method_name: str, event: EventDict) -> Any:
        self.events.append(self.renderer.prepare(method_name, event))
        raise self.drop


@contextmanager
def capture_logs(level: str | int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Collect the events logged inside the block, instead of writing them.

    Each event is the dict a JSON line would hold (``message``, ``level``, ``logger``,
    ``timestamp``, service fields, context, the call's keywords, ``exception``), after
    redaction, whatever the configured format.  Standard-library records that reach the
    root logger are captured too.  *level* lowers (or raises) the level for the block.
    """
    ensure_configured()
    events: list[dict[str, Any]] = []
    with _LOCK:
        renderer = STATE.json_renderer
        assert renderer is not None
        saved_last = PROCESSORS[-1]
        saved_level = BoundLogger.min_level
        PROCESSORS[-1] = _Capture(renderer, events)
        if level is not None:
            install_level(parse_level(level))
    try:
        yield events
    finally:
        with _LOCK:
            PROCESSORS[-1] = saved_last
            if level is not None:
                install_level(saved_level)
