"""Debug scopes: per-unit-of-work debug sampling and buffering, as in Powertools' Logger.

Inside ``debug_scope(...)`` (the ASGI middleware opens one per request) lines below the
configured level are not simply dropped:

* in a *sampled* scope (chosen at random with ``sample_rate``) they are written, so a
  fraction of requests carries full debug detail;
* otherwise, with ``buffer=True``, they are kept in memory and written only if the unit
  of work fails: an error-level line is logged, the block raises, or ``flush()`` is
  called (the middleware calls it on a 5xx response).  A successful unit of work drops
  them.

Only loggers from ``get_logger()`` take part; standard-library loggers keep their levels.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._context import CONTEXT
from ._errors import ConfigurationError
from ._fields import resolve_exc_info
from ._scopevar import SCOPE

if TYPE_CHECKING:
    from ._logger import BoundLogger


class Stamp:
    """Creation time of a buffered line, carried to the renderer under ``_record``."""

    __slots__ = ("created",)

    def __init__(self, created: float) -> None:
        self.created = created


class DebugScope:
    """The state of one unit of work: whether it is sampled, and its buffered lines."""

    def __init__(self, *, sampled: bool, buffer: bool, max_lines: int = 1000) -> None:
        self.sampled = sampled
        self.buffering = buffer and not sampled
        self.max_lines = max_lines
        self.dropped = 0
        self._lines: collections.deque[tuple[BoundLogger, str, Any, dict[str, Any]]] = (
            collections.deque(maxlen=max_lines)
        )

    @property
    def buffered(self) -> int:
        """The number of lines waiting in the buffer."""
        return len(self._lines)

    def _divert(
        self,
        logger: BoundLogger,
        name: str,
        event: Any,
        args: tuple[Any, ...],
        kw: dict[str, Any],
    ) -> None:
        """Handle a call below the configured level: write it, buffer it or drop it."""
        if name == "exception":
            kw.setdefault("exc_info", True)
        if self.sampled:
            logger._emit(name, event, args, kw)
            return
        if not self.buffering:
            return
        if args:
            event = event % args
        exc = kw.get("exc_info")
        if exc is not None:
            # The exception being handled now is gone by the time the buffer is flushed.
            kw["exc_info"] = resolve_exc_info(exc)
        current = CONTEXT.get()
        kw = {**current, **kw} if current else dict(kw)
        kw["_record"] = Stamp(time.time())
        if len(self._lines) == self.max_lines:
            self.dropped += 1
        self._lines.append((logger, name, event, kw))

    def flush(self) -> int:
        """Write the buffered lines now (oldest first) and return how many were written."""
        lines = list(self._lines)
        self._lines.clear()
        dropped, self.dropped = self.dropped, 0
        if dropped and lines:
            lines[0][0]._emit(
                "warning",
                "debug buffer overflowed; oldest lines dropped",
                (),
                {"dropped_lines": dropped},
            )
        for logger, name, event, kw in lines:
            logger._emit(name, event, (), kw)
        return len(lines)

    def discard(self) -> int:
        """Drop the buffered lines and return how many there were."""
        count = len(self._lines)
        self._lines.clear()
        self.dropped = 0
        return count


@contextmanager
def debug_scope(
    *,
    sample_rate: float = 0.0,
    buffer: bool = True,
    max_lines: int = 1000,
    random: Callable[[], float] | None = None,
) -> Iterator[DebugScope]:
    """Open a debug scope for one unit of work (a request, a message, a job).

    *sample_rate* (0 to 1) is the chance that the scope writes its debug lines outright;
    with *buffer* the other scopes keep them (at most *max_lines*, oldest dropped first)
    and write them only if the work fails.  Leaving the block with an exception flushes.
    *random* (default ``random.random``) draws the sampling number; inject it in tests.
    """
    if not 0.0 <= sample_rate <= 1.0:
        raise ConfigurationError(f"sample_rate must be between 0 and 1, got {sample_rate!r}")
    if max_lines < 1:
        raise ConfigurationError(f"max_lines must be at least 1, got {max_lines!r}")
    if random is None:
        import random as random_module

        random = random_module.random
    from ._logger import use_scopes

    use_scopes()
    sampled = sample_rate > 0.0 and random() < sample_rate
    scope = DebugScope(sampled=sampled, buffer=buffer, max_lines=max_lines)
    token = SCOPE.set(scope)
    try:
        yield scope
    except Exception:
        scope.flush()
        raise
    finally:
        scope.discard()
        try:
            SCOPE.reset(token)
        except ValueError:
            SCOPE.set(None)
