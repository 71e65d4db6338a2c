"""Signed keyset cursors, CursorPage with Link headers and opt-in total; deprecation headers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from maestro_core_api import (
    ConfigurationError,
    CursorPage,
    CursorParams,
    PaginatedResponse,
    create_app,
    cursor_params,
    deprecated,
)
from pydantic import BaseModel

from .conftest import serve

SECRET = b"k" * 32
START = datetime(2026, 1, 1, tzinfo=UTC)


class Order(BaseModel):
    id: int
    created_at: datetime


ROWS = [Order(id=i, created_at=START + timedelta(minutes=i // 2)) for i in range(1, 8)]


def key(order: Order) -> tuple[datetime, int]:
    return (order.created_at, order.id)


def build() -> FastAPI:
    app = create_app(cursor_secret=SECRET)

    @app.get("/orders")
    async def list_orders(
        page: Annotated[CursorParams, Depends(cursor_params(max_limit=5, default_limit=3))],
    ) -> CursorPage[Order]:
        if page.before is not None:
            rows = [o for o in reversed(ROWS) if key(o) < page.before][: page.limit + 1]
        else:
            rows = [o for o in ROWS if page.after is None or key(o) > page.after]
            rows = rows[: page.limit + 1]
        return CursorPage.from_rows(
            rows, limit=page.limit, key=key, request=page, total=lambda: len(ROWS)
        )

    @app.get("/v1/orders")
    @deprecated(sunset="2026-12-31", link="https://docs.example/orders-v2")
    async def old_orders() -> list[int]:
        return [1]

    return app


async def test_walks_forward_and_back_with_link_headers() -> None:
    """next/prev cursors and Link headers walk the whole set; total only when asked."""
    async with serve(build()) as client:
        first = await client.get("/orders")
        body = first.json()
        assert [o["id"] for o in body["items"]] == [1, 2, 3]
        assert body["prev"] is None
        assert body["total"] is None
        assert 'rel="next"' in first.headers["link"]
        second = await client.get("/orders", params={"cursor": body["next"]})
        body2 = second.json()
        assert [o["id"] for o in body2["items"]] == [4, 5, 6]
        assert 'rel="prev"' in second.headers["link"]
        back = await client.get("/orders", params={"cursor": body2["prev"]})
        assert [o["id"] for o in back.json()["items"]] == [1, 2, 3]
        last = await client.get("/orders", params={"cursor": body2["next"]})
        assert [o["id"] for o in last.json()["items"]] == [7]
        assert last.json()["next"] is None
        counted = await client.get("/orders", params={"include_total": "true", "limit": 2})
        assert counted.json()["total"] == 7
        assert len(counted.json()["items"]) == 2


async def test_tampered_or_foreign_cursor_is_a_400_problem() -> None:
    """A cursor with a changed payload, garbage, or another app's signature is refused."""
    async with serve(build()) as client:
        cursor = (await client.get("/orders")).json()["next"]
        payload, mac = cursor.split(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data["k"][1] = 1
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        answers = [
            await client.get("/orders", params={"cursor": f"{forged}.{mac}"}),
            await client.get("/orders", params={"cursor": "garbage"}),
        ]
    other = create_app(cursor_secret=b"z" * 32)
    routes = [r for r in build().router.routes if getattr(r, "path", "") == "/orders"]
    other.router.routes.extend(routes)
    async with serve(other) as client:
        answers.append(await client.get("/orders", params={"cursor": cursor}))
    for response in answers:
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "invalid cursor"
        assert response.json()["code"] == "invalid-cursor"


async def test_limit_is_bounded() -> None:
    """A limit above max_limit is a 422 problem naming the parameter."""
    async with serve(build()) as client:
        response = await client.get("/orders", params={"limit": 50})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "limit"


def test_cursor_params_arguments_are_checked() -> None:
    """default_limit beyond max_limit and short secrets are configuration errors."""
    with pytest.raises(ConfigurationError, match="default_limit"):
        cursor_params(max_limit=5, default_limit=10)
    with pytest.raises(ConfigurationError, match="16 bytes"):
        cursor_params(secret="short")


def test_paginated_response_counts_pages() -> None:
    """The offset page keeps total and computes the page count."""
    page = PaginatedResponse[int](items=[1, 2], total=5, page=1, size=2)
    assert page.pages == 3


async def test_deprecated_headers_and_openapi_flag() -> None:
    """A deprecated operation answers Deprecation, Sunset and Link, and OpenAPI marks it."""
    async with serve(build()) as client:
        response = await client.get("/v1/orders")
        document = (await client.get("/openapi.json")).json()
        current = await client.get("/orders")
    assert response.headers["deprecation"] == "?1"
    assert response.headers["sunset"] == "Thu, 31 Dec 2026 00:00:00 GMT"
    assert response.headers["link"] == (
        '<https://docs.example/orders-v2>; rel="deprecation"; type="text/html"'
    )
    assert document["paths"]["/v1/orders"]["get"]["deprecated"] is True
    assert "deprecated" not in document["paths"]["/orders"]["get"]
    assert "deprecation" not in current.headers


def test_deprecated_refuses_naive_and_bad_dates() -> None:
    """A naive sunset datetime or a non-date string is a configuration error."""
    with pytest.raises(ConfigurationError, match="timezone"):
        deprecated(sunset=datetime(2026, 12, 31))
    with pytest.raises(ConfigurationError, match="ISO date"):
        deprecated(sunset="next year")
