"""Standard-library and third-party loggers go through the same renderer."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import maestro_core_logging as mcl
import pytest

if TYPE_CHECKING:
    from .conftest import Output


def test_stdlib_records_become_json_lines(configure: Callable[..., Output]) -> None:
    """A stdlib logger's record is rendered like a structlog line, with extra= fields."""
    out = configure(environment="prod")
    logging.getLogger("app.db").warning("slow query %s ms", 250, extra={"table": "orders"})
    line = out.lines()[0]
    assert line["message"] == "slow query 250 ms"
    assert line["logger"] == "app.db"
    assert line["level"] == "warning"
    assert line["service"] == "svc"
    assert line["environment"] == "prod"
    assert line["table"] == "orders"
    assert "args" not in line
    assert "lineno" not in line


def test_stdlib_lines_carry_the_context(configure: Callable[..., Output]) -> None:
    """Context bound with log_context is added to stdlib records too."""
    out = configure()
    with mcl.log_context(request_id="r-3"):
        logging.getLogger("app").info("inside")
    assert out.lines()[0]["request_id"] == "r-3"


def test_stdlib_record_time_is_the_record_creation_time(configure: Callable[..., Output]) -> None:
    """A stdlib line's timestamp is the record's creation time, not the rendering time."""
    out = configure()
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "old", None, None)
    record.created = 0.5
    logging.getLogger("app").handle(record)
    assert out.lines()[0]["timestamp"] == "1970-01-01T00:00:00.500000Z"


def test_stdlib_exceptions_are_structured(configure: Callable[..., Output]) -> None:
    """logger.exception from the standard library renders structured exception fields."""
    out = configure()
    try:
        raise OSError("disk full")
    except OSError:
        logging.getLogger("app").exception("write failed")
    exc = out.lines()[0]["exception"]
    assert exc["type"] == "OSError"
    assert exc["message"] == "disk full"


def test_third_party_loggers_are_routed(configure: Callable[..., Output]) -> None:
    """uvicorn/sqlalchemy/httpx loggers lose their own handlers and propagate to ours."""
    uvicorn = logging.getLogger("uvicorn.access")
    uvicorn.addHandler(logging.StreamHandler(sys.stderr))
    uvicorn.propagate = False
    # Importing sqlalchemy (another package's pytest plugin may) sets "sqlalchemy" to WARNING.
    logging.getLogger("sqlalchemy").setLevel(logging.NOTSET)
    out = configure()
    assert uvicorn.handlers == []
    assert uvicorn.propagate is True
    uvicorn.info('%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", "/", "1.1", 200)
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")
    logging.getLogger("httpx").info("HTTP Request: GET https://x", extra={"color_message": "c"})
    lines = out.lines()
    assert [line["logger"] for line in lines] == [
        "uvicorn.access",
        "sqlalchemy.engine.Engine",
        "httpx",
    ]
    assert lines[0]["message"] == '1.2.3.4:5 - "GET / HTTP/1.1" 200'
    assert "color_message" not in lines[2]


def test_logger_levels_tune_single_loggers(configure: Callable[..., Output]) -> None:
    """logger_levels sets the level of named stdlib loggers."""
    out = configure(level="debug", logger_levels={"httpcore": "WARNING"})
    logging.getLogger("httpcore.connection").debug("noise")
    logging.getLogger("app").debug("signal")
    assert [line["message"] for line in out.lines()] == ["signal"]


def test_root_level_follows_configuration(configure: Callable[..., Output]) -> None:
    """The root logger's level is the configured level."""
    configure(level="error")
    assert logging.getLogger().level == logging.ERROR


def test_stdlib_false_leaves_the_root_logger_alone(configure: Callable[..., Output]) -> None:
    """With stdlib=False no handler is installed and stdlib records are not rendered by us."""
    out = configure(stdlib=False)
    logging.getLogger("app").warning("not ours")
    assert out.lines() == []


def test_a_broken_record_is_written_with_its_format_error(
    configure: Callable[..., Output],
) -> None:
    """A record whose message cannot be formatted is written as its template, never raised."""
    out = configure()
    previous = logging.raiseExceptions
    logging.raiseExceptions = False  # pytest's own capture handler fails on this record
    try:
        logging.getLogger("app").warning("%d items", "not a number")
    finally:
        logging.raiseExceptions = previous
    [line] = out.lines()
    assert line["message"] == "%d items"
    assert line["format_args"] == "('not a number',)"
    assert line["format_error"].startswith("TypeError")


def test_structured_formatter_renders_like_the_pipeline(configure: Callable[..., Output]) -> None:
    """StructuredFormatter on a handler of its own renders the configured JSON line."""
    configure(environment="prod")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(mcl.StructuredFormatter())
    logger = logging.getLogger("app.own")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with mcl.log_context(request_id="r-8"):
            logger.warning("own handler", extra={"token": "t"})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    line = json.loads(stream.getvalue())
    assert line["message"] == "own handler"
    assert line["environment"] == "prod"
    assert line["request_id"] == "r-8"
    assert line["token"] == "[REDACTED]"
    assert stream.getvalue().count("\n") == 1


def test_structured_formatter_in_dict_config(configure: Callable[..., Output]) -> None:
    """dictConfig can build StructuredFormatter, passing (and ignoring) a format string."""
    configure()
    stream = io.StringIO()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "maestro": {
                    "()": "maestro_core_logging.StructuredFormatter",
                    "format": "%(message)s",
                }
            },
            "handlers": {
                "out": {"class": "logging.StreamHandler", "formatter": "maestro", "stream": stream}
            },
            "loggers": {"app.dict": {"handlers": ["out"], "propagate": False, "level": "INFO"}},
        }
    )
    logger = logging.getLogger("app.dict")
    try:
        logger.info("from dictConfig")
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    assert json.loads(stream.getvalue())["logger"] == "app.dict"


def test_uncaught_exceptions_become_log_lines(configure: Callable[..., Output]) -> None:
    """With log_uncaught=True, the excepthooks write structured lines and reset removes them."""
    before_sys, before_thread = sys.excepthook, threading.excepthook
    out = configure(log_uncaught=True)
    try:
        raise LookupError("fatal")
    except LookupError:
        sys.excepthook(*sys.exc_info())

    def crash() -> None:
        raise ValueError("thread died")

    worker = threading.Thread(target=crash, name="worker-1")
    worker.start()
    worker.join()
    main_line, thread_line = out.lines()
    assert (main_line["logger"], main_line["level"]) == ("maestro.uncaught", "critical")
    assert main_line["exception"]["type"] == "LookupError"
    assert thread_line["thread"] == "worker-1"
    assert thread_line["exception"]["message"] == "thread died"
    mcl.reset_logging()
    assert (sys.excepthook, threading.excepthook) == (before_sys, before_thread)


def test_keyboard_interrupt_keeps_pythons_handling(
    configure: Callable[..., Output], capsys: pytest.CaptureFixture[str]
) -> None:
    """KeyboardInterrupt is passed to the previous hook, not logged."""
    out = configure(log_uncaught=True)
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert out.lines() == []
    assert "KeyboardInterrupt" in capsys.readouterr().err
