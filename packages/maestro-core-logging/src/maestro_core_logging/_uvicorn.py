"""The ``log_config`` uvicorn needs so that its own lines come out structured.

``uvicorn.run()`` applies its default logging configuration when it starts, after the
application called ``configure_logging()``: that gives ``uvicorn``, ``uvicorn.error`` and
``uvicorn.access`` handlers of their own, with plain-text formats, and turns their
propagation off. Passing ``log_config=uvicorn_log_config()`` instead hands those loggers
to the same handler as everything else.
"""

from __future__ import annotations

import logging
from typing import Any

from ._levels import level_name, parse_level

__all__ = ["handler", "uvicorn_log_config"]

UVICORN_LOGGERS: tuple[str, ...] = ("uvicorn", "uvicorn.error", "uvicorn.access")


def handler() -> logging.Handler:
    """The process's structured handler (dictConfig factory; configures defaults if needed)."""
    from ._config import _HANDLER, ensure_configured

    ensure_configured()
    return _HANDLER


def uvicorn_log_config(level: str | int = "info", *, access_log: bool = True) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict for ``uvicorn.run(..., log_config=...)``.

    uvicorn's loggers write through this package's handler (the configured format,
    fields, context and redaction; defaults if ``configure_logging`` was not called);
    ``uvicorn.access`` lines carry ``http_method``, ``http_path``, ``http_status`` and
    ``client_ip`` as fields. ``level`` is the level of uvicorn's loggers;
    ``access_log=False`` silences the access lines (use ``RequestLoggingMiddleware``'s).
    """
    name = level_name(parse_level(level, source="level")).upper()
    loggers: dict[str, Any] = {
        logger: {"handlers": ["maestro"], "level": name, "propagate": False}
        for logger in UVICORN_LOGGERS
    }
    if not access_log:
        loggers["uvicorn.access"] = {"handlers": [], "level": "CRITICAL", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"maestro": {"()": "maestro_core_logging._uvicorn.handler"}},
        "loggers": loggers,
    }
