"""The error family: hierarchy, builtin bases, attributes and messages."""

from __future__ import annotations

import builtins
import pickle

import pytest
from maestro_resilience import (
    BulkheadFullError,
    CircuitBreakerOpenError,
    MaestroResilienceError,
    RateLimitExceededError,
    TimeoutError,
)


@pytest.mark.parametrize(
    "error",
    [
        CircuitBreakerOpenError("b", 1.0),
        TimeoutError("t", 2.0),
        BulkheadFullError("k", "full"),
        RateLimitExceededError("r", 0.5),
    ],
)
def test_every_error_belongs_to_the_family_and_pickles(error: MaestroResilienceError) -> None:
    """Each error subclasses MaestroResilienceError and survives pickling with its message."""
    assert isinstance(error, MaestroResilienceError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.name == error.name  # type: ignore[attr-defined]


def test_timeout_error_is_caught_by_builtin_handlers() -> None:
    """'except TimeoutError' (the builtin) catches maestro_resilience.TimeoutError."""
    with pytest.raises(builtins.TimeoutError):
        raise TimeoutError("job", 5.0)


def test_messages_say_what_happened() -> None:
    """Messages name the policy and the numbers that matter."""
    assert str(TimeoutError("job", 5.0)) == "'job' did not finish within 5s"
    assert (
        str(BulkheadFullError("db", "queue full")) == "bulkhead 'db' rejected the call: queue full"
    )
    assert "0.500s" in str(RateLimitExceededError("api", 0.5))
    assert str(CircuitBreakerOpenError("svc", 2.0)) == (
        "circuit breaker 'svc' is open: the next trial call is allowed in 2.000s"
    )
