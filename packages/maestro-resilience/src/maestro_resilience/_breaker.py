"""The circuit breaker: closed, open and half-open, without a lock held across the call."""

from __future__ import annotations

import enum
import functools
import inspect
import itertools
import logging
import math
import threading
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
)
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar, cast

from ._compat import is_async_callable, warn_deprecated
from ._errors import CircuitBreakerOpenError, ConfigurationError
from ._events import Event, Listener, check_listeners, emit, logger
from ._store import RedisBreakerStore
from ._validate import (
    exception_matcher,
    name_of,
    number,
    optional_number,
    positive_int,
    resolve_monotonic,
)
from ._window import CountWindow, TimeWindow, Window

__all__ = ["CircuitBreaker", "CircuitBreakerStats", "CircuitState"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class CircuitState(enum.StrEnum):
    """The three states of a breaker; the values are what ``str(state)`` and logs show."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


_CLOSED = CircuitState.CLOSED
_OPEN = CircuitState.OPEN
_HALF_OPEN = CircuitState.HALF_OPEN


@dataclass(frozen=True, slots=True)
class CircuitBreakerStats:
    """A consistent snapshot of a breaker's state and counters since creation (or reset)."""

    state: CircuitState
    successes: int
    failures: int
    rejected: int
    ignored: int
    consecutive_failures: int
    window_calls: int
    window_failures: int
    times_opened: int
    window_slow_calls: int = 0

    @property
    def slow_call_rate(self) -> float | None:
        """Slow calls per hundred calls in the sliding window, or None without a window call."""
        if not self.window_calls:
            return None
        return 100.0 * self.window_slow_calls / self.window_calls

    @property
    def failure_rate(self) -> float | None:
        """Failures per hundred calls in the sliding window, or None without a window call."""
        if not self.window_calls:
            return None
        return 100.0 * self.window_failures / self.window_calls


def _counter_value(counter: itertools.count[int]) -> int:
    # itertools.count advances atomically under the GIL, which keeps the success path free
    # of locks; its repr ("count(12)") is the only public way to read it without advancing.
    return int(repr(counter)[6:-1])


class CircuitBreaker:
    """Stop calling a dependency that keeps failing, then probe it before trusting it again.

    Closed: calls go through; ``failure_threshold`` consecutive failures (or, in rate mode,
    a failure rate of ``failure_rate_threshold`` percent over the sliding window once it holds
    ``minimum_calls``) open the breaker. Open: calls are rejected at once with
    :class:`CircuitBreakerOpenError`. After ``timeout`` seconds the breaker is half-open: it
    admits up to ``half_open_max_calls`` trial calls at once and rejects the rest, and judges
    all of them (``max(half_open_max_calls, success_threshold)`` outcomes): the breaker
    closes only when every one succeeded; one failed trial reopens it (in rate mode: a
    failure rate over the round at or above ``failure_rate_threshold``). A trial that never
    reports frees its slot after another ``timeout`` seconds.

    Only exceptions matched by ``expected_exception`` (a type, a tuple of types or a
    predicate) count as failures; other exceptions propagate and count neither way.
    """

    __slots__ = (
        "__weakref__",
        "_clock",
        "_cm_stack",
        "_consecutive",
        "_failure_pred",
        "_failure_threshold",
        "_failure_types",
        "_failures",
        "_forced",
        "_generation",
        "_half_open_max_calls",
        "_ignored",
        "_last_trial_at",
        "_listeners",
        "_lock",
        "_minimum_calls",
        "_name",
        "_next_sync",
        "_open_until",
        "_rate_threshold",
        "_rejected",
        "_rejected_fast",
        "_slow_after",
        "_slow_threshold",
        "_state",
        "_store",
        "_success_counter",
        "_success_threshold",
        "_timeout",
        "_times_opened",
        "_trial_failures",
        "_trial_successes",
        "_trial_target",
        "_trials",
        "_window",
    )

    def __init__(
        self,
        failure_threshold: int | None = None,
        timeout: float | timedelta = 60,
        expected_exception: type[BaseException]
        | tuple[type[BaseException], ...]
        | Callable[[BaseException], bool] = Exception,
        *,
        name: str | None = None,
        half_open_max_calls: int = 1,
        success_threshold: int = 1,
        failure_rate_threshold: float | None = None,
        slow_call_rate_threshold: float | None = None,
        slow_call_duration_threshold: float | timedelta | None = None,
        window_type: Literal["count", "time"] | None = None,
        window_size: int | None = None,
        minimum_calls: int | None = None,
        monotonic: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
        listeners: Iterable[Listener] = (),
        store: RedisBreakerStore | None = None,
    ) -> None:
        if store is not None:
            if not isinstance(store, RedisBreakerStore):
                raise ConfigurationError(f"store must be a RedisBreakerStore, got {store!r}")
            if name is None:
                raise ConfigurationError(
                    "a breaker with a shared store needs a name: replicas share the state of "
                    "the breaker with the same name (CircuitBreaker(name='payments', store=...))"
                )
            if failure_rate_threshold is not None or slow_call_rate_threshold is not None:
                raise ConfigurationError(
                    "a shared store keeps consecutive failures only; leave out "
                    "failure_rate_threshold and slow_call_rate_threshold"
                )
        self._store = store
        self._next_sync = 0.0
        if (slow_call_rate_threshold is None) != (slow_call_duration_threshold is None):
            raise ConfigurationError(
                "slow_call_rate_threshold and slow_call_duration_threshold go together: give "
                "both (a percentage and the seconds from which a call counts as slow) or neither"
            )
        if slow_call_rate_threshold is not None and failure_rate_threshold is None:
            failure_rate_threshold = 50  # window mode, with Resilience4j's default rate
        rate_mode = failure_rate_threshold is not None
        if rate_mode and failure_threshold is not None:
            raise ConfigurationError(
                "failure_threshold (consecutive failures) is not used when "
                "failure_rate_threshold is set; give one of the two"
            )
        if not rate_mode:
            given = [
                name
                for name, value in (
                    ("window_type", window_type),
                    ("window_size", window_size),
                    ("minimum_calls", minimum_calls),
                )
                if value is not None
            ]
            if given:
                raise ConfigurationError(
                    f"{', '.join(given)} only apply in failure-rate mode; set "
                    "failure_rate_threshold=... (a percentage) or leave them out"
                )
        self._failure_threshold = positive_int(
            "failure_threshold", 5 if failure_threshold is None else failure_threshold
        )
        if isinstance(timeout, timedelta):
            timeout = timeout.total_seconds()
        self._timeout = number("timeout", timeout, minimum=0, inclusive=False)
        self._failure_types, self._failure_pred = exception_matcher(
            "expected_exception", expected_exception
        )
        self._name = name_of(name, "circuit-breaker")
        self._half_open_max_calls = positive_int("half_open_max_calls", half_open_max_calls)
        self._success_threshold = positive_int("success_threshold", success_threshold)
        clock = resolve_monotonic("CircuitBreaker", monotonic, clock)
        self._clock = clock
        self._listeners = check_listeners(listeners)
        self._rate_threshold = optional_number(
            "failure_rate_threshold",
            failure_rate_threshold,
            minimum=0,
            inclusive=False,
            maximum=100,
        )
        self._slow_threshold = optional_number(
            "slow_call_rate_threshold",
            slow_call_rate_threshold,
            minimum=0,
            inclusive=False,
            maximum=100,
        )
        if isinstance(slow_call_duration_threshold, timedelta):
            slow_call_duration_threshold = slow_call_duration_threshold.total_seconds()
        self._slow_after = optional_number(
            "slow_call_duration_threshold", slow_call_duration_threshold, minimum=0, inclusive=False
        )
        window_size = positive_int("window_size", 100 if window_size is None else window_size)
        self._minimum_calls = positive_int(
            "minimum_calls", 100 if minimum_calls is None else minimum_calls
        )
        window_type = "count" if window_type is None else window_type
        self._window: Window | None = None
        if self._rate_threshold is not None:
            if window_type == "count":
                self._window = CountWindow(window_size)
                if self._minimum_calls > window_size:
                    raise ConfigurationError(
                        f"minimum_calls must be <= window_size ({window_size}) for a count "
                        f"window, got {minimum_calls!r}"
                    )
            elif window_type == "time":
                self._window = TimeWindow(window_size, clock)
            else:
                raise ConfigurationError(
                    f"window_type must be 'count' or 'time', got {window_type!r}"
                )
        self._lock = threading.Lock()
        self._state = _CLOSED
        self._generation = 0
        self._open_until = 0.0
        self._forced = False
        self._consecutive = 0
        self._trials = 0
        self._trial_successes = self._trial_failures = 0
        # A half-open round judges this many trial outcomes (Resilience4j: all permitted
        # calls), not just the first success.
        self._trial_target = max(self._half_open_max_calls, self._success_threshold)
        self._last_trial_at = 0.0
        self._success_counter = itertools.count()
        self._failures = self._rejected = self._ignored = self._times_opened = 0
        self._rejected_fast = itertools.count()  # the lock-free rejections of an open breaker
        self._cm_stack: ContextVar[tuple[int, ...]] = ContextVar(
            f"maestro_resilience_breaker_{id(self):x}", default=()
        )

    # ---- public reading -------------------------------------------------------------

    @property
    def name(self) -> str:
        """The name shown in errors, events and logs."""
        return self._name

    @property
    def state(self) -> CircuitState:
        """The current state; an open breaker whose timeout has passed reads as half-open."""
        if self._state is _OPEN and not self._forced and self._clock() >= self._open_until:
            with self._lock:
                events = self._maybe_half_open(self._clock())
            self._emit_all(events)
        return self._state

    @property
    def listeners(self) -> tuple[Listener, ...]:
        """The callables that receive this breaker's events."""
        return self._listeners

    def add_listener(self, listener: Listener) -> None:
        """Register ``listener`` to receive every :class:`Event` of this breaker."""
        self._listeners = (*self._listeners, *check_listeners((listener,)))

    def remove_listener(self, listener: Listener) -> None:
        """Stop sending events to ``listener`` (a no-op if it was not registered)."""
        self._listeners = tuple(x for x in self._listeners if x != listener)

    def stats(self) -> CircuitBreakerStats:
        """A snapshot of the state and the counters."""
        state = self.state
        with self._lock:
            calls, failures, slows = self._window.snapshot() if self._window else (0, 0, 0)
            return CircuitBreakerStats(
                state=state,
                successes=_counter_value(self._success_counter),
                failures=self._failures,
                rejected=self._rejected + _counter_value(self._rejected_fast),
                ignored=self._ignored,
                consecutive_failures=self._consecutive,
                window_calls=calls,
                window_failures=failures,
                times_opened=self._times_opened,
                window_slow_calls=slows,
            )

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self._name!r} state={self._state.value}>"

    # ---- manual control -------------------------------------------------------------

    def reset(self) -> None:
        """Close the breaker and clear its failure history (counters of calls are kept)."""
        with self._lock:
            self._forced = False
            self._consecutive = 0
            if self._window is not None:
                self._window.clear()
            events = self._transition(_CLOSED, self._clock())
        self._emit_all(events)

    def force_open(self) -> None:
        """Open the breaker until :meth:`reset` is called; every call is rejected meanwhile."""
        with self._lock:
            self._forced = True
            events = self._transition(_OPEN, self._clock())
            self._open_until = math.inf
        self._emit_all(events)

    # ---- the protocol: acquire, then report ---------------------------------------

    def _sync_remote(self) -> None:
        """Adopt an opening another replica wrote (at most every sync_interval seconds)."""
        store = cast(RedisBreakerStore, self._store)
        now = self._clock()
        if now < self._next_sync:
            return
        self._next_sync = now + store.sync_interval
        if self._state is not _CLOSED:
            return
        remaining, failures = store.read(self._name)
        if remaining is None:
            if failures != self._consecutive:
                with self._lock:
                    if self._state is _CLOSED:
                        self._consecutive = failures  # the replicas' streak, for reset
            return
        with self._lock:
            events = [] if self._state is not _CLOSED else self._transition(_OPEN, now)
            if events:
                self._open_until = now + remaining
        for event in events:
            emit(self._listeners, event)  # adopted: not written back

    def _acquire(self) -> int:
        """Admit one call or raise; return the generation the call's outcome belongs to."""
        if self._store is not None:
            self._sync_remote()
        generation = self._generation
        if self._state is _CLOSED:
            return generation
        return self._acquire_slow()

    def _acquire_slow(self) -> int:
        if self._state is _OPEN:
            # The hot path while a dependency is down: no lock, no event unless someone
            # listens, the error's message formatted only if read.
            now = self._clock()
            open_until = self._open_until
            if now < open_until:
                next(self._rejected_fast)
                error = CircuitBreakerOpenError(self._name, open_until - now)
                if self._listeners or logger.isEnabledFor(logging.INFO):
                    emit(
                        self._listeners,
                        Event("rejected", "circuit_breaker", self._name, exception=error),
                    )
                raise error
        events: list[Event] = []
        with self._lock:
            now = self._clock()
            if self._state is _OPEN:
                events = self._maybe_half_open(now)
            state = self._state
            if state is _CLOSED:
                return self._generation
            if state is _HALF_OPEN:
                judged = self._trial_successes + self._trial_failures
                full = (
                    self._trials >= self._half_open_max_calls
                    or self._trials + judged >= self._trial_target
                )
                if full and self._trials and now - self._last_trial_at >= self._timeout:
                    # Trials admitted a whole timeout ago never reported: presume them lost
                    # and start a fresh half-open round so late reports are ignored.
                    self._generation += 1
                    self._trials = self._trial_successes = self._trial_failures = 0
                    judged = 0
                admitted = (
                    self._trials < self._half_open_max_calls
                    and self._trials + judged < self._trial_target
                )
                if admitted:
                    self._trials += 1
                    self._last_trial_at = now
                retry_after = max(0.0, self._last_trial_at + self._timeout - now)
            else:
                admitted = False
                retry_after = max(0.0, self._open_until - now)
            generation = self._generation
            if not admitted:
                self._rejected += 1
        self._emit_all(events)
        if admitted:
            return generation
        error = CircuitBreakerOpenError(self._name, retry_after)
        emit(self._listeners, Event("rejected", "circuit_breaker", self._name, exception=error))
        raise error

    def _is_failure(self, exc: BaseException) -> bool:
        if self._failure_pred is not None:
            return bool(self._failure_pred(exc))
        return isinstance(exc, self._failure_types)

    def _on_success(self, generation: int, slow: bool = False) -> None:
        next(self._success_counter)
        if (
            self._state is _CLOSED
            and self._window is None
            and not self._consecutive
            and generation == self._generation
        ):
            return
        events: list[Event] = []
        had_failures = False
        with self._lock:
            if generation != self._generation:
                return
            state = self._state
            if state is _CLOSED:
                had_failures = self._consecutive > 0
                self._consecutive = 0
                if self._window is not None:
                    events = self._check_rate(self._window.record(False, slow))
            elif state is _HALF_OPEN:
                self._trials -= 1
                self._trial_successes += 1
                events = self._judge_trials()
        if had_failures and self._store is not None:
            self._store.reset_failures(self._name)
        self._emit_all(events)

    def _on_error(self, exc: BaseException, generation: int, slow: bool = False) -> None:
        failed = self._is_failure(exc)
        events: list[Event] = []
        shared: int | None = None
        if failed and self._store is not None and self._state is _CLOSED:
            shared = self._store.add_failure(self._name)  # Redis I/O, outside the lock
        with self._lock:
            if not failed:
                self._ignored += 1
                if generation == self._generation and self._state is _HALF_OPEN:
                    self._trials -= 1  # free the trial slot: this outcome says nothing
                return
            self._failures += 1
            if generation != self._generation:
                return
            state = self._state
            if state is _CLOSED:
                self._consecutive += 1
                if shared is not None:
                    self._consecutive = max(self._consecutive, shared)
                if self._window is not None:
                    events = self._check_rate(self._window.record(True, slow))
                elif self._consecutive >= self._failure_threshold:
                    events = self._transition(_OPEN, self._clock())
            elif state is _HALF_OPEN:
                if self._rate_threshold is None:
                    events = self._transition(_OPEN, self._clock())  # one failed trial
                else:
                    self._trials -= 1
                    self._trial_failures += 1
                    events = self._judge_trials()
        if self._listeners or logger.isEnabledFor(logging.DEBUG):
            emit(self._listeners, Event("failure", "circuit_breaker", self._name, exception=exc))
        self._emit_all(events)

    # ---- transitions (called with the lock held) ----------------------------------

    def _check_rate(self, window: tuple[int, int, int]) -> list[Event]:
        calls, failures, slows = window
        if calls < self._minimum_calls:
            return []
        threshold = cast(float, self._rate_threshold)
        slow_threshold = self._slow_threshold
        if 100.0 * failures / calls >= threshold or (
            slow_threshold is not None and 100.0 * slows / calls >= slow_threshold
        ):
            return self._transition(_OPEN, self._clock())
        return []

    def _judge_trials(self) -> list[Event]:
        """Close or reopen once the half-open round's outcomes decide it."""
        target = self._trial_target
        failures = self._trial_failures
        if self._rate_threshold is not None and 100.0 * failures / target >= self._rate_threshold:
            return self._transition(_OPEN, self._clock())  # whatever the rest does
        if self._trial_successes + failures >= target:
            return self._transition(_CLOSED, self._clock())
        return []

    def _maybe_half_open(self, now: float) -> list[Event]:
        if self._state is _OPEN and not self._forced and now >= self._open_until:
            return self._transition(_HALF_OPEN, now)
        return []

    def _transition(self, new: CircuitState, now: float) -> list[Event]:
        old = self._state
        self._generation += 1
        self._state = new
        self._trials = self._trial_successes = self._trial_failures = 0
        if new is _OPEN:
            self._open_until = now + self._timeout
            self._times_opened += 1
        if new is not _HALF_OPEN:
            self._consecutive = 0
            if self._window is not None:
                self._window.clear()
        if old is new:
            return []
        return [
            Event(
                "state_change",
                "circuit_breaker",
                self._name,
                old_state=old.value,
                new_state=new.value,
            )
        ]

    def _emit_all(self, events: list[Event]) -> None:
        for event in events:
            if self._store is not None and event.kind == "state_change" and not self._forced:
                # Called outside the lock: tell the other replicas.
                if event.new_state == _OPEN.value:
                    self._store.opened(self._name, self._timeout)
                elif event.new_state == _CLOSED.value:
                    self._store.closed(self._name)
            emit(self._listeners, event)

    # ---- the ways to use it -------------------------------------------------------

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a function, method or ``async def`` function with this breaker.

        A generator or async generator function stays one: the breaker admits the call
        when iteration starts and counts an error raised while iterating as a failure
        (as pybreaker and circuitbreaker do); closing it early is a success.
        """
        if not callable(fn):
            raise ConfigurationError(f"CircuitBreaker decorates callables, got {fn!r}")
        acquire_slow = self._acquire_slow
        on_success = self._on_success
        on_error = self._on_error
        count_success = self._success_counter.__next__
        rate_mode = self._window is not None

        if inspect.isgeneratorfunction(fn):
            return cast(Callable[P, R], self._wrap_generator(fn))
        if inspect.isasyncgenfunction(fn):
            return cast(Callable[P, R], self._wrap_async_generator(fn))
        if is_async_callable(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                if self._store is not None:
                    self._sync_remote()
                generation = self._generation
                if self._state is not _CLOSED:
                    generation = acquire_slow()
                if self._slow_after is not None:
                    started = self._clock()
                    try:
                        result = await afn(*args, **kwargs)
                    except BaseException as exc:
                        on_error(exc, generation, self._clock() - started >= self._slow_after)
                        raise
                    on_success(generation, self._clock() - started >= self._slow_after)
                    return result
                try:
                    result = await afn(*args, **kwargs)
                except BaseException as exc:
                    on_error(exc, generation)
                    raise
                if rate_mode or self._consecutive or self._state is not _CLOSED:
                    on_success(generation)
                else:
                    count_success()
                return result

            return cast(Callable[P, R], async_wrapper)

        clock = self._clock
        slow_after = self._slow_after
        timed_call = self._timed_call
        rejected = self._rejected_fast.__next__
        open_error = CircuitBreakerOpenError
        name = self._name
        enabled = logger.isEnabledFor

        store = self._store
        sync_remote = self._sync_remote

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if store is not None:
                sync_remote()
            generation = self._generation
            state = self._state
            if state is not _CLOSED:
                if state is _OPEN and not self._listeners and not enabled(logging.INFO):
                    # Inlined hot path of an open breaker (see _acquire_slow).
                    now = clock()
                    if now < self._open_until:
                        rejected()
                        raise open_error(name, self._open_until - now)
                generation = acquire_slow()
            if slow_after is not None:
                return cast(R, timed_call(fn, args, kwargs, generation))
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                on_error(exc, generation)
                raise
            # Inlined fast path of _on_success: closed, no failure streak, no window.
            if rate_mode or self._consecutive or self._state is not _CLOSED:
                on_success(generation)
            else:
                count_success()
            return result

        return wrapper

    def _timed_call(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        generation: int,
    ) -> Any:
        """Run one admitted call, counting it as slow when it takes the slow-call duration."""
        slow_after = cast(float, self._slow_after)
        started = self._clock()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._on_error(exc, generation, self._clock() - started >= slow_after)
            raise
        self._on_success(generation, self._clock() - started >= slow_after)
        return result

    def _wrap_generator(self, fn: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Any]:
        """A generator function whose iteration (not its creation) goes through the breaker."""

        @functools.wraps(fn)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            generation = self._acquire()
            try:
                result = yield from fn(*args, **kwargs)
            except GeneratorExit:
                self._on_success(generation)  # the consumer stopped early: no failure seen
                raise
            except BaseException as exc:
                self._on_error(exc, generation)
                raise
            self._on_success(generation)
            return result

        return generator_wrapper

    def _wrap_async_generator(
        self, fn: Callable[..., AsyncGenerator[Any, Any]]
    ) -> Callable[..., AsyncGenerator[Any, Any]]:
        """An async generator function whose iteration goes through the breaker."""

        @functools.wraps(fn)
        async def async_generator_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
            generation = self._acquire()
            inner = fn(*args, **kwargs)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                try:
                    if to_throw is not None:
                        thrown, to_throw = to_throw, None
                        value = await inner.athrow(thrown)
                    else:
                        value = await inner.asend(to_send)
                except StopAsyncIteration:
                    self._on_success(generation)
                    return
                except BaseException as exc:
                    self._on_error(exc, generation)
                    raise
                try:
                    to_send = yield value
                except GeneratorExit:
                    await inner.aclose()
                    self._on_success(generation)  # closed early by the consumer
                    raise
                except BaseException as exc:
                    to_throw = exc

        return async_generator_wrapper

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``fn(*args, **kwargs)`` through the breaker (sync functions)."""
        generation = self._acquire()
        if self._slow_after is not None:
            return cast(T, self._timed_call(fn, args, kwargs, generation))
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._on_error(exc, generation)
            raise
        self._on_success(generation)
        return result

    def call_async(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, T]:
        """Deprecated name of :meth:`acall` (warns once)."""
        warn_deprecated("CircuitBreaker.call_async", "CircuitBreaker.acall")
        return self.acall(fn, *args, **kwargs)

    async def acall(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Await ``fn(*args, **kwargs)`` through the breaker (async functions)."""
        generation = self._acquire()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._on_error(exc, generation)
            raise
        self._on_success(generation)
        return result

    def __enter__(self) -> CircuitBreaker:
        generation = self._acquire()
        self._cm_stack.set((*self._cm_stack.get(), generation))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        stack = self._cm_stack.get()
        generation = stack[-1] if stack else -1
        self._cm_stack.set(stack[:-1])
        if exc is None:
            self._on_success(generation)
        else:
            self._on_error(exc, generation)
        return False

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        return self.__exit__(exc_type, exc, tb)
