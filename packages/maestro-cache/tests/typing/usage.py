"""Typed usage of maestro-cache; mypy --strict checks it (never executed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, assert_type

from maestro_cache import (
    FOREVER,
    MISSING,
    CacheInterface,
    CacheService,
    CacheStats,
    InMemoryCache,
    RedisCache,
    SyncCache,
    TieredCache,
    cached,
    get_cache,
)


async def verbs(cache: CacheInterface) -> None:
    assert_type(await cache.set("k", {"a": 1}, ttl=60), bool)
    assert_type(await cache.set("k", 1, ttl=FOREVER), bool)
    assert_type(await cache.get("k"), Any)
    assert_type(await cache.add("k", 1), bool)
    assert_type(await cache.get_many(["a"]), dict[str, Any])
    assert_type(await cache.set_many({"a": 1}), bool)
    assert_type(await cache.delete("a"), bool)
    assert_type(await cache.delete_many(["a"]), int)
    assert_type(await cache.exists("a"), bool)
    assert_type(await cache.increment("n"), int)
    assert_type(await cache.decrement("n", 2), int)
    assert_type(await cache.get_ttl("k"), int | None)
    assert_type(await cache.expire("k", 5.5), bool)
    assert_type(await cache.touch("k"), bool)
    assert_type(await cache.clear(), int)
    assert_type(await cache.health_check(), bool)
    assert_type(cache.stats(), CacheStats)
    assert_type(cache.sync, SyncCache)
    assert_type(cache.sync.get("k"), Any)
    if await cache.get("k", MISSING) is MISSING:
        return
    await cache.close()


async def loading(cache: CacheInterface) -> None:
    async def build() -> dict[str, int]:
        return {"a": 1}

    assert_type(await cache.get_or_set("r", build, ttl=300), dict[str, int])
    assert_type(await cache.get_or_set("r", lambda: 5), int)
    assert_type(cache.sync.get_or_set("r", lambda: "x", stale_ttl=60), str)


@cached(ttl=60, key="price:{sku}")
def price(sku: str) -> Decimal:
    return Decimal("1")


@cached(ttl=60, key="user:{user_id}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


async def decorated() -> None:
    assert_type(price("a"), Decimal)
    assert_type(await user(1), dict[str, int])
    assert_type(price.key("a"), str)


def construct() -> None:
    assert_type(InMemoryCache(default_ttl=30, max_size=100), InMemoryCache)
    remote = RedisCache("redis://127.0.0.1:6379/0", key_prefix="orders", max_connections=64)
    assert_type(TieredCache(local=InMemoryCache(default_ttl=30), remote=remote), TieredCache)
    assert_type(CacheService("memory://"), CacheService)
    assert_type(get_cache(), CacheInterface)
