"""Standard-library logging routed through the same processors and renderer.

``RoutingHandler`` sits on the root logger.  For each ``LogRecord`` it builds the event
dict a structlog call would have built (context, ``extra=`` fields, message, logger
name, exception) and runs the very processor list the structlog loggers use, then writes
to the shared sink.  This is what structlog's ``ProcessorFormatter`` does, without its
record copy and without the ``str`` round trip, and with the context merged in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._context import CONTEXT
from ._levels import parse_level
from ._logger import is_drop_event
from ._scopevar import SCOPE
from ._sink import Sink

if TYPE_CHECKING:
    from structlog.typing import Processor

# Loggers that install their own handlers (or that services usually want to hear from):
# their handlers are removed and they propagate to the root, so they share one format.
DEFAULT_ROUTED_LOGGERS: tuple[str, ...] = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "gunicorn",
    "gunicorn.error",
    "gunicorn.access",
    "sqlalchemy",
    "sqlalchemy.engine",
    "httpx",
    "httpcore",
)

_RESERVED: frozenset[str] = frozenset(
    {
        *logging.makeLogRecord({}).__dict__,
        "message",
        "asctime",
        "taskName",
        # uvicorn adds a copy of the message with ANSI colours.
        "color_message",
    }
)


class RoutingHandler(logging.Handler):
    """A logging handler that renders records with the maestro processor chain."""

    def __init__(self, sink: Sink, processors: Sequence[Processor]) -> None:
        super().__init__(logging.NOTSET)
        self.sink = sink
        self.processors = processors

    def emit(self, record: logging.LogRecord) -> None:
        """Render *record* as one line on the shared sink."""
        try:
            if record.levelno >= logging.ERROR:
                scope = SCOPE.get()
                if scope is not None:
                    scope.flush()
            line = render_record(record, self.processors, self.sink)
            if line is not None:
                self.sink.write(line)
        except Exception:
            self.handleError(record)


def render_record(
    record: logging.LogRecord, processors: Sequence[Processor], logger: object
) -> Any:
    """Run *record* through *processors* as a structlog call would be; None if dropped."""
    current = CONTEXT.get()
    event: Any = dict(current) if current else {}
    for key, value in record.__dict__.items():
        if key not in _RESERVED:
            event[key] = value
    try:
        event["event"] = record.getMessage()
    except Exception as exc:
        from ._logger import format_failure

        event["event"] = safe_str(record.msg)
        event.update(format_failure(exc, record.args if isinstance(record.args, tuple) else ()))
    event["logger"] = record.name
    event["_record"] = record
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
        # uvicorn's access line: client, method, path, HTTP version, status.
        client, method, path, _, status = record.args
        event.setdefault("http_method", method)
        event.setdefault("http_path", str(path).partition("?")[0])
        event.setdefault("http_status", status)
        event.setdefault("client_ip", str(client).rpartition(":")[0] or client)
    if record.exc_info:
        event["exc_info"] = record.exc_info
    if record.stack_info:
        event["stack_info"] = record.stack_info
    method_name = record.levelname.lower()
    try:
        for processor in processors:
            event = processor(logger, method_name, event)
    except BaseException as exc:  # DropEvent is a BaseException
        if is_drop_event(exc):
            return None
        raise
    return event


def safe_str(value: object) -> str:
    """``str(value)``, or a stand-in naming the type when its ``__str__`` raises."""
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__qualname__}>"


def install_root_handler(handler: RoutingHandler, level: int) -> None:
    """Put *handler* on the root logger in place of any earlier RoutingHandler."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, RoutingHandler):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def remove_root_handler() -> None:
    """Take every RoutingHandler off the root logger."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, RoutingHandler):
            root.removeHandler(existing)


def route_loggers(names: Iterable[str]) -> None:
    """Remove the handlers of the named loggers and let them propagate to the root."""
    for name in names:
        logger = logging.getLogger(name)
        for existing in list(logger.handlers):
            logger.removeHandler(existing)
        logger.propagate = True


def parse_logger_levels(levels: Mapping[str, str | int]) -> dict[str, int]:
    """Validate per-logger levels; errors name the logger."""
    return {
        name: parse_level(level, source=f"logger_levels[{name!r}]")
        for name, level in levels.items()
    }


def apply_logger_levels(levels: Mapping[str, int]) -> None:
    """Set the level of each named stdlib logger."""
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
