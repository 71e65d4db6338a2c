"""Coroutine-function detection, done without importing asyncio."""

from __future__ import annotations

import functools

from maestro_resilience._compat import is_async_callable


async def coro(x: int) -> int:
    return x


def plain(x: int) -> int:
    return x


class AsyncCallable:
    async def __call__(self) -> None:
        pass


class SyncCallable:
    def __call__(self) -> None:
        pass


def test_detects_async_functions_methods_partials_and_callables() -> None:
    """async def functions, bound methods, partials and async __call__ objects are async."""

    class Service:
        async def get(self) -> None:
            pass

    assert is_async_callable(coro)
    assert is_async_callable(Service().get)
    assert is_async_callable(functools.partial(coro, 1))
    assert is_async_callable(functools.partial(functools.partial(coro), 1))
    assert is_async_callable(AsyncCallable())


def test_sync_callables_are_not_async() -> None:
    """Plain functions, partials of them, builtins and sync callables are not async."""
    assert not is_async_callable(plain)
    assert not is_async_callable(functools.partial(plain, 1))
    assert not is_async_callable(len)
    assert not is_async_callable(SyncCallable())
    assert not is_async_callable(lambda: coro(1))
