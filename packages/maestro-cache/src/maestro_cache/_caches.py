"""The concrete caches: InMemoryCache (the embedded default) and RedisCache."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from maestro_resilience import CircuitBreaker

from ._common import seconds
from ._errors import CacheConfigError
from ._interface import CacheInterface
from ._memory import MemoryBackend
from ._redis import RedisBackend
from ._serializers import Serializer

__all__ = ["InMemoryCache", "RedisCache"]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CacheConfigError(f"{name} must be a positive int, got {value!r}")
    return value


class InMemoryCache(CacheInterface):
    """A per-process LRU + TTL cache; values are serialized like Redis's, so reads are copies.

    ``max_size`` bounds the number of keys: a new key at capacity evicts the least recently
    used one (overwriting an existing key evicts nothing).
    """

    def __init__(
        self,
        default_ttl: float | Any = 3600,
        max_size: int = 10_000,
        *,
        key_prefix: str = "",
        version: int | str | None = None,
        serializer: str | Serializer = "json",
        signing_key: object = None,
        max_key_length: int = 1024,
        loader_timeout: float = 30.0,
        lock_timeout: float = 10.0,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = MemoryBackend(_positive_int("max_size", max_size), monotonic)
        super().__init__(
            self._store,
            default_ttl=default_ttl,
            key_prefix=key_prefix,
            version=version,
            serializer=serializer,
            signing_key=signing_key,
            max_key_length=max_key_length,
            fail_open=True,
            loader_timeout=loader_timeout,
            lock_timeout=lock_timeout,
            clock=clock,
            monotonic=monotonic,
        )

    @property
    def max_size(self) -> int:
        """The most keys the store holds."""
        return self._store._max_size

    def _size(self) -> int | None:
        return len(self._store)

    def __len__(self) -> int:
        return len(self._store)


class RedisCache(CacheInterface):
    """A cache on Redis: standalone (``redis://``, ``rediss://``, ``unix://``), Sentinel
    (``redis+sentinel://s1:26379,s2:26379/mymaster/0``) or Cluster
    (``redis+cluster://host:7000,host:7001``).

    With ``fail_open=True`` (the default) an unreachable server makes reads miss and writes
    return False; counters, ``add`` and locks raise CacheUnavailableError. After 5
    consecutive connection failures a circuit breaker answers at once for
    ``breaker_timeout`` seconds, then lets one trial call through.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        default_ttl: float | Any = 3600,
        key_prefix: str = "",
        version: int | str | None = None,
        serializer: str | Serializer = "json",
        signing_key: object = None,
        max_connections: int = 64,
        pool_timeout: float = 2.0,
        socket_timeout: float = 0.5,
        fail_open: bool = True,
        breaker: CircuitBreaker | None = None,
        breaker_timeout: float = 5.0,
        max_key_length: int = 1024,
        loader_timeout: float = 30.0,
        lock_timeout: float = 10.0,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        from ._redis import _redis_errors

        if breaker is None:
            breaker = CircuitBreaker(
                failure_threshold=5,
                timeout=seconds("breaker_timeout", breaker_timeout),
                expected_exception=_redis_errors()[0],
                name="maestro-cache",
            )
        elif not isinstance(breaker, CircuitBreaker):
            raise CacheConfigError("breaker must be a maestro_resilience.CircuitBreaker")
        self._redis = RedisBackend(
            url,
            max_connections=_positive_int("max_connections", max_connections),
            pool_timeout=seconds("pool_timeout", pool_timeout),
            socket_timeout=seconds("socket_timeout", socket_timeout),
            breaker=breaker,
        )
        super().__init__(
            self._redis,
            default_ttl=default_ttl,
            key_prefix=key_prefix,
            version=version,
            serializer=serializer,
            signing_key=signing_key,
            max_key_length=max_key_length,
            fail_open=fail_open,
            loader_timeout=loader_timeout,
            lock_timeout=lock_timeout,
            clock=clock,
            monotonic=monotonic,
        )

    @property
    def url(self) -> str:
        """The server URL with its password masked."""
        return self._redis.safe_url

    @property
    def mode(self) -> str:
        """``standalone``, ``sentinel`` or ``cluster``."""
        return self._redis.target.mode

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker that guards this cache's connection."""
        return self._redis.breaker

    def __repr__(self) -> str:
        return (
            f"<RedisCache {self.url} mode={self.mode} prefix={self._prefix!r} "
            f"serializer={self.serializer} fail_open={self._fail_open}>"
        )
