"""``StructuredFormatter``: the configured rendering for handlers something else sets up."""

from __future__ import annotations

import logging
from typing import Any

from ._config import PROCESSORS, SINK, ensure_configured
from ._stdlib import render_record

__all__ = ["StructuredFormatter"]


class StructuredFormatter(logging.Formatter):
    """A ``logging.Formatter`` that renders records like ``configure_logging``'s output.

    For handlers that something else sets up, for instance uvicorn's or gunicorn's
    ``dictConfig`` (``"()": "maestro_core_logging.StructuredFormatter"``): the line has
    the configured format, fields, context and redaction.  Format strings given to it
    (``format``, ``datefmt``, ``style``) are accepted for dictConfig's sake and unused:
    the configured renderer decides the layout.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def format(self, record: logging.LogRecord) -> str:
        """Return the rendered line for *record*, without its newline."""
        ensure_configured()
        line = render_record(record, PROCESSORS, SINK)
        if line is None:
            return ""
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)
        return text.rstrip("\n")
