"""The verbs behave the same on every backend (memory, Redis, Redis Cluster)."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest
from maestro_cache import (
    FOREVER,
    MISSING,
    CacheConfigError,
    CacheInterface,
    CacheSerializationError,
    InMemoryCache,
)


async def test_set_get_round_trip_keeps_json_types(cache: CacheInterface) -> None:
    """A dict comes back equal; "123" stays a string; a miss is None or the default."""
    assert await cache.set("user:1", {"name": "ann", "tags": [1, 2]}, ttl=60) is True
    assert await cache.get("user:1") == {"name": "ann", "tags": [1, 2]}
    await cache.set("s", "123")
    assert await cache.get("s") == "123"
    assert await cache.get("nope") is None
    assert await cache.get("nope", MISSING) is MISSING
    await cache.set("none", None)
    assert await cache.get("none", MISSING) is None


async def test_reads_are_copies(cache: CacheInterface) -> None:
    """Mutating a value after set, or a value read, never changes the cached one."""
    value = {"items": [1]}
    await cache.set("k", value)
    value["items"].append(2)
    read = await cache.get("k")
    read["items"].append(3)
    assert await cache.get("k") == {"items": [1]}


async def test_add_is_set_if_absent(cache: CacheInterface) -> None:
    """add stores only when the key is absent."""
    assert await cache.add("lock:job", 1, ttl=10) is True
    assert await cache.add("lock:job", 2, ttl=10) is False
    assert await cache.get("lock:job") == 1


async def test_many(cache: CacheInterface) -> None:
    """set_many / get_many / delete_many; missing keys are left out."""
    assert await cache.set_many({"a": 1, "b": 2, "c": [3]}, ttl=60) is True
    assert await cache.get_many(["a", "b", "c", "zz"]) == {"a": 1, "b": 2, "c": [3]}
    assert await cache.delete_many(["a", "b", "zz"]) == 2
    assert await cache.get_many(["a", "b", "c"]) == {"c": [3]}
    assert await cache.get_many([]) == {}


async def test_delete_and_exists(cache: CacheInterface) -> None:
    """delete says whether the key existed; exists follows."""
    await cache.set("k", 1)
    assert await cache.exists("k") is True
    assert await cache.delete("k") is True
    assert await cache.delete("k") is False
    assert await cache.exists("k") is False


async def test_counters(cache: CacheInterface) -> None:
    """increment/decrement are atomic ints, starting from 0; get reads the counter."""
    assert await cache.increment("hits") == 1
    assert await cache.increment("hits", 5) == 6
    assert await cache.decrement("hits") == 5
    assert await cache.get("hits") == 5
    results = await asyncio.gather(*(cache.increment("c") for _ in range(50)))
    assert sorted(results) == list(range(1, 51))
    with pytest.raises(CacheConfigError):
        await cache.increment("hits", 1.5)  # type: ignore[arg-type]


async def test_ttls(cache: CacheInterface) -> None:
    """get_ttl: seconds left; -1 without expiry; None when missing; expire and touch."""
    await cache.set("t", 1, ttl=120)
    assert 119 <= (await cache.get_ttl("t") or 0) <= 120
    await cache.set("f", 1, ttl=FOREVER)
    assert await cache.get_ttl("f") == -1
    assert await cache.get_ttl("missing") is None
    assert await cache.expire("f", 30) is True
    assert 29 <= (await cache.get_ttl("f") or 0) <= 30
    assert await cache.touch("f") is True
    assert (await cache.get_ttl("f") or 0) > 3000
    assert await cache.expire("f", FOREVER) is True
    assert await cache.get_ttl("f") == -1
    assert await cache.expire("missing", 5) is False
    await cache.set("td", 1, ttl=timedelta(minutes=2))
    assert 119 <= (await cache.get_ttl("td") or 0) <= 120


async def test_short_ttl_expires(cache: CacheInterface) -> None:
    """A value stored for 0.1 s is gone after 0.2 s."""
    await cache.set("short", 1, ttl=0.1)
    await asyncio.sleep(0.2)
    assert await cache.get("short", MISSING) is MISSING


async def test_clear_only_this_namespace(cache: CacheInterface) -> None:
    """clear(pattern) deletes matching keys; clear() all of this cache's keys and counts them."""
    await cache.set_many({"user:1": 1, "user:2": 2, "order:1": 3})
    assert await cache.clear("user:*") == 2
    assert await cache.get_many(["user:1", "order:1"]) == {"order:1": 3}
    assert await cache.clear() == 1


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf, "10", True])
async def test_bad_ttls(cache: CacheInterface, ttl: object) -> None:
    """ttl 0, negative, NaN, inf or not a number is a ValueError naming ttl."""
    with pytest.raises(ValueError, match="ttl"):
        await cache.set("k", 1, ttl=ttl)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["", "a b", "line\nbreak", "tab\t", "x" * 1025, 5])
async def test_bad_keys(cache: CacheInterface, key: object) -> None:
    """Empty keys, whitespace or control characters and keys over 1 kB are refused."""
    with pytest.raises(CacheConfigError):
        await cache.set(key, 1)  # type: ignore[arg-type]
    with pytest.raises(CacheConfigError):
        await cache.get(key)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "value", [datetime(2026, 1, 1, tzinfo=UTC), {1, 2}, object(), {"n": 2**70}]
)
async def test_unserializable_values_fail_at_set(cache: CacheInterface, value: object) -> None:
    """A value JSON cannot hold raises CacheSerializationError at set, memory included."""
    with pytest.raises(CacheSerializationError, match="json"):
        await cache.set("k", value)


async def test_sync_twin_shares_everything(cache: CacheInterface) -> None:
    """cache.sync has the same verbs on the same store and namespace."""
    sync = cache.sync
    assert sync.set("k", {"a": 1}) is True
    assert await cache.get("k") == {"a": 1}
    await cache.set("j", [1])
    assert sync.get("j") == [1]
    assert sync.add("k", 2) is False
    assert sync.set_many({"m": 1, "n": 2}) is True
    assert sync.get_many(["m", "n", "o"]) == {"m": 1, "n": 2}
    assert sync.increment("ctr", 2) == 2
    assert sync.decrement("ctr") == 1
    assert sync.exists("m") is True
    assert sync.delete("m") is True
    assert sync.delete_many(["n"]) == 1
    assert sync.expire("k", 50) is True
    assert 49 <= (sync.get_ttl("k") or 0) <= 50
    assert sync.touch("k", 70) is True
    assert sync.ping() is True
    assert sync.health_check() is True
    assert sync.clear() >= 3


async def test_versioned_keys(cache: CacheInterface) -> None:
    """Keys are stored as "{prefix}:{key}"; make_key shows it."""
    assert cache.make_key("user:1") == f"{cache.key_prefix}:user:1"


async def test_health(cache: CacheInterface) -> None:
    """ping and health_check say the store answers."""
    assert await cache.ping() is True
    assert await cache.health_check() is True


def test_version_namespace() -> None:
    """version= adds "v{version}:" to the namespace so that a bump hides old entries."""
    v1 = InMemoryCache(key_prefix="orders", version=1)
    assert v1.make_key("a") == "orders:v1:a"
    assert InMemoryCache(version="2").make_key("a") == "v2:a"


async def test_memory_overwrite_at_capacity_evicts_nothing() -> None:
    """Overwriting a key when full evicts nothing; a new key evicts exactly the LRU key."""
    cache = InMemoryCache(max_size=3)
    await cache.set_many({"a": 1, "b": 2, "c": 3})
    await cache.set("a", 10)
    assert len(cache) == 3
    assert cache.stats().evictions_total == 0
    await cache.get("a")
    await cache.get("b")  # order now: c (least recent), a, b
    await cache.set("d", 4)
    assert await cache.get_many(["a", "b", "c", "d"]) == {"a": 10, "b": 2, "d": 4}
    assert cache.stats().evictions_total == 1
    assert cache.stats().size == 3


async def test_memory_expiry_uses_the_injected_clock(fake_clock: object) -> None:
    """The in-process store expires by the monotonic= clock, with no timers."""
    from maestro_testkit import FakeClock

    assert isinstance(fake_clock, FakeClock)
    cache = InMemoryCache(monotonic=fake_clock.monotonic)
    await cache.set("k", 1, ttl=10)
    fake_clock.advance(9.9)
    assert await cache.get("k") == 1
    assert await cache.get_ttl("k") == 1
    fake_clock.advance(0.2)
    assert await cache.get("k") is None


def test_default_ttl_zero_is_an_error() -> None:
    """default_ttl=0 is refused (no fallback to the environment)."""
    with pytest.raises(CacheConfigError, match="default_ttl"):
        InMemoryCache(default_ttl=0)
    with pytest.raises(CacheConfigError, match="max_size"):
        InMemoryCache(max_size=0)


async def test_stats_count_hits_and_misses() -> None:
    """stats() counts hits, misses and loads as plain ints."""
    cache = InMemoryCache()
    await cache.set("k", 1)
    await cache.get("k")
    await cache.get("x")
    await cache.get_or_set("l", lambda: 5)
    stats = cache.stats()
    assert (stats.hits_total, stats.misses_total, stats.loads_total) == (1, 2, 1)
    assert stats.as_dict()["hits_total"] == 1


def test_memory_sync_twin_keeps_lru_expiry_and_counters(fake_clock: object) -> None:
    """cache.sync of the in-process store (its own get/set path) keeps LRU order, lazy expiry,
    envelopes, junk-as-miss and the counters exactly like the async verbs."""
    from maestro_testkit import FakeClock

    assert isinstance(fake_clock, FakeClock)
    cache = InMemoryCache(max_size=3, monotonic=fake_clock.monotonic, clock=fake_clock.now)
    sync = cache.sync
    for key, value in {"a": 1, "b": 2, "c": 3}.items():
        assert sync.set(key, value) is True
    assert sync.get("a") == 1  # order now: b (least recent), c, a
    sync.set("d", 4)
    assert sync.get("b", MISSING) is MISSING
    assert cache.stats().evictions_total == 1
    sync.set("short", [1], ttl=timedelta(seconds=5))
    fake_clock.advance(5.1)
    assert sync.get("short") is None
    assert "short" not in cache._store._data  # dropped on read
    cache._store.set("junk", b"\xff not json", None)
    assert sync.get("junk", "dflt") == "dflt"
    assert sync.get_or_set("env", lambda: {"x": 1}, ttl=10, stale_ttl=10) == {"x": 1}
    assert sync.get("env") == {"x": 1}  # an early-refresh envelope, read through
    fake_clock.advance(11)
    assert sync.get("env") is None  # past its fresh time: a miss, though still stored
    with pytest.raises(CacheConfigError):
        sync.get("bad key")
    with pytest.raises(CacheConfigError):
        sync.set("", 1)
    stats = cache.stats()
    assert (stats.hits_total, stats.errors_total) == (2, 1)
    assert stats.misses_total == 5


def test_memory_store_under_threads_with_lock_free_reads() -> None:
    """Readers (no lock on a live entry) racing writers, evictions, expiries, sweeps and
    clear(): no exception anywhere, every value read belongs to its key, the size bound holds."""
    import random
    import sys
    import threading
    import time

    cache = InMemoryCache(max_size=64)
    sync = cache.sync
    errors: list[BaseException] = []
    stop = time.monotonic() + 1.0

    def run(work: object) -> None:
        assert callable(work)
        try:
            while time.monotonic() < stop:
                work()
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    def read() -> None:
        key = f"k{random.randrange(200)}"
        value = sync.get(key) if random.random() < 0.5 else asyncio.run(cache.get(key))
        assert value is None or value == {"key": key}

    def write() -> None:
        key = f"k{random.randrange(200)}"
        sync.set(key, {"key": key}, ttl=random.choice([0.001, 0.01, 60]))

    def churn() -> None:
        sync.clear(f"k{random.randrange(10)}*")
        sync.delete_many([f"k{random.randrange(200)}" for _ in range(5)])
        sync.get_many([f"k{random.randrange(200)}" for _ in range(5)])

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run, args=(w,)) for w in (read, read, write, churn)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        sys.setswitchinterval(previous)
    assert errors == []
    assert len(cache) <= 64
