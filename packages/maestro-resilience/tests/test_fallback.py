"""Fallback: a value or a handler's answer replaces chosen exceptions."""

from __future__ import annotations

import asyncio

import pytest
from maestro_resilience import Event, Fallback


def test_value_replaces_a_matching_exception() -> None:
    """A call raising a handled exception returns the fallback value."""

    @Fallback([], on=ConnectionError)
    def fetch() -> list[int]:
        raise ConnectionError

    assert fetch() == []


def test_other_exceptions_propagate() -> None:
    """Exceptions outside 'on' are not replaced."""

    @Fallback(0, on=ConnectionError)
    def broken() -> int:
        raise KeyError

    with pytest.raises(KeyError):
        broken()


def test_handler_receives_the_exception() -> None:
    """A handler computes the answer from the exception."""

    @Fallback(handler=lambda exc: f"cached because {exc}")
    def fetch() -> str:
        raise TimeoutError("slow")

    assert fetch() == "cached because slow"


def test_predicate_selects_exceptions() -> None:
    """'on' may be a predicate."""
    policy = Fallback("x", on=lambda e: "soft" in str(e))

    @policy
    def soft() -> str:
        raise RuntimeError("soft failure")

    @policy
    def hard() -> str:
        raise RuntimeError("hard failure")

    assert soft() == "x"
    with pytest.raises(RuntimeError):
        hard()


def test_cancellation_and_exit_are_never_replaced() -> None:
    """KeyboardInterrupt passes through even with on=BaseException."""

    @Fallback(1, on=BaseException)
    def interrupted() -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()


def test_successful_results_pass_through_and_events_fire_on_fallback() -> None:
    """Successes are returned as they are; each fallback emits a 'fallback' event."""
    events: list[Event] = []
    policy = Fallback(-1, listeners=[events.append], name="price")
    assert policy(lambda: 5)() == 5
    assert policy(lambda: 1 / 0)() == -1
    assert [(e.kind, e.name, type(e.exception)) for e in events] == [
        ("fallback", "price", ZeroDivisionError)
    ]


async def test_async_functions_and_async_handlers() -> None:
    """Coroutines get the value, or an awaited async handler's answer."""

    async def cached(exc: BaseException) -> str:
        await asyncio.sleep(0)
        return "from cache"

    @Fallback(handler=cached)
    async def fetch() -> str:
        raise ConnectionError

    @Fallback("plain")
    async def fetch_plain() -> str:
        raise ConnectionError

    assert await fetch() == "from cache"
    assert await fetch_plain() == "plain"


async def test_async_cancellation_is_not_replaced() -> None:
    """A cancelled coroutine stays cancelled."""

    @Fallback("x", on=BaseException)
    async def cancelled() -> str:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await cancelled()


def test_needs_exactly_one_of_value_and_handler() -> None:
    """Giving both or neither is a TypeError."""
    with pytest.raises(TypeError, match="exactly one"):
        Fallback()
    with pytest.raises(TypeError, match="exactly one"):
        Fallback(1, handler=lambda e: 2)
    with pytest.raises(TypeError, match="handler"):
        Fallback(handler="nope")  # type: ignore[arg-type]
    assert "value=1" in repr(Fallback(1))
