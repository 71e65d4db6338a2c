"""maestro-cache: one cache API over memory, Redis and a tiered L1+Redis cache."""

from ._errors import (
    CacheConfigError,
    CacheLockTimeoutError,
    CacheReentrancyError,
    CacheSerializationError,
    CacheUnavailableError,
    MaestroCacheError,
    MissingExtraError,
)
from ._version import __version__

__all__ = [
    "CacheConfigError",
    "CacheLockTimeoutError",
    "CacheReentrancyError",
    "CacheSerializationError",
    "CacheUnavailableError",
    "MaestroCacheError",
    "MissingExtraError",
    "__version__",
]
