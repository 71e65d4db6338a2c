"""Typed usage examples of maestro-core-logging; mypy --strict checks them, nothing runs them."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, assert_type

import maestro_core_logging
from maestro_core_logging import (
    DEFAULT_REDACT_KEYS,
    ConfigurationError,
    DebugScope,
    InvalidLevelError,
    LogFormat,
    LoggingConfig,
    MaestroLoggingError,
    MissingExtraError,
    RequestLoggingMiddleware,
    StructuredFormatter,
    bind_context,
    capture_logs,
    clear_context,
    configure_logging,
    current_config,
    debug_scope,
    get_context,
    get_logger,
    log_context,
    reset_logging,
    unbind_context,
)
from structlog.typing import EventDict, FilteringBoundLogger, WrappedLogger


def add_region(logger: WrappedLogger, method_name: str, event: EventDict) -> EventDict:
    """A structlog processor passed to configure_logging."""
    event["region"] = "eu-west-1"
    return event


def configure() -> LoggingConfig:
    """Configure the process the way a service does at start-up."""
    fmt: LogFormat = "json"
    config: LoggingConfig = configure_logging(
        service="orders",
        level="info",
        format=fmt,
        environment="production",
        version=maestro_core_logging.__version__,
        redact_keys=DEFAULT_REDACT_KEYS | {"pin"},
        stream=io.StringIO(),
        logger_levels={"httpx": "WARNING", "sqlalchemy.engine": logging.INFO},
        processors=[add_region],
        otel=None,
        log_uncaught=True,
    )
    level: int = config.level
    name: str = config.level_name
    assert level >= 0
    assert name
    again: LoggingConfig | None = current_config()
    assert again is not None
    return config


def use_loggers() -> None:
    """Log with bound loggers, context and exceptions."""
    log: FilteringBoundLogger = get_logger(__name__)
    child: FilteringBoundLogger = log.bind(order_id=42)
    child.info("order placed", amount=19.99)
    child.debug("detail %s", "x")
    bind_context(request_id="r-1")
    unbind_context("request_id")
    with log_context(tenant="acme") as bound:
        values: dict[str, Any] = bound
        log.warning("inside", keys=list(values))
    current: dict[str, Any] = get_context()
    assert isinstance(current, dict)
    clear_context()
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("failed")
    enabled: bool = log.is_enabled_for(logging.DEBUG)
    assert isinstance(enabled, bool)


async def use_async_logger() -> None:
    """The async variants are awaited."""
    log = get_logger("async")
    await log.ainfo("async line", n=1)


def test_helpers() -> list[dict[str, Any]]:
    """capture_logs yields the events as dicts."""
    with capture_logs(level="debug") as events:
        get_logger("t").debug("x")
    first: dict[str, Any] = events[0]
    return [first]


def scopes() -> int:
    """Debug scopes around a unit of work."""
    with debug_scope(sample_rate=0.05, buffer=True, max_lines=500) as scope:
        typed: DebugScope = scope
        sampled: bool = typed.sampled
        assert isinstance(sampled, bool)
        return scope.flush() + scope.discard()


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A plain ASGI application."""
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def wrap() -> RequestLoggingMiddleware:
    """Wrap an ASGI app with the middleware."""
    return RequestLoggingMiddleware(
        asgi_app,
        header="X-Request-ID",
        logger_name="maestro.access",
        exclude_paths={"/healthz"},
        debug_sample_rate=0.01,
        buffer_debug=True,
    )


def formatter() -> logging.Handler:
    """StructuredFormatter on a handler built by hand."""
    handler = logging.StreamHandler()
    handler.setFormatter(StructuredFormatter())
    return handler


def errors() -> None:
    """The error family."""
    try:
        configure_logging(level="verbose")
    except InvalidLevelError as error:
        problem: ConfigurationError = error
        base: MaestroLoggingError = problem
        as_value_error: ValueError = error
        assert isinstance(base, ValueError)
        assert as_value_error.args
    except MissingExtraError as missing:
        as_import_error: ImportError = missing
        assert as_import_error
    reset_logging()


# ---- 1.1: settings, stats, uvicorn, options ------------------------------------------


def use_new_apis() -> None:
    from dataclasses import dataclass

    from maestro_core_logging import LoggingStats, logging_stats, uvicorn_log_config

    @dataclass(frozen=True)
    class Section:
        level: str = "INFO"
        format: str = "json"
        extra_redact_keys: tuple[str, ...] = ()
        debug_sample_rate: float = 0.0

    config = configure_logging(
        settings=Section(),
        service="orders",
        extra_redact_keys={"pin"},
        debug_sample_rate=0.1,
        callsite=True,
        structured_tracebacks=True,
        format="logfmt",
    )
    assert_type(config, LoggingConfig)
    assert_type(config.debug_sample_rate, float)
    assert_type(logging_stats(), LoggingStats)
    assert_type(logging_stats().dropped, int)
    assert_type(uvicorn_log_config("info", access_log=False), dict[str, Any])
