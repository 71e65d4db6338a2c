"""MetricsMiddleware: route templates with mounts, <unmatched>, errors, disconnects, exclusions."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest
from maestro_monitoring import ConfigurationError, MetricsManager, MetricsMiddleware
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

DURATION = "http_server_request_duration_seconds_count"
ACTIVE = "http_server_active_requests"


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def boom(request: Request) -> Response:
    raise RuntimeError("handler failed")


async def endless(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 10
            await asyncio.sleep(0)

    return StreamingResponse(chunks())


def build(metrics: MetricsManager, **options: Any) -> Starlette:
    """A Starlette app with plain routes, a mounted sub-app and a nested mount."""
    items = Starlette(routes=[Route("/items/{item_id}", ok)])
    app = Starlette(
        routes=[
            Route("/ping", ok, methods=["GET", "POST"]),
            Route("/users/{user_id}", ok),
            Route("/boom", boom),
            Route("/stream", endless),
            Route("/metrics", ok),
            Mount("/v1", app=items),
            Mount("/api", routes=[Mount("/v2", routes=[Route("/orders/{order_id}", ok)])]),
        ]
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics, **options)
    return app


async def call(app: Any, path: str, method: str = "GET") -> int:
    """Drive the ASGI app directly; returns the status sent (0 if none)."""
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
    }
    with contextlib.suppress(RuntimeError):
        await app(scope, receive, send)
    return status


def count(registry: CollectorRegistry, route: str, status: str, method: str = "GET") -> float:
    """Requests recorded for a route and status."""
    labels = {
        "http_request_method": method,
        "http_route": route,
        "http_response_status_code": status,
    }
    return registry.get_sample_value(DURATION, labels) or 0.0


def active(registry: CollectorRegistry, method: str = "GET") -> float | None:
    """The active-requests gauge for a method."""
    return registry.get_sample_value(ACTIVE, {"http_request_method": method})


async def test_route_templates_include_mount_prefixes(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Routes are labelled by template, mounted and nested mounts included."""
    app = build(metrics)
    assert await call(app, "/users/42") == 200
    assert await call(app, "/users/43") == 200
    assert await call(app, "/v1/items/7") == 200
    assert await call(app, "/api/v2/orders/9") == 200
    assert count(registry, "/users/{user_id}", "200") == 2
    assert count(registry, "/v1/items/{item_id}", "200") == 1
    assert count(registry, "/api/v2/orders/{order_id}", "200") == 1
    assert active(registry) == 0


async def test_scanner_paths_all_land_in_unmatched(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Random paths (a scanner) are all <unmatched>; the series count stays constant."""
    app = build(metrics)
    rng = random.Random(7)
    for _ in range(2000):
        path = "/" + "/".join(f"{rng.getrandbits(40):x}" for _ in range(rng.randint(1, 3)))
        await call(app, path)
    await call(app, "/v1/does-not-exist")
    samples = [s for m in registry.collect() for s in m.samples if s.name == DURATION]
    assert len(samples) == 1
    assert count(registry, "<unmatched>", "404") == 2001


async def test_exception_counts_500_and_active_returns_to_zero(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """A handler exception is recorded as 500 and the active gauge goes back to 0."""
    app = build(metrics)
    await call(app, "/boom")
    assert count(registry, "/boom", "500") == 1
    assert active(registry) == 0


async def test_exception_without_error_middleware_is_500(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """A bare ASGI app raising before responding is recorded as 500 and re-raised."""

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("no response")

    app = MetricsMiddleware(bare, metrics=metrics)
    with pytest.raises(ValueError, match="no response"):
        await app({"type": "http", "method": "GET", "path": "/x"}, None, None)  # type: ignore[arg-type]
    assert count(registry, "<unmatched>", "500") == 1
    assert active(registry) == 0


async def test_client_disconnect_mid_stream(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """A client that goes away mid-stream: the status sent is recorded, the gauge returns to 0."""
    app = build(metrics)
    chunks = 0
    disconnected = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal chunks
        if message["type"] == "http.response.body":
            chunks += 1
            if chunks == 5:
                disconnected.set()

    scope = {"type": "http", "method": "GET", "path": "/stream", "headers": [], "query_string": b""}
    await asyncio.wait_for(app(scope, receive, send), 5)
    assert chunks >= 5
    assert count(registry, "/stream", "200") == 1
    assert active(registry) == 0


async def test_send_failing_mid_stream(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """A connection reset while streaming: the status already sent is kept, the gauge is 0."""

    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 206, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("connection reset by peer")

    app = MetricsMiddleware(streaming, metrics=metrics)
    with pytest.raises(OSError, match="reset"):
        await app({"type": "http", "method": "GET", "path": "/s"}, None, send)  # type: ignore[arg-type]
    assert count(registry, "<unmatched>", "206") == 1
    assert active(registry) == 0


async def test_active_gauge_counts_requests_in_flight(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """While a request is in the handler the gauge is 1."""
    seen: list[float | None] = []

    async def slow(request: Request) -> Response:
        seen.append(active(registry))
        return PlainTextResponse("done")

    app = Starlette(routes=[Route("/slow", slow)])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    await call(app, "/slow")
    assert seen == [1.0]
    assert active(registry) == 0


async def test_excluded_paths_are_not_measured(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """exclude_paths (default /metrics) are neither counted nor in the gauge."""
    app = build(metrics, exclude_paths=("/metrics", "/ping"))
    await call(app, "/metrics")
    await call(app, "/ping")
    assert registry.get_sample_value(DURATION, {}) is None
    assert [s for m in registry.collect() for s in m.samples if s.name == DURATION] == []


async def test_unknown_methods_and_grouped_status(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Unknown methods become _OTHER; group_status=True records 2xx/4xx."""
    app = build(metrics, group_status=True)
    await call(app, "/ping", method="BREW")
    await call(app, "/ping", method="POST")
    assert count(registry, "/ping", "4xx", method="_OTHER") == 1
    assert count(registry, "/ping", "2xx", method="POST") == 1


async def test_works_beside_base_http_middleware(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Route templates still resolve when a BaseHTTPMiddleware sits inside ours."""

    class Passthrough(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Response:
            return await call_next(request)

    items = Starlette(routes=[Route("/items/{item_id}", ok)])
    app = Starlette(routes=[Mount("/v1", app=items)])
    app.add_middleware(Passthrough)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    await call(app, "/v1/items/1")
    assert count(registry, "/v1/items/{item_id}", "200") == 1


async def test_fastapi_routers_with_prefixes(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """FastAPI routes (included routers with prefixes, mounted sub-apps) resolve to templates."""
    from fastapi import APIRouter, FastAPI

    router = APIRouter(prefix="/orders")

    @router.get("/{order_id}")
    async def get_order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    sub = FastAPI()

    @sub.get("/things/{thing_id}")
    async def get_thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app = FastAPI()
    app.include_router(router)
    app.mount("/sub", sub)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    await call(app, "/orders/5")
    await call(app, "/sub/things/a")
    assert count(registry, "/orders/{order_id}", "200") == 1
    assert count(registry, "/sub/things/{thing_id}", "200") == 1


def test_bad_options_are_refused(metrics: MetricsManager) -> None:
    """exclude_paths must be a list of absolute paths."""
    with pytest.raises(ConfigurationError, match="not the string"):
        MetricsMiddleware(ok, metrics=metrics, exclude_paths="/metrics")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="start with"):
        MetricsMiddleware(ok, metrics=metrics, exclude_paths=["metrics"])  # type: ignore[arg-type]


async def test_non_http_scopes_pass_through(metrics: MetricsManager) -> None:
    """Lifespan and websocket scopes are passed on untouched."""
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    app = MetricsMiddleware(inner, metrics=metrics)
    await app({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


async def test_disconnect_before_any_response_is_499(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """A client gone before the app responded: recorded as 499, the gauge returns to 0."""

    async def waits_for_body(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        assert message["type"] == "http.disconnect"

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    app = MetricsMiddleware(waits_for_body, metrics=metrics)
    await app({"type": "http", "method": "POST", "path": "/upload"}, receive, None)  # type: ignore[arg-type]
    assert count(registry, "<unmatched>", "499", method="POST") == 1
    assert active(registry, "POST") == 0


class _Clock:
    """perf_counter() stand-in: each request takes exactly the next of the given durations."""

    def __init__(self, durations: list[float]) -> None:
        self.readings: list[float] = []
        for duration in durations:
            self.readings += [0.0, duration]

    def __call__(self) -> float:
        return self.readings.pop(0)


async def test_recorded_buckets_match_prometheus_client_observe(
    metrics: MetricsManager, registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Durations land in the same buckets, sum and count as prometheus_client's observe()."""
    import maestro_monitoring._middleware as middleware
    from prometheus_client import Histogram

    durations = [0.003, 0.005, 0.1, 0.10000001, 0.3, 7.5, 20.0, 0.0]
    monkeypatch.setattr(middleware, "perf_counter", _Clock(durations))
    app = build(metrics)
    for _ in durations:
        await call(app, "/users/1")
    reference = Histogram("ref_seconds", "r", ["a"], registry=registry).labels("x")
    for duration in durations:
        reference.observe(duration)
    ours = {
        (s.name.removeprefix("http_server_request_duration_seconds"), s.labels.get("le")): s.value
        for m in registry.collect()
        for s in m.samples
        if s.name.startswith("http_server_request_duration_seconds")
    }
    theirs = {
        (s.name.removeprefix("ref_seconds"), s.labels.get("le")): s.value
        for m in registry.collect()
        for s in m.samples
        if s.name.startswith("ref_seconds") and not s.name.endswith("_created")
    }
    assert {k: v for k, v in ours.items() if not k[0].endswith("_created")} == theirs
    assert active(registry) == 0


async def test_cached_children_follow_route_objects_and_statuses(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """A route replaced by a new object, and each status of a route, get their own series."""
    app = build(metrics)
    await call(app, "/users/1")
    app.router.routes[1] = Route("/members/{member_id}", ok)  # same slot, another route
    await call(app, "/members/2")
    await call(app, "/users/3")  # now unmatched
    await call(app, "/boom")
    await call(app, "/boom")
    assert count(registry, "/users/{user_id}", "200") == 1
    assert count(registry, "/members/{member_id}", "200") == 1
    assert count(registry, "<unmatched>", "404") == 1
    assert count(registry, "/boom", "500") == 2


async def test_the_child_cache_is_bounded_and_requests_past_it_still_count(
    metrics: MetricsManager, registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the cache bound, new (route, status) pairs are still recorded, just not cached."""
    import maestro_monitoring._middleware as middleware

    monkeypatch.setattr(middleware, "_MAX_CACHED_CHILDREN", 2)
    app = build(metrics)
    paths = ["/users/1", "/ping", "/v1/items/1", "/api/v2/orders/1", "/nowhere"]
    for _ in range(3):
        for path in paths:
            await call(app, path)
    inner: Any = app.middleware_stack
    while not isinstance(inner, MetricsMiddleware):
        inner = inner.app
    cached = sum(len(statuses) for e in inner._methods.values() for _, statuses in e[-1].values())
    assert cached == 2
    for route in ("/users/{user_id}", "/ping", "/v1/items/{item_id}", "/api/v2/orders/{order_id}"):
        assert count(registry, route, "200") == 3
    assert count(registry, "<unmatched>", "404") == 3


async def test_disabled_metrics_make_the_middleware_a_pass_through(
    registry: CollectorRegistry,
) -> None:
    """With metrics disabled the middleware serves requests and records nothing."""
    app = build(MetricsManager(registry=registry, enabled=False))
    assert await call(app, "/users/1") == 200
    assert await call(app, "/boom") == 500
    assert [s for m in registry.collect() for s in m.samples] == []
