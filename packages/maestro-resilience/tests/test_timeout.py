"""Timeout: event-loop cancellation for coroutines; a deadline or a stopped worker for sync."""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import threading
import time
from collections.abc import Callable

import maestro_resilience
import pytest
from maestro_resilience import Event, Timeout, timeout


def _in_thread(fn: Callable[[], object], calls: int = 1) -> list[BaseException]:
    """Call fn ``calls`` times on a fresh non-main thread; return what each call raised."""
    errors: list[BaseException] = []

    def run() -> None:
        for _ in range(calls):
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return errors


def _wait_for(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` for up to two seconds."""
    for _ in range(400):
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("condition not reached")


def test_timeout_error_is_the_builtin_timeout_error() -> None:
    """maestro_resilience.TimeoutError subclasses builtins.TimeoutError and the family base."""
    assert issubclass(maestro_resilience.TimeoutError, builtins.TimeoutError)
    assert issubclass(maestro_resilience.TimeoutError, maestro_resilience.MaestroResilienceError)


async def test_async_timeout_cancels_the_coroutine_and_raises() -> None:
    """A slow coroutine is cancelled at its await and the caller gets TimeoutError."""
    stopped = asyncio.Event()

    @timeout(seconds=0.02)
    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            stopped.set()

    with pytest.raises(maestro_resilience.TimeoutError) as info:
        await slow()
    assert stopped.is_set()
    assert info.value.seconds == 0.02
    assert "0.02s" in str(info.value)
    assert isinstance(info.value.__cause__, asyncio.CancelledError)
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


async def test_async_timeout_returns_fast_results() -> None:
    """A coroutine that finishes in time returns its value and leaves no pending cancel."""

    @timeout(seconds=1.0)
    async def fast(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    assert await fast(21) == 42
    await asyncio.sleep(0)
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


async def test_outside_cancellation_stays_a_cancellation() -> None:
    """Cancelling the caller's task is not turned into a TimeoutError."""
    started = asyncio.Event()

    @timeout(seconds=5.0)
    async def slow() -> None:
        started.set()
        await asyncio.sleep(10)

    task = asyncio.ensure_future(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_timeouts_nest_and_the_inner_one_fires_first() -> None:
    """An inner shorter timeout raises its own error inside an outer longer one."""
    inner = Timeout(0.01, name="inner")
    outer = Timeout(5.0, name="outer")

    @outer
    async def wrapper() -> str:
        try:
            await inner(asyncio.sleep)(10)
        except maestro_resilience.TimeoutError as exc:
            return exc.name
        return "no timeout"

    assert await wrapper() == "inner"


async def test_exceptions_propagate_unchanged_in_async() -> None:
    """Errors raised by the coroutine pass through the timeout untouched."""

    @timeout(seconds=1.0)
    async def broken() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        await broken()


async def test_swallowed_cancellation_leaves_the_task_clean() -> None:
    """If the coroutine swallows our cancellation, the task is uncancelled again."""

    @timeout(seconds=0.01)
    async def stubborn() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "swallowed"
        return "finished"

    assert await stubborn() == "swallowed"
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


def test_sync_timeout_returns_values_and_reraises_errors() -> None:
    """In-time results come back; in-time exceptions are re-raised as they were."""

    @timeout(seconds=2.0)
    def add(a: int, b: int) -> int:
        return a + b

    @timeout(seconds=2.0)
    def broken() -> None:
        raise ValueError("bad input")

    assert add(1, b=2) == 3
    with pytest.raises(ValueError, match="bad input"):
        broken()


def test_sync_timeout_copies_context_variables() -> None:
    """The worker thread sees the caller's context variables."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("request-42")

    @timeout(seconds=2.0)
    def read() -> str:
        return var.get()

    assert read() == "request-42"


def test_timeout_events_are_emitted() -> None:
    """A timeout emits a 'timeout' event with the limit in seconds."""
    events: list[Event] = []
    release = threading.Event()

    @Timeout(0.02, listeners=[events.append])
    def slow() -> None:
        release.wait(2)

    with pytest.raises(TimeoutError):
        slow()
    release.set()
    assert [(e.kind, e.seconds) for e in events] == [("timeout", 0.02)]


def test_methods_keep_binding() -> None:
    """Decorated methods receive self."""

    class Service:
        value = 5

        @timeout(seconds=2.0)
        def get(self) -> int:
            return self.value

    assert Service().get() == 5


def test_bare_decorator_use_gets_a_helpful_error() -> None:
    """Using @timeout without parentheses says how to write it."""
    with pytest.raises(TypeError, match=r"@timeout\(seconds=5.0\)"):

        @timeout  # type: ignore[arg-type]
        def f() -> None:
            pass


def test_repr_and_properties() -> None:
    """repr and properties describe the policy."""
    policy = Timeout(2.5, name="t")
    assert (policy.seconds, policy.name) == (2.5, "t")
    assert repr(policy) == "<Timeout 't' seconds=2.5>"
