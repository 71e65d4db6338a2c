"""Structured logging for Maestro services, built on structlog.

One call configures the process::

    from maestro_core_logging import configure_logging, get_logger

    configure_logging(service="orders", environment="production", version="1.4.2")
    log = get_logger(__name__)
    log.info("order placed", order_id=42)
"""

from ._asgi import RequestLoggingMiddleware
from ._capture import capture_logs
from ._config import (
    LogFormat,
    LoggingConfig,
    configure_logging,
    current_config,
    get_logger,
    reset_logging,
)
from ._context import bind_context, clear_context, get_context, log_context, unbind_context
from ._errors import ConfigurationError, InvalidLevelError, MaestroLoggingError, MissingExtraError
from ._formatter import StructuredFormatter
from ._logger import BoundLogger
from ._redact import DEFAULT_REDACT_KEYS
from ._scope import DebugScope, debug_scope
from ._stats import LoggingStats, logging_stats
from ._uvicorn import uvicorn_log_config
from ._version import __version__

__all__ = [
    "DEFAULT_REDACT_KEYS",
    "BoundLogger",
    "ConfigurationError",
    "DebugScope",
    "InvalidLevelError",
    "LogFormat",
    "LoggingConfig",
    "LoggingStats",
    "MaestroLoggingError",
    "MissingExtraError",
    "RequestLoggingMiddleware",
    "StructuredFormatter",
    "__version__",
    "bind_context",
    "capture_logs",
    "clear_context",
    "configure_logging",
    "current_config",
    "debug_scope",
    "get_context",
    "get_logger",
    "log_context",
    "logging_stats",
    "reset_logging",
    "unbind_context",
    "uvicorn_log_config",
]
