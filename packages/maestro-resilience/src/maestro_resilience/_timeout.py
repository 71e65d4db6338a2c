"""Timeouts: event-loop cancellation for async functions; for sync ones a signal-based
deadline on the main thread and a bounded worker pool with an interrupt elsewhere."""

from __future__ import annotations

import contextvars
import functools
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar, cast

from ._compat import is_async_callable
from ._errors import ConfigurationError, TimeoutError
from ._events import Event, Listener, check_listeners, emit, logger
from ._validate import MAX_WAIT, name_of, number, positive_int

__all__ = ["Timeout", "TimeoutStats", "timeout"]

P = ParamSpec("P")
R = TypeVar("R")

_HAS_ITIMER = hasattr(signal, "setitimer")  # not on Windows


class _Deadline:
    """The per-call state of an async timeout: which task to cancel and whether we did."""

    __slots__ = ("fired", "task")

    def __init__(self, task: Any) -> None:
        self.task = task
        self.fired = False


def _fire(deadline: _Deadline) -> None:
    deadline.fired = True
    deadline.task.cancel()


@dataclass(frozen=True, slots=True)
class TimeoutStats:
    """Counters of one :class:`Timeout` since it was created.

    ``abandoned`` counts worker threads running *now* past their deadline: they were told
    to stop but sit in a blocking C call (a ``time.sleep``, a socket read without its own
    timeout) that Python cannot interrupt; each one ends when that call returns.
    ``workers`` is the number of live worker threads, at most ``max_workers``.
    """

    calls: int
    timeouts: int
    abandoned: int
    workers: int
    max_workers: int


# ---- the main thread: SIGALRM ------------------------------------------------------------


class _Expired(BaseException):
    """Raised inside the protected call when its deadline passes (a BaseException, so that
    the call's own ``except Exception`` blocks do not swallow it)."""


class _SignalEntry:
    __slots__ = ("deadline", "done", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.done = False
        self.fired = False


class _SignalExpired(_Expired):
    def __init__(self, entry: _SignalEntry) -> None:
        super().__init__()
        self.entry = entry


_STACK: list[_SignalEntry] = []  # main-thread deadlines, outermost first
_SAVED_HANDLER: list[Any] = []


def _arm() -> None:
    live = [e.deadline for e in _STACK if not e.done and not e.fired]
    if not live:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    # setitimer(0) would disarm: a deadline already due fires after a microsecond.
    signal.setitimer(signal.ITIMER_REAL, max(min(live) - time.monotonic(), 1e-6))


def _on_alarm(signum: int, frame: object) -> None:
    now = time.monotonic()
    for entry in _STACK:
        if not entry.done and not entry.fired and entry.deadline <= now + 1e-4:
            entry.fired = True
            raise _SignalExpired(entry)
    if _STACK:
        _arm()


def _signal_ready() -> bool:
    """True when this main thread may use SIGALRM: nobody else owns the signal."""
    if not _HAS_ITIMER:
        return False
    current = signal.getsignal(signal.SIGALRM)
    if current is _on_alarm:
        return True
    if current not in (signal.SIG_DFL, signal.SIG_IGN, None):
        return False  # the application uses SIGALRM itself
    return bool(signal.getitimer(signal.ITIMER_REAL)[0] == 0)


def _push(seconds: float) -> _SignalEntry:
    # An alarm landing inside _pop can leave a finished entry behind: drop such entries.
    _STACK[:] = [e for e in _STACK if not e.done]
    if not _STACK and signal.getsignal(signal.SIGALRM) is not _on_alarm:
        _SAVED_HANDLER[:] = [signal.signal(signal.SIGALRM, _on_alarm)]
    entry = _SignalEntry(time.monotonic() + seconds)
    _STACK.append(entry)
    _arm()
    return entry


def _pop(entry: _SignalEntry) -> None:
    entry.done = True
    _STACK.remove(entry)
    if _STACK:
        _arm()
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    if _SAVED_HANDLER:
        signal.signal(signal.SIGALRM, _SAVED_HANDLER.pop())


# ---- other threads: a bounded pool, stopped with an asynchronous exception ---------------


class _Interrupted(_Expired):
    """Injected into a worker thread whose caller gave up on it."""


_QUEUED, _RUNNING, _DONE, _CANCELLED = range(4)


class _Task:
    __slots__ = (
        "abandoned",
        "args",
        "context",
        "done",
        "error",
        "fn",
        "kwargs",
        "lock",
        "name",
        "result",
        "state",
        "thread_id",
    )

    def __init__(
        self, name: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.name = name
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.context = contextvars.copy_context()
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.state = _QUEUED
        self.abandoned = False
        self.thread_id = 0
        self.result: Any = None
        self.error: BaseException | None = None


def _interrupt_is_safe() -> bool:
    """False where an asynchronous exception would stall the process.

    On CPython 3.11, while an asynchronous exception is pending for a thread blocked in a C
    call, every thread running under a tracer or profiler (coverage, a debugger, cProfile)
    stops making progress until that C call returns (measured: a 10 ms loop took the
    whole 30 s of the other thread's lock wait). There the abandoned call is left to finish
    on its own, as ``concurrent.futures`` would; 3.12 and later are not affected.
    """
    if sys.version_info >= (3, 12):
        return True
    return (
        sys.gettrace() is None
        and sys.getprofile() is None
        and threading.gettrace() is None
        and threading.getprofile() is None
    )


def _interrupt(thread_id: int) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(_Interrupted)
    )


class _Pool:
    """At most ``limit`` worker threads; a worker whose call was abandoned retires."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.cond = threading.Condition(threading.Lock())
        self.queue: deque[_Task] = deque()
        self.workers = 0
        self.idle = 0
        self.abandoned = 0
        self.calls = 0
        self.timeouts = 0
        # Calls on the main thread's signal path (only that thread writes these).
        self.main_calls = 0
        self.main_timeouts = 0

    def submit(self, task: _Task) -> None:
        with self.cond:
            self.calls += 1
            self.queue.append(task)
            if self.idle:
                self.cond.notify()
                return
            if self.workers >= self.limit:
                return  # it waits for a worker to come free
            self.workers += 1
        threading.Thread(
            target=self._serve, name=f"maestro-timeout-{task.name}", daemon=True
        ).start()

    def _next(self) -> _Task | None:
        with self.cond:
            while not self.queue:
                self.idle += 1
                woke = self.cond.wait(60.0)
                self.idle -= 1
                if not woke and not self.queue:
                    self.workers -= 1
                    return None
            return self.queue.popleft()

    def _serve(self) -> None:
        task: _Task | None = None
        retired = False
        try:
            while True:
                task = self._next()
                if task is None:
                    retired = True
                    return
                if self._run(task):
                    return
                task = None
        except _Interrupted:
            pass
        finally:
            if not retired:
                with self.cond:
                    self.workers -= 1
                    if task is not None and task.abandoned:
                        self.abandoned -= 1
                    if self.queue and self.workers < self.limit:
                        self.workers += 1
                        spawn = True
                    else:
                        spawn = False
                if spawn:
                    threading.Thread(target=self._serve, daemon=True).start()

    def _run(self, task: _Task) -> bool:
        """Run one task; True when it was abandoned (this worker then retires)."""
        with task.lock:
            if task.state == _CANCELLED:
                return False
            task.state = _RUNNING
            task.thread_id = threading.get_ident()
        try:
            task.result = task.context.run(task.fn, *task.args, **task.kwargs)
        except _Interrupted:
            task.error = None
            logger.debug("timeout %r: the abandoned call was stopped", task.name)
        except BaseException as exc:
            task.error = exc
        with task.lock:
            task.state = _DONE
            abandoned = task.abandoned
        task.done.set()
        if abandoned:
            if task.error is not None:
                logger.debug(
                    "timeout %r: the abandoned call finished late with %r; its error is discarded",
                    task.name,
                    task.error,
                )
            task.result = task.error = None
        return abandoned

    def abandon(self, task: _Task) -> bool:
        """Give up on ``task``; False if it finished meanwhile (its outcome stands)."""
        with task.lock:
            if task.state == _DONE:
                return False
            if task.state == _QUEUED:
                task.state = _CANCELLED
                with self.cond:
                    self.timeouts += 1
                return True
            task.abandoned = True
            with self.cond:
                self.timeouts += 1
                self.abandoned += 1
            if _interrupt_is_safe():
                _interrupt(task.thread_id)
            else:
                logger.debug(
                    "timeout %r: not interrupting the abandoned call under a tracer on "
                    "Python 3.11; it runs until it returns",
                    task.name,
                )
        return True


def _on_event_loop() -> bool:
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


class Timeout:
    """Give up on a call after ``seconds`` and raise :class:`TimeoutError`.

    ``async def`` functions are cancelled through the event loop, exactly like
    ``asyncio.timeout``. A sync function called on the main thread runs right there under
    a ``SIGALRM`` deadline: when it passes, the call is interrupted where it is, even in
    ``time.sleep`` or a blocking socket call, its ``finally`` blocks run, and the caller
    gets :class:`TimeoutError`. Elsewhere (another thread, or a main thread whose
    ``SIGALRM`` the application uses) the call runs on one of at most ``max_workers``
    worker threads; at the deadline the caller gets :class:`TimeoutError` and the worker
    is interrupted at its next Python instruction. What cannot be stopped is a worker
    blocked inside one C call (``time.sleep``, a socket read with no timeout of its own):
    it stops when that call returns, and :meth:`stats` counts it as ``abandoned`` until
    then. A sync timeout called on an event loop's thread is refused: it would block the
    loop.
    """

    __slots__ = ("_explicit_name", "_listeners", "_name", "_pool", "_seconds")

    def __init__(
        self,
        seconds: float | timedelta = 5.0,
        *,
        name: str | None = None,
        listeners: Iterable[Listener] = (),
        max_workers: int | None = None,
    ) -> None:
        if callable(seconds):
            raise ConfigurationError(
                "timeout takes parameters, not the function: write @timeout(seconds=5.0)"
            )
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        self._seconds = number("seconds", seconds, minimum=0, inclusive=False, maximum=MAX_WAIT)
        self._name = name_of(name, "timeout")
        self._explicit_name = name is not None
        self._listeners = check_listeners(listeners, "listeners")
        limit = min(32, (os.cpu_count() or 1) + 4) if max_workers is None else max_workers
        self._pool = _Pool(positive_int("max_workers", limit))

    @property
    def seconds(self) -> float:
        """The time limit."""
        return self._seconds

    @property
    def name(self) -> str:
        """The name shown in errors, events and logs (default: the decorated function's)."""
        return self._name

    def stats(self) -> TimeoutStats:
        """Sync calls and timeouts so far, and the worker threads now."""
        pool = self._pool
        with pool.cond:
            return TimeoutStats(
                pool.calls + pool.main_calls,
                pool.timeouts + pool.main_timeouts,
                pool.abandoned,
                pool.workers,
                pool.limit,
            )

    def __repr__(self) -> str:
        return f"<Timeout {self._name!r} seconds={self._seconds:g}>"

    def _expired(self, fn: Callable[..., Any]) -> TimeoutError:
        # Unnamed timeouts report the function they guard, which is what a reader needs.
        name = self._name
        if not self._explicit_name:
            name = getattr(fn, "__qualname__", name)
        emit(self._listeners, Event("timeout", "timeout", name, seconds=self._seconds))
        return TimeoutError(name, self._seconds)

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a function, method or ``async def`` function with this time limit."""
        if not callable(fn):
            raise ConfigurationError(f"timeout decorates callables, got {fn!r}")
        seconds = self._seconds
        expired = self._expired
        if is_async_callable(fn):
            import asyncio

            afn = cast(Callable[..., Awaitable[Any]], fn)
            cancelled_error = asyncio.CancelledError
            get_running_loop = asyncio.get_running_loop
            current_task = asyncio.current_task

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                loop = get_running_loop()
                task = current_task(loop)
                if task is None:
                    raise RuntimeError("timeout must be awaited inside an asyncio task")
                cancelling = task.cancelling()
                deadline = _Deadline(task)
                handle = loop.call_at(loop.time() + seconds, _fire, deadline)
                try:
                    return await afn(*args, **kwargs)
                except cancelled_error as exc:
                    if deadline.fired:
                        deadline.fired = False
                        # Only our own cancellation becomes a timeout; one requested by
                        # someone else as well stays a cancellation (as asyncio.timeout).
                        if task.uncancel() <= cancelling:
                            raise expired(fn) from exc
                    raise
                finally:
                    handle.cancel()
                    if deadline.fired:
                        task.uncancel()

            return cast(Callable[P, R], async_wrapper)

        name = self._name
        pool = self._pool
        get_ident = threading.get_ident
        main_thread = threading.main_thread

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if _on_event_loop():
                raise ConfigurationError(
                    f"the sync timeout {name!r} was called on the thread of a running event "
                    "loop, where waiting would block the loop: make the function async, or "
                    "run it with asyncio.to_thread"
                )
            # Looked up per call: after a fork the child's main thread is another one.
            if get_ident() == main_thread().ident and _signal_ready():
                pool.main_calls += 1
                entry = _push(seconds)
                try:
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        _pop(entry)
                except _SignalExpired as exc:
                    if exc.entry is entry:
                        pool.main_timeouts += 1
                        raise expired(fn) from None
                    raise
            task = _Task(name, fn, args, kwargs)
            pool.submit(task)
            try:
                finished = task.done.wait(seconds)
            except BaseException:
                pool.abandon(task)  # an outer deadline interrupted the wait
                raise
            if not finished and pool.abandon(task):
                raise expired(fn)
            error = task.error
            if error is not None:
                task.error = None
                raise error
            return cast(R, task.result)

        return wrapper


timeout = Timeout
