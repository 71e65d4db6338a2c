"""Typed usage of maestro-resilience, as users write it; mypy --strict checks it, never run."""

from __future__ import annotations

import asyncio
from typing import assert_type

from maestro_resilience import (
    Bulkhead,
    CircuitBreaker,
    CircuitBreakerOpenError,
    CircuitBreakerStats,
    CircuitState,
    Event,
    Fallback,
    Policy,
    RateLimiter,
    Retry,
    RetryBudget,
    RetryState,
    TimeoutError,
    retry,
    timeout,
)

breaker = CircuitBreaker(failure_threshold=5, timeout=60, expected_exception=Exception)
by_tuple = CircuitBreaker(expected_exception=(ConnectionError, TimeoutError))
by_predicate = CircuitBreaker(expected_exception=lambda exc: "503" in str(exc))
rate_mode = CircuitBreaker(
    failure_rate_threshold=50.0, window_type="time", window_size=60, minimum_calls=20
)


@breaker
def get_user(user_id: int, *, verbose: bool = False) -> dict[str, int]:
    return {"id": user_id}


assert_type(get_user(1, verbose=True), dict[str, int])


@breaker
@retry(max_attempts=3, delay=1.0, backoff=2.0)
@timeout(seconds=10.0)
async def fetch(url: str) -> bytes:
    await asyncio.sleep(0)
    return url.encode()


async def use_async() -> None:
    data = await fetch("https://example.invalid")
    assert_type(data, bytes)
    value = await breaker.acall(fetch, "x")
    assert_type(value, bytes)
    async with breaker:
        pass


class Client:
    @retry(max_attempts=2, jitter="full", retry_on=(ConnectionError, OSError))
    def get(self, path: str) -> str:
        return path


assert_type(Client().get("/"), str)

result: int = breaker.call(lambda a, b: a + b, 1, 2)
with breaker:
    pass

state: CircuitState = breaker.state
stats: CircuitBreakerStats = breaker.stats()
rate: float | None = stats.failure_rate
breaker.reset()
breaker.force_open()


def on_event(event: Event) -> None:
    print(event.kind, event.name, event.old_state, event.new_state)


breaker.add_listener(on_event)


def retry_after(state: RetryState) -> float | None:
    return getattr(state.exception, "retry_after", None)


budget = RetryBudget(capacity=500, retry_cost=5, success_refund=1)
policy_retry = Retry(
    max_attempts=5,
    delay=0.2,
    max_delay=5.0,
    jitter="decorrelated",
    retry_if_result=lambda r: r is None,
    deadline=30.0,
    on_retry=lambda s: print(s.attempt, s.delay),
    delay_hook=retry_after,
    budget=budget,
    listeners=[on_event],
)

policy = Policy(
    fallback=Fallback(value=None),
    timeout=10.0,
    retry=policy_retry,
    breaker=breaker,
    rate_limiter=RateLimiter(rate=100.0, burst=20),
    bulkhead=Bulkhead(max_concurrent=10, max_waiting=20, wait_timeout=1.0),
    attempt_timeout=2.0,
)


@policy
def compute(x: float) -> float:
    return x * 2


assert_type(compute(1.5), float)

try:
    get_user(1)
except CircuitBreakerOpenError as exc:
    wait: float = exc.retry_after
    name: str = exc.name
except TimeoutError as timeout_exc:
    seconds: float = timeout_exc.seconds

limiter = RateLimiter(rate=5.0)
ok: bool = limiter.try_acquire()
limiter.acquire(timeout=1.0)
bulkhead = Bulkhead(max_concurrent=2)
with bulkhead:
    pass
fallback = Fallback(handler=lambda exc: f"cached: {exc}", on=ConnectionError)

# The decorators keep the signature: these mistakes are caught (an unused ignore would fail).
get_user("not an int")  # type: ignore[arg-type]
Client().get(1)  # type: ignore[arg-type]
compute()  # type: ignore[call-arg]
breaker.call(get_user, "x")  # type: ignore[arg-type]


# ---- 1.1: timeouts, slow calls, retry over a block, testing switch -------------------


def use_new_apis() -> None:
    from collections.abc import AsyncIterator, Iterator
    from datetime import timedelta

    from maestro_resilience import (
        Attempt,
        ConfigurationError,
        MaestroResilienceError,
        Timeout,
        TimeoutStats,
        is_testing,
        set_testing,
    )

    policy = Timeout(timedelta(seconds=2), max_workers=4)
    assert_type(policy.stats(), TimeoutStats)
    assert_type(policy.stats().abandoned, int)
    slow = CircuitBreaker(slow_call_rate_threshold=50, slow_call_duration_threshold=2.0)
    assert_type(slow.stats().slow_call_rate, float | None)
    for attempt in Retry(max_attempts=3):
        assert_type(attempt, Attempt)
        with attempt:
            pass
    assert_type(iter(Retry()), Iterator[Attempt])
    assert_type(Retry().__aiter__(), AsyncIterator[Attempt])
    with set_testing(attempts=1):
        assert_type(is_testing(), bool)
    assert issubclass(ConfigurationError, MaestroResilienceError)

    @slow
    def rows() -> Iterator[int]:
        yield 1

    assert_type(rows(), Iterator[int])


async def use_async_twins() -> None:
    bulkhead = Bulkhead(max_concurrent=2, max_waiting=1, wait_timeout=1.0)
    await bulkhead.aacquire()
    bulkhead.release()
    limiter = RateLimiter(rate=10)
    await limiter.aacquire(1, timeout=0.5)
    async for attempt in Retry(max_attempts=2):
        with attempt:
            pass


def use_shared_store() -> None:
    from maestro_resilience import MissingExtraError, RedisBreakerStore

    store = RedisBreakerStore("redis://127.0.0.1:6379/0", key_prefix="svc:", sync_interval=0.5)
    shared = CircuitBreaker(failure_threshold=3, name="payments", store=store)
    assert_type(shared.call(lambda: 1), int)
    assert issubclass(MissingExtraError, ImportError)
