"""The bound logger every ``get_logger()`` returns, and its level switch.

One class, ``BoundLogger``, serves every logger of the process.  Its level methods are
class attributes swapped by ``install_level()``: a method below the configured level is a
function that checks one ``ContextVar`` (the debug scope) and returns, so a filtered-out
call costs well under a microsecond, and reconfiguring changes the level of loggers that
were created (and cached by structlog) before.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._context import CONTEXT
from ._levels import NAME_TO_LEVEL
from ._scopevar import SCOPE
from ._sink import Sink
from ._stats import STATS

if TYPE_CHECKING:
    from typing import Self

    from structlog.typing import Processor

# Method name -> the numeric level it logs at.
METHOD_LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "msg": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "err": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}
_BANDS: tuple[tuple[int, str], ...] = (
    (logging.CRITICAL, "critical"),
    (logging.ERROR, "error"),
    (logging.WARNING, "warning"),
    (logging.INFO, "info"),
)


def _method_for(level: int) -> str:
    """Return the method of the highest standard level not above *level* (35 -> warning)."""
    for threshold, name in _BANDS:
        if level >= threshold:
            return name
    return "debug"


def format_failure(exc: Exception, args: tuple[Any, ...]) -> dict[str, str]:
    """The fields a line carries when its ``%`` format does not fit its arguments."""
    from ._render import safe_repr, safe_str

    next(STATS.repaired)
    return {
        "format_error": f"{type(exc).__name__}: {safe_str(exc)}",
        "format_args": safe_repr(args),
    }


def is_drop_event(exc: BaseException) -> bool:
    """Return whether *exc* is structlog's DropEvent (raised by a processor to skip a line).

    structlog is not imported for this: a processor that raised DropEvent imported it.
    """
    module = sys.modules.get("structlog.exceptions")
    return module is not None and isinstance(exc, module.DropEvent)


class BoundLogger:
    """A structlog-style bound logger: ``log.info("event", key=value)``; ``bind()`` copies.

    It satisfies structlog's ``FilteringBoundLogger`` protocol and runs structlog
    processors, but does not import structlog, so ``import maestro_core_logging`` stays
    cheap.  Every line carries, in order: the context bound with ``bind_context`` or
    ``log_context``, the values bound to this logger, and the call's keywords (later
    ones win).
    """

    __slots__ = ("_context", "_logger", "_processors")
    min_level: int = logging.INFO

    def __init__(
        self, logger: Sink, processors: Sequence[Processor], context: dict[str, Any]
    ) -> None:
        self._logger = logger
        self._processors = processors
        self._context = context

    def __repr__(self) -> str:
        return f"<BoundLogger(context={self._context!r})>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoundLogger) and self._context == other._context

    # Equal loggers (same values) must hash alike, and values may be unhashable: like
    # structlog's bound loggers, these are not hashable.
    __hash__ = None  # type: ignore[assignment]

    def bind(self, **new_values: Any) -> Self:
        """Return a new logger with *new_values* added to this one's values."""
        return self.__class__(self._logger, self._processors, {**self._context, **new_values})

    def unbind(self, *keys: str) -> Self:
        """Return a new logger without *keys*; raises KeyError for a key that is not bound."""
        context = dict(self._context)
        for key in keys:
            del context[key]
        return self.__class__(self._logger, self._processors, context)

    def try_unbind(self, *keys: str) -> Self:
        """Return a new logger without *keys*; keys that are not bound are ignored."""
        context = dict(self._context)
        for key in keys:
            context.pop(key, None)
        return self.__class__(self._logger, self._processors, context)

    def new(self, **new_values: Any) -> Self:
        """Return a new logger holding only *new_values* (the logger name included)."""
        return self.__class__(self._logger, self._processors, dict(new_values))

    def _emit(
        self, method_name: str, event: Any, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> None:
        """Build the event dict, run the processor chain and write the line; never raises."""
        if (
            PER_LOGGER.active
            and METHOD_LEVELS[method_name] < level_for(self._context.get("logger"))
            and "_record" not in kw  # a line a debug scope buffered and now flushes
        ):
            scope = SCOPE.get()
            if scope is None:
                return
            if not scope.sampled:
                scope._divert(self, method_name, event, args, kw)
                return
        if args:
            try:
                event = event % args
            except Exception as exc:
                kw = {**kw, **format_failure(exc, args)}
        current = CONTEXT.get()
        event_dict: Any = {**current, **self._context, **kw} if current else {**self._context, **kw}
        event_dict["event"] = event
        try:
            for processor in self._processors:
                event_dict = processor(self._logger, method_name, event_dict)
        except BaseException as exc:  # DropEvent is a BaseException
            if is_drop_event(exc):
                return
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt, SystemExit: not ours to swallow
            next(STATS.dropped)
            return
        self._logger.write(event_dict)

    def _emit_error(
        self, method_name: str, event: Any, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> None:
        """Write an error-level line, after the debug lines its scope buffered (if any)."""
        scope = SCOPE.get()
        if scope is not None:
            scope.flush()
        self._emit(method_name, event, args, kw)

    def debug(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at debug level."""
        return self._emit("debug", event, args, kw)

    def info(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at info level."""
        return self._emit("info", event, args, kw)

    def msg(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at info level (structlog's alias)."""
        return self._emit("msg", event, args, kw)

    def warning(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at warning level."""
        return self._emit("warning", event, args, kw)

    def warn(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at warning level (alias)."""
        return self._emit("warn", event, args, kw)

    def error(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at error level."""
        return self._emit_error("error", event, args, kw)

    def err(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at error level (alias)."""
        return self._emit_error("err", event, args, kw)

    def exception(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at error level with the exception being handled."""
        kw.setdefault("exc_info", True)
        return self._emit_error("exception", event, args, kw)

    def critical(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at critical level."""
        return self._emit_error("critical", event, args, kw)

    def fatal(self, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at critical level (alias)."""
        return self._emit_error("fatal", event, args, kw)

    def log(self, level: int, event: str, *args: Any, **kw: Any) -> Any:
        """Log *event* at the numeric *level*."""
        name = _method_for(level)
        return getattr(self, name)(event, *args, **kw)

    def is_enabled_for(self, level: int) -> bool:
        """Return whether a line at *level* would be written now (debug scopes included)."""
        if level >= self.min_level:
            return True
        scope = SCOPE.get()
        return scope is not None and scope.sampled

    def get_effective_level(self) -> int:
        """Return the level lines are written at now (debug inside a sampled scope)."""
        scope = SCOPE.get()
        if scope is not None and scope.sampled:
            return logging.DEBUG
        return self.min_level

    async def _alog(self, name: str, event: str, args: tuple[Any, ...], kw: dict[str, Any]) -> None:
        """Run a logging method in the default executor, in a copy of the current context."""
        if METHOD_LEVELS[name] < self.min_level and SCOPE.get() is None:
            return
        import asyncio

        context = contextvars.copy_context()
        method = getattr(self, name)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: context.run(lambda: method(event, *args, **kw))
        )

    async def adebug(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at debug level without blocking the event loop."""
        await self._alog("debug", event, args, kw)

    async def ainfo(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at info level without blocking the event loop."""
        await self._alog("info", event, args, kw)

    async def amsg(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at info level without blocking the event loop."""
        await self._alog("msg", event, args, kw)

    async def awarning(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at warning level without blocking the event loop."""
        await self._alog("warning", event, args, kw)

    async def awarn(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at warning level without blocking the event loop."""
        await self._alog("warn", event, args, kw)

    async def aerror(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at error level without blocking the event loop."""
        await self._alog("error", event, args, kw)

    async def aexception(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at error level with the exception being handled, off the event loop."""
        kw.setdefault("exc_info", sys.exc_info())
        await self._alog("exception", event, args, kw)

    async def acritical(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at critical level without blocking the event loop."""
        await self._alog("critical", event, args, kw)

    async def afatal(self, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at critical level without blocking the event loop."""
        await self._alog("fatal", event, args, kw)

    async def alog(self, level: int, event: str, *args: Any, **kw: Any) -> None:
        """Log *event* at the numeric *level* without blocking the event loop."""
        name = _method_for(level)
        await self._alog(name, event, args, kw)


def _filtered(name: str) -> Callable[..., Any]:
    """Return the stand-in for method *name* while its level is below the configured one."""

    def filtered(self: BoundLogger, event: Any = None, *args: Any, **kw: Any) -> Any:
        scope = SCOPE.get()
        if scope is None:
            return None
        return scope._divert(self, name, event, args, kw)

    filtered.__name__ = name
    filtered.__doc__ = f"Skip {name}-level lines (unless a debug scope samples or buffers them)."
    return filtered


def _skip(self: BoundLogger, event: Any = None, *args: Any, **kw: Any) -> None:
    """Skip a line below the configured level (no debug scope was ever opened)."""


_ENABLED: dict[str, Any] = {name: BoundLogger.__dict__[name] for name in METHOD_LEVELS}
_FILTERED: dict[str, Callable[..., Any]] = {name: _filtered(name) for name in METHOD_LEVELS}


class _PerLogger:
    """``logger_levels`` as they apply to get_logger() loggers (by name prefix)."""

    active = False
    levels: dict[str, int] = {}  # noqa: RUF012 - replaced whole, never mutated
    default = logging.INFO
    cache: dict[object, int] = {}  # noqa: RUF012


PER_LOGGER = _PerLogger


def set_logger_levels(levels: dict[str, int], default: int) -> None:
    """Give get_logger() loggers named ``name`` or ``name.*`` the level ``levels[name]``."""
    PER_LOGGER.levels = dict(levels)
    PER_LOGGER.default = default
    PER_LOGGER.cache = {}
    PER_LOGGER.active = bool(levels)


def level_for(name: object) -> int:
    """The level of the logger called ``name``: its closest configured ancestor's."""
    cache = PER_LOGGER.cache
    found = cache.get(name)
    if found is not None:
        return found
    level = PER_LOGGER.default
    if isinstance(name, str):
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            candidate = PER_LOGGER.levels.get(".".join(parts[:end]))
            if candidate is not None:
                level = candidate
                break
    if len(cache) < 4096:
        cache[name] = level
    return level


class _Scopes:
    # Until the first debug scope opens, filtered methods need not even look for one.
    in_use = False


def install_level(level: int) -> None:
    """Make every BoundLogger (existing ones too) write lines at *level* and above."""
    BoundLogger.min_level = level
    for name, method_level in METHOD_LEVELS.items():
        if method_level >= level:
            method = _ENABLED[name]
        else:
            method = _FILTERED[name] if _Scopes.in_use else _skip
        setattr(BoundLogger, name, method)


def use_scopes() -> None:
    """Make filtered methods consult the debug scope from now on (called by debug_scope)."""
    if not _Scopes.in_use:
        _Scopes.in_use = True
        install_level(BoundLogger.min_level)


def level_of(name: str) -> int:
    """Return the numeric level of a logger method or level name."""
    return METHOD_LEVELS.get(name) or NAME_TO_LEVEL.get(name, logging.INFO)
