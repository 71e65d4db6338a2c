"""The exceptions of maestro-cache: one family, rooted in MaestroCacheError.

Hierarchy::

    Exception
     +-- MaestroCacheError
          +-- ConfigurationError          also a ValueError: a bad argument (the family's name)
          |    +-- CacheConfigError       a bad URL, key, TTL or serializer (what we raise)
          +-- CacheUnavailableError       the cache server cannot be reached (and the
          |                               operation cannot fail open: counters, add, locks)
          +-- CacheSerializationError     a value cannot be stored, or a signed payload
          |                               failed its HMAC check
          +-- CacheLockTimeoutError       also a builtins.TimeoutError: a lock or a loader
          |                               did not finish in time
          +-- CacheReentrancyError        a loader asked for the key it is loading
     +-- ImportError
          +-- MissingExtraError           also a MaestroCacheError: an optional extra is
                                          not installed
"""

from __future__ import annotations

import builtins

__all__ = [
    "CacheConfigError",
    "CacheLockTimeoutError",
    "CacheReentrancyError",
    "CacheSerializationError",
    "CacheUnavailableError",
    "ConfigurationError",
    "MaestroCacheError",
    "MissingExtraError",
]


class MaestroCacheError(Exception):
    """Base class of every error raised by maestro-cache."""


class ConfigurationError(MaestroCacheError, ValueError):
    """A bad argument or setting: the name every Maestro package uses for it."""


class CacheConfigError(ConfigurationError):
    """A bad argument (URL scheme, key, TTL, serializer, key template); says how to fix it."""


class CacheUnavailableError(MaestroCacheError):
    """The cache server cannot be reached, or its circuit breaker is open.

    Reads and plain writes fail open (a miss, ``False``) when ``fail_open=True``; counters,
    ``add`` and locks raise this error because their result cannot be faked.
    """


class CacheSerializationError(MaestroCacheError):
    """A value could not be serialized, or a stored payload could not be trusted."""


class CacheLockTimeoutError(MaestroCacheError, builtins.TimeoutError):
    """A loader or a cross-process lock did not finish within its timeout."""


class CacheReentrancyError(MaestroCacheError):
    """A loader called ``get_or_set`` for the key it is loading (this would deadlock)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"re-entrant load of cache key {key!r}: the loader for this key asked for the same "
            "key again; load the inner value under another key or call the loader directly"
        )

    def __reduce__(self) -> tuple[type[CacheReentrancyError], tuple[str]]:
        return (type(self), (self.key,))


class MissingExtraError(MaestroCacheError, ImportError):
    """An optional dependency is not installed; the message names the pip command."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the {extra} extra: pip install 'maestro-cache[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        return (type(self), (self.feature, self.extra, self.module))
