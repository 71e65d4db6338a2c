"""capture_logs(): structured events for tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import maestro_core_logging as mcl

if TYPE_CHECKING:
    from .conftest import Output


def test_capture_returns_structured_events(configure: Callable[..., Output]) -> None:
    """Events logged in the block are returned as dicts and not written to the stream."""
    out = configure(environment="test")
    with mcl.capture_logs() as events, mcl.log_context(request_id="r-1"):
        mcl.get_logger("orders").info("order placed", order_id=42, password="p")
    assert out.text() == ""
    (event,) = events
    assert event["message"] == "order placed"
    assert event["level"] == "info"
    assert event["logger"] == "orders"
    assert event["order_id"] == 42
    assert event["request_id"] == "r-1"
    assert event["environment"] == "test"
    assert event["password"] == "[REDACTED]"


def test_capture_includes_stdlib_records(configure: Callable[..., Output]) -> None:
    """Records from stdlib loggers are captured too."""
    configure()
    with mcl.capture_logs() as events:
        logging.getLogger("app").warning("from stdlib")
    assert [(e["logger"], e["message"]) for e in events] == [("app", "from stdlib")]


def test_capture_level_lowers_the_level_for_the_block(configure: Callable[..., Output]) -> None:
    """capture_logs(level="debug") captures debug lines and restores the level after."""
    out = configure(level="info")
    log = mcl.get_logger("t")
    with mcl.capture_logs(level="debug") as events:
        log.debug("seen")
    log.debug("not seen")
    assert [e["message"] for e in events] == ["seen"]
    assert out.text() == ""


def test_capture_restores_output(configure: Callable[..., Output]) -> None:
    """After the block, lines are written to the stream again."""
    out = configure()
    with mcl.capture_logs():
        mcl.get_logger("t").info("captured")
    mcl.get_logger("t").info("written")
    assert [line["message"] for line in out.lines()] == ["written"]


def test_capture_works_without_configuration() -> None:
    """capture_logs works before configure_logging and captures exceptions as fields."""
    with mcl.capture_logs() as events:
        try:
            raise ValueError("bad")
        except ValueError:
            mcl.get_logger("t").exception("oops")
    assert events[0]["exception"]["type"] == "ValueError"
    assert events[0]["level"] == "error"


def test_captures_nest(configure: Callable[..., Output]) -> None:
    """An inner capture_logs takes the events of its block; the outer one gets the rest."""
    configure()
    log = mcl.get_logger("t")
    with mcl.capture_logs() as outer:
        log.info("a")
        with mcl.capture_logs() as inner:
            log.info("b")
        log.info("c")
    assert [e["message"] for e in outer] == ["a", "c"]
    assert [e["message"] for e in inner] == ["b"]


def test_structlog_capture_logs_also_works(configure: Callable[..., Output]) -> None:
    """structlog.testing.capture_logs captures our loggers' raw events too (structlog shape)."""
    import structlog.testing

    out = configure()
    with structlog.testing.capture_logs() as events:
        mcl.get_logger("x").info("hi", a=1)
    assert events == [{"logger": "x", "a": 1, "event": "hi", "log_level": "info"}]
    mcl.get_logger("x").info("after")
    assert [line["message"] for line in out.lines()] == ["after"]


async def test_capture_sees_only_its_own_task(configure: Callable[..., Output]) -> None:
    """A concurrent task's lines are written as usual, not captured by another task's block."""
    import asyncio

    out = configure()
    log = mcl.get_logger("app")
    inside = asyncio.Event()
    done = asyncio.Event()

    async def other_request() -> None:
        await inside.wait()
        log.info("other task")
        done.set()

    other = asyncio.create_task(other_request())
    with mcl.capture_logs() as events:
        inside.set()
        await done.wait()
        log.info("mine")
    await other
    assert [e["message"] for e in events] == ["mine"]
    assert [line["message"] for line in out.lines()] == ["other task"]


async def test_two_concurrent_captures_each_see_their_own(configure: Callable[..., Output]) -> None:
    """Two tasks capturing at the same time get one list each."""
    import asyncio

    log = mcl.get_logger("app")
    configure()

    async def capture(name: str) -> list[str]:
        with mcl.capture_logs() as events:
            for _ in range(3):
                log.info(name)
                await asyncio.sleep(0)
        return [e["message"] for e in events]

    first, second = await asyncio.gather(capture("a"), capture("b"))
    assert (first, second) == (["a"] * 3, ["b"] * 3)
