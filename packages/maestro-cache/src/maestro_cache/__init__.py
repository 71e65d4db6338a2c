"""maestro-cache: one cache API over memory, Redis and a tiered L1+Redis cache."""

from ._caches import InMemoryCache, RedisCache
from ._common import FOREVER, MISSING
from ._decorator import cached
from ._errors import (
    CacheConfigError,
    CacheLockTimeoutError,
    CacheReentrancyError,
    CacheSerializationError,
    CacheUnavailableError,
    ConfigurationError,
    MaestroCacheError,
    MissingExtraError,
)
from ._interface import CacheInterface, CacheStats
from ._service import CacheService, get_cache, set_default_cache
from ._sync import SyncCache
from ._tiered import TieredCache
from ._version import __version__

__all__ = [  # noqa: RUF022 - plain sorted(), as the family contract checks
    "CacheConfigError",
    "CacheInterface",
    "CacheLockTimeoutError",
    "CacheReentrancyError",
    "CacheSerializationError",
    "CacheService",
    "CacheStats",
    "CacheUnavailableError",
    "ConfigurationError",
    "FOREVER",
    "InMemoryCache",
    "MISSING",
    "MaestroCacheError",
    "MissingExtraError",
    "RedisCache",
    "SyncCache",
    "TieredCache",
    "__version__",
    "cached",
    "get_cache",
    "set_default_cache",
]
