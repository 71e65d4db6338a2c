"""The context variable holding the debug scope of the current unit of work."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._scope import DebugScope

__all__ = ["SCOPE"]

SCOPE: contextvars.ContextVar[DebugScope | None] = contextvars.ContextVar(
    "maestro_core_logging_debug_scope", default=None
)
