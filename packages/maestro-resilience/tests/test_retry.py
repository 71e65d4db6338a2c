"""Retry: backoff and jitter, what is retried, deadline, hooks, budget, sync and async."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

import pytest
from maestro_resilience import (
    CircuitBreaker,
    CircuitBreakerOpenError,
    Event,
    Retry,
    RetryBudget,
    RetryState,
    retry,
)

if TYPE_CHECKING:
    from conftest import FakeClock


class Flaky:
    """A callable that fails ``failures`` times, then returns ``value``."""

    def __init__(self, failures: int, exc: type[BaseException] = ConnectionError) -> None:
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc(f"failure {self.calls}")
        return f"ok after {self.calls}"


def test_guide_example_waits_exactly_one_then_two_seconds(clock: FakeClock) -> None:
    """delay=1.0, backoff=2.0 with the default jitter waits exactly 1 s, then 2 s."""
    flaky = Flaky(2)
    wrapped = retry(max_attempts=3, delay=1.0, backoff=2.0, sleep=clock.sleep, monotonic=clock)(
        flaky
    )
    assert wrapped() == "ok after 3"
    assert clock.sleeps == [1.0, 2.0]


def test_gives_up_after_max_attempts_reraising_the_same_exception(clock: FakeClock) -> None:
    """The last exception object is re-raised, same type, with a note on the attempts."""
    raised: list[BaseException] = []

    def always() -> None:
        error = ValueError(f"bad {len(raised)}")
        raised.append(error)
        raise error

    wrapped = retry(max_attempts=3, delay=0.5, sleep=clock.sleep, monotonic=clock, name="api")(
        always
    )
    with pytest.raises(ValueError, match="bad 2") as info:
        wrapped()
    assert info.value is raised[-1]
    assert len(raised) == 3
    assert info.value.__notes__ == [
        "maestro-resilience: retry 'api' gave up after 3 attempt(s): 3 attempts, the maximum"
    ]
    assert info.value.__context__ is None


def test_max_delay_caps_the_backoff(clock: FakeClock) -> None:
    """Waits grow by backoff but never beyond max_delay."""
    wrapped = Retry(
        max_attempts=6, delay=1, backoff=3, max_delay=5, sleep=clock.sleep, monotonic=clock
    )(Flaky(5))
    wrapped()
    assert clock.sleeps == [1, 3, 5, 5, 5]


@pytest.mark.parametrize(
    ("jitter", "low", "high"),
    [("full", 0.0, 1.0), ("equal", 0.5, 1.0)],
)
def test_full_and_equal_jitter_stay_within_their_ranges(
    jitter: Any, low: float, high: float
) -> None:
    """Full jitter waits in [0, w]; equal jitter in [w/2, w]; and they do vary."""
    policy = Retry(delay=2.0, backoff=2.0, jitter=jitter, rng=random.Random(1))
    waits = [policy.compute_delay(2) for _ in range(500)]
    assert all(low * 4 <= w <= high * 4 for w in waits)
    assert len(set(waits)) > 400


def test_decorrelated_jitter_grows_from_the_previous_wait_and_respects_the_cap() -> None:
    """Decorrelated jitter draws from [delay, 3 x previous], capped at max_delay."""
    policy = Retry(delay=1.0, max_delay=10.0, jitter="decorrelated", rng=random.Random(2))
    previous = 1.0
    for attempt in range(1, 200):
        wait = policy.compute_delay(attempt, previous)
        assert 1.0 <= wait <= min(10.0, 3 * previous)
        previous = wait


def test_retry_on_limits_what_is_retried(clock: FakeClock) -> None:
    """Exceptions outside retry_on propagate at once without a note."""
    flaky = Flaky(1, exc=KeyError)
    wrapped = retry(retry_on=ConnectionError, sleep=clock.sleep, monotonic=clock)(flaky)
    with pytest.raises(KeyError) as info:
        wrapped()
    assert flaky.calls == 1
    assert not hasattr(info.value, "__notes__")


def test_retry_on_accepts_a_predicate(clock: FakeClock) -> None:
    """A predicate decides which exceptions are retried."""
    flaky = Flaky(2, exc=OSError)
    wrapped = retry(retry_on=lambda e: "failure 1" in str(e), sleep=clock.sleep, monotonic=clock)(
        flaky
    )
    with pytest.raises(OSError, match="failure 2"):
        wrapped()
    assert flaky.calls == 2


def test_result_predicate_retries_and_returns_the_last_result(clock: FakeClock) -> None:
    """retry_if_result retries unwanted results and returns the last one when out of attempts."""
    results = iter([None, None, "late", "never"])
    wrapped = retry(
        max_attempts=3, retry_if_result=lambda r: r is None, sleep=clock.sleep, monotonic=clock
    )(lambda: next(results))
    assert wrapped() == "late"
    results2 = iter([None, None, None])
    wrapped2 = retry(
        max_attempts=3, retry_if_result=lambda r: r is None, sleep=clock.sleep, monotonic=clock
    )(lambda: next(results2))
    assert wrapped2() is None


def test_never_retries_an_open_breaker(clock: FakeClock) -> None:
    """CircuitBreakerOpenError is never retried, even with retry_on=Exception."""
    breaker = CircuitBreaker(failure_threshold=1, monotonic=clock)
    breaker.force_open()
    wrapped = retry(max_attempts=5, retry_on=Exception, sleep=clock.sleep, monotonic=clock)(
        lambda: breaker.call(lambda: 1)
    )
    with pytest.raises(CircuitBreakerOpenError):
        wrapped()
    assert clock.sleeps == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, asyncio.CancelledError])
def test_never_retries_cancellation_or_exit(clock: FakeClock, exc: type[BaseException]) -> None:
    """BaseExceptions such as cancellation are never retried, even with retry_on=BaseException."""
    flaky = Flaky(1, exc=exc)
    wrapped = retry(retry_on=BaseException, sleep=clock.sleep, monotonic=clock)(flaky)
    with pytest.raises(exc):
        wrapped()
    assert flaky.calls == 1


def test_deadline_stops_before_a_sleep_that_would_overrun(clock: FakeClock) -> None:
    """No sleep is started that would end past the total deadline."""
    flaky = Flaky(10)

    def slow_flaky() -> str:
        clock.advance(0.4)  # each attempt takes 0.4 s
        return flaky()

    wrapped = retry(
        max_attempts=10, delay=1.0, backoff=2.0, deadline=4.0, sleep=clock.sleep, monotonic=clock
    )(slow_flaky)
    with pytest.raises(ConnectionError) as info:
        wrapped()
    # t=0.4 fail, sleep 1 -> 1.4; t=1.8 fail, sleep 2 -> 3.8; t=4.2 fail: no sleep of 4.
    assert clock.sleeps == [1.0, 2.0]
    assert "deadline" in info.value.__notes__[0]


def test_on_retry_hook_sees_each_failed_attempt(clock: FakeClock) -> None:
    """on_retry gets the failed attempt's number, exception, delay and elapsed time."""
    seen: list[RetryState] = []
    wrapped = retry(
        max_attempts=3, delay=1.0, on_retry=seen.append, sleep=clock.sleep, monotonic=clock
    )(Flaky(2))
    wrapped()
    assert [(s.attempt, s.delay) for s in seen] == [(1, 1.0), (2, 2.0)]
    assert [str(s.exception) for s in seen] == ["failure 1", "failure 2"]
    assert seen[1].elapsed == pytest.approx(1.0)


def test_delay_hook_honours_retry_after(clock: FakeClock) -> None:
    """A delay hook can replace the computed wait with the server's Retry-After."""

    class TooManyRequests(Exception):
        retry_after = 7.5

    def server_hint(state: RetryState) -> float | None:
        return getattr(state.exception, "retry_after", None)

    flaky = Flaky(2, exc=TooManyRequests)
    flaky_other = Flaky(1)
    policy = retry(delay_hook=server_hint, sleep=clock.sleep, monotonic=clock)
    policy(flaky)()
    policy(flaky_other)()
    assert clock.sleeps == [7.5, 7.5, 1.0]


def test_delay_hook_must_return_a_non_negative_number(clock: FakeClock) -> None:
    """A negative delay from the hook is a ValueError naming the hook."""
    wrapped = retry(delay_hook=lambda s: -1, sleep=clock.sleep, monotonic=clock)(Flaky(1))
    with pytest.raises(ValueError, match="delay_hook"):
        wrapped()


def test_budget_stops_retries_when_exhausted(clock: FakeClock) -> None:
    """A shared budget allows capacity/retry_cost retries, then gives up at once."""
    budget = RetryBudget(capacity=10, retry_cost=5, success_refund=1)
    policy = retry(max_attempts=10, delay=0.1, budget=budget, sleep=clock.sleep, monotonic=clock)
    down = Flaky(100)
    with pytest.raises(ConnectionError) as info:
        policy(down)()
    assert down.calls == 3  # two retries spent the ten tokens
    assert "budget" in info.value.__notes__[0]
    other = Flaky(100)
    with pytest.raises(ConnectionError):
        policy(other)()
    assert other.calls == 1
    assert budget.available == 0


def test_retry_events_are_emitted(clock: FakeClock) -> None:
    """Listeners see attempt, retry and give_up events with attempt numbers."""
    events: list[Event] = []
    wrapped = retry(
        max_attempts=2, listeners=[events.append], sleep=clock.sleep, monotonic=clock, name="r"
    )(Flaky(5))
    with pytest.raises(ConnectionError):
        wrapped()
    assert [(e.kind, e.attempt) for e in events] == [
        ("attempt", 1),
        ("retry", 1),
        ("attempt", 2),
        ("give_up", 2),
    ]


def test_methods_and_arguments_pass_through(clock: FakeClock) -> None:
    """Decorated methods receive self and arguments on every attempt."""

    class Client:
        def __init__(self) -> None:
            self.seen: list[tuple[int, int]] = []

        @retry(max_attempts=2, delay=0)
        def get(self, a: int, *, b: int) -> int:
            self.seen.append((a, b))
            if len(self.seen) == 1:
                raise ConnectionError
            return a + b

    client = Client()
    assert client.get(1, b=2) == 3
    assert client.seen == [(1, 2), (1, 2)]
    assert Client.get.__name__ == "get"


async def test_async_retry_uses_the_injected_async_sleep(clock: FakeClock) -> None:
    """Async functions are retried with awaited sleeps of the configured lengths."""
    flaky = Flaky(2)

    @retry(max_attempts=3, delay=1.0, backoff=2.0, sleep=clock.async_sleep, monotonic=clock)
    async def fetch() -> str:
        await asyncio.sleep(0)
        return flaky()

    assert await fetch() == "ok after 3"
    assert clock.sleeps == [1.0, 2.0]


async def test_async_retry_with_real_sleep_and_result_predicate() -> None:
    """Without an injected sleep, async retries await asyncio.sleep (tiny delays here)."""
    results = iter([0, 0, 5])

    @retry(max_attempts=3, delay=0.001, retry_if_result=lambda r: r == 0)
    async def value() -> int:
        return next(results)

    assert await value() == 5


async def test_async_retry_gives_up_and_never_retries_cancellation(clock: FakeClock) -> None:
    """Async give-up re-raises the last error; CancelledError propagates at once."""
    calls = 0

    @retry(max_attempts=2, delay=0.5, sleep=clock.sleep, monotonic=clock)
    async def cancelled() -> None:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await cancelled()
    assert calls == 1

    @retry(max_attempts=2, delay=0.5, sleep=clock.sleep, monotonic=clock)
    async def broken() -> None:
        raise ConnectionError("x")

    with pytest.raises(ConnectionError) as info:
        await broken()
    assert "gave up after 2" in info.value.__notes__[0]


def test_bare_decorator_use_gets_a_helpful_error() -> None:
    """Using @retry without parentheses says how to write it."""
    with pytest.raises(TypeError, match=r"@retry\(\)"):

        @retry  # type: ignore[arg-type]
        def f() -> None:
            pass


def test_repr_and_properties() -> None:
    """repr and properties describe the policy."""
    policy = Retry(max_attempts=4, name="x")
    assert policy.max_attempts == 4
    assert policy.name == "x"
    assert "max_attempts=4" in repr(policy)


async def test_async_on_retry_hook_is_awaited(clock: FakeClock) -> None:
    """For async functions an async on_retry hook is awaited before each wait."""
    seen: list[int] = []

    async def hook(state: RetryState) -> None:
        await asyncio.sleep(0)
        seen.append(state.attempt)

    flaky = Flaky(2)

    @retry(max_attempts=3, delay=0.5, on_retry=hook, sleep=clock.async_sleep, monotonic=clock)
    async def fetch() -> str:
        return flaky()

    assert await fetch() == "ok after 3"
    assert seen == [1, 2]


def test_a_backoff_too_long_to_sleep_gives_up_with_a_hint(clock: FakeClock) -> None:
    """Uncapped backoff that outgrows what can be slept gives up and suggests max_delay."""
    wrapped = retry(max_attempts=100, delay=1, backoff=10, sleep=clock.sleep, monotonic=clock)(
        Flaky(1000)
    )
    with pytest.raises(ConnectionError) as info:
        wrapped()
    assert "set max_delay" in info.value.__notes__[0]
    assert clock.sleeps[-1] == 1e9  # 1e10 s is past the platform limit (about 9.2e9 s)


def test_a_raising_retry_on_predicate_keeps_the_failure_as_context() -> None:
    """When retry_on itself raises, the failure it was judging is its __context__."""

    def judge(exc: BaseException) -> bool:
        raise LookupError("predicate bug")

    @retry(max_attempts=3, delay=0, retry_on=judge)
    def fails() -> None:
        raise ConnectionError("the real failure")

    with pytest.raises(LookupError) as info:
        fails()
    assert isinstance(info.value.__context__, ConnectionError)


def test_the_give_up_note_is_added_once() -> None:
    """An exception object given up on twice carries the give-up note only once."""
    error = ConnectionError("cached failure")
    policy = retry(max_attempts=2, delay=0, name="twice")

    @policy
    def fails() -> None:
        raise error

    for _ in range(2):
        with pytest.raises(ConnectionError):
            fails()
    assert len([n for n in error.__notes__ if "twice" in n]) == 1
