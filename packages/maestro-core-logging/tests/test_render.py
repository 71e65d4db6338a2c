"""What a line looks like: JSON, ECS and console rendering, exceptions, odd values."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import maestro_core_logging as mcl
from maestro_core_logging._fields import UTCClock

if TYPE_CHECKING:
    from .conftest import Output

_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


class PaymentDeclinedError(Exception):
    """A domain error with a module-qualified name."""


def test_timestamp_is_utc_iso8601(configure: Callable[..., Output]) -> None:
    """Timestamps are UTC ISO-8601 with microseconds and a Z suffix, close to now."""
    out = configure()
    mcl.get_logger("t").info("tick")
    stamp = out.lines()[0]["timestamp"]
    assert _ISO_UTC.fullmatch(stamp)
    parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - parsed).total_seconds()) < 5


def test_clock_formats_epoch_seconds_exactly() -> None:
    """The cached clock formats a known epoch value exactly, in both precisions."""
    clock = UTCClock()
    assert clock.micros(0.25) == "1970-01-01T00:00:00.250000Z"
    assert clock.millis(86_400.5) == "1970-01-02T00:00:00.500Z"
    assert clock.micros(86_401.000001) == "1970-01-02T00:00:01.000001Z"


def test_one_json_object_per_line(configure: Callable[..., Output]) -> None:
    """Every call writes exactly one line, and newlines inside values stay escaped."""
    out = configure()
    log = mcl.get_logger("t")
    log.info("first\nsecond", note="a\nb")
    log.warning("third")
    text = out.text()
    assert text.count("\n") == 2
    assert [line["message"] for line in out.lines()] == ["first\nsecond", "third"]


def test_level_names_are_canonical(configure: Callable[..., Output]) -> None:
    """Aliases are written as canonical levels: warn as warning, err as error, fatal as critical."""
    out = configure(level="debug")
    log = mcl.get_logger("t")
    log.debug("d")
    log.msg("m")
    log.warn("w")
    log.err("e")
    log.fatal("f")
    log.log(logging.CRITICAL, "c")
    assert [line["level"] for line in out.lines()] == [
        "debug",
        "info",
        "warning",
        "error",
        "critical",
        "critical",
    ]


def test_positional_arguments_are_interpolated(configure: Callable[..., Output]) -> None:
    """log.info("%s items", 3) interpolates like the standard library."""
    out = configure()
    mcl.get_logger("t").info("%s items in %s", 3, "cart")
    assert out.lines()[0]["message"] == "3 items in cart"


def test_exception_renders_as_structured_fields(configure: Callable[..., Output]) -> None:
    """log.exception writes type, message and the formatted stack under "exception"."""
    out = configure()
    try:
        raise PaymentDeclinedError("card expired")
    except PaymentDeclinedError:
        mcl.get_logger("t").exception("payment failed", order_id=7)
    line = out.lines()[0]
    assert line["level"] == "error"
    exc = line["exception"]
    assert exc["type"].endswith("test_render.PaymentDeclinedError")
    assert exc["message"] == "card expired"
    assert exc["stack"].startswith("Traceback (most recent call last):")
    assert "raise PaymentDeclinedError" in exc["stack"]
    assert line["order_id"] == 7


def test_exception_instance_as_exc_info(configure: Callable[..., Output]) -> None:
    """exc_info may be an exception instance; builtin types are written unqualified."""
    out = configure()
    lookup: dict[str, int] = {}
    try:
        lookup["missing"]
    except KeyError as error:
        caught = error
    mcl.get_logger("t").error("lookup failed", exc_info=caught)
    exc = out.lines()[0]["exception"]
    assert exc["type"] == "KeyError"
    assert exc["message"] == "'missing'"


def test_chained_exceptions_keep_the_cause(configure: Callable[..., Output]) -> None:
    """The stack of a chained exception includes its cause."""
    out = configure()
    try:
        try:
            int("x")
        except ValueError as inner:
            raise RuntimeError("parse step failed") from inner
    except RuntimeError:
        mcl.get_logger("t").exception("job failed")
    stack = out.lines()[0]["exception"]["stack"]
    assert "ValueError: invalid literal" in stack
    assert "RuntimeError: parse step failed" in stack


def test_exc_info_outside_except_is_ignored(configure: Callable[..., Output]) -> None:
    """exc_info=True with no exception being handled adds no exception field."""
    out = configure()
    mcl.get_logger("t").error("no exception here", exc_info=True)
    assert "exception" not in out.lines()[0]


def test_stack_info_is_rendered(configure: Callable[..., Output]) -> None:
    """stack_info=True adds the caller's stack, without the logging machinery's frames."""
    out = configure()
    mcl.get_logger("t").info("where am I", stack_info=True)
    stack = out.lines()[0]["stack_info"]
    assert "test_stack_info_is_rendered" in stack
    assert "_logger.py" not in stack


def test_values_json_cannot_hold_are_stringified(configure: Callable[..., Output]) -> None:
    """Decimals, sets, objects, int keys and huge ints render without raising."""
    out = configure()

    class Thing:
        def __str__(self) -> str:
            return "thing!"

    mcl.get_logger("t").info(
        "odd",
        price=Decimal("9.99"),
        tags={"a"},
        obj=Thing(),
        by_id={1: "one"},
        when=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        huge=2**80,
    )
    line = out.lines()[0]
    assert line["price"] == "9.99"
    assert line["tags"] == ["a"]
    assert line["obj"] == "thing!"
    assert line["by_id"] == {"1": "one"}
    assert line["when"] == "2024-01-02T03:04:05+00:00"
    assert line["huge"] == 2**80


def test_unicode_is_written_as_utf8(configure: Callable[..., Output]) -> None:
    """Non-ASCII text survives the trip (UTF-8 bytes on the stream)."""
    out = configure()
    mcl.get_logger("t").info("café ☕", city="Zürich")
    line = out.lines()[0]
    assert line["message"] == "café ☕"
    assert line["city"] == "Zürich"


def test_ecs_field_names(configure: Callable[..., Output]) -> None:
    """format="ecs" writes Elastic Common Schema fields, nesting dotted keys."""
    out = configure(format="ecs", environment="production", version="1.0.0")
    log = mcl.get_logger("orders")
    with mcl.log_context(request_id="r-1"):
        log.warning("slow", **{"user.id": "u-9"}, duration_ms=12.5, http_status=200)
    line = out.lines()[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["@timestamp"])
    assert line["log.level"] == "warning"
    assert line["message"] == "slow"
    assert line["ecs.version"].startswith("8.")
    assert line["log"] == {"logger": "orders"}
    assert line["service"] == {"name": "svc", "environment": "production", "version": "1.0.0"}
    assert line["http"] == {"request": {"id": "r-1"}, "response": {"status_code": 200}}
    assert line["user"] == {"id": "u-9"}
    assert line["event"] == {"duration": 12_500_000}


def test_ecs_exception_fields(configure: Callable[..., Output]) -> None:
    """In ECS, exceptions go to error.type, error.message and error.stack_trace."""
    out = configure(format="ecs")
    try:
        raise ValueError("bad")
    except ValueError:
        mcl.get_logger("t").exception("failed")
    error = out.lines()[0]["error"]
    assert error["type"] == "ValueError"
    assert error["message"] == "bad"
    assert "Traceback" in error["stack_trace"]


def test_ecs_dotted_key_clash_stays_flat(configure: Callable[..., Output]) -> None:
    """A dotted key that clashes with a scalar keeps its flat name instead of being lost."""
    out = configure(format="ecs")
    mcl.get_logger("t").info("clash", user="bob", **{"user.id": 1})
    line = out.lines()[0]
    assert line["user"] == "bob"
    assert line["user.id"] == 1


def test_console_format_is_human_readable(configure: Callable[..., Output]) -> None:
    """format="console" writes one aligned, uncoloured line off a terminal, keys as k=v."""
    out = configure(format="console")
    mcl.get_logger("shop").info("cart updated", items=3)
    text = out.text()
    assert text.count("\n") == 1
    assert "cart updated" in text
    assert "items=3" in text
    assert "[info" in text
    assert "\x1b[" not in text


def test_console_renders_exceptions(configure: Callable[..., Output]) -> None:
    """Console lines include the traceback of a logged exception."""
    out = configure(format="console")
    try:
        raise ValueError("console boom")
    except ValueError:
        mcl.get_logger("shop").exception("failed")
    assert "ValueError" in out.text()
    assert "console boom" in out.text()
