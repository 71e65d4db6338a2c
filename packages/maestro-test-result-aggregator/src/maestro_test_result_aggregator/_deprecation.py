"""Deprecated spellings: each warns once per process with the new name, then keeps working."""

from __future__ import annotations

import os
import threading
import warnings

_warned: set[str] = set()
_lock = threading.Lock()


def warn_once(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Emit one ``DeprecationWarning`` per process saying ``old`` is now ``new``."""
    with _lock:
        if old in _warned:
            return
        _warned.add(old)
    warnings.warn(
        f"{old} is deprecated; use {new} instead", DeprecationWarning, stacklevel=stacklevel
    )


def getenv(name: str, old_name: str) -> str | None:
    """Read ``name`` (the family's ``MAESTRO_<SECTION>__<FIELD>`` spelling), else the old one."""
    value = os.environ.get(name)
    if value:
        return value
    value = os.environ.get(old_name)
    if value:
        warn_once(f"the environment variable {old_name}", name, stacklevel=4)
        return value
    return None
