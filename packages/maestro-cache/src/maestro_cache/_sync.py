"""SyncCache: the verbs of a cache, synchronous, on the same configuration and store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._common import TTL, check_amount, check_key, ttl_ms
from ._errors import CacheUnavailableError

if TYPE_CHECKING:
    from ._interface import CacheInterface, CacheStats
    from ._memory import MemoryBackend

__all__ = ["MemorySyncCache", "SyncCache"]

_INF = float("inf")

T = TypeVar("T")
D = TypeVar("D")


class SyncCache:
    """``cache.sync``: the same verbs as the async cache, without ``await``.

    It shares the cache's store, key namespace, serializer, counters and single-flight
    table; Redis caches use a synchronous client with its own blocking pool.
    """

    __slots__ = ("_c",)

    def __init__(self, cache: CacheInterface) -> None:
        self._c = cache

    @property
    def cache(self) -> CacheInterface:
        """The async cache this twin belongs to."""
        return self._c

    def __repr__(self) -> str:
        return f"<SyncCache of {self._c!r}>"

    def make_key(self, key: str) -> str:
        """The key as stored (namespace included)."""
        return self._c.make_key(key)

    def stats(self) -> CacheStats:
        """The cache's counters (shared with the async twin)."""
        return self._c.stats()

    @overload
    def get(self, key: str) -> Any: ...
    @overload
    def get(self, key: str, default: D) -> Any | D: ...

    def get(self, key: str, default: Any = None) -> Any:
        """The value at ``key``, or ``default`` on a miss."""
        c = self._c
        if type(key) is str and 0 < len(key) <= c._max_key and key.isprintable() and " " not in key:
            full = c._ns + key
        else:
            full = c._ns + check_key(key, c._max_key)
        try:
            raw = c._b.get(full)
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            c._misses += 1
            return default
        if raw and raw[0] != 0xC1:  # the common case, inlined: a plain payload
            try:
                value = c._deserialize(raw)
            except c._decode_errors as exc:
                return c._junk(default, str(exc))
            c._hits += 1
            return value
        return c._decode(raw, default)

    def set(self, key: str, value: Any, ttl: TTL = None) -> bool:
        """Store ``value`` for ``ttl`` seconds (None: default_ttl; FOREVER: no expiry)."""
        c = self._c
        full = c._ns + check_key(key, c._max_key)
        expiry = ttl_ms(ttl, c._default_ttl_ms)
        data = c._ser.dumps(value)
        try:
            return c._b.set(full, data, expiry)
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            return False

    def add(self, key: str, value: Any, ttl: TTL = None) -> bool:
        """Store only if absent; raises CacheUnavailableError when the server is down."""
        c = self._c
        full = c._ns + check_key(key, c._max_key)
        expiry = ttl_ms(ttl, c._default_ttl_ms)
        data = c._ser.dumps(value)
        try:
            return c._b.add(full, data, expiry)
        except CacheUnavailableError:
            c._errors += 1
            raise

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The cached values of ``keys``; missing keys are left out."""
        c = self._c
        keys = list(keys)
        full = c._keys(keys)
        if not full:
            return {}
        try:
            raws = c._b.mget(full)
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            c._misses += len(full)
            return {}
        return c._collect(keys, raws)

    def set_many(self, mapping: Mapping[str, Any], ttl: TTL = None) -> bool:
        """Store every pair of ``mapping`` with one TTL, in one round trip."""
        c = self._c
        items = c._items(mapping)
        expiry = ttl_ms(ttl, c._default_ttl_ms)
        if not items:
            return True
        try:
            c._b.mset(items, expiry)
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            return False
        return True

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it existed."""
        c = self._c
        full = c._ns + check_key(key, c._max_key)
        try:
            return c._b.delete([full]) > 0
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            return False

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove ``keys``; the number that existed."""
        c = self._c
        full = c._keys(keys)
        if not full:
            return 0
        try:
            return c._b.delete(full)
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            return 0

    def exists(self, key: str) -> bool:
        """True if ``key`` holds a value."""
        c = self._c
        full = c._ns + check_key(key, c._max_key)
        try:
            return c._b.exists(full)
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            return False

    def increment(self, key: str, amount: int = 1) -> int:
        """Add ``amount`` atomically; raises CacheUnavailableError when the server is down."""
        c = self._c
        full = c._ns + check_key(key, c._max_key)
        check_amount(amount)
        try:
            return c._b.incr(full, amount)
        except CacheUnavailableError:
            c._errors += 1
            raise

    def decrement(self, key: str, amount: int = 1) -> int:
        """Subtract ``amount`` atomically; the new value."""
        check_amount(amount)
        return self.increment(key, -amount)

    def get_ttl(self, key: str) -> int | None:
        """Seconds left (rounded up); -1 if it never expires; None if missing."""
        c = self._c
        full = c._ns + check_key(key, c._max_key)
        try:
            return c._seconds_left(c._b.pttl(full))
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            return None

    def expire(self, key: str, ttl: TTL) -> bool:
        """Give ``key`` a new TTL (FOREVER removes its expiry); False if missing."""
        c = self._c
        full = c._ns + check_key(key, c._max_key)
        expiry = c._touch_ttl(ttl)
        try:
            return c._b.expire(full, expiry)
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            return False

    def touch(self, key: str, ttl: TTL = None) -> bool:
        """Restart ``key``'s TTL (default_ttl unless ``ttl`` is given)."""
        return self.expire(key, ttl)

    def clear(self, pattern: str | None = None) -> int:
        """Delete this cache's keys (all, or those matching ``pattern``); the count."""
        c = self._c
        c._check_clear()
        glob = c._pattern(pattern)
        try:
            return c._b.clear(glob)
        except CacheUnavailableError as exc:
            c._unavailable(exc)
            return 0

    def ping(self) -> bool:
        """True if the server answers; raises CacheUnavailableError if it does not."""
        return self._c._b.ping()

    def health_check(self) -> bool:
        """True if the server answers, False otherwise (never raises)."""
        try:
            return self._c._b.ping()
        except Exception:
            return False

    def close(self) -> None:
        """Release the synchronous connections."""
        self._c._b.close()

    def __enter__(self) -> SyncCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get_or_set(
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
    ) -> T:
        """The cached value, or ``loader()``'s result stored for ``ttl`` (one load at a time)."""
        from ._loading import make_plan, sync_get_or_set

        plan = make_plan(
            self._c, key, loader, ttl, lock, early, beta, stale_ttl, type, loader_timeout
        )
        return sync_get_or_set(self._c, plan)  # type: ignore[no-any-return]


class MemorySyncCache(SyncCache):
    """``cache.sync`` of a cache on the in-process store: ``get`` and ``set`` reach into the
    store themselves (by its rules: lock-free read of a live entry, writes under the lock)
    instead of through the backend's methods.

    Same semantics as :class:`SyncCache` (key check, TTL, LRU order, lazy expiry, payload
    decode, counters); one Python call less on the two verbs a hot loop makes.
    """

    __slots__ = ()

    def get(self, key: str, default: Any = None) -> Any:
        """The value at ``key``, or ``default`` on a miss."""
        c = self._c
        if type(key) is str and 0 < len(key) <= c._max_key and key.isprintable() and " " not in key:
            full = c._ns + key
        else:
            full = c._ns + check_key(key, c._max_key)
        store: MemoryBackend = c._b  # type: ignore[assignment]  # chosen by CacheInterface.sync
        data = store._data
        entry = data.get(full)  # a live entry is read without the lock, as in MemoryBackend.get
        if entry is None:
            raw = None
        elif entry[1] > store._monotonic():
            try:  # noqa: SIM105 - contextlib.suppress costs a context manager here
                data.move_to_end(full)
            except KeyError:  # deleted by a writer since the lookup: the read came first
                pass
            raw = entry[0]
        else:
            raw = store._get_expired(full)
        if raw and raw[0] != 0xC1:  # a plain payload (not an early-refresh envelope)
            try:
                value = c._deserialize(raw)
            except c._decode_errors as exc:
                return c._junk(default, str(exc))
            c._hits += 1
            return value
        return c._decode(raw, default)

    def set(self, key: str, value: Any, ttl: TTL = None) -> bool:
        """Store ``value`` for ``ttl`` seconds (None: default_ttl; FOREVER: no expiry)."""
        c = self._c
        if type(key) is str and 0 < len(key) <= c._max_key and key.isprintable() and " " not in key:
            full = c._ns + key
        else:
            full = c._ns + check_key(key, c._max_key)
        if ttl is None:
            expiry = c._default_ttl_ms
        elif type(ttl) is int and ttl > 0:
            expiry = ttl * 1000
        else:
            expiry = ttl_ms(ttl, c._default_ttl_ms)
        payload = c._ser.dumps(value)
        store: MemoryBackend = c._b  # type: ignore[assignment]
        deadline = _INF if expiry is None else store._monotonic() + expiry / 1000.0
        lock = store._lock
        lock.acquire()
        try:
            store._insert(full, payload, deadline)
        finally:
            lock.release()
        return True
