"""Shared fixtures: a manager on its own registry, and a realistic service registry."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from maestro_monitoring import MetricsManager, MetricsMiddleware, resilience_listener
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route


@pytest.fixture
def registry() -> CollectorRegistry:
    """A fresh registry so tests never share series."""
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> MetricsManager:
    """A metrics manager writing to the test's own registry."""
    return MetricsManager(registry=registry, enabled=True)


@pytest.fixture
def realistic() -> tuple[CollectorRegistry, MetricsManager]:
    """A registry as a Maestro service exposes it (process, app, RED, stats, breaker metrics)."""
    return build_realistic()


@dataclass
class CacheStats:
    hits_total: int = 120
    misses_total: int = 7
    size: int = 42
    connected: bool = True


@dataclass
class Event:
    kind: str
    policy: str
    name: str
    new_state: str | None = None


async def _ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def _missing(request: Request) -> Response:
    return PlainTextResponse("no", status_code=404)


def build_realistic() -> tuple[CollectorRegistry, MetricsManager]:
    """A registry with process metrics, app metrics, RED metrics, stats and breaker events."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    metrics = MetricsManager("orders", {"service": "orders"}, registry=registry, enabled=True)
    created = metrics.counter("created_total", "Orders created", labels=["channel"])
    for channel in ("web", "mobile", 'odd "quoted"\nvalue'):
        created.labels(channel=channel).inc(3)
    metrics.histogram("payment_duration_seconds", "Payment provider latency").observe(0.12)
    metrics.gauge("queue_depth", "Messages waiting", labels=["queue"]).labels("emails").set(5)
    metrics.summary("payload_size_bytes", "Request payload sizes").observe(2048)
    metrics.info("build", "Build information").info({"version": "1.4.2", "commit": "abc123"})
    metrics.register_stats("maestro_cache", CacheStats, labels={"cache": "default"})
    listener = resilience_listener(metrics)
    listener(Event("failure", "circuit_breaker", "pricing"))
    listener(Event("state_change", "circuit_breaker", "pricing", new_state="open"))
    listener(Event("retry", "retry", "fetch"))

    app = Starlette(
        routes=[
            Route("/orders/{order_id}", _ok, methods=["GET", "POST"]),
            Route("/missing", _missing),
            Mount("/v1", routes=[Route("/items/{item_id}", _ok)]),
        ]
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    async def drive() -> None:
        for path, method in [
            ("/orders/1", "GET"),
            ("/orders/2", "POST"),
            ("/v1/items/3", "GET"),
            ("/missing", "GET"),
            ("/nowhere", "GET"),
        ]:
            await _request(app, path, method)

    asyncio.run(drive())
    return registry, metrics


async def _request(app: Any, path: str, method: str) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    scope = {"type": "http", "method": method, "path": path, "headers": [], "query_string": b""}
    await app(scope, receive, send)
