"""CacheInterface: the verbs every backend shares (async, plus the same verbs on ``.sync``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._backend import Backend
from ._common import (
    _HEADER,
    _HEADER_END,
    MISSING,
    TTL,
    check_amount,
    check_key,
    check_prefix,
    default_ttl_ms,
    namespace,
    seconds,
    ttl_ms,
)
from ._errors import CacheConfigError, CacheUnavailableError
from ._loading import async_get_or_set, make_plan
from ._serializers import DecodeError, Serializer, make_serializer

if TYPE_CHECKING:
    from ._sync import SyncCache

__all__ = ["CacheInterface", "CacheStats"]

T = TypeVar("T")
D = TypeVar("D")

log = logging.getLogger("maestro.cache")

# Entries written by get_or_set with early= or stale_ttl= carry a header: the marker byte
# 0xC1 (never the first byte of JSON, msgpack - where it is "never used" - or signed
# pickle), the wall-clock time until which the value is fresh and the load's duration.
_WARN_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters since the cache was created: plain numbers for metrics (``*_total`` counters)."""

    hits_total: int
    misses_total: int
    errors_total: int
    loads_total: int
    evictions_total: int
    stale_served_total: int
    early_refreshes_total: int
    size: int | None
    """Entries in the in-process store (the L1 of a tiered cache); None for Redis."""

    def as_dict(self) -> dict[str, int | None]:
        """The fields as a plain dict."""
        return asdict(self)


def _wall_from(clock: Callable[[], datetime] | None) -> Callable[[], float]:
    if clock is None:
        return time.time
    if not callable(clock):
        raise CacheConfigError("clock must be a callable returning an aware UTC datetime")

    def wall() -> float:
        now = clock()
        if now.tzinfo is None:
            raise CacheConfigError(
                "clock returned a naive datetime; attach a timezone (datetime.now(UTC))"
            )
        return now.timestamp()

    return wall


class CacheInterface:
    """One cache: namespaced keys, serialized values, TTLs, stats, single-flight loading.

    Subclasses choose the backend: :class:`InMemoryCache`, :class:`RedisCache`,
    :class:`TieredCache`. Every verb is a coroutine; ``cache.sync`` has the same verbs,
    synchronous, on the same configuration.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        default_ttl: float | Any = 3600,
        key_prefix: str = "",
        version: int | str | None = None,
        serializer: str | Serializer = "json",
        signing_key: object = None,
        max_key_length: int = 1024,
        fail_open: bool = True,
        loader_timeout: float = 30.0,
        lock_timeout: float = 10.0,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._b = backend
        self._default_ttl_ms = default_ttl_ms(default_ttl)
        self._prefix = check_prefix(key_prefix)
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int | str)
        ):
            raise CacheConfigError(f"version must be an int or str, got {version!r}")
        self._version = version
        self._ns = namespace(self._prefix, version)
        self._ser = make_serializer(serializer, signing_key)
        loads = getattr(self._ser, "fast_loads", self._ser.loads)
        self._deserialize: Callable[[bytes], Any] = loads
        self._decode_errors: tuple[type[Exception], ...] = getattr(
            self._ser, "decode_errors", (DecodeError,)
        )
        if isinstance(max_key_length, bool) or not isinstance(max_key_length, int):
            raise CacheConfigError(f"max_key_length must be an int, got {max_key_length!r}")
        if max_key_length < 1:
            raise CacheConfigError(f"max_key_length must be at least 1, got {max_key_length}")
        self._max_key = max_key_length
        self._fail_open = bool(fail_open)
        self._loader_timeout = seconds("loader_timeout", loader_timeout)
        self._lock_timeout = seconds("lock_timeout", lock_timeout)
        self._wall = _wall_from(clock)
        if not callable(monotonic):
            raise CacheConfigError("monotonic must be a callable returning seconds")
        self._monotonic = monotonic
        self._hits = self._misses = self._errors = self._loads = 0
        self._stale_served = self._early = 0
        self._last_warning = -_WARN_INTERVAL * 2
        self._sync: SyncCache | None = None
        self._flights: dict[str, Any] = {}
        self._sync_flights: dict[str, Any] = {}
        self._flight_lock = threading.Lock()

    # ---- introspection ---------------------------------------------------------------

    @property
    def key_prefix(self) -> str:
        """The namespace prefix (without the trailing ``:``)."""
        return self._prefix

    @property
    def default_ttl(self) -> float | None:
        """Seconds a value lives when ``set`` gets no ``ttl``; None means no expiry."""
        return None if self._default_ttl_ms is None else self._default_ttl_ms / 1000

    @property
    def serializer(self) -> str:
        """The serializer's name: ``json``, ``msgpack`` or ``pickle``."""
        return str(getattr(self._ser, "name", type(self._ser).__name__))

    @property
    def fail_open(self) -> bool:
        """True: reads miss and writes return False while the server is unreachable."""
        return self._fail_open

    @property
    def sync(self) -> SyncCache:
        """The same cache with synchronous verbs (``cache.sync.get(key)``)."""
        if self._sync is None:
            from ._memory import MemoryBackend
            from ._sync import MemorySyncCache, SyncCache

            kind = MemorySyncCache if type(self._b) is MemoryBackend else SyncCache
            self._sync = kind(self)
        return self._sync

    def make_key(self, key: str) -> str:
        """The key as stored: ``"{key_prefix}:{key}"`` (``"{key_prefix}:v{version}:{key}"``)."""
        return self._ns + check_key(key, self._max_key)

    def stats(self) -> CacheStats:
        """Counters for metrics (hits, misses, errors, loads, evictions, ...)."""
        return CacheStats(
            hits_total=self._hits,
            misses_total=self._misses,
            errors_total=self._errors,
            loads_total=self._loads,
            evictions_total=int(getattr(self._b, "evictions", 0)),
            stale_served_total=self._stale_served,
            early_refreshes_total=self._early,
            size=self._size(),
        )

    def _size(self) -> int | None:
        return None

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} prefix={self._prefix!r} serializer={self.serializer} "
            f"default_ttl={self.default_ttl}>"
        )

    # ---- shared helpers ---------------------------------------------------------------

    def _unavailable(self, exc: CacheUnavailableError) -> None:
        """Count and (rate-limited) log an outage; re-raise unless the cache fails open."""
        self._errors += 1
        if not self._fail_open:
            raise exc
        now = self._monotonic()
        if now - self._last_warning >= _WARN_INTERVAL:
            self._last_warning = now
            log.warning("cache unavailable, failing open (reads miss): %s", exc)

    def _encode(self, value: Any) -> bytes:
        return self._ser.dumps(value)

    def _decode(self, raw: bytes | None, default: Any) -> Any:
        """A stored payload as a value (or ``default`` for a miss, stale entry or junk)."""
        if raw is None:
            self._misses += 1
            return default
        if raw and raw[0] == 0xC1:  # ENVELOPE
            if len(raw) < _HEADER_END:
                return self._junk(default, "truncated header")
            fresh_until, _ = _HEADER.unpack_from(raw, 1)
            if fresh_until <= self._wall():
                self._misses += 1
                return default
            raw = raw[_HEADER_END:]
        try:
            value = self._deserialize(raw)
        except self._decode_errors as exc:
            return self._junk(default, str(exc))
        self._hits += 1
        return value

    def _junk(self, default: Any, why: str) -> Any:
        self._errors += 1
        self._misses += 1
        log.warning("cache payload could not be decoded, treated as a miss: %s", why)
        return default

    def _keys(self, keys: Iterable[str]) -> list[str]:
        if isinstance(keys, str):
            raise CacheConfigError("keys must be a list of str, not one str")
        ns, limit = self._ns, self._max_key
        return [ns + check_key(key, limit) for key in keys]

    def _items(self, mapping: Mapping[str, Any]) -> dict[str, bytes]:
        if not isinstance(mapping, Mapping):
            raise CacheConfigError("set_many takes a mapping of key -> value")
        ns, limit, dumps = self._ns, self._max_key, self._ser.dumps
        return {ns + check_key(key, limit): dumps(value) for key, value in mapping.items()}

    def _pattern(self, pattern: str | None) -> str:
        if pattern is None:
            return self._ns + "*"
        if not isinstance(pattern, str) or not pattern:
            raise CacheConfigError("clear(pattern) takes a non-empty glob such as 'user:*'")
        return self._ns + pattern

    def _check_clear(self) -> None:
        if self._b.shared and not self._ns:
            raise CacheConfigError(
                "clear() on a shared server needs a key_prefix: without one it would delete "
                "other applications' keys; set key_prefix= (MAESTRO_CACHE__KEY_PREFIX)"
            )

    @staticmethod
    def _seconds_left(pttl: int | None) -> int | None:
        if pttl is None or pttl < 0:
            return pttl if pttl is None else -1
        return -(-pttl // 1000)

    def _touch_ttl(self, ttl: TTL) -> int | None:
        return ttl_ms(ttl, self._default_ttl_ms)

    # ---- the verbs (async) ---------------------------------------------------------

    @overload
    async def get(self, key: str) -> Any: ...
    @overload
    async def get(self, key: str, default: D) -> Any | D: ...

    async def get(self, key: str, default: Any = None) -> Any:
        """The value at ``key``, or ``default`` (None) on a miss; MISSING tells a cached None."""
        if (
            type(key) is str
            and 0 < len(key) <= self._max_key
            and key.isprintable()
            and " " not in key
        ):
            full = self._ns + key
        else:
            full = self._ns + check_key(key, self._max_key)
        try:
            raw = await self._b.aget(full)
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            self._misses += 1
            return default
        if raw and raw[0] != 0xC1:  # the common case, inlined: a plain payload
            try:
                value = self._deserialize(raw)
            except self._decode_errors as exc:
                return self._junk(default, str(exc))
            self._hits += 1
            return value
        return self._decode(raw, default)

    async def set(self, key: str, value: Any, ttl: TTL = None) -> bool:
        """Store ``value`` for ``ttl`` seconds (None: default_ttl; FOREVER: no expiry)."""
        full = self._ns + check_key(key, self._max_key)
        expiry = ttl_ms(ttl, self._default_ttl_ms)
        data = self._ser.dumps(value)
        try:
            return await self._b.aset(full, data, expiry)
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            return False

    async def add(self, key: str, value: Any, ttl: TTL = None) -> bool:
        """Store ``value`` only if ``key`` is absent (SET NX); True if it was stored.

        Raises CacheUnavailableError when the server is down, even with fail_open.
        """
        full = self._ns + check_key(key, self._max_key)
        expiry = ttl_ms(ttl, self._default_ttl_ms)
        data = self._ser.dumps(value)
        try:
            return await self._b.aadd(full, data, expiry)
        except CacheUnavailableError:
            self._errors += 1
            raise

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The cached values of ``keys`` (MGET); missing keys are left out."""
        keys = list(keys)
        full = self._keys(keys)
        if not full:
            return {}
        try:
            raws = await self._b.amget(full)
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            self._misses += len(full)
            return {}
        return self._collect(keys, raws)

    def _collect(self, keys: list[str], raws: list[bytes | None]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        decode = self._decode
        for key, raw in zip(keys, raws, strict=True):
            value = decode(raw, MISSING)
            if value is not MISSING:
                out[key] = value
        return out

    async def set_many(self, mapping: Mapping[str, Any], ttl: TTL = None) -> bool:
        """Store every pair of ``mapping`` with one TTL, in one round trip."""
        items = self._items(mapping)
        expiry = ttl_ms(ttl, self._default_ttl_ms)
        if not items:
            return True
        try:
            await self._b.amset(items, expiry)
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            return False
        return True

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True if it existed."""
        full = self._ns + check_key(key, self._max_key)
        try:
            return await self._b.adelete([full]) > 0
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            return False

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove ``keys``; the number that existed."""
        full = self._keys(keys)
        if not full:
            return 0
        try:
            return await self._b.adelete(full)
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            return 0

    async def exists(self, key: str) -> bool:
        """True if ``key`` holds a value."""
        full = self._ns + check_key(key, self._max_key)
        try:
            return await self._b.aexists(full)
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            return False

    async def increment(self, key: str, amount: int = 1) -> int:
        """Add ``amount`` atomically (a missing key counts from 0); the new value.

        Raises CacheUnavailableError when the server is down: a counter cannot be faked.
        """
        full = self._ns + check_key(key, self._max_key)
        check_amount(amount)
        try:
            return await self._b.aincr(full, amount)
        except CacheUnavailableError:
            self._errors += 1
            raise

    async def decrement(self, key: str, amount: int = 1) -> int:
        """Subtract ``amount`` atomically; the new value."""
        check_amount(amount)
        return await self.increment(key, -amount)

    async def get_ttl(self, key: str) -> int | None:
        """Seconds left (rounded up); -1 if the key never expires; None if it is missing."""
        full = self._ns + check_key(key, self._max_key)
        try:
            return self._seconds_left(await self._b.apttl(full))
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            return None

    async def expire(self, key: str, ttl: TTL) -> bool:
        """Give ``key`` a new TTL (FOREVER removes its expiry); False if it is missing."""
        full = self._ns + check_key(key, self._max_key)
        expiry = self._touch_ttl(ttl)
        try:
            return await self._b.aexpire(full, expiry)
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            return False

    async def touch(self, key: str, ttl: TTL = None) -> bool:
        """Restart ``key``'s TTL (default_ttl unless ``ttl`` is given); False if missing."""
        return await self.expire(key, ttl)

    async def clear(self, pattern: str | None = None) -> int:
        """Delete this cache's keys (all, or those matching the glob ``pattern``); the count.

        Only keys under this cache's ``key_prefix`` are touched (SCAN, never FLUSHDB).
        """
        self._check_clear()
        glob = self._pattern(pattern)
        try:
            return await self._b.aclear(glob)
        except CacheUnavailableError as exc:
            self._unavailable(exc)
            return 0

    async def ping(self) -> bool:
        """True if the server answers; raises CacheUnavailableError if it does not."""
        return await self._b.aping()

    async def health_check(self) -> bool:
        """True if the server answers, False otherwise (never raises)."""
        try:
            return await self._b.aping()
        except Exception:
            return False

    async def close(self) -> None:
        """Release connections (and background listeners); the cache may be reopened by use."""
        await self._b.aclose()

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ---- loading -------------------------------------------------------------------

    @overload
    async def get_or_set(
        self,
        key: str,
        loader: Callable[[], Awaitable[T]],
        ttl: TTL = None,
        *,
        lock: bool = False,
        early: str | None = None,
        beta: float = 1.0,
        stale_ttl: float | None = None,
        type: Any = None,
        loader_timeout: float | None = None,
    ) -> T: ...
    @overload
    async def get_or_set(
        self,
        key: str,
        loader: Callable[[], T],
        ttl: TTL = None,
        *,
        lock: bool = False,
        early: str | None = None,
        beta: float = 1.0,
        stale_ttl: float | None = None,
        type: Any = None,
        loader_timeout: float | None = None,
    ) -> T: ...

    async def get_or_set(
        self,
        key: str,
        loader: Callable[[], Any],
        ttl: TTL = None,
        *,
        lock: bool = False,
        early: str | None = None,
        beta: float = 1.0,
        stale_ttl: float | None = None,
        type: Any = None,
        loader_timeout: float | None = None,
    ) -> Any:
        """The cached value, or ``loader()``'s result stored for ``ttl`` (one load at a time).

        Concurrent callers of one key in this process share one load (single-flight).
        ``lock=True`` also holds a token lock in the store so that one process loads;
        ``early="xfetch"`` recomputes probabilistically before expiry; ``stale_ttl`` keeps
        the old value that much longer and serves it if the loader fails; ``type`` converts
        the cached value back (pydantic model, dataclass, datetime, ...).
        """
        plan = make_plan(self, key, loader, ttl, lock, early, beta, stale_ttl, type, loader_timeout)
        return await async_get_or_set(self, plan)
