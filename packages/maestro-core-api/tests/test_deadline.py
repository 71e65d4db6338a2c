"""Request deadlines sharing one timer: timeouts, foreign cancellations, bounded memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from maestro_core_api._deadline import Deadlines
from maestro_core_api._stack import LimitsMiddleware


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"svc")],
        "client": ("127.0.0.1", 1),
    }


async def _endpoint(scope: Any, receive: Any, send: Any) -> None:
    """Answer after the number of seconds in the path (``/0.2``); ``/swallow`` ignores
    its cancellation and answers anyway."""
    path = scope["path"]
    if path == "/swallow":
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(5)
    else:
        await asyncio.sleep(float(path[1:]))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


async def _call(app: Any, path: str) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(path), receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def _limits(timeout: float) -> LimitsMiddleware:
    return LimitsMiddleware(_endpoint, max_body_bytes=100, timeout=timeout)


async def test_each_concurrent_request_gets_its_own_deadline() -> None:
    """Concurrent requests time out independently: only those past the timeout are 503."""
    app = _limits(0.1)
    answers = await asyncio.gather(*(_call(app, p) for p in ("/0", "/0.3", "/0.02", "/0.4")))
    assert [status for status, _ in answers] == [200, 503, 200, 503]
    assert json.loads(answers[1][1])["detail"] == "the request took longer than 0.1s"


async def test_a_later_request_times_out_after_earlier_ones_finished() -> None:
    """Deadlines queued behind finished requests still fire on time."""
    app = _limits(0.05)
    assert await _call(app, "/0") == (200, b"done")
    assert (await _call(app, "/0.2"))[0] == 503
    assert await _call(app, "/0") == (200, b"done")


async def test_a_foreign_cancellation_is_not_a_timeout() -> None:
    """Cancelling the request's task (the client went away) propagates as a cancellation."""
    app = _limits(10)
    task = asyncio.create_task(_call(app, "/5"))
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_handler_that_swallows_the_cancellation_keeps_its_answer() -> None:
    """A handler that catches its timeout and answers keeps that answer; the task's
    cancellation count is restored."""
    app = _limits(0.05)

    async def run() -> tuple[tuple[int, bytes], int]:
        answer = await _call(app, "/swallow")
        task = asyncio.current_task()
        assert task is not None
        return answer, task.cancelling()

    answer, cancelling = await asyncio.create_task(run())
    assert answer == (200, b"done")
    assert cancelling == 0


def test_deadlines_follow_the_running_event_loop() -> None:
    """One middleware serves successive event loops, each with working timeouts."""
    app = _limits(0.05)
    for _ in range(2):
        assert asyncio.run(_call(app, "/0.2"))[0] == 503
        assert asyncio.run(_call(app, "/0"))[0] == 200


async def test_finished_entries_do_not_pile_up_behind_a_long_request() -> None:
    """With one long request in flight, finished requests' entries are dropped."""
    deadlines = Deadlines(asyncio.get_running_loop(), 30.0)
    long = deadlines.start(asyncio.create_task(asyncio.sleep(0)))
    task = asyncio.current_task()
    assert task is not None
    for _ in range(5000):
        deadlines.finish(deadlines.start(task))
    assert len(deadlines) < 600
    assert deadlines.finish(long) is False
