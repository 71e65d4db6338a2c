"""Probes: liveness without checks, readiness with concurrent timed checks, startup, shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from maestro_core_api import ConfigurationError, HealthCheck, create_app
from maestro_testkit import FakeClock

from .conftest import serve


class Resource:
    """An async resource that records when it opens and closes, with a ping."""

    def __init__(self, name: str, journal: list[str], healthy: bool = True) -> None:
        self.name = name
        self.journal = journal
        self.healthy = healthy

    async def __aenter__(self) -> Resource:
        self.journal.append(f"open {self.name}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.journal.append(f"close {self.name}")

    async def ping(self) -> bool:
        return self.healthy


async def test_checks_run_concurrently_and_a_hanging_one_times_out() -> None:
    """A hanging check fails after its own timeout; readiness answers within max(timeouts)."""
    health = HealthCheck(cache_ttl=0)
    health.register_check("hang", lambda: asyncio.sleep(30), timeout=0.2)

    async def slow_ok() -> bool:
        await asyncio.sleep(0.15)
        return True

    health.register_check("slow", slow_ok, timeout=1.0)
    health.register_check("cache", lambda: False, critical=False)
    app = create_app(health=health)
    async with serve(app) as client:
        started = time.perf_counter()
        ready = await client.get("/readyz?verbose")
        elapsed = time.perf_counter() - started
        live = await client.get("/livez")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/health+json"
    body = ready.json()
    assert body["status"] == "fail"
    assert body["checks"]["hang:responseTime"][0]["status"] == "fail"
    assert body["checks"]["hang:responseTime"][0]["output"] == "timed out after 0.2s"
    assert body["checks"]["slow:responseTime"][0]["status"] == "pass"
    assert body["checks"]["cache:responseTime"][0]["status"] == "warn"
    assert body["checks"]["slow:responseTime"][0]["observedUnit"] == "ms"
    assert elapsed < 0.2 + 0.15 + 0.5  # concurrent: not the sum of the waits
    assert live.status_code == 200
    assert live.json() == {"status": "pass"}


async def test_non_critical_failure_is_warn_and_ready() -> None:
    """Only a non-critical check failing gives 'warn' with status 200."""
    health = HealthCheck()
    health.register_check("cache", lambda: False, critical=False)
    async with serve(create_app(health=health)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "warn"}


async def test_details_only_for_trusted_callers() -> None:
    """?verbose from outside the trusted networks shows the status only."""
    health = HealthCheck()
    health.register_check("db", lambda: True)
    app = create_app(health=health, version="3.1.0")
    async with serve(app, client=("203.0.113.9", 1000)) as client:
        outside = (await client.get("/readyz?verbose")).json()
    async with serve(app) as client:
        inside = (await client.get("/health/ready?verbose")).json()
    assert outside == {"status": "pass"}
    assert inside["version"] == "3.1.0"
    assert "db:responseTime" in inside["checks"]


async def test_results_are_cached() -> None:
    """Within cache_ttl the checks do not run again."""
    clock = FakeClock()
    calls: list[int] = []
    health = HealthCheck(cache_ttl=1.0, monotonic=clock.monotonic)

    def db_check() -> bool:
        calls.append(1)
        return True

    health.register_check("db", db_check)
    await health.run_checks()
    await health.run_checks()
    clock.advance(1.5)
    await health.run_checks()
    assert len(calls) == 2


async def test_resources_lifecycle_and_readiness_on_shutdown() -> None:
    """Resources open in order, close in reverse; readiness fails once shutdown begins."""
    journal: list[str] = []
    db, cache = Resource("db", journal), Resource("cache", journal, healthy=False)
    seen: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        journal.append("app start")
        yield
        journal.append("app stop")

    app = create_app(resources=[db, cache], lifespan=lifespan)
    assert set(app.state.maestro.health.names) == {"db", "cache"}
    async with serve(app) as client:
        seen["startup"] = (await client.get("/startupz")).status_code
        seen["ready"] = (await client.get("/readyz?verbose")).json()
        app.state.maestro.lifecycle.begin_shutdown()
        seen["draining"] = (await client.get("/readyz")).status_code
        seen["live"] = (await client.get("/livez")).status_code
    assert journal == ["open db", "open cache", "app start", "app stop", "close cache", "close db"]
    assert seen["startup"] == 200
    assert seen["ready"]["status"] == "fail"
    assert seen["ready"]["checks"]["db:responseTime"][0]["status"] == "pass"
    assert seen["draining"] == 503
    assert seen["live"] == 200


async def test_before_startup_probes_fail() -> None:
    """Before the lifespan started, /startupz and /readyz answer 503."""
    import httpx

    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/startupz")).status_code == 503
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/livez")).status_code == 200


async def test_no_route_exposes_settings_or_environment() -> None:
    """No admin, env or config route exists; production hides the docs."""
    app = create_app(environment="production")
    async with serve(app) as client:
        for path in ("/admin/config", "/env", "/config", "/docs", "/openapi.json", "/redoc"):
            assert (await client.get(path)).status_code == 404, path
    paths = {getattr(r, "path", "") for r in app.routes}
    assert not {p for p in paths if "admin" in p or "env" in p or "config" in p}


def test_bad_check_registration() -> None:
    """Empty or ':' names, non-callables and non-positive timeouts are configuration errors."""
    health = HealthCheck()
    with pytest.raises(ConfigurationError, match="without ':'"):
        health.register_check("db:primary", lambda: True)
    with pytest.raises(ConfigurationError, match="non-empty"):
        health.register_check("", lambda: True)
    with pytest.raises(ConfigurationError, match="callable"):
        health.register_check("db", 42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout"):
        health.register_check("db", lambda: True, timeout=0)


async def test_probe_routes_move_behind_the_app_routes_at_startup() -> None:
    """After start-up the application's routes are matched before the probes, which still answer."""
    app = create_app()

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    async with serve(app) as client:
        routes = list(app.routes)
        ping_at = next(i for i, r in enumerate(routes) if getattr(r, "path", "") == "/ping")
        probes = [
            i
            for i, r in enumerate(routes)
            if getattr(r, "path", "") == "/metrics" or hasattr(r, "original_router")
        ]
        assert probes
        assert ping_at < min(probes)
        assert (await client.get("/livez")).status_code == 200
        assert (await client.get("/ping")).json() == "pong"


async def test_a_plain_monitoring_health_check_is_accepted() -> None:
    """create_app takes maestro-monitoring's own HealthCheck as well."""
    import maestro_monitoring

    health = maestro_monitoring.HealthCheck()
    health.register_check("db", lambda: False)
    async with serve(create_app(health=health)) as client:
        response = await client.get("/readyz?verbose")
    assert response.status_code == 503
    assert response.json()["checks"]["db:responseTime"][0]["status"] == "fail"
