"""Worker-interruption scenarios, each run in a fresh interpreter by ``test_timeout_sync.py``.

An asynchronous exception aimed at a thread blocked in a C call stalls every traced thread
on CPython 3.11 (see ``_interrupt_is_safe``), so the pool does not interrupt there while a
tracer such as coverage runs. These scenarios pin the interruption itself, so they run
without one; ``traced_caller_keeps_running`` pins the behaviour with one.

Usage: ``python interrupt_scenarios.py <scenario>``; exit status 0 means it held.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

import maestro_resilience
from maestro_resilience import Timeout


def _in_thread(fn: Callable[[], object], calls: int = 1) -> list[BaseException]:
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


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def stops_after_a_blocking_call() -> None:
    """A worker blocked in a C call runs until it returns, then stops before its next line."""
    finished = threading.Event()
    release = threading.Event()
    policy = Timeout(0.05, name="report")

    @policy
    def slow() -> str:
        release.wait(30)  # one blocking C call: Python cannot interrupt it
        finished.set()
        return "late"

    errors = _in_thread(slow)
    assert [type(e) for e in errors] == [maestro_resilience.TimeoutError], errors
    assert policy.stats().abandoned == 1
    release.set()
    _wait_for(lambda: policy.stats().abandoned == 0)
    assert not finished.is_set(), "the work ran on after its blocking call returned"
    assert policy.stats().timeouts == 1


def late_error_is_logged_and_dropped() -> None:
    """A worker that swallows the stop and fails is logged at DEBUG; its error is discarded."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    log = logging.getLogger("maestro.resilience")
    log.addHandler(Keep())
    log.setLevel(logging.DEBUG)
    release = threading.Event()
    policy = Timeout(0.02, name="late")

    @policy
    def slow() -> None:
        try:
            release.wait(2)
        except BaseException:
            raise RuntimeError("swallowed the stop and failed anyway") from None

    assert [type(e) for e in _in_thread(slow)] == [maestro_resilience.TimeoutError]
    release.set()
    _wait_for(lambda: policy.stats().abandoned == 0)
    messages = [r.getMessage() for r in records]
    assert any("finished late" in m and "swallowed the stop" in m for m in messages), messages


def pure_python_work_is_stopped() -> None:
    """Off the main thread a busy Python loop is stopped at the deadline: its worker frees."""
    progress: list[int] = []
    policy = Timeout(0.03, name="spin")

    @policy
    def spin() -> None:
        while True:
            progress.append(1)
            time.sleep(0.001)

    assert [type(e) for e in _in_thread(spin)] == [maestro_resilience.TimeoutError]
    _wait_for(lambda: policy.stats().abandoned == 0 and policy.stats().workers == 0)
    count = len(progress)
    time.sleep(0.05)
    assert len(progress) == count, "the loop ran on after the deadline"


def traced_caller_keeps_running() -> None:
    """Under a tracer (coverage, a debugger) a hung abandoned call never stalls other threads.

    The worker waits up to 30 s; stalled, the traced caller's short loop would take as long.
    """
    sys.settrace(lambda *args: None)
    threading.settrace(lambda *args: None)
    release = threading.Event()
    policy = Timeout(0.02, name="hung")

    @policy
    def hung() -> None:
        release.wait(30)

    assert [type(e) for e in _in_thread(hung)] == [maestro_resilience.TimeoutError]
    started = time.monotonic()
    total = 0
    for i in range(200_000):  # ~20 ms of traced Python
        total += i
    took = time.monotonic() - started
    release.set()
    _wait_for(lambda: policy.stats().abandoned == 0)
    assert took < 10, f"the traced caller stalled for {took:.1f} s behind the hung worker"


if __name__ == "__main__":
    globals()[sys.argv[1]]()
