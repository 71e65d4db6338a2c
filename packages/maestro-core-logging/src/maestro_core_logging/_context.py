"""Request-scoped context: key/value pairs added to every line logged in this context.

The context lives in one ``ContextVar`` holding an immutable-by-convention dict that is
replaced (never mutated) on every change.  A ``ContextVar`` gives the semantics services
need: each asyncio task starts with a copy of its creator's context, so a task's bindings
never leak into its siblings; each new thread starts empty, so threads never see each
other's bindings; ``asyncio.to_thread`` and ``contextvars.copy_context().run`` carry the
caller's context along.  Reading it on the hot path is one ``ContextVar.get``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_EMPTY: dict[str, Any] = {}
CONTEXT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "maestro_core_logging_context", default=_EMPTY
)


def bind_context(**values: Any) -> None:
    """Add *values* to the context of the current task or thread until unbound or cleared."""
    CONTEXT.set({**CONTEXT.get(), **values})


def unbind_context(*keys: str) -> None:
    """Remove *keys* from the current context; keys that are not bound are ignored."""
    current = CONTEXT.get()
    if any(key in current for key in keys):
        CONTEXT.set({k: v for k, v in current.items() if k not in keys})


def clear_context() -> None:
    """Remove every key from the current context."""
    CONTEXT.set(_EMPTY)


def get_context() -> dict[str, Any]:
    """Return a copy of the current context."""
    return dict(CONTEXT.get())


@contextmanager
def log_context(**values: Any) -> Iterator[dict[str, Any]]:
    """Bind *values* for the duration of a ``with`` block, then restore the previous context.

    Keys bound inside the block (with ``bind_context``) are dropped on exit as well, and
    keys the block shadowed get their outer values back.
    """
    previous = CONTEXT.get()
    token = CONTEXT.set({**previous, **values})
    try:
        yield dict(CONTEXT.get())
    finally:
        try:
            CONTEXT.reset(token)
        except ValueError:
            # The block ended in another Context (e.g. an async generator finalised
            # elsewhere): restoring the value is still right, resetting the token is not.
            CONTEXT.set(previous)
