"""Timeouts: event-loop cancellation for async functions, a watched worker thread for sync ones."""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar, cast

from ._compat import is_async_callable
from ._errors import TimeoutError
from ._events import Event, Listener, check_listeners, emit, logger
from ._validate import MAX_WAIT, name_of, number

__all__ = ["Timeout", "timeout"]

P = ParamSpec("P")
R = TypeVar("R")


class _Deadline:
    """The per-call state of an async timeout: which task to cancel and whether we did."""

    __slots__ = ("fired", "task")

    def __init__(self, task: Any) -> None:
        self.task = task
        self.fired = False


def _fire(deadline: _Deadline) -> None:
    deadline.fired = True
    deadline.task.cancel()


class _Outcome:
    """Where the worker thread of a sync timeout leaves its result."""

    __slots__ = ("abandoned", "done", "error", "lock", "name", "result")

    def __init__(self, name: str) -> None:
        self.name = name
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.abandoned = False
        self.result: Any = None
        self.error: BaseException | None = None


def _work(
    outcome: _Outcome,
    context: contextvars.Context,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    name = outcome.name
    try:
        outcome.result = context.run(fn, *args, **kwargs)
    except BaseException as exc:
        outcome.error = exc
    with outcome.lock:
        outcome.done.set()
        abandoned = outcome.abandoned
    if abandoned:
        if outcome.error is not None:
            logger.debug(
                "timeout %r: the abandoned call finished late with %r; its error is discarded",
                name,
                outcome.error,
            )
        else:
            logger.debug("timeout %r: the abandoned call finished late; result discarded", name)
        outcome.result = outcome.error = None


class Timeout:
    """Give up waiting for a call after ``seconds`` and raise :class:`TimeoutError`.

    ``async def`` functions are cancelled through the event loop, exactly like
    ``asyncio.timeout``: the coroutine receives ``CancelledError`` at its current ``await``
    and stops there. A sync function runs in a new daemon thread while the caller waits
    at most ``seconds`` for it. A running thread cannot be killed in Python, so on timeout
    the caller gets :class:`TimeoutError` at once while the function *keeps running* in
    its thread until it returns by itself; its late result or exception is discarded (and
    logged at DEBUG on ``maestro.resilience``). Give sync work its own deadline (socket
    timeouts, a cancellation flag) if it must really stop.
    """

    __slots__ = ("_explicit_name", "_listeners", "_name", "_seconds")

    def __init__(
        self,
        seconds: float = 5.0,
        *,
        name: str | None = None,
        listeners: Iterable[Listener] = (),
    ) -> None:
        if callable(seconds):
            raise TypeError(
                "timeout takes parameters, not the function: write @timeout(seconds=5.0)"
            )
        self._seconds = number("seconds", seconds, minimum=0, inclusive=False, maximum=MAX_WAIT)
        self._name = name_of(name, "timeout")
        self._explicit_name = name is not None
        self._listeners = check_listeners(listeners)

    @property
    def seconds(self) -> float:
        """The time limit."""
        return self._seconds

    @property
    def name(self) -> str:
        """The name shown in errors, events and logs (default: the decorated function's)."""
        return self._name

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
            raise TypeError(f"timeout decorates callables, got {fn!r}")
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

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            outcome = _Outcome(name)
            thread = threading.Thread(
                target=_work,
                args=(outcome, contextvars.copy_context(), fn, args, kwargs),
                name=f"maestro-timeout-{name}",
                daemon=True,
            )
            thread.start()
            if not outcome.done.wait(seconds):
                with outcome.lock:
                    late = outcome.done.is_set()
                    outcome.abandoned = not late
                if not late:
                    raise expired(fn)
            error = outcome.error
            if error is not None:
                outcome.error = None
                raise error
            return cast(R, outcome.result)

        return wrapper


timeout = Timeout
