"""Events reach listeners and the logger 'maestro.resilience'; listener bugs are contained."""

from __future__ import annotations

import logging

import pytest
from maestro_resilience import CircuitBreaker, Event


def test_state_changes_are_logged_as_warnings(caplog: pytest.LogCaptureFixture) -> None:
    """A breaker opening logs a WARNING on maestro.resilience with the event attached."""
    caplog.set_level(logging.DEBUG, logger="maestro.resilience")
    breaker = CircuitBreaker(failure_threshold=1, name="search")
    with pytest.raises(ValueError), breaker:
        raise ValueError
    records = [r for r in caplog.records if r.name == "maestro.resilience"]
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "circuit_breaker 'search': state_change closed -> open"
    ]
    event = warnings[0].resilience_event  # type: ignore[attr-defined]
    assert isinstance(event, Event)
    assert (event.old_state, event.new_state) == ("closed", "open")
    assert any(r.levelno == logging.DEBUG and "failure" in r.getMessage() for r in records)


def test_a_failing_listener_is_logged_and_does_not_break_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception in a listener is logged; the breaker and other listeners carry on."""
    seen: list[str] = []

    def bad(event: Event) -> None:
        raise RuntimeError("listener bug")

    breaker = CircuitBreaker(failure_threshold=1, listeners=[bad, lambda e: seen.append(e.kind)])
    with pytest.raises(ValueError), breaker:
        raise ValueError
    assert seen == ["failure", "state_change"]
    assert any("listener" in r.getMessage() and r.exc_info for r in caplog.records)


def test_describe_includes_the_useful_fields() -> None:
    """Event.describe() renders attempt, delay, seconds and the error."""
    text = Event(
        "retry", "retry", "api", attempt=2, delay=1.5, exception=ValueError("v"), seconds=3
    ).describe()
    assert text == "retry 'api': retry attempt=2 delay=1.500s seconds=3 error=ValueError: v"
