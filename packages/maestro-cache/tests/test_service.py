"""CacheService: the backend by URL, the environment (new and deprecated names), settings."""

from __future__ import annotations

import pytest
from maestro_cache import (
    CacheConfigError,
    CacheService,
    InMemoryCache,
    MissingExtraError,
    RedisCache,
    TieredCache,
    get_cache,
    set_default_cache,
)
from maestro_cache._redis import parse_redis_url


def test_default_is_the_in_process_store() -> None:
    """CacheService() with an empty environment is memory://, one hour, no prefix."""
    cache = CacheService(environ={})
    assert isinstance(cache.backend, InMemoryCache)
    assert cache.default_ttl == 3600
    cache.sync.set("a", 1)
    assert cache.sync.get("a") == 1


def test_new_environment_names() -> None:
    """MAESTRO_CACHE__* variables configure the cache."""
    env = {
        "MAESTRO_CACHE__URL": "memory://",
        "MAESTRO_CACHE__DEFAULT_TTL": "30",
        "MAESTRO_CACHE__KEY_PREFIX": "orders",
        "MAESTRO_CACHE__MAX_SIZE": "5",
    }
    cache = CacheService(environ=env)
    assert cache.default_ttl == 30
    assert cache.key_prefix == "orders"
    backend = cache.backend
    assert isinstance(backend, InMemoryCache)
    assert backend.max_size == 5


@pytest.mark.parametrize(
    ("old", "new", "value"),
    [
        ("MAESTRO_CACHE_URL", "MAESTRO_CACHE__URL", "memory://"),
        ("MAESTRO_CACHE_TTL", "MAESTRO_CACHE__DEFAULT_TTL", "30"),
        ("MAESTRO_CACHE_PREFIX", "MAESTRO_CACHE__KEY_PREFIX", "orders"),
        ("MAESTRO_CACHE_MAX_SIZE", "MAESTRO_CACHE__MAX_SIZE", "5"),
    ],
)
def test_original_environment_names_warn(old: str, new: str, value: str) -> None:
    """The original MAESTRO_CACHE_* names work, with a DeprecationWarning naming the new one."""
    with pytest.warns(DeprecationWarning, match=new):
        CacheService(environ={old: value})


def test_explicit_arguments_beat_the_environment() -> None:
    """An argument is never replaced by the environment; default_ttl=0 is an error."""
    cache = CacheService(default_ttl=5, environ={"MAESTRO_CACHE__DEFAULT_TTL": "30"})
    assert cache.default_ttl == 5
    with pytest.raises(CacheConfigError, match="default_ttl"):
        CacheService(default_ttl=0, environ={"MAESTRO_CACHE__DEFAULT_TTL": "30"})


def test_bad_environment_values_are_named() -> None:
    """A variable that does not parse is reported by its name."""
    with pytest.raises(CacheConfigError, match="MAESTRO_CACHE__MAX_SIZE"):
        CacheService(environ={"MAESTRO_CACHE__MAX_SIZE": "many"})


@pytest.mark.parametrize("url", ["memcached://x", "http://cache", "nope"])
def test_unknown_schemes_are_errors(url: str) -> None:
    """An unknown URL scheme raises instead of silently falling back to memory."""
    with pytest.raises(CacheConfigError):
        CacheService(url, environ={})


def test_redis_url_and_local_ttl(redis_url: str) -> None:
    """A redis:// URL gives a RedisCache; local_ttl puts an L1 in front of it."""
    cache = CacheService(redis_url, key_prefix="svc", environ={})
    assert isinstance(cache.backend, RedisCache)
    cache.sync.close()
    tiered = CacheService(redis_url, key_prefix="svc", local_ttl=5, environ={})
    assert isinstance(tiered.backend, TieredCache)
    assert tiered.wait_ready()
    tiered.sync.close()


def test_from_settings_takes_a_cache_section() -> None:
    """CacheService.from_settings(settings.cache) builds the configured cache."""
    from maestro_core_config import CacheSettings

    cache = CacheService.from_settings(
        CacheSettings(key_prefix="orders", default_ttl=60, max_size=3, version=2)
    )
    assert cache.key_prefix == "orders"
    assert cache.default_ttl == 60
    assert cache.make_key("a") == "orders:v2:a"
    forever = CacheService.from_settings(CacheSettings(default_ttl=None))
    assert forever.default_ttl is None


def test_from_settings_with_a_redis_section(redis_url: str) -> None:
    """With redis=settings.redis and the default memory URL, the Redis section's URL is used."""
    from maestro_core_config import CacheSettings, RedisSettings

    cache = CacheService.from_settings(
        CacheSettings(key_prefix="svc"), redis=RedisSettings(host="127.0.0.1", port=6379)
    )
    assert isinstance(cache.backend, RedisCache)
    assert cache.sync.ping() is True
    cache.sync.close()


def test_get_cache_and_set_default_cache() -> None:
    """get_cache returns one default cache; set_default_cache replaces it."""
    mine = InMemoryCache()
    set_default_cache(mine)
    try:
        assert get_cache() is mine
    finally:
        set_default_cache(None)
    assert get_cache() is get_cache()
    with pytest.raises(CacheConfigError):
        set_default_cache("redis://")  # type: ignore[arg-type]


def test_sentinel_and_cluster_urls_parse() -> None:
    """redis+sentinel:// and redis+cluster:// URLs name hosts, master and database."""
    target = parse_redis_url("redis+sentinel://:pw@s1:26379,s2/mymaster/3")
    assert target.mode == "sentinel"
    assert target.hosts == (("s1", 26379), ("s2", 26379))
    assert (target.service, target.db, target.password) == ("mymaster", 3, "pw")
    assert "pw" not in repr(target)
    cluster = parse_redis_url("redis+cluster://h1:7000,h2:7001")
    assert cluster.hosts == (("h1", 7000), ("h2", 7001))
    with pytest.raises(CacheConfigError, match="master"):
        parse_redis_url("redis+sentinel://s1:26379")
    with pytest.raises(CacheConfigError, match="database 0"):
        parse_redis_url("redis+cluster://h1:7000/2")


def test_serializer_rules() -> None:
    """pickle needs a signing key; unknown serializers are errors; msgpack round-trips bytes."""
    with pytest.raises(CacheConfigError, match="signing_key"):
        InMemoryCache(serializer="pickle")
    with pytest.raises(CacheConfigError, match="too short"):
        InMemoryCache(serializer="pickle", signing_key="short")
    with pytest.raises(CacheConfigError):
        InMemoryCache(serializer="yaml")
    cache = InMemoryCache(serializer="msgpack")
    cache.sync.set("b", b"\x00\x01")
    assert cache.sync.get("b") == b"\x00\x01"
    assert issubclass(MissingExtraError, ImportError)
    error = MissingExtraError("serializer='msgpack'", "msgpack", "msgpack")
    assert str(error) == (
        "serializer='msgpack' needs the msgpack extra: pip install 'maestro-cache[msgpack]'"
    )
