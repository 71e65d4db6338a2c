"""Sentinel and Cluster for real: a private master watched by a private sentinel; the
cluster fixture's failure modes."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from maestro_cache import RedisCache
from maestro_testkit import free_port

from .conftest import PrivateRedis, _redis_server_binary, _wait_port

pytestmark = pytest.mark.service


@pytest.fixture
def sentinel_url(private_redis: PrivateRedis) -> Iterator[str]:
    """A redis-sentinel on a free port monitoring the private server as 'mymaster'."""
    port = free_port()
    directory = Path(private_redis.dir)
    conf = directory / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
        f"sentinel monitor mymaster 127.0.0.1 {private_redis.port} 1\n"
        "sentinel down-after-milliseconds mymaster 1000\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [_redis_server_binary(), str(conf), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, up=True)
        yield f"redis+sentinel://127.0.0.1:{port}/mymaster/0"
    finally:
        proc.kill()
        proc.wait(timeout=10)


async def test_sentinel_url_finds_the_master(sentinel_url: str) -> None:
    """A redis+sentinel:// URL asks the sentinel for the master and uses it, async and sync."""
    cache = RedisCache(sentinel_url, key_prefix="app")
    assert cache.mode == "sentinel"
    assert await cache.set("k", {"v": 1}) is True
    assert await cache.get("k") == {"v": 1}
    assert cache.sync.get("k") == {"v": 1}
    assert await cache.increment("n") == 1
    assert await cache.clear() == 2
    await cache.close()
    cache.sync.close()


async def test_sentinel_unreachable_fails_open() -> None:
    """A sentinel that does not answer makes reads miss (fail-open), like a dead server."""
    cache = RedisCache(f"redis+sentinel://127.0.0.1:{free_port()}/mymaster/0", key_prefix="a")
    assert await cache.get("k") is None
    assert cache.stats().errors_total == 1
    await cache.close()


async def test_cluster_spreads_keys_and_keeps_the_api(cluster_url: str, unique_prefix: str) -> None:
    """On the cluster: set_many/get_many of 300 keys, 500 gathered gets and clear all work."""
    cache = RedisCache(cluster_url, socket_timeout=5, key_prefix=unique_prefix, max_connections=64)
    assert cache.mode == "cluster"
    keys = {f"k{i}": i for i in range(300)}
    await cache.set_many(keys, ttl=60)
    assert await cache.get_many(list(keys)) == keys
    results = await asyncio.gather(*(cache.get("k1") for _ in range(500)))
    assert results == [1] * 500
    assert await cache.clear() == 300
    await cache.close()


async def test_tiered_over_the_cluster(cluster_url: str, unique_prefix: str) -> None:
    """Pub/sub invalidation works on a cluster: B's L1 copy goes when A writes."""
    import time

    from maestro_cache import InMemoryCache, TieredCache

    a = TieredCache(
        InMemoryCache(default_ttl=30),
        RedisCache(cluster_url, socket_timeout=5, key_prefix=unique_prefix),
    )
    b = TieredCache(
        InMemoryCache(default_ttl=30),
        RedisCache(cluster_url, socket_timeout=5, key_prefix=unique_prefix),
    )
    assert a.wait_ready()
    assert b.wait_ready()
    await a.set("k", 1)
    deadline = time.monotonic() + 2
    while len(b.local) == 0:
        assert await b.get("k") == 1
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await a.set("k", 2)
    started = time.monotonic()
    while await b.get("k") != 2:
        await asyncio.sleep(0.005)
    assert time.monotonic() - started < 0.5
    await a.clear()
    await a.close()
    await b.close()
