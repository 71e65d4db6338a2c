"""A log call never raises into the caller: odd values are rendered safely and drops counted."""

from __future__ import annotations

import errno
import io
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import maestro_core_logging as mcl
import pytest

if TYPE_CHECKING:
    from .conftest import Output


class _BadStr:
    """A value whose __str__ and __repr__ both raise."""

    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


class _FailingStream(io.StringIO):
    """A text stream whose writes fail with an OSError (a closed pipe, a full disk)."""

    def __init__(self, error: OSError) -> None:
        super().__init__()
        self.error = error

    def write(self, text: str) -> int:
        raise self.error


@pytest.mark.parametrize(
    "value",
    [{b"k": 1}, {(1, 2): 3}, {"nested": {b"raw": [1, {(3,): "x"}]}}, _BadStr(), {"v": _BadStr()}],
    ids=["bytes-key", "tuple-key", "nested-keys", "bad-str", "nested-bad-str"],
)
def test_unserialisable_values_are_rendered_not_raised(
    configure: Callable[..., Output], value: Any
) -> None:
    """Non-string keys and values whose __str__ raises still give one JSON line."""
    out = configure()
    before = mcl.logging_stats()
    mcl.get_logger("app").info("odd value", d=value)
    [line] = out.lines()
    assert line["message"] == "odd value"
    assert "d" in line
    assert mcl.logging_stats().repaired == before.repaired + 1


def test_bytes_keys_keep_their_content(configure: Callable[..., Output]) -> None:
    """A bytes key is written as text a reader can still recognise."""
    out = configure()
    mcl.get_logger("app").info("keys", d={b"k": 1, (1, 2): 3})
    [line] = out.lines()
    assert line["d"] == {"k": 1, "(1, 2)": 3}


def test_a_bad_percent_format_keeps_the_message_and_the_arguments(
    configure: Callable[..., Output],
) -> None:
    """'%s %s' with one argument logs the template and its arguments instead of raising."""
    out = configure()
    log = mcl.get_logger("app")
    log.info("user %s did %s", "ann")  # noqa: PLE1206 - the mistake under test
    log.info("ratio %d", "not a number")
    first, second = out.lines()
    assert first["message"] == "user %s did %s"
    assert first["format_args"] == "('ann',)"
    assert "format_error" in first
    assert second["message"] == "ratio %d"
    assert mcl.logging_stats().repaired >= 2


@pytest.mark.parametrize(
    "error",
    [BrokenPipeError(errno.EPIPE, "Broken pipe"), OSError(errno.ENOSPC, "No space left")],
    ids=["EPIPE", "ENOSPC"],
)
def test_stream_errors_are_counted_not_raised(error: OSError) -> None:
    """A stream that fails to write drops the line, counts it, and the caller goes on."""
    mcl.configure_logging(service="svc", format="json", stream=_FailingStream(error))
    before = mcl.logging_stats().dropped
    mcl.get_logger("app").info("lost")
    logging.getLogger("app.stdlib").warning("lost too")
    assert mcl.logging_stats().dropped == before + 2


def test_a_failing_processor_drops_the_line_and_counts_it(
    configure: Callable[..., Output],
) -> None:
    """A user processor that raises costs that one line, never the caller's request."""

    def broken(logger: object, method: str, event: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("processor bug")

    out = configure(processors=[broken])
    before = mcl.logging_stats().dropped
    mcl.get_logger("app").info("lost")
    assert out.lines() == []
    assert mcl.logging_stats().dropped == before + 1


def test_console_format_survives_odd_values(output: Output) -> None:
    """The console renderer gets the same protection as JSON."""
    mcl.configure_logging(service="svc", format="console", stream=output.stream)
    mcl.get_logger("app").info("odd %s", _BadStr(), d={b"k": _BadStr()})
    mcl.get_logger("app").warning("still fine")
    assert "still fine" in output.text()


def test_huge_ints_and_cycles_do_not_raise(configure: Callable[..., Output]) -> None:
    """Integers beyond 64 bits and self-referencing containers give a line each."""
    out = configure()
    cycle: list[Any] = []
    cycle.append(cycle)
    log = mcl.get_logger("app")
    log.info("big", n=2**80)
    log.info("cycle", c=cycle)
    big, looped = out.lines()
    assert big["n"] == 2**80
    assert looped["message"] == "cycle"
    json.dumps(looped)
