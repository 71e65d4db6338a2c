"""The exceptions of maestro-resilience: one family, rooted in MaestroResilienceError.

Hierarchy::

    Exception
     +-- MaestroResilienceError
          +-- ConfigurationError           also ValueError and TypeError: a bad argument
          +-- CircuitBreakerOpenError      the breaker rejected the call without running it
          +-- TimeoutError                 also a builtins.TimeoutError: the deadline passed
          +-- BulkheadFullError            no free slot and no room (or time) to wait for one
          +-- RateLimitExceededError       no token within the allowed wait
          +-- MissingExtraError            also ImportError: an optional extra is not installed

Parameter mistakes are reported with :class:`ConfigurationError` when a policy is built (or a
function decorated), never later; it is also a ``ValueError`` and a ``TypeError``, the
builtins that reported them before.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

__all__ = [
    "BulkheadFullError",
    "CircuitBreakerOpenError",
    "ConfigurationError",
    "MaestroResilienceError",
    "MissingExtraError",
    "RateLimitExceededError",
    "TimeoutError",
]


class MaestroResilienceError(Exception):
    """Base class of every error raised by a maestro-resilience policy."""


class ConfigurationError(MaestroResilienceError, ValueError, TypeError):
    """A policy was given a bad argument: the message names it and says what it accepts."""


class CircuitBreakerOpenError(MaestroResilienceError):
    """The circuit breaker is open (or its half-open trials are taken): the call was not made.

    ``name`` is the breaker's name; ``retry_after`` the seconds until the breaker admits a
    trial call (``math.inf`` while forced open).
    """

    # Raised on every call while a dependency is down: no Python __init__ (the arguments
    # live in ``args``), and the message is formatted only when someone reads it.
    if TYPE_CHECKING:  # BaseException's own __init__ runs (in C): this is the signature

        def __init__(self, name: str, retry_after: float) -> None: ...

    @property
    def name(self) -> str:
        """The breaker's name."""
        return str(self.args[0])

    @property
    def retry_after(self) -> float:
        """Seconds until the breaker admits a trial call (``math.inf`` while forced open)."""
        return float(self.args[1])

    def __str__(self) -> str:
        if self.retry_after == float("inf"):
            when = "it was forced open; call reset() to close it"
        else:
            when = f"the next trial call is allowed in {self.retry_after:.3f}s"
        return f"circuit breaker {self.name!r} is open: {when}"

    def __reduce__(self) -> tuple[type[CircuitBreakerOpenError], tuple[str, float]]:
        return (type(self), (self.name, self.retry_after))


class TimeoutError(MaestroResilienceError, builtins.TimeoutError):
    """The protected call did not finish within ``seconds``; ``name`` names the policy."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        super().__init__(f"{name!r} did not finish within {seconds:g}s")

    def __reduce__(self) -> tuple[type[TimeoutError], tuple[str, float]]:
        return (type(self), (self.name, self.seconds))


class BulkheadFullError(MaestroResilienceError):
    """The bulkhead had no free slot and the call could not wait for one.

    ``name`` names the bulkhead; ``reason`` says why: the wait queue was full, or the
    wait timed out.
    """

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"bulkhead {name!r} rejected the call: {reason}")

    def __reduce__(self) -> tuple[type[BulkheadFullError], tuple[str, str]]:
        return (type(self), (self.name, self.reason))


class RateLimitExceededError(MaestroResilienceError):
    """No token became available within the allowed wait; ``retry_after`` is the wait needed."""

    def __init__(self, name: str, retry_after: float) -> None:
        self.name = name
        self.retry_after = retry_after
        super().__init__(
            f"rate limiter {name!r} has no token: the next one is available in "
            f"{retry_after:.3f}s, more than the allowed wait"
        )

    def __reduce__(self) -> tuple[type[RateLimitExceededError], tuple[str, float]]:
        return (type(self), (self.name, self.retry_after))


class MissingExtraError(MaestroResilienceError, ImportError):
    """A feature needs an optional dependency: ``MissingExtraError(feature, extra, module)``."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        self.install = f"pip install 'maestro-resilience[{extra}]'"
        super().__init__(f"{feature} needs the {extra} extra: {self.install}", name=module)
