"""The bound logger: binding, levels, filtering, the structlog protocol."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import maestro_core_logging as mcl
import pytest

if TYPE_CHECKING:
    from .conftest import Output


def test_bind_returns_a_new_logger(configure: Callable[..., Output]) -> None:
    """bind returns a new logger carrying the values; the original is unchanged."""
    out = configure()
    base = mcl.get_logger("t")
    child = base.bind(order_id=1)
    child.info("child")
    base.info("base")
    first, second = out.lines()
    assert first["order_id"] == 1
    assert "order_id" not in second
    assert child != base


def test_unbind_try_unbind_and_new(configure: Callable[..., Output]) -> None:
    """unbind removes keys (KeyError when absent), try_unbind ignores absent ones, new resets."""
    configure()
    log = mcl.get_logger("t", a=1, b=2)
    with pytest.raises(KeyError):
        log.unbind("missing")
    assert log.unbind("a") == mcl.get_logger("t", b=2)
    assert log.try_unbind("a", "missing") == mcl.get_logger("t", b=2)
    fresh = log.new(c=3)
    with mcl.capture_logs() as events:
        fresh.info("x")
    assert "a" not in events[0]
    assert events[0]["c"] == 3


def test_filtered_levels_write_nothing(configure: Callable[..., Output]) -> None:
    """Calls below the configured level write nothing and return None."""
    out = configure(level="warning")
    log = mcl.get_logger("t")
    assert log.debug("d") is None
    log.info("i")
    log.warning("w")
    assert [line["message"] for line in out.lines()] == ["w"]


def test_is_enabled_for_and_effective_level(configure: Callable[..., Output]) -> None:
    """is_enabled_for and get_effective_level follow the configured level."""
    configure(level="warning")
    log = mcl.get_logger("t")
    assert log.get_effective_level() == logging.WARNING
    assert log.is_enabled_for(logging.ERROR)
    assert not log.is_enabled_for(logging.INFO)


def test_log_with_numeric_level(configure: Callable[..., Output]) -> None:
    """log(level, ...) logs at that level and filters like the named methods."""
    out = configure(level="info")
    log = mcl.get_logger("t")
    log.log(logging.DEBUG, "hidden")
    log.log(logging.WARNING, "shown")
    log.log(35, "custom level")
    log.log(5, "below debug")
    assert [(line["message"], line["level"]) for line in out.lines()] == [
        ("shown", "warning"),
        ("custom level", "warning"),
    ]


def test_repr_shows_the_context() -> None:
    """repr of a logger shows its bound values."""
    assert "order_id" in repr(mcl.get_logger("t", order_id=1))


def test_a_closed_stream_does_not_raise(configure: Callable[..., Output]) -> None:
    """Logging to a closed stream drops the line instead of raising into the application."""
    out = configure()
    out.stream.close()
    mcl.get_logger("t").info("lost")
