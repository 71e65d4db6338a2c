"""Bulkhead: a concurrency cap shared by threads and tasks, with a bounded, timed queue."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from maestro_resilience import Bulkhead, BulkheadFullError, Event


def test_rejects_at_once_when_full_and_no_queue() -> None:
    """With max_waiting=0 a call finding every slot busy is rejected without running."""
    bulkhead = Bulkhead(max_concurrent=1, name="db")
    ran = []
    with bulkhead:
        with pytest.raises(BulkheadFullError) as info:
            bulkhead(lambda: ran.append(1))()
        assert info.value.name == "db"
        assert "wait queue (0) is full" in str(info.value)
    assert ran == []
    assert bulkhead.rejected == 1
    assert bulkhead.active == 0


def test_sixteen_threads_never_exceed_max_concurrent() -> None:
    """Sixteen threads through a 3-slot bulkhead with a deep queue: at most 3 run at once."""
    bulkhead = Bulkhead(max_concurrent=3, max_waiting=100, wait_timeout=5)
    lock = threading.Lock()
    running = 0
    peak = 0
    done = 0

    @bulkhead
    def work() -> None:
        nonlocal running, peak, done
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.001)
        with lock:
            running -= 1
            done += 1

    def run() -> None:
        for _ in range(20):
            work()

    threads = [threading.Thread(target=run) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done == 320
    assert peak == 3
    assert (bulkhead.active, bulkhead.waiting, bulkhead.rejected) == (0, 0, 0)


def test_queue_limit_rejects_the_overflow() -> None:
    """Callers beyond max_concurrent + max_waiting are rejected; the queued ones run."""
    bulkhead = Bulkhead(max_concurrent=1, max_waiting=2, wait_timeout=5)
    gate = threading.Event()
    entered = threading.Semaphore(0)
    results: list[str] = []

    @bulkhead
    def work(i: int) -> None:
        entered.release()
        gate.wait(5)
        results.append(f"ran {i}")

    first = threading.Thread(target=work, args=(0,))
    first.start()
    entered.acquire()
    waiters = [threading.Thread(target=work, args=(i,)) for i in (1, 2)]
    for t in waiters:
        t.start()
    while bulkhead.waiting < 2:
        time.sleep(0.001)
    with pytest.raises(BulkheadFullError):
        work(3)
    gate.set()
    for t in [first, *waiters]:
        t.join()
    assert sorted(results) == ["ran 0", "ran 1", "ran 2"]


def test_wait_timeout_rejects_a_waiter() -> None:
    """A queued call that gets no slot within wait_timeout is rejected."""
    bulkhead = Bulkhead(max_concurrent=1, max_waiting=1, wait_timeout=0.02)
    with bulkhead, pytest.raises(BulkheadFullError, match=r"within 0\.02s"):
        bulkhead.acquire()
    assert bulkhead.waiting == 0
    assert bulkhead.available == 1


def test_rejection_events() -> None:
    """A rejection emits a 'rejected' event."""
    events: list[Event] = []
    bulkhead = Bulkhead(max_concurrent=1, listeners=[events.append])
    with bulkhead, pytest.raises(BulkheadFullError):
        bulkhead.acquire()
    assert [e.kind for e in events] == ["rejected"]


async def test_many_tasks_respect_the_cap() -> None:
    """Three hundred tasks through a 5-slot bulkhead: at most 5 run at once, none rejected."""
    bulkhead = Bulkhead(max_concurrent=5, max_waiting=1000)
    running = 0
    peak = 0

    @bulkhead
    async def work(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1
        return i

    results = await asyncio.gather(*(work(i) for i in range(300)))
    assert results == list(range(300))
    assert peak == 5
    assert (bulkhead.active, bulkhead.waiting) == (0, 0)


async def test_async_wait_timeout_and_queue_full() -> None:
    """Async waiters time out with BulkheadFullError; a full queue rejects at once."""
    bulkhead = Bulkhead(max_concurrent=1, max_waiting=1, wait_timeout=0.02)
    async with bulkhead:
        waiter = asyncio.ensure_future(bulkhead.aacquire())
        await asyncio.sleep(0)
        with pytest.raises(BulkheadFullError, match="queue"):
            await bulkhead.aacquire()
        with pytest.raises(BulkheadFullError, match="within"):
            await waiter
    assert (bulkhead.active, bulkhead.waiting) == (0, 0)


async def test_cancelled_waiter_leaves_no_trace() -> None:
    """Cancelling a queued task removes it; the slot goes to the next waiter."""
    bulkhead = Bulkhead(max_concurrent=1, max_waiting=5)
    await bulkhead.aacquire()
    cancelled = asyncio.ensure_future(bulkhead.aacquire())
    second = asyncio.ensure_future(bulkhead.aacquire())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    bulkhead.release()
    await asyncio.wait_for(second, 1)
    assert bulkhead.active == 1
    assert bulkhead.waiting == 0
    bulkhead.release()
    assert bulkhead.active == 0


async def test_threads_and_tasks_share_one_bulkhead() -> None:
    """A slot freed by a thread is handed to a waiting task."""
    bulkhead = Bulkhead(max_concurrent=1, max_waiting=1, wait_timeout=2)
    bulkhead.acquire()
    waiter = asyncio.ensure_future(bulkhead.aacquire())
    await asyncio.sleep(0)
    assert bulkhead.waiting == 1
    releaser = threading.Thread(target=bulkhead.release)
    releaser.start()
    await asyncio.wait_for(waiter, 2)
    releaser.join()
    assert bulkhead.active == 1
    bulkhead.release()


def test_slot_is_released_when_the_call_raises() -> None:
    """An exception from the function frees its slot."""
    bulkhead = Bulkhead(max_concurrent=1)

    @bulkhead
    def broken() -> None:
        raise ValueError

    for _ in range(3):
        with pytest.raises(ValueError):
            broken()
    assert bulkhead.active == 0
    assert "active=0/1" in repr(bulkhead)
