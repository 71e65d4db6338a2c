"""Actor context: bind who / from where / which request for everything logged inside.

Like django-auditlog's ``set_actor``, but on :mod:`contextvars`, so the binding follows
the code into threads started with ``contextvars.copy_context().run`` /
``asyncio.to_thread`` and into asyncio tasks, and never leaks between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})
_CONTEXT: ContextVar[MappingProxyType[str, Any]] = ContextVar(
    "maestro_audit_context", default=_EMPTY
)

CONTEXT_FIELDS = (
    "user_id",
    "on_behalf_of",
    "source_ip",
    "user_agent",
    "correlation_id",
    "service",
)


@contextmanager
def audit_context(
    *,
    user_id: str | None = None,
    on_behalf_of: str | None = None,
    source_ip: str | None = None,
    user_agent: str | None = None,
    correlation_id: str | None = None,
    service: str | None = None,
) -> Iterator[None]:
    """Bind actor fields for every event logged inside the ``with`` block.

    Nested blocks add to (and override) the outer binding; fields set on the event
    itself always win over the context.
    """
    given = {
        "user_id": user_id,
        "on_behalf_of": on_behalf_of,
        "source_ip": source_ip,
        "user_agent": user_agent,
        "correlation_id": correlation_id,
        "service": service,
    }
    merged = dict(_CONTEXT.get())
    merged.update({k: v for k, v in given.items() if v is not None})
    token = _CONTEXT.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> MappingProxyType[str, Any]:
    """Return the fields bound by the enclosing :func:`audit_context` blocks."""
    return _CONTEXT.get()
