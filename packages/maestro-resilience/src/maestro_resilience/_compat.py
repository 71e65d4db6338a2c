"""Detecting coroutine functions without importing asyncio until an async path runs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["is_async_callable"]


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
