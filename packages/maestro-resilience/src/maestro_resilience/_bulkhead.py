"""The bulkhead: a cap on concurrent calls, with a bounded, timed wait queue."""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import timedelta
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar, cast

from ._compat import is_async_callable, warn_deprecated
from ._errors import BulkheadFullError, ConfigurationError
from ._events import Event, Listener, check_listeners, emit
from ._validate import MAX_WAIT, name_of, optional_number, positive_int

__all__ = ["Bulkhead"]

P = ParamSpec("P")
R = TypeVar("R")


class _Waiter:
    """One queued caller: a thread (``event``) or a task (``future`` on ``loop``)."""

    __slots__ = ("event", "future", "granted", "loop")

    def __init__(self, event: threading.Event | None, loop: Any = None, future: Any = None):
        self.event = event
        self.loop = loop
        self.future = future
        self.granted = False


def _wake(future: Any) -> None:
    if not future.done():
        future.set_result(None)


class Bulkhead:
    """Let at most ``max_concurrent`` calls run at once; queue up to ``max_waiting`` more.

    A queued call waits up to ``wait_timeout`` seconds (None: as long as it takes) for a
    slot, first come first served; a call that finds the queue full, or whose wait times
    out, is rejected with :class:`BulkheadFullError` without running. Threads and asyncio
    tasks can share one bulkhead; a slot is handed straight to the next waiter when freed.
    """

    __slots__ = (
        "_active",
        "_listeners",
        "_lock",
        "_max_concurrent",
        "_max_waiting",
        "_name",
        "_rejected",
        "_wait_timeout",
        "_waiters",
    )

    def __init__(
        self,
        max_concurrent: int = 10,
        max_waiting: int = 0,
        wait_timeout: float | timedelta | None = None,
        *,
        name: str | None = None,
        listeners: Iterable[Listener] = (),
    ) -> None:
        self._max_concurrent = positive_int("max_concurrent", max_concurrent)
        self._max_waiting = positive_int("max_waiting", max_waiting, minimum=0)
        if isinstance(wait_timeout, timedelta):
            wait_timeout = wait_timeout.total_seconds()
        self._wait_timeout = optional_number(
            "wait_timeout", wait_timeout, minimum=0, maximum=MAX_WAIT
        )
        if self._max_waiting == 0 and wait_timeout is not None:
            raise ConfigurationError(
                "wait_timeout has no effect with max_waiting=0 (no call ever waits); "
                "give max_waiting > 0 or leave wait_timeout out"
            )
        self._name = name_of(name, "bulkhead")
        self._listeners = check_listeners(listeners)
        self._lock = threading.Lock()
        self._active = 0
        self._rejected = 0
        self._waiters: deque[_Waiter] = deque()

    @property
    def name(self) -> str:
        """The name shown in errors, events and logs."""
        return self._name

    @property
    def active(self) -> int:
        """Calls running now."""
        return self._active

    @property
    def waiting(self) -> int:
        """Calls queued for a slot now."""
        return len(self._waiters)

    @property
    def rejected(self) -> int:
        """Calls rejected since creation."""
        return self._rejected

    @property
    def available(self) -> int:
        """Free slots now."""
        return self._max_concurrent - self._active

    def __repr__(self) -> str:
        return (
            f"<Bulkhead {self._name!r} active={self._active}/{self._max_concurrent} "
            f"waiting={len(self._waiters)}/{self._max_waiting}>"
        )

    def _reject(self, reason: str) -> BulkheadFullError:
        with self._lock:
            self._rejected += 1
        error = BulkheadFullError(self._name, reason)
        emit(self._listeners, Event("rejected", "bulkhead", self._name, exception=error))
        return error

    def _try_enter(self, waiter_factory: Callable[[], _Waiter]) -> _Waiter | None:
        """Take a slot (None) or enqueue a waiter (returned); raise when the queue is full."""
        with self._lock:
            if self._active < self._max_concurrent and not self._waiters:
                self._active += 1
                return None
            if len(self._waiters) < self._max_waiting:
                waiter = waiter_factory()
                self._waiters.append(waiter)
                return waiter
        raise self._reject(
            f"all {self._max_concurrent} slots are busy and the wait queue "
            f"({self._max_waiting}) is full"
        )

    def _release(self) -> None:
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                waiter.granted = True  # the slot passes to the waiter: _active is unchanged
                if waiter.event is not None:
                    waiter.event.set()
                    return
                if not waiter.future.done():
                    waiter.loop.call_soon_threadsafe(_wake, waiter.future)
                    return
                waiter.granted = False  # its task was cancelled: try the next one
            self._active -= 1

    def _give_up_wait(self, waiter: _Waiter) -> bool:
        """Leave the queue; True if a slot was granted meanwhile (the caller now owns it)."""
        with self._lock:
            if waiter.granted:
                return True
            # _release may already have dropped a waiter whose task was cancelled.
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            return False

    def acquire(self) -> None:
        """Take a slot for the current thread, waiting if allowed; pair with :meth:`release`."""
        waiter = self._try_enter(lambda: _Waiter(threading.Event()))
        if waiter is None:
            return
        assert waiter.event is not None
        if waiter.event.wait(self._wait_timeout) or self._give_up_wait(waiter):
            return
        raise self._reject(f"no slot became free within {self._wait_timeout:g}s")

    async def aacquire(self) -> None:
        """Take a slot for the current task, waiting if allowed; pair with :meth:`release`."""
        import asyncio

        loop = asyncio.get_running_loop()
        waiter = self._try_enter(lambda: _Waiter(None, loop, loop.create_future()))
        if waiter is None:
            return
        try:
            if self._wait_timeout is None:
                await waiter.future
            else:
                await asyncio.wait_for(asyncio.shield(waiter.future), self._wait_timeout)
        except asyncio.CancelledError:
            if self._give_up_wait(waiter):
                self._release()
            raise
        except TimeoutError:
            if self._give_up_wait(waiter):
                return
            raise self._reject(f"no slot became free within {self._wait_timeout:g}s") from None

    def acquire_async(self) -> Coroutine[Any, Any, None]:
        """Deprecated name of :meth:`aacquire` (warns once)."""
        warn_deprecated("Bulkhead.acquire_async", "Bulkhead.aacquire")
        return self.aacquire()

    def release(self) -> None:
        """Give back a slot taken by :meth:`acquire` or :meth:`aacquire`."""
        self._release()

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a function, method or ``async def`` function with this bulkhead."""
        if not callable(fn):
            raise ConfigurationError(f"Bulkhead decorates callables, got {fn!r}")
        if is_async_callable(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                await self.aacquire()
                try:
                    return await afn(*args, **kwargs)
                finally:
                    self._release()

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            self.acquire()
            try:
                return fn(*args, **kwargs)
            finally:
                self._release()

        return wrapper

    def __enter__(self) -> Bulkhead:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self._release()
        return False

    async def __aenter__(self) -> Bulkhead:
        await self.aacquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self._release()
        return False
