"""Policy: the recommended stacking order, and the guide's manual stack."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

import pytest
from maestro_resilience import (
    Bulkhead,
    CircuitBreaker,
    CircuitBreakerOpenError,
    CircuitState,
    Fallback,
    Policy,
    RateLimiter,
    Retry,
    Timeout,
    TimeoutError,
    retry,
)

if TYPE_CHECKING:
    from conftest import FakeClock


def test_order_is_fallback_timeout_retry_breaker_limiter_bulkhead_attempt_timeout() -> None:
    """policies lists the parts outermost first, whatever order they were given in."""
    fallback = Fallback(None)
    retry_ = Retry()
    breaker = CircuitBreaker()
    limiter = RateLimiter(rate=100)
    bulkhead = Bulkhead()
    policy = Policy(
        attempt_timeout=1.0,
        bulkhead=bulkhead,
        rate_limiter=limiter,
        breaker=breaker,
        retry=retry_,
        timeout=10.0,
        fallback=fallback,
    )
    parts = policy.policies
    assert parts[0] is fallback
    assert isinstance(parts[1], Timeout)
    assert parts[1].seconds == 10.0
    assert parts[2:6] == (retry_, breaker, limiter, bulkhead)
    assert isinstance(parts[6], Timeout)
    assert parts[6].name == "attempt_timeout"
    assert "Fallback" in repr(policy)


def test_each_attempt_passes_through_the_breaker(clock: FakeClock) -> None:
    """Every retry attempt counts in the breaker; once open, retrying stops at once."""
    breaker = CircuitBreaker(failure_threshold=2, timeout=60, monotonic=clock)
    calls = 0

    @Policy(
        retry=Retry(max_attempts=5, delay=1, sleep=clock.sleep, monotonic=clock), breaker=breaker
    )
    def down() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError

    with pytest.raises(CircuitBreakerOpenError):
        down()
    assert calls == 2
    assert clock.sleeps == [1, 2]
    assert breaker.state is CircuitState.OPEN


def test_fallback_catches_the_final_failure(clock: FakeClock) -> None:
    """The fallback answers once retries and the breaker have given up."""
    breaker = CircuitBreaker(failure_threshold=10, monotonic=clock)

    @Policy(
        fallback=Fallback("fallback"),
        retry=Retry(max_attempts=3, delay=0, sleep=clock.sleep, monotonic=clock),
        breaker=breaker,
    )
    def down() -> str:
        raise ConnectionError

    assert down() == "fallback"
    assert breaker.stats().failures == 3


async def test_attempt_timeout_is_retried_and_total_timeout_bounds_all() -> None:
    """A slow attempt times out and is retried; the total timeout stops the whole sequence."""
    attempts = 0

    @Policy(timeout=0.2, retry=Retry(max_attempts=100, delay=0), attempt_timeout=0.01)
    async def slow() -> None:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(10)

    with pytest.raises(TimeoutError) as info:
        await slow()
    assert info.value.name == "timeout"
    assert 2 <= attempts < 100


async def test_async_stack_succeeds_after_a_transient_error() -> None:
    """A full async stack returns the value once a retry succeeds."""
    attempts = 0

    @Policy(
        fallback=Fallback(None),
        timeout=5,
        retry=Retry(max_attempts=3, delay=0),
        breaker=CircuitBreaker(),
        rate_limiter=RateLimiter(rate=1000),
        bulkhead=Bulkhead(max_concurrent=2),
        attempt_timeout=1,
    )
    async def flaky() -> int:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError
        return 42

    assert await flaky() == 42
    assert attempts == 2


def test_bad_parts_are_type_errors() -> None:
    """Wrong types for a part name the parameter."""
    with pytest.raises(TypeError, match="retry must be a Retry"):
        Policy(retry=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="attempt_timeout"):
        Policy(attempt_timeout="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seconds"):
        Timeout(0)
    with pytest.raises(ValueError, match=r"^timeout must be > 0, got -1$"):
        Policy(timeout=-1)
    with pytest.raises(ValueError, match=r"^attempt_timeout must be > 0"):
        Policy(attempt_timeout=0)


def test_guide_stack_breaker_retry_timeout_works_in_sync_code(clock: FakeClock) -> None:
    """The guide's @breaker @retry @timeout stack retries timeouts and counts one failure."""
    breaker = CircuitBreaker(failure_threshold=3, timeout=30, monotonic=clock)
    release = threading.Event()
    attempts = 0

    @breaker
    @retry(max_attempts=3, delay=1.0, sleep=clock.sleep, monotonic=clock)
    @Timeout(0.01)
    def slow() -> None:
        nonlocal attempts
        attempts += 1
        release.wait(2)

    with pytest.raises(TimeoutError):
        slow()
    release.set()
    assert attempts == 3
    assert breaker.stats().failures == 1
