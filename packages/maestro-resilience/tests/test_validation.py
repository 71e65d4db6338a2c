"""Bad parameters fail when the policy is built, naming the parameter and the accepted range."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from maestro_resilience import (
    Bulkhead,
    CircuitBreaker,
    ConfigurationError,
    Fallback,
    MaestroResilienceError,
    RateLimiter,
    Retry,
    RetryBudget,
    Timeout,
    retry,
    timeout,
)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        # The six cases the issue names.
        (
            lambda: CircuitBreaker(failure_threshold=0),
            ValueError,
            "failure_threshold must be an int >= 1, got 0",
        ),
        (lambda: retry(delay=-1), ValueError, "delay must be >= 0, got -1"),
        (lambda: retry(backoff=0.5), ValueError, "backoff must be >= 1, got 0.5"),
        (lambda: timeout(seconds=0), ValueError, "seconds must be > 0, got 0"),
        (lambda: retry(max_attempts=0), ValueError, "max_attempts must be an int >= 1, got 0"),
        (
            lambda: CircuitBreaker(expected_exception="x"),  # type: ignore[arg-type]
            TypeError,
            "expected_exception must be an exception class",
        ),
        # Breaker.
        (
            lambda: CircuitBreaker(failure_threshold=1.5),  # type: ignore[arg-type]
            TypeError,
            "failure_threshold must be an int",
        ),
        (
            lambda: CircuitBreaker(failure_threshold=True),
            TypeError,
            "failure_threshold must be an int",
        ),
        (lambda: CircuitBreaker(timeout=0), ValueError, "timeout must be > 0"),
        (lambda: CircuitBreaker(timeout=float("nan")), ValueError, "timeout must be > 0"),
        (lambda: CircuitBreaker(timeout="60"), TypeError, "timeout must be a number"),  # type: ignore[arg-type]
        (
            lambda: CircuitBreaker(expected_exception=(ValueError, "x")),  # type: ignore[arg-type]
            TypeError,
            "exception classes",
        ),
        (lambda: CircuitBreaker(expected_exception=()), ValueError, "empty tuple"),
        (lambda: CircuitBreaker(expected_exception=int), TypeError, "expected_exception"),  # type: ignore[arg-type]
        (lambda: CircuitBreaker(half_open_max_calls=0), ValueError, "half_open_max_calls"),
        (lambda: CircuitBreaker(success_threshold=0), ValueError, "success_threshold"),
        (
            lambda: CircuitBreaker(failure_rate_threshold=0),
            ValueError,
            "failure_rate_threshold must be > 0 and <= 100",
        ),
        (lambda: CircuitBreaker(failure_rate_threshold=101), ValueError, "failure_rate_threshold"),
        (
            lambda: CircuitBreaker(failure_rate_threshold=50, window_type="sliding"),  # type: ignore[arg-type]
            ValueError,
            "window_type",
        ),
        (
            lambda: CircuitBreaker(failure_rate_threshold=50, window_size=10, minimum_calls=11),
            ValueError,
            "minimum_calls must be <= window_size",
        ),
        (lambda: CircuitBreaker(window_size=0), ValueError, "window_size"),
        (lambda: CircuitBreaker(name=""), TypeError, "name"),
        (lambda: CircuitBreaker(monotonic=5), TypeError, "monotonic"),  # type: ignore[arg-type]
        (lambda: CircuitBreaker(listeners=[1]), TypeError, "listeners"),  # type: ignore[list-item]
        # Retry.
        (lambda: retry(max_attempts="3"), TypeError, "max_attempts must be an int"),  # type: ignore[arg-type]
        (lambda: retry(max_delay=-1), ValueError, "max_delay"),
        (lambda: retry(jitter="random"), ValueError, "jitter must be one of"),  # type: ignore[arg-type]
        (lambda: retry(retry_on="x"), TypeError, "retry_on"),  # type: ignore[arg-type]
        (lambda: retry(deadline=0), ValueError, "deadline must be > 0"),
        (lambda: retry(on_retry=1), TypeError, "on_retry"),  # type: ignore[arg-type]
        (lambda: retry(delay_hook=1), TypeError, "delay_hook"),  # type: ignore[arg-type]
        (lambda: retry(retry_if_result=1), TypeError, "retry_if_result"),  # type: ignore[arg-type]
        (lambda: retry(budget=object()), TypeError, "budget"),  # type: ignore[arg-type]
        (lambda: Retry(sleep=1), TypeError, "sleep"),  # type: ignore[arg-type]
        # Timeout.
        (lambda: timeout(seconds=-1), ValueError, "seconds must be > 0"),
        (lambda: Timeout(seconds="5"), TypeError, "seconds must be a number"),  # type: ignore[arg-type]
        (lambda: timeout(seconds=float("inf")), ValueError, "seconds must be > 0 and <= "),
        (lambda: retry(delay=float("inf")), ValueError, "delay must be >= 0 and <= "),
        (lambda: retry(max_delay=1e12), ValueError, "max_delay must be >= 0 and <= "),
        # Bulkhead.
        (lambda: Bulkhead(max_concurrent=0), ValueError, "max_concurrent must be an int >= 1"),
        (lambda: Bulkhead(max_waiting=-1), ValueError, "max_waiting must be an int >= 0"),
        (lambda: Bulkhead(wait_timeout=-1), ValueError, "wait_timeout must be >= 0"),
        (lambda: Bulkhead(wait_timeout=float("inf")), ValueError, "wait_timeout must be >= 0"),
        # RateLimiter.
        (lambda: RateLimiter(rate=0), ValueError, "rate must be > 0"),
        (lambda: RateLimiter(rate=1, burst=0.5), ValueError, "burst must be >= 1"),
        (lambda: RateLimiter(rate=1, max_wait=-1), ValueError, "max_wait"),
        # RetryBudget.
        (lambda: RetryBudget(capacity=0), ValueError, "capacity must be > 0"),
        (
            lambda: RetryBudget(capacity=5, retry_cost=10),
            ValueError,
            "retry_cost must be <= capacity",
        ),
        (lambda: RetryBudget(success_refund=-1), ValueError, "success_refund"),
    ],
)
def test_bad_parameter_is_rejected_at_construction(
    build: Any, error: type[Exception], message: str
) -> None:
    """Each invalid parameter raises the named error type with a message naming it."""
    with pytest.raises(error) as info:
        build()
    assert message in str(info.value)


@pytest.mark.parametrize("policy", [CircuitBreaker(), Retry(), Timeout(), Bulkhead()])
def test_decorating_a_non_callable_is_a_type_error(policy: Any) -> None:
    """Decorating something that is not callable raises TypeError."""
    with pytest.raises(TypeError, match="callables"):
        policy(42)


def test_options_without_effect_in_the_chosen_mode_are_errors() -> None:
    """Rate-window options without rate mode, and wait_timeout without a queue, are refused."""
    with pytest.raises(ConfigurationError, match=r"window_size only apply in failure-rate mode"):
        CircuitBreaker(window_size=10)
    with pytest.raises(ConfigurationError, match=r"window_type, minimum_calls only apply"):
        CircuitBreaker(window_type="time", minimum_calls=5)
    with pytest.raises(ConfigurationError, match=r"wait_timeout has no effect with max_waiting=0"):
        Bulkhead(max_concurrent=2, wait_timeout=1.0)
    Bulkhead(max_concurrent=2, max_waiting=1, wait_timeout=timedelta(seconds=1))


def test_a_single_listener_instead_of_a_list_gets_a_clear_error() -> None:
    """listeners=print says to wrap it in a list."""
    with pytest.raises(ConfigurationError, match=r"write listeners=\[print\]"):
        CircuitBreaker(listeners=print)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="iterable of callables"):
        Retry(listeners=3)  # type: ignore[arg-type]


def test_async_hooks_on_sync_functions_are_refused_at_decoration() -> None:
    """An async on_retry or fallback handler cannot be awaited by a sync function."""

    async def hook(state: object) -> None:
        return None

    def sync_fn() -> int:
        return 1

    with pytest.raises(TypeError, match=r"on_retry .* is async"):
        Retry(on_retry=hook)(sync_fn)
    with pytest.raises(TypeError, match=r"handler .* is async"):
        Fallback(handler=hook)(sync_fn)


def test_configuration_error_is_in_the_family_and_the_old_builtins() -> None:
    """ConfigurationError is a MaestroResilienceError, a ValueError and a TypeError."""
    assert issubclass(ConfigurationError, MaestroResilienceError)
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(ConfigurationError, TypeError)


def test_the_library_logger_has_a_null_handler() -> None:
    """maestro.resilience carries a NullHandler, as a library's logger should."""
    handlers = logging.getLogger("maestro.resilience").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_clock_is_the_deprecated_name_of_monotonic(monkeypatch: pytest.MonkeyPatch) -> None:
    """clock= (1.0) still works with one DeprecationWarning; giving both is an error."""
    from maestro_resilience import _compat

    monkeypatch.setattr(_compat, "_WARNED", set())
    now = [5.0]
    with pytest.warns(DeprecationWarning, match=r"use CircuitBreaker\(monotonic=...\)"):
        breaker = CircuitBreaker(clock=lambda: now[0])
    assert breaker.state.value == "closed"
    with pytest.raises(ConfigurationError, match="not both"):
        Retry(monotonic=lambda: 1.0, clock=lambda: 1.0)


def test_a_shared_store_clock_must_be_aware() -> None:
    """A naive datetime from the store's clock= is refused, saying to attach a timezone."""
    from datetime import datetime

    from maestro_resilience import RedisBreakerStore

    store = RedisBreakerStore(client=object(), clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError, match="attach a timezone"):
        store._wall()
