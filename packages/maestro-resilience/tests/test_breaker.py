"""The circuit breaker's states, counting rules, interfaces and events."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from maestro_resilience import (
    CircuitBreaker,
    CircuitBreakerOpenError,
    CircuitState,
    ConfigurationError,
    Event,
)

if TYPE_CHECKING:
    from conftest import FakeClock


class Boom(Exception):
    pass


class Other(Exception):
    pass


def failing() -> None:
    raise Boom("down")


def trip(breaker: CircuitBreaker, times: int) -> None:
    wrapped = breaker(failing)
    for _ in range(times):
        with pytest.raises(Boom):
            wrapped()


def test_opens_after_failure_threshold_consecutive_failures(clock: FakeClock) -> None:
    """The breaker stays closed below the threshold and opens on the threshold-th failure."""
    breaker = CircuitBreaker(failure_threshold=3, timeout=10, monotonic=clock)
    trip(breaker, 2)
    assert breaker.state is CircuitState.CLOSED
    trip(breaker, 1)
    assert breaker.state is CircuitState.OPEN


def test_success_resets_the_consecutive_failure_count(clock: FakeClock) -> None:
    """A success between failures restarts the count of consecutive failures."""
    breaker = CircuitBreaker(failure_threshold=3, timeout=10, monotonic=clock)
    ok = breaker(lambda: "ok")
    trip(breaker, 2)
    assert ok() == "ok"
    trip(breaker, 2)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats().consecutive_failures == 2


def test_open_rejects_without_calling_and_reports_name_and_wait(clock: FakeClock) -> None:
    """An open breaker raises CircuitBreakerOpenError with its name and the seconds left."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=30, name="payments", monotonic=clock)
    trip(breaker, 1)
    calls = []
    wrapped = breaker(lambda: calls.append(1))
    clock.advance(10)
    with pytest.raises(CircuitBreakerOpenError) as info:
        wrapped()
    assert calls == []
    assert info.value.name == "payments"
    assert info.value.retry_after == pytest.approx(20)
    assert "payments" in str(info.value)
    assert "20.000s" in str(info.value)
    assert breaker.stats().rejected == 1


def test_half_open_after_timeout_and_one_success_closes(clock: FakeClock) -> None:
    """After timeout seconds one trial call is admitted and its success closes the breaker."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=30, monotonic=clock)
    trip(breaker, 1)
    clock.advance(30)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker(lambda: 42)() == 42
    assert breaker.state is CircuitState.CLOSED


def test_half_open_failure_reopens_for_a_full_timeout(clock: FakeClock) -> None:
    """A failed trial reopens the breaker and restarts the wait."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=30, monotonic=clock)
    trip(breaker, 1)
    clock.advance(31)
    trip(breaker, 1)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitBreakerOpenError) as info:
        breaker(lambda: None)()
    assert info.value.retry_after == pytest.approx(30)


def test_half_open_admits_only_the_configured_number_of_trials(clock: FakeClock) -> None:
    """Half-open admits half_open_max_calls concurrent trials and rejects the rest."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=5, half_open_max_calls=2, monotonic=clock)
    trip(breaker, 1)
    clock.advance(5)
    breaker.__enter__()
    breaker.__enter__()
    with pytest.raises(CircuitBreakerOpenError):
        breaker.__enter__()
    breaker.__exit__(None, None, None)
    assert breaker.state is CircuitState.HALF_OPEN  # one trial is still out: not judged yet
    breaker.__exit__(None, None, None)
    assert breaker.state is CircuitState.CLOSED


def test_half_open_judges_every_trial_not_the_first_success(clock: FakeClock) -> None:
    """A success followed by a failed trial of the same round reopens the breaker."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=5, half_open_max_calls=3, monotonic=clock)
    trip(breaker, 1)
    clock.advance(5)
    for _ in range(3):
        breaker.__enter__()
    breaker.__exit__(None, None, None)
    breaker.__exit__(None, None, None)
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.__exit__(ConnectionError, ConnectionError("still down"), None)
    assert breaker.state is CircuitState.OPEN


def test_half_open_in_rate_mode_judges_the_rate_of_the_round(clock: FakeClock) -> None:
    """In rate mode the round's failure rate decides: 1 of 4 under 50% closes the breaker."""
    breaker = CircuitBreaker(
        failure_rate_threshold=50,
        window_size=4,
        minimum_calls=4,
        timeout=5,
        half_open_max_calls=4,
        monotonic=clock,
    )
    trip(breaker, 4)
    assert breaker.state is CircuitState.OPEN
    clock.advance(5)
    for _ in range(4):
        breaker.__enter__()
    breaker.__exit__(ConnectionError, ConnectionError("one"), None)
    assert breaker.state is CircuitState.HALF_OPEN
    for _ in range(3):
        breaker.__exit__(None, None, None)
    assert breaker.state is CircuitState.CLOSED
    trip(breaker, 4)
    clock.advance(5)
    for _ in range(4):
        breaker.__enter__()
    breaker.__exit__(ConnectionError, ConnectionError("one"), None)
    breaker.__exit__(ConnectionError, ConnectionError("two"), None)
    assert breaker.state is CircuitState.OPEN  # 2 of 4 is 50%: decided already


def test_success_threshold_needs_that_many_trial_successes(clock: FakeClock) -> None:
    """With success_threshold=3 the breaker closes only after three successful trials."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=5, success_threshold=3, monotonic=clock)
    trip(breaker, 1)
    clock.advance(5)
    ok = breaker(lambda: 1)
    ok()
    ok()
    assert breaker.state is CircuitState.HALF_OPEN
    ok()
    assert breaker.state is CircuitState.CLOSED


def test_a_trial_that_never_reports_does_not_wedge_the_breaker(clock: FakeClock) -> None:
    """A lost trial frees its slot after another timeout, and its late report is ignored."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=5, monotonic=clock)
    trip(breaker, 1)
    clock.advance(5)
    lost = breaker._acquire()  # a trial whose caller vanished
    with pytest.raises(CircuitBreakerOpenError) as info:
        breaker(lambda: 1)()
    assert info.value.retry_after == pytest.approx(5)
    clock.advance(5)
    assert breaker(lambda: 1)() == 1
    assert breaker.state is CircuitState.CLOSED
    breaker._on_error(Boom(), lost)  # the lost trial reports a failure, too late
    assert breaker.state is CircuitState.CLOSED


def test_unexpected_exceptions_pass_through_without_counting(clock: FakeClock) -> None:
    """Exceptions outside expected_exception propagate and count neither way."""
    breaker = CircuitBreaker(failure_threshold=1, expected_exception=Boom, monotonic=clock)

    @breaker
    def other() -> None:
        raise Other

    for _ in range(3):
        with pytest.raises(Other):
            other()
    stats = breaker.stats()
    assert stats.state is CircuitState.CLOSED
    assert (stats.failures, stats.successes, stats.ignored) == (0, 0, 3)


def test_unexpected_exception_in_a_trial_frees_the_trial_slot(clock: FakeClock) -> None:
    """A trial that raises an unexpected exception releases its slot for the next trial."""
    breaker = CircuitBreaker(
        failure_threshold=1, timeout=5, expected_exception=Boom, monotonic=clock
    )
    trip(breaker, 1)
    clock.advance(5)
    with pytest.raises(Other), breaker:
        raise Other
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker(lambda: 1)() == 1
    assert breaker.state is CircuitState.CLOSED


def test_cancellation_is_not_a_failure_by_default(clock: FakeClock) -> None:
    """KeyboardInterrupt and other BaseExceptions do not count with the default Exception."""
    breaker = CircuitBreaker(failure_threshold=1, monotonic=clock)
    with pytest.raises(KeyboardInterrupt), breaker:
        raise KeyboardInterrupt
    assert breaker.state is CircuitState.CLOSED


def test_expected_exception_accepts_a_tuple(clock: FakeClock) -> None:
    """A tuple of types counts each listed type as a failure."""
    breaker = CircuitBreaker(failure_threshold=2, expected_exception=(Boom, Other), monotonic=clock)
    with pytest.raises(Boom), breaker:
        raise Boom
    with pytest.raises(Other), breaker:
        raise Other
    assert breaker.state is CircuitState.OPEN


def test_expected_exception_accepts_a_predicate(clock: FakeClock) -> None:
    """A predicate decides per exception: here only 5xx status errors count."""

    class HTTPError(Exception):
        def __init__(self, status: int) -> None:
            self.status = status

    breaker = CircuitBreaker(
        failure_threshold=1,
        expected_exception=lambda e: isinstance(e, HTTPError) and e.status >= 500,
        monotonic=clock,
    )
    with pytest.raises(HTTPError), breaker:
        raise HTTPError(404)
    assert breaker.state is CircuitState.CLOSED
    with pytest.raises(HTTPError), breaker:
        raise HTTPError(503)
    assert breaker.state is CircuitState.OPEN


def test_count_window_failure_rate_opens_after_minimum_calls(clock: FakeClock) -> None:
    """Rate mode opens at the failure-rate threshold, but not before minimum_calls calls."""
    breaker = CircuitBreaker(
        failure_rate_threshold=50, window_size=10, minimum_calls=4, monotonic=clock
    )
    ok = breaker(lambda: 1)
    trip(breaker, 2)  # 2 of 2 failed, below minimum_calls
    assert breaker.state is CircuitState.CLOSED
    ok()  # 2 of 3
    assert breaker.state is CircuitState.CLOSED
    ok()  # 2 of 4 = 50%
    assert breaker.state is CircuitState.OPEN
    assert breaker.stats().times_opened == 1


def test_count_window_forgets_calls_older_than_the_window(clock: FakeClock) -> None:
    """Only the last window_size outcomes count towards the rate."""
    breaker = CircuitBreaker(
        failure_rate_threshold=60, window_size=5, minimum_calls=5, monotonic=clock
    )
    ok = breaker(lambda: 1)
    trip(breaker, 2)
    for _ in range(5):
        ok()
    stats = breaker.stats()
    assert (stats.window_calls, stats.window_failures) == (5, 0)
    assert stats.failure_rate == 0.0
    trip(breaker, 2)
    assert breaker.state is CircuitState.CLOSED  # 2 of 5 = 40%
    trip(breaker, 1)
    assert breaker.state is CircuitState.OPEN  # 3 of 5 = 60%


def test_time_window_counts_only_recent_seconds(clock: FakeClock) -> None:
    """A time window drops outcomes older than window_size seconds."""
    breaker = CircuitBreaker(
        failure_rate_threshold=50,
        window_type="time",
        window_size=10,
        minimum_calls=3,
        monotonic=clock,
    )
    trip(breaker, 2)
    clock.advance(11)
    assert breaker.stats().window_calls == 0
    ok = breaker(lambda: 1)
    ok()
    ok()
    trip(breaker, 1)
    assert breaker.state is CircuitState.CLOSED  # 1 of 3
    trip(breaker, 1)
    assert breaker.state is CircuitState.OPEN  # 2 of 4


def test_rate_mode_does_not_count_consecutive_failures(clock: FakeClock) -> None:
    """In rate mode consecutive failures below minimum_calls do not open the breaker."""
    breaker = CircuitBreaker(
        failure_rate_threshold=50,
        window_size=10,
        minimum_calls=10,
        monotonic=clock,
    )
    trip(breaker, 6)
    assert breaker.state is CircuitState.CLOSED
    with pytest.raises(ConfigurationError, match=r"failure_threshold .* is not used"):
        CircuitBreaker(failure_threshold=1, failure_rate_threshold=50)


def test_state_change_listeners_get_every_transition(clock: FakeClock) -> None:
    """Listeners receive closed->open->half_open->closed state-change events in order."""
    events: list[Event] = []
    breaker = CircuitBreaker(failure_threshold=1, timeout=1, name="db", monotonic=clock)
    breaker.add_listener(events.append)
    trip(breaker, 1)
    clock.advance(1)
    breaker(lambda: 1)()
    changes = [(e.old_state, e.new_state) for e in events if e.kind == "state_change"]
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert all(e.name == "db" and e.policy == "circuit_breaker" for e in events)
    assert [e.kind for e in events].count("failure") == 1


def test_rejections_are_events(clock: FakeClock) -> None:
    """A rejected call emits a 'rejected' event carrying the open error."""
    events: list[Event] = []
    breaker = CircuitBreaker(failure_threshold=1, monotonic=clock, listeners=[events.append])
    trip(breaker, 1)
    with pytest.raises(CircuitBreakerOpenError):
        breaker.call(lambda: 1)
    rejected = [e for e in events if e.kind == "rejected"]
    assert len(rejected) == 1
    assert isinstance(rejected[0].exception, CircuitBreakerOpenError)


def test_remove_listener_stops_delivery(clock: FakeClock) -> None:
    """A removed listener receives nothing more."""
    events: list[Event] = []
    breaker = CircuitBreaker(failure_threshold=1, monotonic=clock)
    breaker.add_listener(events.append)
    breaker.remove_listener(events.append)
    trip(breaker, 1)
    assert events == []
    assert breaker.listeners == ()


def test_reset_closes_and_force_open_rejects_until_reset(clock: FakeClock) -> None:
    """force_open rejects with an infinite wait until reset() closes the breaker again."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=1, monotonic=clock)
    breaker.force_open()
    clock.advance(1000)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitBreakerOpenError) as info:
        breaker.call(lambda: 1)
    assert math.isinf(info.value.retry_after)
    assert "reset()" in str(info.value)
    breaker.reset()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.call(lambda: 1) == 1


def test_call_passes_arguments_and_counts(clock: FakeClock) -> None:
    """breaker.call(fn, *args, **kwargs) returns fn's result and counts the success."""
    breaker = CircuitBreaker(monotonic=clock)
    assert breaker.call(lambda a, b=0: a + b, 1, b=2) == 3  # type: ignore[misc]
    assert breaker.stats().successes == 1


def test_decorated_methods_keep_self_and_metadata(clock: FakeClock) -> None:
    """Decorating a method keeps binding, name and docstring."""
    breaker = CircuitBreaker(monotonic=clock)

    class Client:
        factor = 3

        @breaker
        def scale(self, x: int) -> int:
            """Scale x."""
            return x * self.factor

    assert Client().scale(2) == 6
    assert Client.scale.__name__ == "scale"
    assert Client.scale.__doc__ == "Scale x."


async def test_async_functions_are_protected(clock: FakeClock) -> None:
    """Decorated coroutines count failures and are rejected when open."""
    breaker = CircuitBreaker(failure_threshold=2, monotonic=clock)

    @breaker
    async def fetch(ok: bool) -> str:
        await asyncio.sleep(0)
        if not ok:
            raise Boom
        return "data"

    assert await fetch(True) == "data"
    for _ in range(2):
        with pytest.raises(Boom):
            await fetch(False)
    with pytest.raises(CircuitBreakerOpenError):
        await fetch(True)


async def test_acall_and_async_context_manager(clock: FakeClock) -> None:
    """acall and 'async with breaker' record outcomes like the decorator."""
    breaker = CircuitBreaker(failure_threshold=2, monotonic=clock)

    async def value() -> int:
        return 7

    assert await breaker.acall(value) == 7
    with pytest.raises(Boom):
        async with breaker:
            raise Boom
    async with breaker:
        pass
    stats = breaker.stats()
    assert (stats.successes, stats.failures) == (2, 1)


def test_nested_context_managers_keep_their_own_tokens(clock: FakeClock) -> None:
    """Nested 'with breaker' blocks each report their own outcome."""
    breaker = CircuitBreaker(failure_threshold=5, monotonic=clock)

    def nested() -> None:
        with breaker:
            with breaker:
                pass
            raise Boom

    with pytest.raises(Boom):
        nested()
    stats = breaker.stats()
    assert (stats.successes, stats.failures) == (1, 1)


def test_many_threads_share_one_breaker_with_exact_counts() -> None:
    """Sixteen threads hammering one breaker leave exact success and failure counters."""
    breaker = CircuitBreaker(failure_threshold=10**9, timeout=60)
    barrier = threading.Barrier(16)

    @breaker
    def work(i: int) -> int:
        if i % 3 == 0:
            raise Boom
        return i

    def run() -> None:
        barrier.wait()
        for i in range(3000):
            with contextlib.suppress(Boom):
                work(i)

    threads = [threading.Thread(target=run) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = breaker.stats()
    assert stats.failures == 16 * 1000
    assert stats.successes == 16 * 2000
    assert stats.state is CircuitState.CLOSED


def test_no_lock_is_held_while_the_protected_call_runs(clock: FakeClock) -> None:
    """A second thread's call completes while a first call is still inside the breaker."""
    breaker = CircuitBreaker(monotonic=clock)
    inside = threading.Event()
    release = threading.Event()

    @breaker
    def slow() -> None:
        inside.set()
        release.wait(5)

    first = threading.Thread(target=slow)
    first.start()
    assert inside.wait(5)
    second_done = threading.Event()
    second = threading.Thread(target=lambda: (breaker.call(lambda: None), second_done.set()))  # type: ignore[func-returns-value]
    second.start()
    finished_while_first_inside = second_done.wait(5)
    release.set()
    first.join()
    second.join()
    assert finished_while_first_inside
    assert breaker.stats().successes == 2


def test_threads_racing_on_a_recovering_breaker_admit_exactly_one_trial(
    clock: FakeClock,
) -> None:
    """When eight threads hit a half-open breaker at once, only one trial runs."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=5, monotonic=clock)
    trip(breaker, 1)
    clock.advance(5)
    barrier = threading.Barrier(8)
    release = threading.Event()
    admitted = []
    rejected = []

    @breaker
    def trial() -> None:
        admitted.append(1)
        release.wait(5)

    def run() -> None:
        barrier.wait()
        try:
            trial()
        except CircuitBreakerOpenError:
            rejected.append(1)
            if len(rejected) == 7:
                release.set()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(admitted), len(rejected)) == (1, 7)
    assert breaker.state is CircuitState.CLOSED


async def test_many_tasks_share_one_breaker(clock: FakeClock) -> None:
    """Five hundred concurrent tasks through one breaker keep exact counts and it opens once."""
    breaker = CircuitBreaker(failure_threshold=50, timeout=60, monotonic=clock)

    @breaker
    async def work(i: int) -> int:
        await asyncio.sleep(0)
        if i >= 400:
            raise Boom
        return i

    results = await asyncio.gather(*(work(i) for i in range(500)), return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 400
    assert sum(isinstance(r, Boom) for r in results) == 100
    stats = breaker.stats()
    assert stats.successes == 400
    assert stats.failures == 100
    assert stats.times_opened == 1
    assert stats.state is CircuitState.OPEN


def test_repr_names_the_breaker(clock: FakeClock) -> None:
    """repr shows the name and state."""
    assert repr(CircuitBreaker(name="x", monotonic=clock)) == "<CircuitBreaker 'x' state=closed>"


def test_open_error_pickles() -> None:
    """CircuitBreakerOpenError survives pickling with its attributes."""
    import pickle

    error = pickle.loads(pickle.dumps(CircuitBreakerOpenError("n", 1.5)))
    assert (error.name, error.retry_after) == ("n", 1.5)


def test_threads_through_every_transition_keep_counters_consistent() -> None:
    """Eight threads with random outcomes and a moving clock: every call is counted once."""
    import random

    now = [0.0]
    breaker = CircuitBreaker(
        failure_threshold=3, timeout=1.0, half_open_max_calls=2, monotonic=lambda: now[0]
    )
    tally = {"ok": 0, "fail": 0, "rejected": 0}
    violations: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def run(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        for _ in range(2000):
            failing = rng.random() < 0.4
            if rng.random() < 0.05:
                with lock:
                    now[0] += 0.5
            try:
                with breaker:
                    if failing:
                        raise Boom
            except Boom:
                outcome = "fail"
            except CircuitBreakerOpenError:
                outcome = "rejected"
            else:
                outcome = "ok"
            with lock:
                tally[outcome] += 1
            if not 0 <= breaker._trials <= 2:
                violations.append(breaker._trials)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert violations == []
    stats = breaker.stats()
    assert (stats.successes, stats.failures, stats.rejected) == (
        tally["ok"],
        tally["fail"],
        tally["rejected"],
    )
    assert stats.times_opened > 0
    assert tally["ok"] + tally["fail"] + tally["rejected"] == 16000


async def test_call_async_is_a_deprecated_alias_of_acall(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 1.0 name call_async still works and warns once, naming acall."""
    from maestro_resilience import _compat

    monkeypatch.setattr(_compat, "_WARNED", set())
    breaker = CircuitBreaker(monotonic=clock)

    async def value() -> int:
        return 7

    with pytest.warns(
        DeprecationWarning, match=r"call_async is deprecated.*use CircuitBreaker\.acall"
    ):
        assert await breaker.call_async(value) == 7
    assert await breaker.call_async(value) == 7  # the second call does not warn


async def test_acquire_async_is_a_deprecated_alias_of_aacquire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bulkhead and RateLimiter keep acquire_async as a deprecated alias of aacquire."""
    from maestro_resilience import Bulkhead, RateLimiter, _compat

    monkeypatch.setattr(_compat, "_WARNED", set())
    bulkhead = Bulkhead(max_concurrent=1)
    with pytest.warns(DeprecationWarning, match=r"use Bulkhead\.aacquire"):
        await bulkhead.acquire_async()
    bulkhead.release()
    limiter = RateLimiter(rate=100)
    with pytest.warns(DeprecationWarning, match=r"use RateLimiter\.aacquire"):
        await limiter.acquire_async()


def test_a_breaker_on_a_generator_counts_errors_raised_while_iterating(clock: FakeClock) -> None:
    """Errors raised during iteration of a decorated generator are breaker failures."""
    breaker = CircuitBreaker(failure_threshold=2, timeout=5, monotonic=clock)

    @breaker
    def rows(fail_at: int | None) -> Iterator[int]:
        for i in range(3):
            if i == fail_at:
                raise ConnectionError("stream broke")
            yield i

    assert inspect.isgeneratorfunction(rows)
    assert list(rows(None)) == [0, 1, 2]
    for _ in range(2):
        with pytest.raises(ConnectionError):
            list(rows(1))
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitBreakerOpenError):
        next(rows(None))
    assert breaker.stats().failures == 2


def test_a_generator_closed_early_is_not_a_failure(clock: FakeClock) -> None:
    """Stopping iteration early (close()) counts as a success, and send() passes through."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=5, monotonic=clock)

    @breaker
    def echo() -> Generator[int, int, None]:
        value = 0
        while True:
            value = yield value * 2

    gen = echo()
    assert next(gen) == 0
    assert gen.send(21) == 42
    gen.close()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats().successes == 1


async def test_a_breaker_on_an_async_generator_stays_an_async_generator(clock: FakeClock) -> None:
    """The decorated async generator is an async generator function; iteration errors count."""
    breaker = CircuitBreaker(failure_threshold=1, timeout=5, monotonic=clock)

    @breaker
    async def events(fail: bool) -> AsyncIterator[int]:
        yield 1
        if fail:
            raise ConnectionError("feed broke")
        yield 2

    assert inspect.isasyncgenfunction(events)
    assert [x async for x in events(False)] == [1, 2]
    with pytest.raises(ConnectionError):
        _ = [x async for x in events(True)]
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitBreakerOpenError):
        await events(False).__anext__()


async def test_async_generator_asend_and_athrow_pass_through(clock: FakeClock) -> None:
    """asend and athrow reach the wrapped async generator."""
    breaker = CircuitBreaker(failure_threshold=5, monotonic=clock)

    @breaker
    async def doubler() -> AsyncGenerator[int, int]:
        value = 0
        while True:
            try:
                value = yield value * 2
            except KeyError:
                value = -1

    gen = doubler()
    assert await gen.__anext__() == 0
    assert await gen.asend(4) == 8
    assert await gen.athrow(KeyError("k")) == -2
    await gen.aclose()
    assert breaker.stats().failures == 0


def test_a_slow_call_rate_opens_the_breaker(clock: FakeClock) -> None:
    """Calls slower than slow_call_duration_threshold count; their rate can open the breaker."""
    breaker = CircuitBreaker(
        slow_call_rate_threshold=50,
        slow_call_duration_threshold=timedelta(seconds=2),
        window_size=4,
        minimum_calls=4,
        monotonic=clock,
    )

    def slow() -> str:
        clock.advance(3)
        return "late but fine"

    fast = breaker(lambda: "quick")
    assert fast() == "quick"
    assert breaker.call(slow) == "late but fine"
    assert fast() == "quick"
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats().window_slow_calls == 1
    assert breaker(slow)() == "late but fine"  # 2 of 4 slow: 50%
    assert breaker.state is CircuitState.OPEN
    assert breaker.stats().slow_call_rate is None  # the window restarts when it opens


async def test_slow_async_calls_are_counted(clock: FakeClock) -> None:
    """An async call that takes the slow-call duration is counted as slow."""
    breaker = CircuitBreaker(
        slow_call_rate_threshold=100,
        slow_call_duration_threshold=1.0,
        window_size=10,
        minimum_calls=10,
        monotonic=clock,
    )

    @breaker
    async def slow() -> None:
        clock.advance(1.5)

    await slow()
    assert breaker.stats().window_slow_calls == 1
    assert breaker.stats().slow_call_rate == 100.0


def test_slow_call_options_go_together() -> None:
    """A slow-call rate without its duration (or the reverse) is a configuration error."""
    with pytest.raises(ConfigurationError, match="go together"):
        CircuitBreaker(slow_call_rate_threshold=50)
    with pytest.raises(ConfigurationError, match="slow_call_duration_threshold must be > 0"):
        CircuitBreaker(slow_call_rate_threshold=50, slow_call_duration_threshold=0)
