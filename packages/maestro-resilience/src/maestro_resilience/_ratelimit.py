"""A token-bucket rate limiter with blocking, non-blocking and async acquisition."""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, ParamSpec, TypeVar, cast

from ._compat import is_async_callable, warn_deprecated
from ._errors import ConfigurationError, RateLimitExceededError
from ._events import Event, Listener, check_listeners, emit
from ._validate import callable_or_none, name_of, number, optional_number, resolve_monotonic

__all__ = ["RateLimiter"]

P = ParamSpec("P")
R = TypeVar("R")

_DEFAULT = object()


class RateLimiter:
    """Allow ``rate`` calls per second on average, with bursts of up to ``burst`` calls.

    The bucket holds up to ``burst`` tokens (default: ``rate`` rounded up, at least 1) and
    refills continuously at ``rate`` per second. A call takes one token; when none is left
    it reserves the next one and waits for it, first come first served, unless that wait
    would exceed ``max_wait`` seconds (None: wait as long as needed; 0: never wait), in which
    case it is rejected at once with :class:`RateLimitExceededError` without waiting.
    """

    __slots__ = (
        "_burst",
        "_clock",
        "_last",
        "_listeners",
        "_lock",
        "_max_wait",
        "_name",
        "_rate",
        "_rejected",
        "_sleep",
        "_tokens",
    )

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        max_wait: float | None = None,
        name: str | None = None,
        listeners: Iterable[Listener] = (),
        monotonic: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._rate = number("rate", rate, minimum=0, inclusive=False)
        default_burst = max(1.0, float(-(-self._rate // 1)))
        burst_value = optional_number("burst", burst, minimum=1)
        self._burst = default_burst if burst_value is None else burst_value
        self._max_wait = optional_number("max_wait", max_wait, minimum=0)
        self._name = name_of(name, "rate-limiter")
        self._listeners = check_listeners(listeners)
        clock = resolve_monotonic("RateLimiter", monotonic, clock)
        self._clock = clock
        callable_or_none("sleep", sleep)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self._burst
        self._last = clock()
        self._rejected = 0

    @property
    def name(self) -> str:
        """The name shown in errors, events and logs."""
        return self._name

    @property
    def available(self) -> float:
        """Tokens in the bucket now (negative while callers wait on reservations)."""
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    @property
    def rejected(self) -> int:
        """Calls rejected since creation."""
        return self._rejected

    def __repr__(self) -> str:
        return f"<RateLimiter {self._name!r} rate={self._rate:g}/s burst={self._burst:g}>"

    def _refill(self, now: float) -> None:
        elapsed = now - self._last
        if elapsed > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._last = now

    def _reserve(self, tokens: float, max_wait: float | None) -> float:
        """Take ``tokens`` now or reserve them; return the wait, or raise if it is too long."""
        number("tokens", tokens, minimum=0, inclusive=False)
        if tokens > self._burst:
            raise ConfigurationError(f"tokens must be <= burst ({self._burst:g}), got {tokens!r}")
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= tokens:
                self._tokens -= tokens
                return 0.0
            wait = (tokens - self._tokens) / self._rate
            if max_wait is None or wait <= max_wait:
                self._tokens -= tokens
                return wait
            self._rejected += 1
        error = RateLimitExceededError(self._name, wait)
        emit(self._listeners, Event("rejected", "rate_limiter", self._name, exception=error))
        raise error

    def _refund(self, tokens: float) -> None:
        with self._lock:
            self._tokens = min(self._burst, self._tokens + tokens)

    def _resolve_wait(self, timeout: object) -> float | None:
        if timeout is _DEFAULT:
            return self._max_wait
        return optional_number("timeout", timeout, minimum=0)

    def try_acquire(self, tokens: float = 1) -> bool:
        """Take ``tokens`` if they are there now; never waits."""
        try:
            self._reserve(tokens, 0.0)
        except RateLimitExceededError:
            return False
        return True

    def acquire(self, tokens: float = 1, timeout: float | object | None = _DEFAULT) -> None:
        """Take ``tokens``, sleeping until they are available.

        Waits at most ``timeout`` seconds (default: the limiter's ``max_wait``); raises
        :class:`RateLimitExceededError` at once if the wait would be longer.
        """
        wait = self._reserve(tokens, self._resolve_wait(timeout))
        if wait:
            (self._sleep or time.sleep)(wait)

    async def aacquire(self, tokens: float = 1, timeout: float | object | None = _DEFAULT) -> None:
        """Like :meth:`acquire`, but waits with ``asyncio.sleep``; cancellation refunds."""
        import asyncio

        wait = self._reserve(tokens, self._resolve_wait(timeout))
        if not wait:
            return
        try:
            if self._sleep is not None:
                slept = self._sleep(wait)
                if inspect.isawaitable(slept):
                    await slept
            else:
                await asyncio.sleep(wait)
        except asyncio.CancelledError:
            self._refund(tokens)
            raise

    def acquire_async(
        self, tokens: float = 1, timeout: float | object | None = _DEFAULT
    ) -> Coroutine[Any, Any, None]:
        """Deprecated name of :meth:`aacquire` (warns once)."""
        warn_deprecated("RateLimiter.acquire_async", "RateLimiter.aacquire")
        return self.aacquire(tokens, timeout)

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a function, method or ``async def`` function: one token per call."""
        if not callable(fn):
            raise ConfigurationError(f"RateLimiter decorates callables, got {fn!r}")
        if is_async_callable(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                await self.aacquire()
                return await afn(*args, **kwargs)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            self.acquire()
            return fn(*args, **kwargs)

        return wrapper
