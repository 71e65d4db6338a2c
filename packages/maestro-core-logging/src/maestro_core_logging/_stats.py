"""Counters of lines that could not be written as given: a log call never raises instead."""

from __future__ import annotations

import itertools
from typing import NamedTuple

__all__ = ["STATS", "LoggingStats", "logging_stats"]


def _value(counter: itertools.count[int]) -> int:
    # itertools.count advances atomically under the GIL; its repr is "count(N)".
    return int(repr(counter)[6:-1])


class _Counters:
    __slots__ = ("dropped", "repaired")

    def __init__(self) -> None:
        self.dropped = itertools.count()
        self.repaired = itertools.count()


STATS = _Counters()


class LoggingStats(NamedTuple):
    """Lines since the process started that a log call could not write as given.

    ``dropped``: lines lost (the stream failed: a closed pipe, a full disk; a processor
    raised). ``repaired``: lines written after a value was made printable (non-string
    keys, a ``__str__`` that raises, a ``%`` format that does not match its arguments).
    """

    dropped: int
    repaired: int


def logging_stats() -> LoggingStats:
    """Return the counts of dropped and repaired lines so far (they only grow)."""
    return LoggingStats(_value(STATS.dropped), _value(STATS.repaired))
