"""Debug scopes: per-unit-of-work sampling and buffered debug lines flushed on error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import maestro_core_logging as mcl
import pytest

if TYPE_CHECKING:
    from .conftest import Output


def test_sampled_scope_writes_debug_lines(configure: Callable[..., Output]) -> None:
    """A scope whose random draw falls under sample_rate writes its debug lines."""
    out = configure(level="info")
    log = mcl.get_logger("t")
    with mcl.debug_scope(sample_rate=0.1, random=lambda: 0.05) as scope:
        assert scope.sampled
        assert log.is_enabled_for(logging.DEBUG)
        assert log.get_effective_level() == logging.DEBUG
        log.debug("detail", step=1)
    log.debug("after")
    assert [line["message"] for line in out.lines()] == ["detail"]


def test_unsampled_scope_without_buffer_drops_debug(configure: Callable[..., Output]) -> None:
    """A scope not sampled and not buffering drops debug lines as usual."""
    out = configure(level="info")
    with mcl.debug_scope(sample_rate=0.1, buffer=False, random=lambda: 0.5) as scope:
        assert not scope.sampled
        mcl.get_logger("t").debug("dropped")
    assert out.lines() == []


def test_buffered_lines_are_dropped_on_success(configure: Callable[..., Output]) -> None:
    """Buffered debug lines of a scope that ends well are never written."""
    out = configure(level="info")
    log = mcl.get_logger("t")
    with mcl.debug_scope(buffer=True) as scope:
        log.debug("step 1")
        log.debug("step 2")
        assert scope.buffered == 2
        log.info("done")
    assert [line["message"] for line in out.lines()] == ["done"]


def test_buffered_lines_flush_before_an_error_line(configure: Callable[..., Output]) -> None:
    """An error-level line writes the buffered debug lines first, with their own times."""
    out = configure(level="info")
    log = mcl.get_logger("t")
    with mcl.debug_scope(buffer=True), mcl.log_context(request_id="r-1"):
        log.debug("loaded %s rows", 3, table="orders")
        log.info("visible")
        log.error("failed")
    lines = out.lines()
    assert [(line["message"], line["level"]) for line in lines] == [
        ("visible", "info"),
        ("loaded 3 rows", "debug"),
        ("failed", "error"),
    ]
    assert lines[1]["table"] == "orders"
    assert lines[1]["request_id"] == "r-1"
    assert lines[1]["timestamp"] <= lines[0]["timestamp"]


def test_buffered_lines_flush_when_the_block_raises(configure: Callable[..., Output]) -> None:
    """Leaving a buffering scope with an exception writes its debug lines."""
    out = configure(level="info")

    def work() -> None:
        with mcl.debug_scope(buffer=True):
            mcl.get_logger("t").debug("context before the crash")
            raise ValueError("crash")

    with pytest.raises(ValueError, match="crash"):
        work()
    assert [line["message"] for line in out.lines()] == ["context before the crash"]


def test_stdlib_error_flushes_the_buffer(configure: Callable[..., Output]) -> None:
    """An error logged through the standard library also flushes the buffered lines."""
    out = configure(level="info")
    with mcl.debug_scope(buffer=True):
        mcl.get_logger("t").debug("buffered")
        logging.getLogger("app").error("stdlib error")
    assert [line["message"] for line in out.lines()] == ["buffered", "stdlib error"]


def test_buffered_exception_keeps_its_traceback(configure: Callable[..., Output]) -> None:
    """A buffered debug line with exc_info keeps the exception even if flushed later."""
    out = configure(level="info")
    log = mcl.get_logger("t")
    with mcl.debug_scope(buffer=True) as scope:
        try:
            raise KeyError("k")
        except KeyError:
            log.debug("retrying", exc_info=True)
        scope.flush()
    assert out.lines()[0]["exception"]["type"] == "KeyError"


def test_buffer_keeps_the_newest_lines(configure: Callable[..., Output]) -> None:
    """A full buffer drops its oldest lines and says how many on flush."""
    out = configure(level="info")
    log = mcl.get_logger("t")
    with mcl.debug_scope(buffer=True, max_lines=2) as scope:
        for i in range(5):
            log.debug(f"line {i}")
        assert scope.flush() == 2
    lines = out.lines()
    assert lines[0]["dropped_lines"] == 3
    assert [line["message"] for line in lines[1:]] == ["line 3", "line 4"]


def test_debug_outside_a_scope_is_dropped(configure: Callable[..., Output]) -> None:
    """Outside a scope, debug lines are dropped even after a scope was used."""
    out = configure(level="info")
    with mcl.debug_scope(sample_rate=1.0):
        pass
    mcl.get_logger("t").debug("outside")
    assert out.lines() == []


def test_bad_sample_rate_is_rejected() -> None:
    """A sample rate outside 0..1 raises ConfigurationError naming it."""
    with pytest.raises(mcl.ConfigurationError, match=r"1\.5"), mcl.debug_scope(sample_rate=1.5):
        pass
    with pytest.raises(mcl.ConfigurationError, match="max_lines"), mcl.debug_scope(max_lines=0):
        pass
