"""Resilience patterns for Maestro services: breaker, retry, timeout, bulkhead, rate limiter,
fallback and a policy pipeline, for sync and async code alike."""

from ._breaker import CircuitBreaker, CircuitBreakerStats, CircuitState
from ._budget import RetryBudget
from ._bulkhead import Bulkhead
from ._errors import (
    BulkheadFullError,
    CircuitBreakerOpenError,
    ConfigurationError,
    MaestroResilienceError,
    MissingExtraError,
    RateLimitExceededError,
    TimeoutError,
)
from ._events import Event, EventKind, Listener
from ._fallback import Fallback
from ._policy import Policy
from ._ratelimit import RateLimiter
from ._retry import Attempt, Jitter, Retry, RetryState, retry
from ._store import RedisBreakerStore
from ._testing import is_testing, set_testing
from ._timeout import Timeout, TimeoutStats, timeout
from ._version import __version__

__all__ = [
    "Attempt",
    "Bulkhead",
    "BulkheadFullError",
    "CircuitBreaker",
    "CircuitBreakerOpenError",
    "CircuitBreakerStats",
    "CircuitState",
    "ConfigurationError",
    "Event",
    "EventKind",
    "Fallback",
    "Jitter",
    "Listener",
    "MaestroResilienceError",
    "MissingExtraError",
    "Policy",
    "RateLimitExceededError",
    "RateLimiter",
    "RedisBreakerStore",
    "Retry",
    "RetryBudget",
    "RetryState",
    "Timeout",
    "TimeoutError",
    "TimeoutStats",
    "__version__",
    "is_testing",
    "retry",
    "set_testing",
    "timeout",
]
