"""Sync @timeout: a SIGALRM deadline on the main thread, a bounded interrupted pool elsewhere.

pytest-timeout owns SIGALRM while its own limit is armed, so the main-thread tests switch
it off for themselves (``timeout(0)``): the signal path is what they test.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from maestro_resilience import ConfigurationError, Timeout, TimeoutError, timeout

main_thread_only = pytest.mark.timeout(0)
SCENARIOS = Path(__file__).with_name("interrupt_scenarios.py")


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
    thread.join(20)
    return errors


def _wait_for(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` for up to two seconds."""
    for _ in range(400):
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("condition not reached")


@main_thread_only
def test_main_thread_deadline_interrupts_a_sleep_and_runs_finally() -> None:
    """On the main thread a hung sleep is interrupted at the deadline; finally blocks run."""
    cleaned: list[str] = []
    policy = Timeout(0.05, name="hung")

    @policy
    def hung() -> None:
        try:
            time.sleep(30)
        finally:
            cleaned.append("finally")

    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        hung()
    assert time.monotonic() - started < 5
    assert info.value.name == "hung"
    assert cleaned == ["finally"]
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.Handlers.SIG_DFL)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert policy.stats().workers == 0  # no thread was started
    assert (policy.stats().calls, policy.stats().timeouts) == (1, 1)


@main_thread_only
def test_many_hung_calls_on_the_main_thread_leave_no_thread_behind() -> None:
    """Thirty calls to a hung function start no thread at all (they once left one each)."""
    before = threading.active_count()

    @timeout(seconds=0.005)
    def hung() -> None:
        while True:
            time.sleep(1)

    for _ in range(30):
        with pytest.raises(TimeoutError):
            hung()
    assert threading.active_count() == before


@main_thread_only
def test_main_thread_deadline_is_not_swallowed_by_except_exception() -> None:
    """The interruption is not an Exception: a broad except in the work cannot eat it."""

    @timeout(seconds=0.02)
    def stubborn() -> str:
        try:
            time.sleep(30)
        except Exception:
            return "swallowed"
        return "finished"

    with pytest.raises(TimeoutError):
        stubborn()


@main_thread_only
def test_main_thread_deadlines_nest() -> None:
    """The inner deadline fires as its own timeout; the outer one still fires afterwards."""
    inner = Timeout(0.02, name="inner")
    outer = Timeout(0.2, name="outer")

    @inner
    def short() -> None:
        time.sleep(30)

    @outer
    def long() -> None:
        with pytest.raises(TimeoutError) as info:
            short()
        assert info.value.name == "inner"
        time.sleep(30)

    with pytest.raises(TimeoutError) as info:
        long()
    assert info.value.name == "outer"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@main_thread_only
def test_fast_main_thread_calls_return_and_raise_as_usual() -> None:
    """Results and errors pass through the signal path unchanged; a timedelta is seconds."""
    policy = Timeout(timedelta(seconds=2))

    @policy
    def add(a: int, b: int) -> int:
        return a + b

    @policy
    def broken() -> None:
        raise ValueError("bad")

    assert policy.seconds == 2.0
    assert add(1, 2) == 3
    with pytest.raises(ValueError, match="bad"):
        broken()


@main_thread_only
def test_a_foreign_sigalrm_handler_is_left_alone() -> None:
    """When the application owns SIGALRM the call runs on a worker thread instead."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: seen.append(signum))
    try:
        policy = Timeout(2.0)
        assert policy(lambda: threading.current_thread().name)().startswith("maestro-timeout")
        assert signal.getsignal(signal.SIGALRM) is not previous
        assert policy.stats().workers == 1
    finally:
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    "scenario",
    [
        "stops_after_a_blocking_call",
        "late_error_is_logged_and_dropped",
        "pure_python_work_is_stopped",
        "traced_caller_keeps_running",
    ],
)
def test_worker_interruption(scenario: str) -> None:
    """The abandoned worker is stopped, in an interpreter with no tracer (see the script).

    Coverage's tracer changes the behaviour on 3.11 by design, so each scenario runs in a
    fresh interpreter without it; ``traced_caller_keeps_running`` sets a tracer itself.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE", "COVERAGE"))}
    proc = subprocess.run(
        [sys.executable, str(SCENARIOS), scenario],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_the_worker_pool_is_bounded() -> None:
    """Hung calls never hold more threads than max_workers; extra calls time out queued."""
    release = threading.Event()
    policy = Timeout(0.02, max_workers=2)

    @policy
    def hung() -> None:
        release.wait(30)

    before = threading.active_count()
    errors = _in_thread(hung, calls=6)
    assert [type(e) for e in errors] == [TimeoutError] * 6
    stats = policy.stats()
    assert stats.workers <= 2
    assert stats.max_workers == 2
    assert threading.active_count() <= before + 2
    assert stats.abandoned == 2
    release.set()
    _wait_for(lambda: policy.stats().abandoned == 0)
    assert policy.stats().timeouts == 6


def test_worker_results_and_context_come_back() -> None:
    """A call that ends in time on a worker returns its value; the worker is then reused."""
    policy = Timeout(2.0)
    names: list[str] = []
    wrapped = policy(lambda: names.append(threading.current_thread().name) or len(names))  # type: ignore[func-returns-value]
    assert _in_thread(wrapped, calls=3) == []
    assert len(set(names)) == 1
    assert policy.stats().calls == 3
    assert policy.stats().timeouts == 0


async def test_a_sync_timeout_on_an_event_loop_thread_is_refused() -> None:
    """Calling a sync @timeout from a coroutine is a clear error, not a blocked loop."""

    @timeout(seconds=1.0)
    def blocking() -> int:
        return 1

    with pytest.raises(ConfigurationError, match=r"event loop.*asyncio\.to_thread"):
        blocking()
    assert await asyncio.to_thread(blocking) == 1


def test_max_workers_is_checked() -> None:
    """max_workers must be a positive int, named in the error."""
    with pytest.raises(ConfigurationError, match="max_workers"):
        Timeout(1.0, max_workers=0)
