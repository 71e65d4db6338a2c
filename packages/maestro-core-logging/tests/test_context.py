"""Context: bind_context, unbind_context, clear_context, log_context; threads and tasks."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import maestro_core_logging as mcl
import pytest

if TYPE_CHECKING:
    from .conftest import Output


def test_bound_context_appears_on_every_line(configure: Callable[..., Output]) -> None:
    """Values bound with bind_context are added to every line until unbound."""
    out = configure()
    log = mcl.get_logger("t")
    mcl.bind_context(request_id="r-1", tenant="acme")
    log.info("one")
    mcl.unbind_context("tenant", "not-bound")
    log.info("two")
    mcl.clear_context()
    log.info("three")
    one, two, three = out.lines()
    assert (one["request_id"], one["tenant"]) == ("r-1", "acme")
    assert two["request_id"] == "r-1"
    assert "tenant" not in two
    assert "request_id" not in three


def test_call_keywords_override_logger_values_override_context(
    configure: Callable[..., Output],
) -> None:
    """Precedence is call keywords, then values bound to the logger, then the context."""
    out = configure()
    mcl.bind_context(who="context", where="context", what="context")
    log = mcl.get_logger("t").bind(who="logger", where="logger")
    log.info("x", who="call")
    line = out.lines()[0]
    assert (line["who"], line["where"], line["what"]) == ("call", "logger", "context")


def test_log_context_restores_the_previous_context() -> None:
    """log_context binds for the block and restores outer values and drops inner bindings."""
    mcl.bind_context(user="outer")
    with mcl.log_context(user="inner", job="j-1") as bound:
        assert bound == {"user": "inner", "job": "j-1"}
        mcl.bind_context(step=2)
        assert mcl.get_context() == {"user": "inner", "job": "j-1", "step": 2}
    assert mcl.get_context() == {"user": "outer"}


def test_log_context_restores_after_an_exception() -> None:
    """log_context restores the context when its block raises."""
    with pytest.raises(RuntimeError), mcl.log_context(job="j-1"):
        raise RuntimeError("boom")
    assert mcl.get_context() == {}


def test_get_context_returns_a_copy() -> None:
    """Mutating what get_context returns does not change the context."""
    mcl.bind_context(a=1)
    mcl.get_context()["a"] = 2
    assert mcl.get_context() == {"a": 1}


def test_threads_do_not_see_each_others_context(configure: Callable[..., Output]) -> None:
    """Two threads binding different request ids each log only their own."""
    out = configure()
    log = mcl.get_logger("t")
    barrier = threading.Barrier(2)

    def worker(request_id: str) -> None:
        mcl.bind_context(request_id=request_id)
        barrier.wait()
        for _ in range(50):
            log.info("work", expected=request_id)

    threads = [threading.Thread(target=worker, args=(f"r-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = out.lines()
    assert len(lines) == 100
    assert all(line["request_id"] == line["expected"] for line in lines)
    assert mcl.get_context() == {}


def test_copied_context_carries_into_a_thread() -> None:
    """contextvars.copy_context().run carries the caller's context into another thread."""
    mcl.bind_context(request_id="r-9")
    seen: list[dict[str, object]] = []
    context = contextvars.copy_context()
    thread = threading.Thread(target=lambda: context.run(lambda: seen.append(mcl.get_context())))
    thread.start()
    thread.join()
    assert seen == [{"request_id": "r-9"}]


async def test_asyncio_tasks_are_isolated(configure: Callable[..., Output]) -> None:
    """Concurrent asyncio tasks each see their own bindings and none leak to the caller."""
    out = configure()
    log = mcl.get_logger("t")
    mcl.bind_context(service_run="outer")

    async def handle(request_id: str) -> None:
        with mcl.log_context(request_id=request_id):
            await asyncio.sleep(0)
            log.info("handled", expected=request_id)

    await asyncio.gather(*(handle(f"r-{i}") for i in range(20)))
    lines = out.lines()
    assert len(lines) == 20
    assert all(line["request_id"] == line["expected"] for line in lines)
    assert all(line["service_run"] == "outer" for line in lines)
    assert mcl.get_context() == {"service_run": "outer"}


async def test_to_thread_sees_the_task_context() -> None:
    """asyncio.to_thread runs the function with the calling task's context."""
    with mcl.log_context(request_id="r-5"):
        seen = await asyncio.to_thread(mcl.get_context)
    assert seen == {"request_id": "r-5"}


async def test_async_methods_log_with_the_context(configure: Callable[..., Output]) -> None:
    """ainfo and friends log off the event loop with the caller's context."""
    out = configure()
    log = mcl.get_logger("t")
    with mcl.log_context(request_id="r-7"):
        await log.ainfo("async line", n=1)
        await log.adebug("filtered")
    (line,) = out.lines()
    assert (line["message"], line["request_id"], line["n"]) == ("async line", "r-7", 1)
