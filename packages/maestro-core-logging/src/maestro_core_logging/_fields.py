"""Building blocks of a log line: UTC timestamps, exception fields and trace ids."""

from __future__ import annotations

import sys
import time
import traceback
from types import TracebackType
from typing import Any

_time_ns = time.time_ns

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class UTCClock:
    """Format epoch seconds as ISO-8601 UTC with a ``Z`` suffix, caching the whole-second part.

    ``time.strftime`` costs about a microsecond; lines logged within the same second reuse
    its result, so a timestamp costs a few hundred nanoseconds.
    """

    __slots__ = ("_cached",)

    def __init__(self) -> None:
        self._cached: tuple[int, str] = (-1, "")

    def _prefix(self, second: int) -> str:
        cached = self._cached
        if cached[0] == second:
            return cached[1]
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        # One tuple assignment: threads racing here each store a consistent pair.
        self._cached = (second, prefix)
        return prefix

    def micros(self, created: float) -> str:
        """Return ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` for *created* (seconds since the epoch)."""
        # Round the whole value, as datetime.fromtimestamp does: subtracting the seconds
        # first would turn 1.000001 into 1.000000 through float error.
        second, micro = divmod(round(created * 1_000_000), 1_000_000)
        # str(micro + 1_000_000)[1:] is the six digits, zero-padded: cheaper than :06d.
        cached = self._cached  # the common case inlined: a line in the same second
        if cached[0] == second:
            return f"{cached[1]}.{str(micro + 1_000_000)[1:]}Z"
        return f"{self._prefix(second)}.{str(micro + 1_000_000)[1:]}Z"

    def micros_now(self) -> str:
        """The timestamp of now, as ``micros(time.time())`` but read from the integer clock
        (truncated to the microsecond): no float to scale and round, about 0.1 us less."""
        second, micro = divmod(_time_ns() // 1000, 1_000_000)
        cached = self._cached
        if cached[0] == second:
            return f"{cached[1]}.{str(micro + 1_000_000)[1:]}Z"
        return f"{self._prefix(second)}.{str(micro + 1_000_000)[1:]}Z"

    def millis(self, created: float) -> str:
        """Return ``YYYY-MM-DDTHH:MM:SS.fffZ`` for *created* (seconds since the epoch)."""
        second, micro = divmod(round(created * 1_000_000), 1_000_000)
        return f"{self._prefix(second)}.{micro // 1000:03d}Z"


def resolve_exc_info(value: Any) -> ExcInfo | None:
    """Turn an ``exc_info`` argument (True, an exception or a sys.exc_info() tuple) into a tuple."""
    if value is None or value is False:
        return None
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3:
        if value[0] is None:
            return None
        return (value[0], value[1], value[2])
    info = sys.exc_info()
    if info[0] is None or info[1] is None:
        return None
    return (info[0], info[1], info[2])


def exception_type_name(kind: type[BaseException]) -> str:
    """Return ``ValueError`` for builtins and ``package.module.Name`` for everything else."""
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def exception_parts(exc: ExcInfo) -> tuple[str, str, str]:
    """Return (type, message, stack) of an exception, the stack as Python prints it."""
    kind, value, tb = exc
    stack = "".join(traceback.format_exception(kind, value, tb)).rstrip("\n")
    return exception_type_name(kind), str(value), stack


def current_trace_ids() -> tuple[str, str] | None:
    """Return the active OpenTelemetry (trace_id, span_id) in hex, or None when there is none.

    OpenTelemetry is never imported here: if the application has not imported
    ``opentelemetry.trace`` no span can be active, so the check costs one dict lookup.
    Once it is imported (FastAPI imports it), the current OpenTelemetry context is read
    once per line and the public ``get_current_span`` is called only when that context
    holds a span: most lines are logged outside any span.
    """
    trace = _MODULES.get("opentelemetry.trace")
    if trace is None:
        return None
    lookup = _SPAN_LOOKUP.get(id(trace))
    if lookup is None:
        lookup = _span_lookup(trace)
    get_current, key = lookup
    if get_current is not None and get_current().get(key) is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


# id(opentelemetry.trace) -> (opentelemetry.context.get_current, the span's context key),
# or (None, "") when this OpenTelemetry does not expose them as expected.
_SPAN_LOOKUP: dict[int, tuple[Any, str]] = {}
_MODULES = sys.modules


def _span_lookup(trace: Any) -> tuple[Any, str]:
    """Resolve, once per ``opentelemetry.trace`` module, how to read the current span."""
    found: tuple[Any, str] = (None, "")
    try:
        from opentelemetry.context import get_current
        from opentelemetry.trace.propagation import _SPAN_KEY

        if callable(get_current) and isinstance(_SPAN_KEY, str):
            found = (get_current, _SPAN_KEY)
    except Exception:  # another layout: the public call alone, on every line
        found = (None, "")
    _SPAN_LOOKUP.clear()
    _SPAN_LOOKUP[id(trace)] = found
    return found
