"""Typed usage of maestro-core-api, as users write it; mypy --strict checks it, never run."""

from __future__ import annotations

from typing import Annotated, Any, assert_type

import httpx
from fastapi import Depends, FastAPI
from maestro_core_api import (
    APIConfig,
    APIException,
    CursorPage,
    CursorParams,
    HealthCheck,
    MaestroAPI,
    NotFoundException,
    PaginatedResponse,
    Problem,
    RateLimit,
    ServiceClient,
    UpstreamError,
    create_app,
    cursor_params,
    deprecated,
    problem_responses,
)
from maestro_monitoring import HealthCheck as MonitoringHealthCheck
from pydantic import BaseModel


class Order(BaseModel):
    id: int


health = HealthCheck(cache_ttl=1.0)
health.register_check("db", lambda: True, timeout=1.0)
app = create_app(
    title="orders",
    version="1.4.2",
    health=health,
    rate_limit=RateLimit("100/minute", key="principal_or_ip"),
    trusted_proxies=("10.0.0.0/8",),
    problem_type_base="https://errors.maestro.internal/",
)
assert_type(app, FastAPI)


@app.get("/orders", responses=problem_responses(404))
async def list_orders(
    page: Annotated[CursorParams, Depends(cursor_params(max_limit=100))],
) -> CursorPage[Order]:
    rows = [Order(id=1)]
    return CursorPage.from_rows(rows, limit=page.limit, key=lambda o: (o.id,), request=page)


@app.get("/v1/orders", dependencies=[Depends(RateLimit("5/minute", on_backend_error="deny"))])
@deprecated(sunset="2026-12-31", link="https://docs.example/orders")
async def old_orders() -> PaginatedResponse[Order]:
    raise NotFoundException("gone")


def problems() -> None:
    error = APIException("insufficient stock", {"sku": "A-1"}, 409, "out-of-stock")
    assert_type(error.to_dict(), dict[str, Any])
    assert_type(Problem(402, type="payment-required", balance=0).status_code, int)
    assert_type(UpstreamError("pricing", "is unreachable").upstream, str)


async def outbound() -> None:
    pricing = ServiceClient("http://pricing.internal", name="pricing", timeout=2.0)
    response = await pricing.get("/quotes/A-1")
    assert_type(response, httpx.Response)
    assert_type(pricing.sync.post("/charges", idempotency_key="k-1"), httpx.Response)
    await pricing.close()


api = MaestroAPI(APIConfig(title="Orders API", service_name="orders", version="1.0.0"))
assert_type(api.app, FastAPI)
assert_type(api.health, MonitoringHealthCheck)  # the api's own HealthCheck, or the one given
