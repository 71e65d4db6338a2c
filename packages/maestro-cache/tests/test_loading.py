"""get_or_set and @cached: single-flight, reentrancy, timeouts, stale-on-error, XFetch, types."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from maestro_cache import (
    CacheConfigError,
    CacheInterface,
    CacheLockTimeoutError,
    CacheReentrancyError,
    InMemoryCache,
    cached,
)
from maestro_testkit import FakeClock


async def test_single_flight_one_load_for_100_callers(cache: CacheInterface) -> None:
    """100 concurrent cold callers share exactly one load and get the same value."""
    loads = 0

    async def loader() -> dict[str, int]:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)
        return {"v": 7}

    results = await asyncio.gather(*(cache.get_or_set("hot", loader, ttl=60) for _ in range(100)))
    assert loads == 1
    assert all(r == {"v": 7} for r in results)
    assert await cache.get_or_set("hot", loader) == {"v": 7}
    assert loads == 1


async def test_loader_error_reaches_every_waiter() -> None:
    """Without a stale value the loader's exception propagates to every waiting caller."""
    cache = InMemoryCache()
    boom = RuntimeError("backend down")

    async def loader() -> int:
        await asyncio.sleep(0.01)
        raise boom

    results = await asyncio.gather(
        *(cache.get_or_set("k", loader) for _ in range(10)), return_exceptions=True
    )
    assert all(r is boom for r in results)
    assert await cache.get_or_set("k", lambda: 3) == 3  # the slot was freed


async def test_stale_value_served_when_the_loader_fails(fake_clock: FakeClock) -> None:
    """With stale_ttl, a failing reload serves the old value (and counts it)."""
    cache = InMemoryCache(clock=fake_clock.now, monotonic=fake_clock.monotonic)
    assert await cache.get_or_set("k", lambda: "old", ttl=10, stale_ttl=100) == "old"
    fake_clock.advance(11)
    assert await cache.get("k") is None  # expired for plain reads

    def failing() -> str:
        raise RuntimeError("down")

    assert await cache.get_or_set("k", failing, ttl=10, stale_ttl=100) == "old"
    assert cache.stats().stale_served_total == 1
    assert await cache.get_or_set("k", lambda: "new", ttl=10, stale_ttl=100) == "new"
    fake_clock.advance(200)
    with pytest.raises(RuntimeError):
        await cache.get_or_set("k", failing, ttl=10, stale_ttl=100)


async def test_loader_that_never_returns_times_out_and_frees_the_slot() -> None:
    """Waiting callers give up after loader_timeout; the next call loads again."""
    cache = InMemoryCache()
    never = asyncio.Event()

    async def hang() -> int:
        await never.wait()
        return 1

    results = await asyncio.gather(
        *(cache.get_or_set("k", hang, loader_timeout=0.05) for _ in range(3)),
        return_exceptions=True,
    )
    assert all(isinstance(r, CacheLockTimeoutError) for r in results)
    assert isinstance(results[0], TimeoutError)
    assert await cache.get_or_set("k", lambda: 2) == 2


async def test_reentrant_load_raises_instead_of_deadlocking() -> None:
    """A loader asking for its own key gets CacheReentrancyError naming the key."""
    cache = InMemoryCache()

    async def loader() -> int:
        return await cache.get_or_set("report:7", loader)

    with pytest.raises(CacheReentrancyError, match="report:7"):
        await asyncio.wait_for(cache.get_or_set("report:7", loader), 2)


def test_sync_reentrant_load_raises() -> None:
    """The sync twin detects re-entrancy too."""
    cache = InMemoryCache()

    def loader() -> int:
        return cache.sync.get_or_set("k", loader)

    with pytest.raises(CacheReentrancyError):
        cache.sync.get_or_set("k", loader)


def test_sync_single_flight_across_threads() -> None:
    """20 threads asking for a cold key share one load."""
    cache = InMemoryCache()
    loads = 0
    gate = threading.Event()

    def loader() -> int:
        nonlocal loads
        loads += 1
        gate.wait(2)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.sync.get_or_set("k", loader)))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    threading.Timer(0.1, gate.set).start()
    for thread in threads:
        thread.join(5)
    assert loads == 1
    assert results == [42] * 20


async def test_xfetch_refreshes_before_expiry(
    fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XFetch recomputes once now - delta * beta * ln(U) reaches the expiry, not before."""

    monkeypatch.setattr("random.random", lambda: 0.5)  # -ln(1 - 0.5) = 0.693
    cache = InMemoryCache(clock=fake_clock.now, monotonic=fake_clock.monotonic)
    calls = 0

    def loader() -> int:
        nonlocal calls
        calls += 1
        fake_clock.advance(2.0)  # the load "takes" 2 s: delta = 2, so the margin is 1.386 s
        return calls

    await cache.get_or_set("k", loader, ttl=100, early="xfetch")
    fake_clock.advance(98.5)  # 1.5 s before expiry: outside the margin
    assert await cache.get_or_set("k", loader, ttl=100, early="xfetch") == 1
    fake_clock.advance(0.2)  # 1.3 s before expiry: inside it
    assert await cache.get_or_set("k", loader, ttl=100, early="xfetch") == 2
    assert cache.stats().early_refreshes_total == 1


async def test_xfetch_refreshes_once_across_processes_sharing_a_store(
    fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes (two caches on one store) both draw an early refresh: the first claims
    it and loads; the other, reading while that load runs, is served the still-fresh value
    at once (no duplicate load)."""
    monkeypatch.setattr("random.random", lambda: 0.5)
    first = InMemoryCache(clock=fake_clock.now, monotonic=fake_clock.monotonic)
    second = InMemoryCache(clock=fake_clock.now, monotonic=fake_clock.monotonic)
    second._b = first._b  # one store, as processes share one Redis
    seen_by_second: list[int] = []
    second_loads = 0

    def second_loader() -> int:
        nonlocal second_loads
        second_loads += 1
        return 99

    async def loader() -> int:
        if not seen_by_second and first.stats().early_refreshes_total:
            # the other process reads while this refresh runs
            seen_by_second.append(
                await second.get_or_set("k", second_loader, ttl=100, early="xfetch")
            )
            return 2
        fake_clock.advance(2.0)  # delta = 2 s: the margin is 1.386 s
        return 1

    await first.get_or_set("k", loader, ttl=100, early="xfetch")
    fake_clock.advance(98.7)  # 1.3 s before expiry: both draw an early refresh
    assert await first.get_or_set("k", loader, ttl=100, early="xfetch") == 2
    assert seen_by_second == [1]  # the old value, still fresh
    assert second_loads == 0
    assert first.stats().early_refreshes_total == 1
    assert second.stats().early_refreshes_total == 0


async def test_xfetch_callers_are_not_held_by_a_running_early_refresh(
    fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one caller refreshes early, others who draw an early refresh get the still-fresh
    value at once instead of waiting for the load."""
    monkeypatch.setattr("random.random", lambda: 0.5)
    cache = InMemoryCache(clock=fake_clock.now, monotonic=fake_clock.monotonic)
    release = asyncio.Event()
    calls = 0

    async def loader() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            fake_clock.advance(2.0)  # delta = 2 s: the margin is 1.386 s
        else:
            await release.wait()
        return calls

    await cache.get_or_set("k", loader, ttl=100, early="xfetch")
    fake_clock.advance(98.7)  # 1.3 s before expiry: every caller draws an early refresh
    refresh = asyncio.ensure_future(cache.get_or_set("k", loader, ttl=100, early="xfetch"))
    await asyncio.sleep(0.01)
    assert calls == 2  # the refresh is running
    others = await asyncio.wait_for(
        asyncio.gather(*(cache.get_or_set("k", loader, ttl=100, early="xfetch") for _ in range(5))),
        1,
    )
    assert others == [1] * 5  # the old value, at once
    release.set()
    assert await refresh == 2
    assert calls == 2


def test_sync_xfetch_claim_is_shared_too(
    fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync twin claims early refreshes in the same store."""
    monkeypatch.setattr("random.random", lambda: 0.5)
    first = InMemoryCache(clock=fake_clock.now, monotonic=fake_clock.monotonic)
    second = InMemoryCache(clock=fake_clock.now, monotonic=fake_clock.monotonic)
    second._b = first._b
    seen_by_second: list[int] = []

    def loader() -> int:
        if first.stats().early_refreshes_total and not seen_by_second:
            seen_by_second.append(second.sync.get_or_set("k", lambda: 99, ttl=100, early="xfetch"))
            return 2
        fake_clock.advance(2.0)
        return 1

    first.sync.get_or_set("k", loader, ttl=100, early="xfetch")
    fake_clock.advance(98.7)
    assert first.sync.get_or_set("k", loader, ttl=100, early="xfetch") == 2
    assert seen_by_second == [1]
    assert second.stats().early_refreshes_total == 0


async def test_xfetch_claim_on_redis_is_one_per_lifetime(
    unique_prefix: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two RedisCache clients (two processes) on one server: one early refresh between them."""
    from maestro_cache import RedisCache

    monkeypatch.setattr("random.random", lambda: 1 - 1e-12)  # -ln(1e-12) = 27.6: due
    loads: list[str] = []

    def loader(name: str) -> Callable[[], str]:
        def load() -> str:
            loads.append(name)
            time.sleep(0.05)  # delta = 0.05 s: due when less than 1.38 s is left
            return name

        return load

    async with (
        RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix) as a,
        RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix) as b,
    ):
        assert await a.get_or_set("k", loader("a"), ttl=1, early="xfetch") == "a"
        assert await a.get_or_set("k", loader("a2"), ttl=1, early="xfetch") == "a2"
        assert await b.get_or_set("k", loader("b"), ttl=1, early="xfetch") == "a2"
        assert loads == ["a", "a2"]
        assert await a._b.aget(a.make_key("k") + "\x00early") == b"1"
        await a.clear()


async def test_lock_true_holder_crash_lock_expires(unique_prefix: str, redis_url: str) -> None:
    """A lock left by a crashed holder expires after its TTL; the waiter then loads."""
    from maestro_cache import RedisCache

    async with RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix) as cache:
        lock_key = cache.make_key("job") + "\x00lock"
        assert await cache._b.aadd(lock_key, b"crashed-holder", 300)
        value = await cache.get_or_set("job", lambda: "done", lock=True, loader_timeout=5)
        assert value == "done"
        await cache.clear()


async def test_fenced_release_keeps_someone_elses_lock(unique_prefix: str, redis_url: str) -> None:
    """Releasing with a stale token leaves the current holder's lock in place."""
    from maestro_cache import RedisCache

    async with RedisCache(redis_url, socket_timeout=5, key_prefix=unique_prefix) as cache:
        lock_key = cache.make_key("job") + "\x00lock"
        assert await cache._b.aadd(lock_key, b"B-token", 5000)
        assert await cache._b.aunlock(lock_key, b"A-token") is False
        assert await cache._b.aget(lock_key) == b"B-token"
        assert await cache._b.aunlock(lock_key, b"B-token") is True
        await cache.clear()


async def test_lock_waiter_times_out(unique_prefix: str, redis_url: str) -> None:
    """A lock held by someone else for longer than lock_timeout raises CacheLockTimeoutError."""
    from maestro_cache import RedisCache

    async with RedisCache(
        redis_url, socket_timeout=5, key_prefix=unique_prefix, lock_timeout=0.1
    ) as cache:
        lock_key = cache.make_key("job") + "\x00lock"
        await cache._b.aadd(lock_key, b"other", 5000)
        with pytest.raises(CacheLockTimeoutError, match="lock"):
            await cache.get_or_set("job", lambda: 1, lock=True)
        await cache.clear()


@dataclass
class User:
    id: int
    name: str
    joined: datetime


async def test_cached_typed_decode_from_the_return_annotation() -> None:
    """@cached turns the cached JSON back into the declared dataclass, with its datetime."""
    cache = InMemoryCache()
    loads = 0

    @cached(ttl=60, key="user:{user_id}", cache=cache)
    async def load_user(user_id: int) -> User:
        nonlocal loads
        loads += 1
        return User(user_id, "ann", datetime(2026, 1, 2, tzinfo=UTC))

    first = await load_user(1)
    second = await load_user(user_id=1)
    assert first == second == User(1, "ann", datetime(2026, 1, 2, tzinfo=UTC))
    assert isinstance(second, User)
    assert loads == 1
    assert load_user.key(1) == "user:1"
    assert await load_user.invalidate(user_id=1) is True
    await load_user(1)
    assert loads == 2


def test_cached_sync_function_with_decimal() -> None:
    """A sync function is cached through cache.sync; a Decimal survives the trip."""
    cache = InMemoryCache()
    calls = 0

    @cached(ttl=60, key="price:{sku}", cache=cache)
    def price(sku: str) -> Decimal:
        nonlocal calls
        calls += 1
        return Decimal("9.99")

    assert price("a") == Decimal("9.99")
    assert price("a") == Decimal("9.99")
    assert isinstance(price("a"), Decimal)
    assert calls == 1
    assert price.invalidate("a") is True


def test_key_templates_are_checked_at_decoration() -> None:
    """A template naming an unknown parameter, or a method without one, is refused at once."""
    with pytest.raises(CacheConfigError, match="usr_id"):

        @cached(key="user:{usr_id}")
        def load(user_id: int) -> int:
            return user_id

    with pytest.raises(CacheConfigError, match="key="):

        class Repo:
            @cached()
            def get(self, item_id: int) -> int:
                return item_id


def test_method_with_a_template() -> None:
    """A method with a key template is cached without its self in the key."""
    cache = InMemoryCache()

    class Repo:
        calls = 0

        @cached(key="item:{item_id}", cache=cache)
        def get(self, item_id: int) -> int:
            Repo.calls += 1
            return item_id * 2

    assert Repo().get(3) == 6
    assert Repo().get(3) == 6
    assert Repo.calls == 1
    assert cache.sync.get("item:3") == 6
    assert Repo().get.key(3) == "item:3"
    assert Repo().get.invalidate(item_id=3) is True
    assert Repo().get(3) == 6
    assert Repo.calls == 2


def test_get_or_set_validates_arguments() -> None:
    """Unknown early=, early without TTL and a non-callable loader are errors."""
    from maestro_cache import FOREVER

    cache = InMemoryCache()
    with pytest.raises(CacheConfigError, match="early"):
        cache.sync.get_or_set("k", lambda: 1, early="soon")
    with pytest.raises(CacheConfigError, match="TTL"):
        cache.sync.get_or_set("k", lambda: 1, ttl=FOREVER, stale_ttl=5)
    with pytest.raises(CacheConfigError, match="loader"):
        cache.sync.get_or_set("k", 5)  # type: ignore[arg-type]


async def test_pydantic_model_round_trip_and_schema_change() -> None:
    """A pydantic return type comes back as the model; a cached shape that no longer fits is
    a counted miss and is loaded again."""
    from pydantic import BaseModel

    class Order(BaseModel):
        id: int
        total: Decimal

    cache = InMemoryCache()
    loads = 0

    async def load() -> Order:
        nonlocal loads
        loads += 1
        return Order(id=1, total=Decimal("9.99"))

    first = await cache.get_or_set("order:1", load, type=Order)
    again = await cache.get_or_set("order:1", load, type=Order)
    assert first == again == Order(id=1, total=Decimal("9.99"))
    assert isinstance(again, Order)
    assert loads == 1
    await cache.set("order:1", {"id": "not a number"})
    assert (await cache.get_or_set("order:1", load, type=Order)).id == 1
    assert loads == 2
    assert cache.stats().errors_total == 1


async def test_a_cancelled_waiter_leaves_the_load_to_the_others() -> None:
    """Cancelling one waiting caller cancels only that caller: the others get the value."""
    cache = InMemoryCache()
    loads = 0

    async def loader() -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)
        return 5

    callers = [asyncio.ensure_future(cache.get_or_set("k", loader)) for _ in range(5)]
    await asyncio.sleep(0.01)
    callers[0].cancel()
    callers[3].cancel()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert isinstance(results[3], asyncio.CancelledError)
    assert [results[i] for i in (1, 2, 4)] == [5, 5, 5]
    assert loads == 1
    assert await cache.get("k") == 5


async def test_a_waiter_with_a_shorter_timeout_gives_up_alone() -> None:
    """A caller joining a load with a smaller loader_timeout times out by itself; the load
    (bounded by its leader's loader_timeout) goes on and serves the other callers."""
    cache = InMemoryCache()

    async def loader() -> int:
        await asyncio.sleep(0.1)
        return 9

    leader = asyncio.ensure_future(cache.get_or_set("k", loader, loader_timeout=5))
    await asyncio.sleep(0)
    with pytest.raises(CacheLockTimeoutError):
        await cache.get_or_set("k", loader, loader_timeout=0.02)
    assert await leader == 9
    assert cache.stats().loads_total == 1
