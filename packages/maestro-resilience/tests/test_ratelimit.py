"""RateLimiter: a token bucket with blocking, non-blocking and async acquisition."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from maestro_resilience import Event, RateLimiter, RateLimitExceededError

if TYPE_CHECKING:
    from conftest import FakeClock


def test_burst_then_steady_rate(clock: FakeClock) -> None:
    """The bucket allows a burst, then one token per 1/rate seconds."""
    limiter = RateLimiter(rate=2, burst=3, monotonic=clock, sleep=clock.sleep)
    assert [limiter.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)
    assert limiter.try_acquire()
    assert not limiter.try_acquire()


def test_blocking_acquire_sleeps_exactly_until_the_token(clock: FakeClock) -> None:
    """acquire() waits the time the next token needs; waiters queue fairly."""
    limiter = RateLimiter(rate=4, burst=1, monotonic=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()
    assert clock.sleeps == [0.25]
    limiter.acquire()
    assert clock.sleeps == [0.25, 0.25]


def test_max_wait_rejects_without_sleeping(clock: FakeClock) -> None:
    """A call that would wait longer than max_wait is rejected at once, telling the wait."""
    events: list[Event] = []
    limiter = RateLimiter(
        rate=1,
        max_wait=0.5,
        monotonic=clock,
        sleep=clock.sleep,
        name="api",
        listeners=[events.append],
    )
    limiter.acquire()
    with pytest.raises(RateLimitExceededError) as info:
        limiter.acquire()
    assert info.value.retry_after == pytest.approx(1.0)
    assert info.value.name == "api"
    assert clock.sleeps == []
    assert limiter.rejected == 1
    assert [e.kind for e in events] == ["rejected"]


def test_timeout_argument_overrides_max_wait(clock: FakeClock) -> None:
    """acquire(timeout=...) replaces the limiter's max_wait for one call."""
    limiter = RateLimiter(rate=1, max_wait=0, monotonic=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire(timeout=2)
    assert clock.sleeps == [1.0]


def test_decorator_takes_one_token_per_call(clock: FakeClock) -> None:
    """Each decorated call consumes a token and waits when needed."""
    limiter = RateLimiter(rate=10, burst=2, monotonic=clock, sleep=clock.sleep)
    wrapped = limiter(lambda x: x + 1)
    assert [wrapped(i) for i in range(4)] == [1, 2, 3, 4]
    assert clock.sleeps == pytest.approx([0.1, 0.1])


def test_default_burst_is_the_rate_rounded_up(clock: FakeClock) -> None:
    """Without burst, the bucket holds ceil(rate) tokens (at least one)."""
    assert RateLimiter(rate=2.5, monotonic=clock).available == 3
    assert RateLimiter(rate=0.2, monotonic=clock).available == 1


def test_asking_for_more_than_the_burst_is_an_error(clock: FakeClock) -> None:
    """Requesting more tokens than the bucket can ever hold is a ValueError."""
    limiter = RateLimiter(rate=1, burst=2, monotonic=clock)
    with pytest.raises(ValueError, match="burst"):
        limiter.acquire(3)
    with pytest.raises(ValueError, match="tokens must be > 0"):
        limiter.try_acquire(0)


async def test_async_acquire_waits_and_refunds_on_cancel(clock: FakeClock) -> None:
    """Async acquisition sleeps for its token; cancelling the wait returns the token."""
    limiter = RateLimiter(rate=1, burst=1, monotonic=clock, sleep=clock.async_sleep)

    @limiter
    async def call() -> str:
        return "ok"

    assert await call() == "ok"
    assert await call() == "ok"
    assert clock.sleeps == [1.0]

    real = RateLimiter(rate=1, burst=1)
    await real.aacquire()
    waiting = asyncio.ensure_future(real.aacquire())
    await asyncio.sleep(0)
    assert real.available < 0
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert 0 <= real.available <= 1  # without the refund it would be about -1


async def test_many_tasks_are_paced(clock: FakeClock) -> None:
    """Fifty concurrent tasks at 10/s with burst 10: ten go at once, forty wait up to 4 s."""
    waits: list[float] = []
    limiter = RateLimiter(rate=10, burst=10, monotonic=clock, sleep=waits.append)
    await asyncio.gather(*(limiter.aacquire() for _ in range(50)))
    assert len(waits) == 40
    assert sorted(waits) == pytest.approx([0.1 * i for i in range(1, 41)])
