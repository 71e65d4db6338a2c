"""RateLimit: GCRA in memory and in Redis, IETF headers, Retry-After, fail-open/closed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from maestro_core_api import ConfigurationError, RateLimit, create_app
from maestro_core_logging import capture_logs
from maestro_testkit import FakeClock, free_port

from .conftest import serve


def test_gcra_allows_burst_then_spaces_requests() -> None:
    """'3/second' admits 3 at once, then one every third of a second."""
    clock = FakeClock()
    limit = RateLimit("3/second", monotonic=clock.monotonic)
    decisions = [limit.check("k") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert decisions[3].retry_after == pytest.approx(1 / 3)
    clock.advance(1 / 3)
    assert limit.check("k").allowed
    assert not limit.check("k").allowed
    assert limit.check("other").allowed


def test_rates_and_arguments_are_checked() -> None:
    """Rates parse in several spellings; bad ones are configuration errors."""
    assert (RateLimit("100/minute").limit, RateLimit("100/minute").window) == (100, 60.0)
    assert RateLimit("5/10s").window == 10.0
    assert RateLimit("1000 per hour").window == 3600.0
    for bad in ("lots", "0/minute", "5/fortnight"):
        with pytest.raises(ConfigurationError, match="rate"):
            RateLimit(bad)
    with pytest.raises(ConfigurationError, match="on_backend_error"):
        RateLimit("1/s", on_backend_error="maybe")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="storage"):
        RateLimit("1/s", storage="memcached://x")


def build(limit: RateLimit | None, route_limit: RateLimit | None = None) -> FastAPI:
    app = create_app(rate_limit=limit, problem_type_base="https://errors.maestro.internal/")
    deps: list[Any] = [Depends(route_limit)] if route_limit is not None else []

    @app.get("/items", dependencies=deps)
    async def items() -> list[int]:
        return [1, 2]

    @app.get("/free")
    async def free() -> dict[str, bool]:
        return {"free": True}

    return app


async def test_app_wide_limit_headers_and_429_problem() -> None:
    """Allowed answers carry RateLimit headers; the refusal is a 429 problem with Retry-After."""
    clock = FakeClock()
    app = build(RateLimit("2/minute", key="ip", monotonic=clock.monotonic))
    async with serve(app) as client:
        first = await client.get("/items")
        await client.get("/free")
        refused = await client.get("/items")
        probe = await client.get("/livez")
    assert first.headers["ratelimit-policy"] == '"2-per-60";q=2;w=60'
    assert first.headers["ratelimit"] == '"2-per-60";r=1;t=30'
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "https://errors.maestro.internal/rate-limited"
    assert refused.headers["retry-after"] == "30"
    assert refused.headers.get_list("ratelimit") == ['"2-per-60";r=0;t=60']
    assert probe.status_code == 200
    assert "ratelimit" not in probe.headers


async def test_route_limit_and_global_limit_headers_once() -> None:
    """With an app-wide and a route limit, each header appears once, the stricter state wins."""
    clock = FakeClock()
    app = build(
        RateLimit("100/minute", monotonic=clock.monotonic),
        RateLimit("1/minute", scope="route", name="items", monotonic=clock.monotonic),
    )
    async with serve(app) as client:
        ok = await client.get("/items")
        refused = await client.get("/items")
        other = await client.get("/free")
    assert ok.status_code == 200
    assert ok.headers.get_list("ratelimit") == ['"items";r=0;t=60']
    assert ok.headers.get_list("ratelimit-policy") == ['"100-per-60";q=100;w=60, "items";q=1;w=60']
    assert refused.status_code == 429
    assert refused.headers.get_list("retry-after") == ["60"]
    assert len(refused.headers.get_list("ratelimit")) == 1
    assert other.status_code == 200


async def test_key_is_the_client_ip_after_trusted_proxies() -> None:
    """X-Forwarded-For from an untrusted peer does not give a fresh bucket."""
    clock = FakeClock()
    app = create_app(rate_limit=RateLimit("1/minute", monotonic=clock.monotonic))

    @app.get("/x")
    async def x() -> int:
        return 1

    async with serve(app, client=("198.51.100.1", 1)) as client:
        assert (await client.get("/x")).status_code == 200
        spoofed = await client.get("/x", headers={"X-Forwarded-For": "203.0.113.50"})
    assert spoofed.status_code == 429


async def test_redis_shared_by_two_apps(redis_url: str, unique_prefix: str) -> None:
    """Two app instances with their own Redis clients share one limit (one Lua script)."""
    import redis.asyncio as redis_asyncio
    from maestro_core_api._ratelimit import RedisStorage

    clients = [redis_asyncio.Redis.from_url(redis_url) for _ in range(2)]
    prefix = f"{unique_prefix}:rl:"
    apps = [
        build(RateLimit("3/minute", key="global", storage=RedisStorage(c, prefix=prefix)))
        for c in clients
    ]
    statuses = []
    try:
        async with serve(apps[0]) as one, serve(apps[1]) as two:
            for client in (one, two, one, two):
                statuses.append((await client.get("/items")).status_code)
    finally:
        for key in await clients[0].keys(f"{prefix}*"):
            await clients[0].delete(key)
        for c in clients:
            await c.aclose()
    assert statuses == [200, 200, 200, 429]


async def test_redis_down_fail_open_and_fail_closed() -> None:
    """With Redis gone: 'allow' passes and warns once, counting errors; 'deny' answers 503."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    open_limit = RateLimit("1/minute", storage=dead, on_backend_error="allow")
    closed_limit = RateLimit("1/minute", storage=dead, on_backend_error="deny", scope="route")
    app = build(open_limit, closed_limit)
    with capture_logs() as events:
        async with serve(app) as client:
            free = [await client.get("/free") for _ in range(3)]
            denied = await client.get("/items")
    assert [r.status_code for r in free] == [200, 200, 200]
    assert open_limit.backend_errors >= 3
    warnings = [e for e in events if e.get("message") == "rate-limit storage failed"]
    assert len(warnings) == 2  # once per limit per interval
    assert denied.status_code == 503
    assert denied.headers["content-type"] == "application/problem+json"
    assert denied.json()["code"] == "rate-limit-unavailable"
