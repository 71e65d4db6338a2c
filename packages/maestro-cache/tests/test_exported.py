"""The public namespace is exactly __all__, importing stays light, errors form one family."""

from __future__ import annotations

import maestro_cache
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ is sorted and lists exactly the public names."""
    assert_public_namespace(maestro_cache)


def test_spec_names_are_exported() -> None:
    """The names of the spec (and of the original package) are all there."""
    expected = {
        "FOREVER", "MISSING", "CacheInterface", "CacheService", "CacheStats", "InMemoryCache",
        "RedisCache", "SyncCache", "TieredCache", "cached", "get_cache", "set_default_cache",
        "MaestroCacheError", "CacheConfigError", "CacheUnavailableError",
        "CacheSerializationError", "CacheLockTimeoutError", "CacheReentrancyError",
        "MissingExtraError",
    }  # fmt: skip
    assert expected <= set(maestro_cache.__all__)


def test_import_is_light() -> None:
    """import maestro_cache loads neither redis nor msgpack nor pydantic."""
    assert_light_import("maestro_cache", ["redis", "msgpack", "pydantic", "hiredis"])


def test_version_comes_from_the_metadata() -> None:
    """__version__ matches the installed distribution."""
    assert maestro_cache.__version__ == package_version("maestro-cache")


def test_error_family() -> None:
    """Every error is a MaestroCacheError; config errors are ValueErrors, timeouts TimeoutErrors."""
    base = maestro_cache.MaestroCacheError
    for name in maestro_cache.__all__:
        obj = getattr(maestro_cache, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, base), name
    assert issubclass(maestro_cache.CacheConfigError, ValueError)
    assert issubclass(maestro_cache.CacheLockTimeoutError, TimeoutError)
    error = maestro_cache.CacheReentrancyError("k")
    assert "k" in str(error)
