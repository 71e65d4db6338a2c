"""The in-process store: one ordered dict (LRU order) of serialized bytes with lazy expiry.

No task or timer per key: an expired entry is dropped when it is read, when it reaches the
LRU end at capacity, or by a small sweep every few hundred writes. Every operation that
changes the store holds a ``threading.Lock`` and never awaits while holding it, so the store
is safe across threads and event loops alike.

Reading a live entry takes no lock: ``OrderedDict.get`` and ``move_to_end`` are each one C
call on a str key (atomic under the GIL), the value read is the one stored at that moment,
and a ``move_to_end`` that loses a race with a delete is ignored. What a reader may do
concurrently - reorder the dict - never breaks a writer: eviction is one ``popitem``,
``clear`` iterates a snapshot, and the best-effort sweep stops if the order changed under it.
Reads that find an expired entry take the lock to drop it.
"""

from __future__ import annotations

import fnmatch
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

from ._errors import MaestroCacheError

__all__ = ["MemoryBackend"]

_INF = math.inf
_SWEEP_EVERY = 256
_SWEEP_BATCH = 64


class MemoryBackend:
    """Byte-level operations over an in-process LRU + TTL dict (sync and async forms)."""

    kind = "memory"
    shared = False

    def __init__(self, max_size: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._data: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_size = max_size
        self._monotonic = monotonic
        self._writes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data)

    def _deadline(self, ttl_ms: int | None) -> float:
        return _INF if ttl_ms is None else self._monotonic() + ttl_ms / 1000.0

    def _live(self, key: str, now: float) -> tuple[bytes, float] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._data[key]
            return None
        return entry

    def _insert(self, key: str, value: bytes, deadline: float) -> None:
        data = self._data
        if key in data:
            data[key] = (value, deadline)
            data.move_to_end(key)
            return
        if len(data) >= self._max_size:
            _, (_, oldest_deadline) = data.popitem(last=False)  # the LRU entry, in one call
            if oldest_deadline > self._monotonic():
                self.evictions += 1
        data[key] = (value, deadline)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._sweep()

    def _sweep(self) -> None:
        now = self._monotonic()
        expired = []
        try:
            for index, (key, (_, deadline)) in enumerate(self._data.items()):
                if index >= _SWEEP_BATCH:
                    break
                if deadline <= now:
                    expired.append(key)
        except RuntimeError:  # a lock-free reader reordered the dict: sweep the rest later
            pass
        for key in expired:
            del self._data[key]

    # ---- sync ---------------------------------------------------------------------

    # get and set are the hot paths. get of a live entry takes no lock (see the module
    # docstring); set uses lock.acquire()/release() in try/finally, about half the cost of
    # ``with lock:`` on CPython 3.11 (no special-method lookup, no __exit__ arguments).

    def get(self, key: str) -> bytes | None:
        data = self._data
        entry = data.get(key)
        if entry is None:
            return None
        if entry[1] > self._monotonic():
            try:  # noqa: SIM105 - contextlib.suppress costs a context manager here
                data.move_to_end(key)
            except KeyError:  # deleted by a writer since the lookup: the read came first
                pass
            return entry[0]
        return self._get_expired(key)

    def _get_expired(self, key: str) -> bytes | None:
        """Re-check under the lock (a writer may have stored a fresh value) and drop it."""
        with self._lock:
            entry = self._live(key, self._monotonic())
            if entry is None:
                return None
            self._data.move_to_end(key)
            return entry[0]

    def mget(self, keys: Iterable[str]) -> list[bytes | None]:
        with self._lock:
            now = self._monotonic()
            out: list[bytes | None] = []
            for key in keys:
                entry = self._live(key, now)
                if entry is None:
                    out.append(None)
                else:
                    self._data.move_to_end(key)
                    out.append(entry[0])
            return out

    def set(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        deadline = _INF if ttl_ms is None else self._monotonic() + ttl_ms / 1000.0
        lock = self._lock
        lock.acquire()
        try:
            self._insert(key, value, deadline)
        finally:
            lock.release()
        return True

    def add(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        deadline = self._deadline(ttl_ms)
        with self._lock:
            if self._live(key, self._monotonic()) is not None:
                return False
            self._insert(key, value, deadline)
            return True

    def mset(self, items: Mapping[str, bytes], ttl_ms: int | None) -> None:
        deadline = self._deadline(ttl_ms)
        with self._lock:
            for key, value in items.items():
                self._insert(key, value, deadline)

    def delete(self, keys: Iterable[str]) -> int:
        with self._lock:
            now = self._monotonic()
            count = 0
            for key in keys:
                if self._live(key, now) is not None:
                    del self._data[key]
                    count += 1
            return count

    def exists(self, key: str) -> bool:
        with self._lock:
            return self._live(key, self._monotonic()) is not None

    def incr(self, key: str, amount: int) -> int:
        with self._lock:
            entry = self._live(key, self._monotonic())
            if entry is None:
                value, deadline = 0, _INF
            else:
                try:
                    value = int(entry[0])
                except ValueError:
                    raise MaestroCacheError(
                        "the value at this key is not an integer; increment() only works on "
                        "keys holding integers"
                    ) from None
                deadline = entry[1]
            value += amount
            self._insert(key, str(value).encode(), deadline)
            return value

    def pttl(self, key: str) -> int | None:
        with self._lock:
            now = self._monotonic()
            entry = self._live(key, now)
            if entry is None:
                return None
            if entry[1] == _INF:
                return -1
            return max(1, math.ceil((entry[1] - now) * 1000))

    def expire(self, key: str, ttl_ms: int | None) -> bool:
        deadline = self._deadline(ttl_ms)
        with self._lock:
            entry = self._live(key, self._monotonic())
            if entry is None:
                return False
            self._data[key] = (entry[0], deadline)
            return True

    def clear(self, pattern: str) -> int:
        match = re.compile(fnmatch.translate(pattern), re.S).match
        with self._lock:
            doomed = [key for key in list(self._data) if match(key)]  # a snapshot
            for key in doomed:
                del self._data[key]
            return len(doomed)

    def unlock(self, key: str, token: bytes) -> bool:
        with self._lock:
            entry = self._live(key, self._monotonic())
            if entry is None or entry[0] != token:
                return False
            del self._data[key]
            return True

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        return None

    # ---- async (nothing awaits: the same code) ------------------------------------

    async def aget(self, key: str) -> bytes | None:
        return self.get(key)

    async def amget(self, keys: Iterable[str]) -> list[bytes | None]:
        return self.mget(keys)

    async def aset(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        return self.set(key, value, ttl_ms)

    async def aadd(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        return self.add(key, value, ttl_ms)

    async def amset(self, items: Mapping[str, bytes], ttl_ms: int | None) -> None:
        self.mset(items, ttl_ms)

    async def adelete(self, keys: Iterable[str]) -> int:
        return self.delete(keys)

    async def aexists(self, key: str) -> bool:
        return self.exists(key)

    async def aincr(self, key: str, amount: int) -> int:
        return self.incr(key, amount)

    async def apttl(self, key: str) -> int | None:
        return self.pttl(key)

    async def aexpire(self, key: str, ttl_ms: int | None) -> bool:
        return self.expire(key, ttl_ms)

    async def aclear(self, pattern: str) -> int:
        return self.clear(pattern)

    async def aunlock(self, key: str, token: bytes) -> bool:
        return self.unlock(key, token)

    async def aping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
