"""Fallback: return a value (or a handler's answer) instead of raising on given exceptions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar, cast

from ._compat import is_async_callable
from ._errors import ConfigurationError
from ._events import Event, Listener, check_listeners, emit
from ._validate import exception_matcher, name_of

__all__ = ["Fallback"]

P = ParamSpec("P")
R = TypeVar("R")

_MISSING: Any = object()


class Fallback:
    """Answer with ``value``, or with ``handler(exception)``, when the call raises ``on``.

    Give exactly one of ``value`` and ``handler``. ``on`` is an exception type, a tuple of
    types or a predicate (default ``Exception``). Cancellation, ``KeyboardInterrupt`` and
    ``SystemExit`` are never replaced. For ``async def`` functions the handler may be async.
    """

    __slots__ = ("_handler", "_listeners", "_name", "_on_pred", "_on_types", "_value")

    def __init__(
        self,
        value: Any = _MISSING,
        *,
        handler: Callable[[BaseException], Any] | None = None,
        on: type[BaseException]
        | tuple[type[BaseException], ...]
        | Callable[[BaseException], bool] = Exception,
        name: str | None = None,
        listeners: Iterable[Listener] = (),
    ) -> None:
        if (value is _MISSING) == (handler is None):
            raise ConfigurationError("Fallback needs exactly one of value=... and handler=...")
        if handler is not None and not callable(handler):
            raise ConfigurationError(
                f"handler must be a callable taking the exception, got {handler!r}"
            )
        self._value = value
        self._handler = handler
        self._on_types, self._on_pred = exception_matcher("on", on)
        self._name = name_of(name, "fallback")
        self._listeners = check_listeners(listeners)

    @property
    def name(self) -> str:
        """The name shown in events and logs."""
        return self._name

    def __repr__(self) -> str:
        what = f"handler={self._handler!r}" if self._handler else f"value={self._value!r}"
        return f"<Fallback {self._name!r} {what}>"

    def _handles(self, exc: BaseException) -> bool:
        if not isinstance(exc, Exception):
            return False
        if self._on_pred is not None:
            return bool(self._on_pred(exc))
        return isinstance(exc, self._on_types)

    def _answer(self, exc: BaseException) -> Any:
        emit(self._listeners, Event("fallback", "fallback", self._name, exception=exc))
        if self._handler is not None:
            return self._handler(exc)
        return self._value

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a function, method or ``async def`` function with this fallback."""
        if not callable(fn):
            raise ConfigurationError(f"Fallback decorates callables, got {fn!r}")
        if (
            self._handler is not None
            and is_async_callable(self._handler)
            and not is_async_callable(fn)
        ):
            raise ConfigurationError(
                f"handler {self._handler!r} is async but {fn!r} is a sync function, "
                "which cannot await it; give a sync handler"
            )
        if is_async_callable(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await afn(*args, **kwargs)
                except BaseException as exc:
                    if not self._handles(exc):
                        raise
                    answer = self._answer(exc)
                if inspect.isawaitable(answer):
                    return await answer
                return answer

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                if not self._handles(exc):
                    raise
                return cast(R, self._answer(exc))

        return wrapper
