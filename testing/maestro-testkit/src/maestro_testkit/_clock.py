"""A fake clock for ``clock=`` and ``monotonic=`` parameters: time moves only when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Wall time (aware UTC) and monotonic seconds that advance together, by hand.

    ``clock.now()`` fits a ``clock=`` parameter, ``clock.monotonic()`` a ``monotonic=``
    one; ``sleep``/``asleep`` advance both and record the wait in ``sleeps``.
    """

    def __init__(self, start: datetime | None = None, monotonic_start: float = 1000.0) -> None:
        start = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock start must be timezone-aware (attach tzinfo=UTC)")
        self._now = start.astimezone(UTC)
        self._monotonic = monotonic_start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """The current wall time, an aware UTC datetime."""
        return self._now

    def monotonic(self) -> float:
        """The current monotonic time in seconds."""
        return self._monotonic

    def advance(self, seconds: float | timedelta) -> None:
        """Move both clocks forward."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if step < 0:
            raise ValueError("a clock only moves forward")
        self._now += timedelta(seconds=step)
        self._monotonic += step

    def sleep(self, seconds: float) -> None:
        """A ``time.sleep`` stand-in: records the wait and advances the clocks."""
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))

    async def asleep(self, seconds: float) -> None:
        """An ``asyncio.sleep`` stand-in: records the wait and advances the clocks."""
        self.sleep(seconds)
