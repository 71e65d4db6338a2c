"""Uncaught exceptions as log lines (``configure_logging(log_uncaught=True)``).

Like Powertools' ``log_uncaught_exceptions``: an exception that ends the program, or a
thread, is written as one structured line (type, message, stack) instead of a bare
traceback on stderr.  ``KeyboardInterrupt`` keeps Python's own handling.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any

_ORIGINAL: dict[str, Any] = {}


def _log_main(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        _ORIGINAL.get("sys", sys.__excepthook__)(kind, value, tb)
        return
    _ORIGINAL["logger"]("maestro.uncaught").critical(
        "uncaught exception", exc_info=(kind, value, tb)
    )


def _log_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return  # threading ignores SystemExit in threads; so do we
    _ORIGINAL["logger"]("maestro.uncaught").error(
        "uncaught exception in thread",
        thread=args.thread.name if args.thread is not None else None,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def install_hooks(get_logger: Any) -> None:
    """Route uncaught exceptions of the main program and of threads to ``get_logger``'s."""
    _ORIGINAL["logger"] = get_logger
    if sys.excepthook is not _log_main:
        _ORIGINAL["sys"] = sys.excepthook
        sys.excepthook = _log_main
    if threading.excepthook is not _log_thread:
        _ORIGINAL["threading"] = threading.excepthook
        threading.excepthook = _log_thread


def remove_hooks() -> None:
    """Put back the hooks that were there before ``install_hooks`` (if ours are still set)."""
    if sys.excepthook is _log_main:
        sys.excepthook = _ORIGINAL.pop("sys", sys.__excepthook__)
    if threading.excepthook is _log_thread:
        threading.excepthook = _ORIGINAL.pop("threading", threading.__excepthook__)
