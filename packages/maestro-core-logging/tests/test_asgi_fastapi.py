"""RequestLoggingMiddleware in front of a real FastAPI application."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import maestro_core_logging as mcl
import pytest

if TYPE_CHECKING:
    from .conftest import Output

fastapi = pytest.importorskip("fastapi", reason="FastAPI comes with the workspace dev group")


def build_app() -> object:
    """A FastAPI app with a templated route, a mounted sub-app and a failing route."""
    app = fastapi.FastAPI()
    sub = fastapi.FastAPI()

    @app.get("/orders/{order_id}/lines/{line_no}")
    async def order_line(order_id: str, line_no: int) -> dict[str, object]:
        mcl.get_logger("orders").info("reading", order_id=order_id)
        return {"order": order_id, "line": line_no}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("handler failed")

    @sub.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    app.mount("/v2", sub)
    return mcl.RequestLoggingMiddleware(app)


def access(out: Output) -> list[dict[str, object]]:
    """The access lines written so far."""
    return [line for line in out.lines() if line["logger"] == "maestro.access"]


async def test_fastapi_route_template_and_request_id(configure: Callable[..., Output]) -> None:
    """FastAPI's matched route gives the template; the handler's lines carry the request id."""
    out = configure(logger_levels={"httpx": "WARNING"})
    transport = httpx.ASGITransport(app=build_app())  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/orders/A-7/lines/3", headers={"X-Request-ID": "req-42"})
        mounted = await client.get("/v2/items/9")
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42"
    first, second = access(out)
    assert first["http_route"] == "/orders/{order_id}/lines/{line_no}"
    assert first["http_status"] == 200
    assert first["request_id"] == "req-42"
    assert second["http_route"] == "/v2/items/{item_id}"
    handler_line = next(line for line in out.lines() if line["logger"] == "orders")
    assert handler_line["request_id"] == "req-42"
    assert mounted.status_code == 200


async def test_fastapi_unhandled_error_is_one_error_line(configure: Callable[..., Output]) -> None:
    """An exception in a FastAPI handler is logged as status 500 with the exception's fields."""
    out = configure(logger_levels={"httpx": "WARNING"})
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    (line,) = access(out)
    assert line["http_route"] == "/boom"
    assert line["http_status"] == 500
    assert line["level"] == "error"
    assert line["exception"]["type"] == "RuntimeError"  # type: ignore[index]
    assert line["exception"]["message"] == "handler failed"  # type: ignore[index]
