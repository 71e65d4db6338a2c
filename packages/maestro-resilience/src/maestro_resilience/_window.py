"""Sliding windows of call outcomes for the breaker's failure-rate mode (as in Resilience4j)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

__all__ = ["CountWindow", "TimeWindow", "Window"]


class CountWindow:
    """The outcomes of the last ``size`` calls, in a ring buffer. Not thread-safe by itself."""

    __slots__ = ("_failures", "_index", "_outcomes", "_size", "_slow", "_slows", "_total")

    def __init__(self, size: int) -> None:
        self._size = size
        self._outcomes = [False] * size
        self._slow = [False] * size
        self._index = 0
        self._total = 0
        self._failures = 0
        self._slows = 0

    def record(self, failed: bool, slow: bool = False) -> tuple[int, int, int]:
        """Add one outcome; return (calls, failures, slow calls) now in the window."""
        index = self._index
        if self._total == self._size:
            self._failures -= self._outcomes[index]
            self._slows -= self._slow[index]
        else:
            self._total += 1
        self._outcomes[index] = failed
        self._slow[index] = slow
        self._failures += failed
        self._slows += slow
        self._index = (index + 1) % self._size
        return self._total, self._failures, self._slows

    def snapshot(self) -> tuple[int, int, int]:
        """(calls, failures, slow calls) currently in the window."""
        return self._total, self._failures, self._slows

    def clear(self) -> None:
        """Forget every outcome."""
        self._outcomes = [False] * self._size
        self._slow = [False] * self._size
        self._index = self._total = self._failures = self._slows = 0


class TimeWindow:
    """The outcomes of the last ``seconds`` seconds, in one-second buckets."""

    __slots__ = ("_buckets", "_clock", "_failures", "_seconds", "_slows", "_total")

    def __init__(self, seconds: int, clock: Callable[[], float]) -> None:
        self._seconds = seconds
        self._clock = clock
        self._buckets: deque[list[int]] = deque()  # [second, calls, failures, slow calls]
        self._total = 0
        self._failures = 0
        self._slows = 0

    def _evict(self, second: int) -> None:
        oldest = second - self._seconds + 1
        buckets = self._buckets
        while buckets and buckets[0][0] < oldest:
            _, calls, failures, slows = buckets.popleft()
            self._total -= calls
            self._failures -= failures
            self._slows -= slows

    def record(self, failed: bool, slow: bool = False) -> tuple[int, int, int]:
        """Add one outcome at the clock's current second; return (calls, failures, slow)."""
        second = math.floor(self._clock())
        self._evict(second)
        buckets = self._buckets
        if not buckets or buckets[-1][0] != second:
            buckets.append([second, 0, 0, 0])
        bucket = buckets[-1]
        bucket[1] += 1
        bucket[2] += failed
        bucket[3] += slow
        self._total += 1
        self._failures += failed
        self._slows += slow
        return self._total, self._failures, self._slows

    def snapshot(self) -> tuple[int, int, int]:
        """(calls, failures, slow calls) in the window as of now."""
        self._evict(math.floor(self._clock()))
        return self._total, self._failures, self._slows

    def clear(self) -> None:
        """Forget every outcome."""
        self._buckets.clear()
        self._total = self._failures = self._slows = 0


Window = CountWindow | TimeWindow
