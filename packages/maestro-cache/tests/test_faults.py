"""Section 7 faults against real Redis: outages, restarts, pools, hostile payloads, namespaces."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from typing import Any

import pytest
from maestro_cache import (
    CacheSerializationError,
    CacheUnavailableError,
    InMemoryCache,
    RedisCache,
    TieredCache,
)
from maestro_resilience import CircuitBreaker

from .conftest import PrivateRedis

pytestmark = pytest.mark.service


async def test_outage_fails_open_then_recovers(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis stopped: gets miss fast, the breaker opens after 5 failures, one warning; restart
    and hits resume without a new cache."""
    breaker_clock = [0.0]
    breaker = CircuitBreaker(
        failure_threshold=5,
        timeout=5,
        expected_exception=(ConnectionError, OSError, TimeoutError, Exception),
        monotonic=lambda: breaker_clock[0],
    )
    cache = RedisCache(private_redis.url, key_prefix="app", breaker=breaker, socket_timeout=0.5)
    await cache.set("k", "v")
    private_redis.stop()
    caplog.set_level(logging.WARNING, "maestro.cache")
    for _ in range(5):
        started = time.monotonic()
        assert await cache.get("k") is None
        assert time.monotonic() - started < 0.5
    assert breaker.state == "open"
    started = time.monotonic()
    for _ in range(100):
        assert await cache.get("k", "miss") == "miss"
    assert time.monotonic() - started < 0.2  # the open breaker answers at once
    assert await cache.set("k", 1) is False
    assert cache.stats().errors_total >= 105
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
    with pytest.raises(CacheUnavailableError):
        await cache.increment("n")
    with pytest.raises(CacheUnavailableError):
        await cache.add("a", 1)
    with pytest.raises(CacheUnavailableError):
        await cache.get_or_set("l", lambda: 1, lock=True)
    with pytest.raises(CacheUnavailableError):
        cache.sync.increment("n")
    assert await cache.health_check() is False
    private_redis.start()
    breaker_clock[0] += 6  # the breaker's timeout passes: the next call is a trial
    assert await cache.set("k", "back") is True
    assert await cache.get("k") == "back"
    assert breaker.state == "closed"
    await cache.close()


async def test_fail_closed_raises(private_redis: PrivateRedis) -> None:
    """With fail_open=False an outage raises CacheUnavailableError from every verb."""
    cache = RedisCache(private_redis.url, key_prefix="app", fail_open=False)
    private_redis.stop()
    with pytest.raises(CacheUnavailableError, match="unavailable"):
        await cache.get("k")
    with pytest.raises(CacheUnavailableError):
        cache.sync.set("k", 1)
    await cache.close()


async def test_password_never_in_errors_or_repr(private_redis: PrivateRedis) -> None:
    """A URL's password is masked in repr and in unavailability errors."""
    secret = "pw" + str(time.time_ns())
    url = f"redis://:{secret}@127.0.0.1:{private_redis.port}/0"
    cache = RedisCache(url, fail_open=False, key_prefix="x")
    assert secret not in repr(cache)
    assert secret not in cache.url
    private_redis.stop()
    with pytest.raises(CacheUnavailableError) as caught:
        await cache.get("k")
    assert secret not in str(caught.value)
    await cache.close()


async def test_500_gathered_gets_on_64_connections(redis_url: str, unique_prefix: str) -> None:
    """The blocking pool makes extra callers wait: 500 concurrent gets all succeed."""
    async with RedisCache(
        redis_url, socket_timeout=5, key_prefix=unique_prefix, max_connections=64
    ) as cache:
        await cache.set("k", {"v": 1})
        results = await asyncio.gather(*(cache.get("k") for _ in range(500)))
        assert results == [{"v": 1}] * 500
        assert cache.stats().errors_total == 0
        await cache.clear()


async def test_attacker_payload_is_a_counted_miss(redis_url: str, unique_prefix: str) -> None:
    """Pickle-looking bytes written behind our back decode as a miss, counted as an error."""
    import pickle

    async with RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix) as cache:
        payload = pickle.dumps(Exception("pwned"))
        await cache._b.aset(cache.make_key("k"), payload, 10_000)
        assert await cache.get("k") is None
        assert cache.stats().errors_total == 1
        msgpack_cache = RedisCache(
            redis_url, socket_timeout=5, key_prefix=unique_prefix, serializer="msgpack"
        )
        await cache._b.aset(cache.make_key("m"), b"\xc1\x00", 10_000)
        assert await msgpack_cache.get("m") is None
        await msgpack_cache.close()
        await cache.clear()


async def test_pickle_with_a_bad_hmac_is_never_unpickled(
    redis_url: str, unique_prefix: str
) -> None:
    """A signed-pickle cache refuses payloads with a wrong signature (CacheSerializationError)."""
    import secrets

    key_a, key_b = secrets.token_bytes(32), secrets.token_bytes(32)
    async with RedisCache(
        redis_url, key_prefix=unique_prefix, serializer="pickle", signing_key=key_a
    ) as cache:
        await cache.set("obj", {1, 2})
        assert await cache.get("obj") == {1, 2}
        other = RedisCache(
            redis_url, key_prefix=unique_prefix, serializer="pickle", signing_key=key_b
        )
        with pytest.raises(CacheSerializationError, match="HMAC"):
            await other.get("obj")
        await other.close()
        await cache.clear()


async def test_clear_spares_other_apps_keys(redis_url: str, unique_prefix: str) -> None:
    """clear() deletes only {prefix}:* keys; another app's keys in the same DB survive."""
    mine = RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix)
    theirs = RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix + "_other")
    await mine.set_many({f"k{i}": i for i in range(1200)})
    await theirs.set("k1", "keep")
    assert await mine.clear() == 1200
    assert await theirs.get("k1") == "keep"
    await theirs.clear()
    await mine.close()
    await theirs.close()


def test_clear_without_a_prefix_on_redis_is_refused(redis_url: str) -> None:
    """A Redis cache without key_prefix will not clear the whole database."""
    from maestro_cache import CacheConfigError

    cache = RedisCache(redis_url, socket_timeout=5)
    with pytest.raises(CacheConfigError, match="key_prefix"):
        cache.sync.clear()
    cache.sync.close()


_WORKER = r"""
import asyncio, sys
from maestro_cache import RedisCache

async def main() -> None:
    url, prefix, counter = sys.argv[1], sys.argv[2], sys.argv[3]
    cache = RedisCache(url, key_prefix=prefix, socket_timeout=5)
    async def loader() -> int:
        await cache._b.aincr(counter, 1)
        await asyncio.sleep(0.2)
        return 99
    results = await asyncio.gather(
        *(cache.get_or_set("cold", loader, ttl=60, lock=True) for _ in range(25))
    )
    assert results == [99] * 25, results
    await cache.close()

asyncio.run(main())
"""


@pytest.mark.slow
def test_lock_true_across_processes_loads_once(redis_url: str, unique_prefix: str) -> None:
    """4 processes x 25 cold callers with lock=True: exactly one load in total."""
    counter = f"{unique_prefix}:loads"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, redis_url, unique_prefix, counter])
        for _ in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    cache = RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix)
    assert cache.sync._c._b.get(counter) == b"1"
    cache.sync.delete_many(["cold"])
    cache.sync._c._b.delete([counter])
    cache.sync.close()


async def _eventually(check: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def test_tiered_write_on_a_is_seen_on_b(redis_url: str, unique_prefix: str) -> None:
    """Two nodes with a 30 s L1: a write on A reaches B's reads within 100 ms (pub/sub)."""
    a = TieredCache(
        InMemoryCache(default_ttl=30),
        RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix),
    )
    b = TieredCache(
        InMemoryCache(default_ttl=30),
        RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix),
    )
    assert a.wait_ready()
    assert b.wait_ready()
    await a.set("k", 1)
    deadline = time.monotonic() + 2
    while len(b.local) == 0:  # a read racing A's own invalidation does not fill L1: retry
        assert await b.get("k") == 1
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await a.set("k", 2)
    started = time.monotonic()
    while await b.get("k") != 2:
        await asyncio.sleep(0.005)
    assert time.monotonic() - started < 0.1
    await a.delete("k")
    await _eventually(lambda: len(b.local) == 0)
    await a.clear()
    await a.close()
    await b.close()


async def test_tiered_flushes_l1_when_redis_restarts(private_redis: PrivateRedis) -> None:
    """Redis restarted (data gone): L1 is flushed on the disconnect; no stale read after."""
    cache = TieredCache(
        InMemoryCache(default_ttl=30), RedisCache(private_redis.url, key_prefix="app")
    )
    assert cache.wait_ready()
    await cache.set("k", "v1")
    assert await cache.get("k") == "v1"
    assert len(cache.local) == 1
    private_redis.stop()
    await _eventually(lambda: not cache.invalidation_connected)
    assert len(cache.local) == 0
    assert await cache.get("k") is None  # fails open: no stale L1 copy
    private_redis.start()
    await _eventually(lambda: cache.invalidation_connected, timeout=5)
    cache.remote.breaker.reset()
    assert await cache.get("k") is None  # the restarted server lost the data
    await cache.set("k", "v2")
    assert await cache.get("k") == "v2"
    await cache.close()


async def test_tiered_tracking_sees_writes_by_any_client(
    redis_url: str, unique_prefix: str
) -> None:
    """invalidation="tracking": a write by a plain RedisCache (no publish) still drops L1."""
    tiered = TieredCache(
        InMemoryCache(default_ttl=30),
        RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix),
        invalidation="tracking",
    )
    plain = RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix)
    assert tiered.wait_ready()
    await plain.set("k", 1)

    async def in_l1() -> bool:
        await tiered.get("k")
        return len(tiered.local) == 1

    deadline = time.monotonic() + 2
    while not await in_l1():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await plain.set("k", 2)
    started = time.monotonic()
    while await tiered.get("k") != 2:
        await asyncio.sleep(0.005)
    assert time.monotonic() - started < 0.1
    await plain.clear()
    await plain.close()
    await tiered.close()


def test_tracking_needs_standalone(cluster_url: str) -> None:
    """invalidation="tracking" on a cluster URL is refused with a pointer to pubsub."""
    from maestro_cache import CacheConfigError

    with pytest.raises(CacheConfigError, match="pubsub"):
        TieredCache(InMemoryCache(), RedisCache(cluster_url), invalidation="tracking")


def test_tiered_sync_twin(redis_url: str, unique_prefix: str) -> None:
    """The tiered cache's sync verbs write through, read from L1 and drop L1 on delete."""
    cache = TieredCache(
        InMemoryCache(default_ttl=30),
        RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix),
    )
    assert cache.wait_ready()
    sync = cache.sync
    assert sync.set("k", {"a": 1}) is True
    assert sync.get("k") == {"a": 1}
    assert sync.set_many({"m": 1, "n": 2}) is True
    assert sync.get_many(["m", "n", "x"]) == {"m": 1, "n": 2}
    assert sync.increment("c") == 1
    assert sync.add("k", 2) is False
    assert sync.expire("k", 60) is True
    assert sync.exists("k") is True
    assert 59 <= (sync.get_ttl("k") or 0) <= 60
    assert sync.delete("k") is True
    assert sync.get("k") is None
    assert sync.delete_many(["m", "n"]) == 2
    assert sync.clear() == 1
    sync.close()
