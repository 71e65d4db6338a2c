"""Shared fixtures: an injectable clock so that no test has to sleep for real."""

from __future__ import annotations

import pytest


class FakeClock:
    """A monotonic clock the test moves by hand; ``sleep`` advances it and records the wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> FakeClock:
    """A fresh fake clock starting at t=1000."""
    return FakeClock()
