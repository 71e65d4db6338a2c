"""``capture_logs()``: the structured events logged inside a block, for tests."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._config import _LOCK, PROCESSORS, STATE, ensure_configured
from ._levels import parse_level
from ._logger import PER_LOGGER, BoundLogger, install_level, set_logger_levels
from ._render import JSONRenderer

if TYPE_CHECKING:
    from structlog.typing import EventDict, WrappedLogger


# The events list of the capture_logs() block this task (or thread) is inside, if any.
_CURRENT: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "maestro_core_logging_capture", default=None
)


class _Capture:
    """Final processor while any capture is open: record the events of capturing contexts
    (as a JSON line would carry them) and render everyone else's as before."""

    def __init__(self, renderer: JSONRenderer, inner: Any) -> None:
        from structlog import DropEvent

        self.renderer = renderer
        self.inner = inner
        self.drop = DropEvent
        self.open = 0

    def __call__(self, logger: WrappedLogger, method_name: str, event: EventDict) -> Any:
        events = _CURRENT.get()
        if events is None:
            return self.inner(logger, method_name, event)
        events.append(self.renderer.prepare(method_name, event))
        raise self.drop


@contextmanager
def capture_logs(level: str | int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Collect the events logged inside the block, instead of writing them.

    Each event is the dict a JSON line would hold (``message``, ``level``, ``logger``,
    ``timestamp``, service fields, context, the call's keywords, ``exception``), after
    redaction, whatever the configured format.  Standard-library records that reach the
    root logger are captured too.  Only the current task (or thread) and the tasks it
    starts inside the block are captured: a concurrent request's lines are written as
    usual, and two tests capturing at once each see their own.  *level* lowers (or
    raises) the level for the block, for the whole process.
    """
    ensure_configured()
    events: list[dict[str, Any]] = []
    with _LOCK:
        renderer = STATE.json_renderer
        assert renderer is not None
        last = PROCESSORS[-1]
        capture = last if isinstance(last, _Capture) else _Capture(renderer, last)
        capture.open += 1
        PROCESSORS[-1] = capture
        saved_level = BoundLogger.min_level
        saved_levels = (dict(PER_LOGGER.levels), PER_LOGGER.default)
        if level is not None:
            numeric = parse_level(level)
            install_level(numeric)
            # get_logger() loggers without a level of their own follow the block's level.
            set_logger_levels(saved_levels[0], numeric)
    token = _CURRENT.set(events)
    try:
        yield events
    finally:
        _CURRENT.reset(token)
        with _LOCK:
            capture.open -= 1
            if capture.open == 0 and PROCESSORS and PROCESSORS[-1] is capture:
                PROCESSORS[-1] = capture.inner
            if level is not None:
                install_level(saved_level)
                set_logger_levels(*saved_levels)
