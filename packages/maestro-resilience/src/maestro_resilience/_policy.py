"""Policy: the resilience policies stacked in the order that makes each one work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from ._breaker import CircuitBreaker
from ._bulkhead import Bulkhead
from ._errors import ConfigurationError
from ._fallback import Fallback
from ._ratelimit import RateLimiter
from ._retry import Retry
from ._timeout import Timeout

__all__ = ["Policy"]

P = ParamSpec("P")
R = TypeVar("R")


def _as_timeout(name: str, value: Timeout | float | timedelta | None) -> Timeout | None:
    if value is None or isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise ConfigurationError(
            f"{name} must be a Timeout, a number of seconds or None, got {value!r}"
        )
    try:
        return Timeout(value, name=name)
    except ConfigurationError as exc:
        # Name the Policy parameter the caller gave, not Timeout's own "seconds".
        raise ConfigurationError(str(exc).replace("seconds", name, 1)) from None


def _check(name: str, value: object, kind: type) -> Any:
    if value is not None and not isinstance(value, kind):
        raise ConfigurationError(f"{name} must be a {kind.__name__} or None, got {value!r}")
    return value


class Policy:
    """Compose policies outermost first: fallback, total timeout, retry, circuit breaker,
    rate limiter, bulkhead, attempt timeout.

    Why this order: the fallback sees every failure, including the final one; the total
    timeout bounds the whole retry sequence; each retry goes through the breaker, so an
    open breaker stops retries at once (retry never retries ``CircuitBreakerOpenError``) and
    every attempt counts towards opening it; the rate limiter and the bulkhead are spent
    per attempt and only when the breaker lets a call through; the attempt timeout sits
    innermost so that one slow attempt fails (and is retried) without holding a bulkhead
    slot or the whole budget. Every part is optional.

    For sync functions the timeouts stop the call as far as Python allows (see
    :class:`Timeout`); a call stuck in one blocking C call keeps running until it
    returns, so give the ``Retry`` a ``deadline`` no longer than ``timeout`` as well.
    """

    __slots__ = ("_stack",)

    def __init__(
        self,
        *,
        fallback: Fallback | None = None,
        timeout: Timeout | float | timedelta | None = None,
        retry: Retry | None = None,
        breaker: CircuitBreaker | None = None,
        rate_limiter: RateLimiter | None = None,
        bulkhead: Bulkhead | None = None,
        attempt_timeout: Timeout | float | timedelta | None = None,
    ) -> None:
        stack: list[Callable[[Callable[..., Any]], Callable[..., Any]] | None] = [
            _check("fallback", fallback, Fallback),
            _as_timeout("timeout", timeout),
            _check("retry", retry, Retry),
            _check("breaker", breaker, CircuitBreaker),
            _check("rate_limiter", rate_limiter, RateLimiter),
            _check("bulkhead", bulkhead, Bulkhead),
            _as_timeout("attempt_timeout", attempt_timeout),
        ]
        self._stack = tuple(p for p in stack if p is not None)

    @property
    def policies(self) -> tuple[Callable[[Callable[..., Any]], Callable[..., Any]], ...]:
        """The configured policies, outermost first."""
        return self._stack

    def __repr__(self) -> str:
        return f"<Policy {' -> '.join(repr(p) for p in self._stack)}>"

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a function, method or ``async def`` function with the whole stack."""
        if not callable(fn):
            raise ConfigurationError(f"Policy decorates callables, got {fn!r}")
        wrapped: Callable[..., Any] = fn
        for policy in reversed(self._stack):
            wrapped = policy(wrapped)
        return wrapped
