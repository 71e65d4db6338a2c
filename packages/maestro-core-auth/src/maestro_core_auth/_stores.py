"""Key-value stores for revocation, refresh families and API keys.

A store is any object with async ``get(key)``, ``set(key, value, ttl=None)``,
``add(key, value, ttl=None) -> bool`` (set only if absent, atomically) and
``delete(key) -> bool``; values are strings and ``ttl`` is seconds. A ``.sync`` attribute
with the same verbs, synchronous, lets the sync ``verify`` path consult it too. A
maestro-cache cache has this shape; :class:`MemoryStore` (embedded, one process) and
:class:`RedisStore` (shared by replicas, extra ``redis``) are built in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ._errors import AuthConfigError, AuthStoreError
from ._util import optional_import

__all__ = ["MemoryStore", "RedisStore", "Store", "SyncStore"]


@runtime_checkable
class SyncStore(Protocol):
    """The synchronous store verbs (a store's ``.sync``)."""

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl: float | None = None) -> None: ...
    def add(self, key: str, value: str, ttl: float | None = None) -> bool: ...
    def delete(self, key: str) -> bool: ...


@runtime_checkable
class Store(Protocol):
    """The async store verbs every backend offers."""

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...
    async def add(self, key: str, value: str, ttl: float | None = None) -> bool: ...
    async def delete(self, key: str) -> bool: ...


class _MemorySync:
    __slots__ = ("_data", "_lock", "_max", "_monotonic")

    def __init__(self, monotonic: Callable[[], float], max_entries: int) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._max = max_entries

    def get(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= self._monotonic():
            self._data.pop(key, None)
            return None
        return item[0]

    def _deadline(self, ttl: float | None) -> float:
        if ttl is None:
            return float("inf")
        return self._monotonic() + max(float(ttl), 0.0)

    def _make_room(self) -> None:
        if len(self._data) < self._max:
            return
        now = self._monotonic()
        for name in [k for k, (_, until) in self._data.items() if until <= now]:
            del self._data[name]
        while len(self._data) >= self._max:  # still full: the oldest entry goes
            del self._data[next(iter(self._data))]

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        with self._lock:
            self._make_room()
            self._data[key] = (str(value), self._deadline(ttl))

    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        with self._lock:
            if self.get(key) is not None:
                return False
            self._make_room()
            self._data[key] = (str(value), self._deadline(ttl))
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._data.pop(key, None) is not None


class MemoryStore:
    """The embedded store: one process's memory, bounded, with per-key expiry."""

    def __init__(
        self, *, max_entries: int = 1_000_000, monotonic: Callable[[], float] | None = None
    ) -> None:
        if not isinstance(max_entries, int) or max_entries < 1:
            raise AuthConfigError("max_entries must be a positive int")
        self.sync = _MemorySync(monotonic or time.monotonic, max_entries)

    def __repr__(self) -> str:
        return f"MemoryStore({len(self.sync._data)} entries)"

    async def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""
        return self.sync.get(key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store ``value``, for ``ttl`` seconds if given."""
        self.sync.set(key, value, ttl)

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent; True when it was stored."""
        return self.sync.add(key, value, ttl)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""
        return self.sync.delete(key)


def _ttl_ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(float(ttl) * 1000))


def _failed(verb: str, exc: Exception) -> AuthStoreError:
    return AuthStoreError(f"the Redis auth store failed on {verb} ({type(exc).__name__})")


class _RedisSync:
    def __init__(self, client: Any, prefix: str, errors: type[Exception]) -> None:
        self._client = client
        self._prefix = prefix
        self._errors = errors

    def get(self, key: str) -> str | None:
        try:
            value = self._client.get(self._prefix + key)
        except self._errors as exc:
            raise _failed("get", exc) from None
        return None if value is None else value.decode()

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        try:
            self._client.set(self._prefix + key, value, px=_ttl_ms(ttl))
        except self._errors as exc:
            raise _failed("set", exc) from None

    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        try:
            return bool(self._client.set(self._prefix + key, value, px=_ttl_ms(ttl), nx=True))
        except self._errors as exc:
            raise _failed("add", exc) from None

    def delete(self, key: str) -> bool:
        try:
            return bool(self._client.delete(self._prefix + key))
        except self._errors as exc:
            raise _failed("delete", exc) from None


class RedisStore:
    """A store on Redis (extra ``redis``), shared by every replica; keys carry ``prefix``.

    Redis failures raise AuthStoreError (verification fails closed). The URL's password never
    appears in ``repr`` or errors.
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "maestro:auth:"):
        if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
            raise AuthConfigError("RedisStore needs a redis://, rediss:// or unix:// URL")
        redis = optional_import("redis", "RedisStore", "redis")
        redis_asyncio = optional_import("redis.asyncio", "RedisStore", "redis")
        self.prefix = prefix
        self._host = (
            url.rsplit("@", maxsplit=1)[-1].split("/", maxsplit=1)[0]
            if "@" in url
            else url.split("/")[2]
        )
        self._errors: type[Exception] = redis.RedisError
        self._client = redis_asyncio.from_url(url)
        self.sync = _RedisSync(redis.from_url(url), prefix, self._errors)

    def __repr__(self) -> str:
        return f"RedisStore(host={self._host!r}, prefix={self.prefix!r})"

    async def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""
        try:
            value = await self._client.get(self.prefix + key)
        except self._errors as exc:
            raise _failed("get", exc) from None
        return None if value is None else bytes(value).decode()

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store ``value``, for ``ttl`` seconds if given."""
        try:
            await self._client.set(self.prefix + key, value, px=_ttl_ms(ttl))
        except self._errors as exc:
            raise _failed("set", exc) from None

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """``SET NX``: store only if absent; True when it was stored."""
        try:
            return bool(await self._client.set(self.prefix + key, value, px=_ttl_ms(ttl), nx=True))
        except self._errors as exc:
            raise _failed("add", exc) from None

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""
        try:
            return bool(await self._client.delete(self.prefix + key))
        except self._errors as exc:
            raise _failed("delete", exc) from None

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self._client.aclose()
        self.sync._client.close()

    def close(self) -> None:
        """Close the synchronous pool (call ``aclose`` from async code)."""
        self.sync._client.close()
