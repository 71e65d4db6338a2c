"""maestro-core-auth and maestro-monitoring inside create_app."""

from __future__ import annotations

import secrets
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Request
from maestro_core_api import (
    ConfigurationError,
    RateLimit,
    create_app,
    get_current_user,
    require_role,
)
from maestro_core_auth import Authenticator, Key, Principal, TokenIssuer, TokenVerifier
from maestro_monitoring import MetricsManager
from maestro_testkit import FakeClock

from .conftest import serve


def authenticated_app(**options: object) -> tuple[FastAPI, TokenIssuer]:
    key = Key.hmac(secrets.token_bytes(32))
    issuer = TokenIssuer(key=key, issuer="https://auth.test", audience="orders")
    verifier = TokenVerifier(keys=key, issuer="https://auth.test", audience="orders")
    app = create_app(auth=Authenticator(verifier=verifier, realm="orders"), **options)  # type: ignore[arg-type]

    @app.get("/me")
    async def me(user: Annotated[Principal, Depends(get_current_user)]) -> dict[str, str]:
        return {"subject": user.subject}

    @app.delete("/orders/{order_id}", dependencies=[Depends(require_role("admin"))])
    async def remove(order_id: int) -> int:
        return order_id

    return app, issuer


async def test_auth_errors_are_problems_with_rfc6750_headers() -> None:
    """No token, a bad token and a missing role are 401/401/403 problems; a good token passes."""
    app, issuer = authenticated_app()
    clerk = issuer.issue(subject="ann", roles=["clerk"])
    async with serve(app) as client:
        missing = await client.get("/me")
        bad = await client.get("/me", headers={"Authorization": "Bearer not.a.token"})
        ok = await client.get("/me", headers={"Authorization": f"Bearer {clerk}"})
        forbidden = await client.delete("/orders/1", headers={"Authorization": f"Bearer {clerk}"})
    for response, status in ((missing, 401), (bad, 401), (forbidden, 403)):
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["request_id"] == response.headers["x-request-id"]
        assert response.headers["www-authenticate"].startswith('Bearer realm="orders"')
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    assert "not.a.token" not in bad.text
    assert ok.json() == {"subject": "ann"}


async def test_auth_dependency_without_authenticator_fails_at_startup() -> None:
    """A route using get_current_user in an app without auth= refuses to start."""
    app = create_app()

    @app.get("/me")
    async def me(user: Annotated[Principal, Depends(get_current_user)]) -> str:
        return user.subject

    with pytest.raises(ConfigurationError, match="no authenticator"):
        async with serve(app):
            pass


async def test_rate_limit_key_is_the_principal() -> None:
    """Two principals behind one IP get separate buckets; anonymous callers share the IP's."""
    clock = FakeClock()
    app, issuer = authenticated_app(rate_limit=RateLimit("1/minute", monotonic=clock.monotonic))
    ann, bob = (issuer.issue(subject=s) for s in ("ann", "bob"))
    async with serve(app) as client:
        first = await client.get("/me", headers={"Authorization": f"Bearer {ann}"})
        second = await client.get("/me", headers={"Authorization": f"Bearer {bob}"})
        again = await client.get("/me", headers={"Authorization": f"Bearer {ann}"})
    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 429]


async def test_verbose_health_for_an_admin_principal() -> None:
    """Outside the trusted network, ?verbose shows details only to an admin token."""
    app, issuer = authenticated_app()
    app.state.maestro.health.register_check("db", lambda: True)
    admin = issuer.issue(subject="root", roles=["admin"])
    clerk = issuer.issue(subject="ann", roles=["clerk"])
    async with serve(app, client=("203.0.113.4", 1)) as client:
        as_admin = await client.get("/readyz?verbose", headers={"Authorization": f"Bearer {admin}"})
        as_clerk = await client.get("/readyz?verbose", headers={"Authorization": f"Bearer {clerk}"})
    assert "db:responseTime" in as_admin.json()["checks"]
    assert as_clerk.json() == {"status": "pass"}


async def test_red_metrics_by_route_template() -> None:
    """/metrics serves request metrics labelled by route template, not raw path."""
    from prometheus_client import CollectorRegistry

    manager = MetricsManager(registry=CollectorRegistry())
    app = create_app(metrics=manager)

    @app.get("/orders/{order_id}")
    async def order(order_id: int) -> int:
        return order_id

    async with serve(app) as client:
        for order_id in (1, 2, 3):
            await client.get(f"/orders/{order_id}")
        await client.get("/livez")
        text = (await client.get("/metrics")).text
    assert '"/orders/{order_id}"' in text
    assert "/orders/1" not in text
    assert "/livez" not in text


def test_metrics_off() -> None:
    """metrics=False leaves the middleware and /metrics out."""
    app = create_app(metrics=False)
    assert "MetricsMiddleware" not in app.state.maestro.middleware
    assert "/metrics" not in {getattr(r, "path", "") for r in app.routes}


def test_auth_must_be_an_authenticator() -> None:
    """Anything but an Authenticator as auth= is a configuration error."""
    with pytest.raises(ConfigurationError, match="Authenticator"):
        create_app(auth="secret-token")


async def test_tracing_spans_and_traceparent_propagation() -> None:
    """With tracing=, requests get spans by route, and ServiceClient sends the span's id."""
    import httpx
    from maestro_core_api import ServiceClient
    from maestro_monitoring import TracingManager
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from prometheus_client import CollectorRegistry

    upstream = FastAPI()
    seen: list[str] = []

    @upstream.get("/price")
    async def price(request: Request) -> int:
        seen.append(request.headers.get("traceparent", ""))
        return 1

    memory = InMemorySpanExporter()
    tracing = TracingManager(
        "orders",
        "1.0.0",
        exporter=memory,
        sample_ratio=1.0,
        metrics=MetricsManager(registry=CollectorRegistry(), enabled=True),
    )
    tracing.start()
    try:
        client = ServiceClient(
            "http://pricing.internal", transport=httpx.ASGITransport(app=upstream)
        )
        app = create_app(tracing=tracing, metrics=False)

        @app.get("/orders/{order_id}")
        async def order(order_id: int) -> int:
            return (await client.get("/price")).json()

        async with serve(app) as http:
            assert (await http.get("/orders/7")).json() == 1
        await client.close()
        tracing.force_flush()
        names = [span.name for span in memory.get_finished_spans()]
    finally:
        tracing.shutdown()
    assert any(name.startswith("GET /orders/{order_id}") for name in names)
    trace_ids = {
        format(span.context.trace_id, "032x")
        for span in memory.get_finished_spans()
        if span.name.startswith("GET /orders")
    }
    assert seen[0].split("-")[1] in trace_ids
