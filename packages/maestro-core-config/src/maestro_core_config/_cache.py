"""Build settings once per class and hand out the same frozen instance afterwards."""

from __future__ import annotations

import threading
from typing import Any, TypeVar, cast

from pydantic_settings import BaseSettings

__all__ = ["clear_settings_cache", "get_settings", "reload"]

S = TypeVar("S", bound=BaseSettings)

_cache: dict[type[Any], Any] = {}
# Only the first build of a class takes the lock; the hit path is a plain dict lookup.
# Re-entrant: a settings class whose validator asks for another one must not deadlock.
_lock = threading.RLock()


def get_settings(cls: type[S]) -> S:
    """The settings of `cls`, built on first use and cached; later calls return the same object.

    A build that fails raises and caches nothing, so the next call tries again.
    """
    try:
        return cast(S, _cache[cls])
    except KeyError:
        pass
    with _lock:
        cached = _cache.get(cls)
        if cached is None:
            cached = _cache[cls] = cls()
        return cast(S, cached)


def reload(cls: type[S]) -> S:
    """Build `cls` again from its sources and cache the new instance, which is returned.

    If the new build fails, the error is raised and the previous instance stays cached:
    a bad change to the configuration never takes away one that was already accepted.
    """
    with _lock:
        fresh = cls()
        _cache[cls] = fresh
        return fresh


def clear_settings_cache() -> None:
    """Forget every cached instance (for tests); the next `get_settings` builds again."""
    with _lock:
        _cache.clear()
