"""Detecting coroutine functions without importing asyncio until an async path runs."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["is_async_callable", "warn_deprecated"]

_WARNED: set[str] = set()


def warn_deprecated(old: str, new: str) -> None:
    """Warn once per process that ``old`` is deprecated in favour of ``new``."""
    if old in _WARNED:
        return
    _WARNED.add(old)
    warnings.warn(
        f"{old} is deprecated and will be removed in 2.0; use {new}",
        DeprecationWarning,
        stacklevel=3,
    )


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """True for ``async def`` functions, bound methods and partials of them."""
    while True:
        if inspect.iscoroutinefunction(fn):
            return True
        inner = getattr(fn, "func", None)  # functools.partial
        if inner is None or inner is fn:
            break
        fn = inner
    call = getattr(fn, "__call__", None)  # noqa: B004 - instances with async __call__
    return call is not None and not inspect.isfunction(fn) and inspect.iscoroutinefunction(call)
