"""Retry with exponential backoff, jitter, a deadline, hooks and a shared budget."""

from __future__ import annotations

import functools
import inspect
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import CancelledError as FutureCancelledError
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar, cast

from ._budget import RetryBudget
from ._compat import is_async_callable
from ._errors import CircuitBreakerOpenError, ConfigurationError
from ._events import Event, Listener, check_listeners, emit
from ._testing import TESTING
from ._validate import (
    MAX_WAIT,
    callable_or_none,
    exception_matcher,
    name_of,
    number,
    optional_number,
    positive_int,
    resolve_monotonic,
)

__all__ = ["Attempt", "Jitter", "Retry", "RetryState", "retry"]

P = ParamSpec("P")
R = TypeVar("R")

Jitter = Literal["none", "full", "equal", "decorrelated"]
_JITTERS = ("none", "full", "equal", "decorrelated")


@dataclass(frozen=True, slots=True)
class RetryState:
    """What ``on_retry`` and ``delay_hook`` are told about the attempt that just failed.

    ``attempt`` is that attempt's number (1 for the first call); exactly one of
    ``exception`` (it raised) and ``result`` (its result matched ``retry_if_result``) is
    meaningful; ``delay`` is the wait before the next attempt as computed from the backoff
    settings; ``elapsed`` the seconds since the first attempt started.
    """

    name: str
    attempt: int
    exception: BaseException | None
    result: Any
    delay: float
    elapsed: float


class Attempt:
    """One attempt of a retried block: ``for attempt in Retry(...): with attempt: ...``.

    The ``with`` block's exception (an ``Exception``) is kept for the retry policy to judge
    instead of propagating; ``number`` is 1 for the first attempt.
    """

    __slots__ = ("error", "number")

    def __init__(self, number: int) -> None:
        self.number = number
        self.error: BaseException | None = None

    def __repr__(self) -> str:
        return f"<Attempt {self.number}>"

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False  # success, or cancellation / interpreter exit: propagate
        self.error = exc
        return True


def _never_retried(exc: BaseException) -> bool:
    # Cancellation, interpreter exits and an open breaker mean "stop", whatever retry_on says.
    return not isinstance(exc, Exception) or isinstance(
        exc, CircuitBreakerOpenError | FutureCancelledError
    )


class Retry:
    """Call again after a failure, waiting longer each time; re-raise the last failure.

    Attempt ``n`` (1-based) that fails is followed by a wait of
    ``delay * backoff ** (n - 1)`` seconds, capped at ``max_delay``, then spread by
    ``jitter``: ``"none"`` (the default: exact waits, so ``delay=1.0, backoff=2.0`` waits 1 s
    then 2 s), ``"full"`` (uniform in [0, wait]), ``"equal"`` (wait/2 plus uniform in
    [0, wait/2]) or ``"decorrelated"`` (uniform in [delay, 3 x previous wait], capped).
    """

    __slots__ = (
        "_backoff",
        "_budget",
        "_clock",
        "_deadline",
        "_delay",
        "_delay_hook",
        "_jitter",
        "_listeners",
        "_max_attempts",
        "_max_delay",
        "_name",
        "_on_retry",
        "_random",
        "_result_pred",
        "_retry_pred",
        "_retry_types",
        "_sleep",
    )

    def __init__(
        self,
        max_attempts: int = 3,
        delay: float = 1.0,
        backoff: float = 2.0,
        *,
        max_delay: float | None = None,
        jitter: Jitter = "none",
        retry_on: type[BaseException]
        | tuple[type[BaseException], ...]
        | Callable[[BaseException], bool] = Exception,
        retry_if_result: Callable[[Any], bool] | None = None,
        deadline: float | None = None,
        on_retry: Callable[[RetryState], object] | None = None,  # may be async for async fns
        delay_hook: Callable[[RetryState], float | None] | None = None,
        budget: RetryBudget | None = None,
        name: str | None = None,
        listeners: Iterable[Listener] = (),
        sleep: Callable[[float], object] | None = None,
        monotonic: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if callable(max_attempts):
            raise ConfigurationError(
                "retry takes parameters, not the function: write @retry() or "
                "@retry(max_attempts=3, delay=1.0)"
            )
        self._max_attempts = positive_int("max_attempts", max_attempts)
        self._delay = number("delay", delay, minimum=0, maximum=MAX_WAIT)
        self._backoff = number("backoff", backoff, minimum=1)
        self._max_delay = optional_number("max_delay", max_delay, minimum=0, maximum=MAX_WAIT)
        if jitter not in _JITTERS:
            raise ConfigurationError(f"jitter must be one of {_JITTERS}, got {jitter!r}")
        self._jitter = jitter
        self._retry_types, self._retry_pred = exception_matcher("retry_on", retry_on)
        callable_or_none("retry_if_result", retry_if_result)
        self._result_pred = retry_if_result
        self._deadline = optional_number("deadline", deadline, minimum=0, inclusive=False)
        callable_or_none("on_retry", on_retry)
        self._on_retry = on_retry
        callable_or_none("delay_hook", delay_hook)
        self._delay_hook = delay_hook
        if budget is not None and not isinstance(budget, RetryBudget):
            raise ConfigurationError(f"budget must be a RetryBudget or None, got {budget!r}")
        self._budget = budget
        self._name = name_of(name, "retry")
        self._listeners = check_listeners(listeners)
        callable_or_none("sleep", sleep)
        self._sleep = sleep
        clock = resolve_monotonic("Retry", monotonic, clock)
        self._clock = clock
        self._random = rng if rng is not None else random.Random()

    @property
    def name(self) -> str:
        """The name shown in events, logs and the note on a re-raised exception."""
        return self._name

    @property
    def max_attempts(self) -> int:
        """How many times the function is called at most."""
        return self._max_attempts

    def __repr__(self) -> str:
        return (
            f"<Retry {self._name!r} max_attempts={self._max_attempts} delay={self._delay:g} "
            f"backoff={self._backoff:g} jitter={self._jitter!r}>"
        )

    # ---- decisions ------------------------------------------------------------------

    def _retryable(self, exc: BaseException) -> bool:
        if _never_retried(exc):
            return False
        if self._retry_pred is not None:
            try:
                return bool(self._retry_pred(exc))
            except Exception as error:
                # The predicate's own bug, with the failure it was judging as its context.
                if error.__context__ is None:
                    error.__context__ = exc
                raise
        return isinstance(exc, self._retry_types)

    def compute_delay(self, attempt: int, previous: float | None = None) -> float:
        """The wait after failed attempt ``attempt`` (before any delay_hook or deadline)."""
        try:
            wait = self._delay * self._backoff ** (attempt - 1)
        except OverflowError:
            wait = math.inf
        cap = self._max_delay if self._max_delay is not None else math.inf
        wait = min(wait, cap)
        jitter = self._jitter
        if jitter == "none" or wait == 0 or math.isinf(wait):
            return wait
        if jitter == "full":
            return self._random.uniform(0, wait)
        if jitter == "equal":
            return wait / 2 + self._random.uniform(0, wait / 2)
        prev = self._delay if previous is None else previous
        return min(cap, self._random.uniform(self._delay, max(self._delay, prev * 3)))

    def _plan(
        self,
        attempt: int,
        exc: BaseException | None,
        result: Any,
        start: float,
        previous: float | None,
    ) -> tuple[float | None, str, RetryState | None]:
        """Return (delay, "", state) to retry, or (None, reason, None) to give up."""
        limit = self._max_attempts
        if TESTING.enabled and TESTING.attempts is not None:
            limit = min(limit, TESTING.attempts)
        if attempt >= limit:
            return None, f"{attempt} attempts, the maximum", None
        wait = self.compute_delay(attempt, previous)
        now = self._clock()
        state = RetryState(self._name, attempt, exc, result, wait, now - start)
        if self._delay_hook is not None:
            hinted = self._delay_hook(state)
            if hinted is not None:
                wait = number(
                    "the delay returned by delay_hook", hinted, minimum=0, maximum=MAX_WAIT
                )
                state = RetryState(self._name, attempt, exc, result, wait, now - start)
        if wait > MAX_WAIT:
            return None, "the backoff delay grew past what can be slept; set max_delay", None
        if self._deadline is not None and now + wait - start > self._deadline:
            reason = f"the next attempt would start after the {self._deadline:g}s deadline"
            return None, reason, None
        if self._budget is not None and not self._budget.try_spend():
            return None, f"the retry budget {self._budget.name!r} is exhausted", None
        emit(
            self._listeners,
            Event("retry", "retry", self._name, attempt=attempt, delay=wait, exception=exc),
        )
        return wait, "", state

    def _give_up(self, attempt: int, exc: BaseException | None, reason: str) -> None:
        emit(self._listeners, Event("give_up", "retry", self._name, attempt=attempt, exception=exc))
        if exc is not None:
            note = (
                f"maestro-resilience: retry {self._name!r} gave up after {attempt} "
                f"attempt(s): {reason}"
            )
            # The same exception object can pass through this give-up more than once
            # (an outer retry re-running the decorated call, a re-raised cached error).
            if note not in getattr(exc, "__notes__", ()):
                exc.add_note(note)

    def _attempt_event(self, attempt: int) -> None:
        emit(self._listeners, Event("attempt", "retry", self._name, attempt=attempt))

    # ---- sync ---------------------------------------------------------------------

    def _retry_sync(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        start: float,
        exc: BaseException | None,
        result: Any,
    ) -> Any:
        attempt = 1
        previous: float | None = None
        sleep = self._sleep if self._sleep is not None else time.sleep
        while True:
            if exc is not None and not self._retryable(exc):
                raise exc
            wait, reason, state = self._plan(attempt, exc, result, start, previous)
            if wait is None:
                self._give_up(attempt, exc, reason)
                if exc is not None:
                    raise exc
                return result
            if self._on_retry is not None:
                self._on_retry(cast(RetryState, state))
            previous = wait
            if wait and not TESTING.enabled:
                sleep(wait)
            attempt += 1
            if self._listeners:
                self._attempt_event(attempt)
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                exc = error
                continue
            exc = None
            if self._result_pred is not None and self._result_pred(result):
                continue
            if self._budget is not None:
                self._budget.record_success(retried=True)
            return result

    # ---- async --------------------------------------------------------------------

    async def _retry_async(
        self,
        fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        start: float,
        exc: BaseException | None,
        result: Any,
    ) -> Any:
        import asyncio

        attempt = 1
        previous: float | None = None
        while True:
            if exc is not None and not self._retryable(exc):
                raise exc
            wait, reason, state = self._plan(attempt, exc, result, start, previous)
            if wait is None:
                self._give_up(attempt, exc, reason)
                if exc is not None:
                    raise exc
                return result
            if self._on_retry is not None:
                hooked = self._on_retry(cast(RetryState, state))
                if inspect.isawaitable(hooked):
                    await hooked
            previous = wait
            if TESTING.enabled:
                pass  # test mode: no waiting
            elif self._sleep is not None:
                slept = self._sleep(wait)
                if inspect.isawaitable(slept):
                    await slept
            else:
                await asyncio.sleep(wait)
            attempt += 1
            if self._listeners:
                self._attempt_event(attempt)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as error:
                exc = error
                continue
            exc = None
            if self._result_pred is not None and self._result_pred(result):
                continue
            if self._budget is not None:
                self._budget.record_success(retried=True)
            return result

    # ---- a block instead of a function ----------------------------------------------

    def _after_attempt(
        self, attempt: Attempt, start: float, previous: float | None
    ) -> tuple[float | None, RetryState | None]:
        """(None, None): the block succeeded; (wait, state): retry; raises to give up."""
        exc = attempt.error
        if exc is None:
            if self._budget is not None:
                self._budget.record_success(retried=attempt.number > 1)
            return None, None
        if not self._retryable(exc):
            raise exc
        wait, reason, state = self._plan(attempt.number, exc, None, start, previous)
        if wait is None:
            self._give_up(attempt.number, exc, reason)
            raise exc
        return wait, state

    def __iter__(self) -> Iterator[Attempt]:
        """Retry a block of sync code: ``for attempt in policy: with attempt: ...``.

        The loop ends after the first attempt whose block did not raise; when the policy
        gives up, the last exception is raised from the ``for`` statement, with its note.
        """
        if self._on_retry is not None and is_async_callable(self._on_retry):
            raise ConfigurationError(
                f"on_retry {self._on_retry!r} is async: iterate with 'async for' instead"
            )
        start = self._clock()
        previous: float | None = None
        sleep = self._sleep if self._sleep is not None else time.sleep
        number = 1
        while True:
            if self._listeners:
                self._attempt_event(number)
            attempt = Attempt(number)
            yield attempt
            wait, state = self._after_attempt(attempt, start, previous)
            if wait is None:
                return
            attempt.error = None  # the policy keeps no reference to a handled failure
            if self._on_retry is not None:
                self._on_retry(cast(RetryState, state))
            previous = wait
            if wait and not TESTING.enabled:
                sleep(wait)
            number += 1

    async def __aiter__(self) -> AsyncIterator[Attempt]:
        """Retry a block of async code: ``async for attempt in policy: with attempt: ...``."""
        import asyncio

        start = self._clock()
        previous: float | None = None
        number = 1
        while True:
            if self._listeners:
                self._attempt_event(number)
            attempt = Attempt(number)
            yield attempt
            wait, state = self._after_attempt(attempt, start, previous)
            if wait is None:
                return
            attempt.error = None
            if self._on_retry is not None:
                hooked = self._on_retry(cast(RetryState, state))
                if inspect.isawaitable(hooked):
                    await hooked
            previous = wait
            if TESTING.enabled or not wait:
                pass
            elif self._sleep is not None:
                slept = self._sleep(wait)
                if inspect.isawaitable(slept):
                    await slept
            else:
                await asyncio.sleep(wait)
            number += 1

    # ---- decorating -----------------------------------------------------------------

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a function, method or ``async def`` function with this retry policy."""
        if not callable(fn):
            raise ConfigurationError(f"retry decorates callables, got {fn!r}")
        clock = self._clock
        result_pred = self._result_pred
        budget = self._budget
        if (
            self._on_retry is not None
            and is_async_callable(self._on_retry)
            and not is_async_callable(fn)
        ):
            raise ConfigurationError(
                f"on_retry {self._on_retry!r} is async but {fn!r} is a sync function, "
                "which cannot await it; give a sync on_retry"
            )
        retry_sync = self._retry_sync
        retry_async = self._retry_async
        attempt_event = self._attempt_event

        if is_async_callable(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                start = clock()
                if self._listeners:
                    attempt_event(1)
                # The retry loop runs outside the except block so that later failures
                # do not get this one chained as their __context__.
                failure: BaseException | None = None
                result: Any = None
                try:
                    result = await afn(*args, **kwargs)
                except BaseException as exc:
                    failure = exc
                else:
                    if result_pred is None or not result_pred(result):
                        if budget is not None:
                            budget.record_success()
                        return result
                return await retry_async(afn, args, kwargs, start=start, exc=failure, result=result)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            start = clock()
            if self._listeners:
                attempt_event(1)
            failure: BaseException | None = None
            result: Any = None
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                failure = exc
            else:
                if result_pred is None or not result_pred(result):
                    if budget is not None:
                        budget.record_success()
                    return cast(R, result)
            return cast(R, retry_sync(fn, args, kwargs, start=start, exc=failure, result=result))

        return wrapper


retry = Retry
