"""Every error the app produces is an RFC 9457 problem (application/problem+json)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from maestro_core_api import (
    APIException,
    ConfigurationError,
    NotFoundException,
    Problem,
    create_app,
)
from maestro_core_logging import capture_logs
from pydantic import BaseModel

from .conftest import serve

BASE = "https://errors.maestro.internal/"


class Item(BaseModel):
    sku: str
    quantity: int


class Order(BaseModel):
    items: list[Item]


def build() -> FastAPI:
    app = create_app(title="orders", version="1.0.0", problem_type_base=BASE)

    @app.get("/orders/{order_id}")
    async def get_order(order_id: int, limit: int = 10) -> dict[str, int]:
        if order_id == 42:
            raise NotFoundException("order 42 does not exist")
        if order_id == 409:
            raise APIException(
                "insufficient stock",
                status_code=409,
                error_code="out-of-stock",
                details={"sku": "A-1", "available": 0},
            )
        if order_id == 402:
            raise Problem(402, type="payment-required", title="Payment required", balance=0)
        if order_id == 418:
            raise HTTPException(status_code=418, detail="short and stout")
        if order_id == 500:
            raise KeyError("secret=abc")
        return {"order_id": order_id, "limit": limit}

    @app.post("/orders")
    async def create_order(order: Order) -> dict[str, int]:
        return {"items": len(order.items)}

    return app


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_our_exception_becomes_a_problem_with_type_code_and_extensions() -> None:
    """APIException with error_code and details renders type, code and extension members."""
    async with serve(build()) as client:
        response = await client.get("/orders/409")
    body = assert_problem(response, 409)
    assert body["type"] == BASE + "out-of-stock"
    assert body["title"] == "Conflict"
    assert body["detail"] == "insufficient stock"
    assert body["instance"] == "/orders/409"
    assert body["code"] == "out-of-stock"
    assert (body["sku"], body["available"]) == ("A-1", 0)


async def test_not_found_exception_is_about_blank() -> None:
    """Without an error code the type is about:blank and the title the status phrase."""
    async with serve(build()) as client:
        body = assert_problem(await client.get("/orders/42"), 404)
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["detail"] == "order 42 does not exist"


async def test_problem_with_type_title_and_extension() -> None:
    """Problem(status, type=..., title=..., **extensions) renders them as given."""
    async with serve(build()) as client:
        body = assert_problem(await client.get("/orders/402"), 402)
    assert body["type"] == BASE + "payment-required"
    assert body["title"] == "Payment required"
    assert body["balance"] == 0


async def test_http_exception_becomes_a_problem() -> None:
    """FastAPI's HTTPException keeps its status and detail."""
    async with serve(build()) as client:
        body = assert_problem(await client.get("/orders/418"), 418)
    assert body["detail"] == "short and stout"


async def test_unknown_route_and_wrong_method() -> None:
    """Routing's 404 and 405 are problems; the 405 keeps its Allow header."""
    async with serve(build()) as client:
        missing = await client.get("/nowhere")
        wrong = await client.delete("/orders/1")
    assert assert_problem(missing, 404)["instance"] == "/nowhere"
    assert_problem(wrong, 405)
    assert wrong.headers["allow"] == "GET"


async def test_unhandled_exception_hides_class_message_and_traceback() -> None:
    """A KeyError('secret=abc') is a 500 'internal error'; it is logged with its stack."""
    with capture_logs() as events:
        async with serve(build()) as client:
            response = await client.get("/orders/500")
    body = assert_problem(response, 500)
    assert body["detail"] == "internal error"
    assert "secret" not in response.text
    assert "KeyError" not in response.text
    assert "Traceback" not in response.text
    logged = [e for e in events if e.get("message") == "unhandled exception"]
    assert len(logged) == 1
    assert logged[0]["exception"]["type"] == "KeyError"
    assert logged[0]["request_id"] == body["request_id"]


async def test_validation_errors_carry_json_pointers() -> None:
    """Body errors point into the body; query errors name the parameter and where it is."""
    async with serve(build()) as client:
        body_error = await client.post("/orders", json={"items": [{"quantity": "x"}]})
        query_error = await client.get("/orders/1", params={"limit": "many"})
    problem = assert_problem(body_error, 422)
    pointers = {e["pointer"]: e["detail"] for e in problem["errors"]}
    assert set(pointers) == {"#/items/0/sku", "#/items/0/quantity"}
    assert pointers["#/items/0/sku"] == "Field required"
    query = assert_problem(query_error, 422)
    assert query["errors"] == [
        {
            "detail": "Input should be a valid integer, unable to parse string as an integer",
            "parameter": "limit",
            "in": "query",
        }
    ]


async def test_malformed_json_is_a_400_problem() -> None:
    """A body that is not JSON is a 400 problem pointing at the whole body."""
    async with serve(build()) as client:
        response = await client.post(
            "/orders", content=b'{"items": [', headers={"content-type": "application/json"}
        )
    problem = assert_problem(response, 400)
    assert problem["errors"] == [{"detail": "the body is not valid JSON", "pointer": "#"}]


async def test_to_dict_is_the_problem_body() -> None:
    """APIException.to_dict() gives the problem dict, not the original envelope."""
    error = APIException("insufficient stock", {"sku": "A-1"}, 409, "out-of-stock")
    assert error.to_dict(type_base=BASE, instance="/orders") == {
        "type": BASE + "out-of-stock",
        "title": "Conflict",
        "status": 409,
        "detail": "insufficient stock",
        "instance": "/orders",
        "code": "out-of-stock",
        "sku": "A-1",
    }


def test_reserved_members_and_bad_status_are_refused() -> None:
    """Details may not replace standard members; a status must be 400-599."""
    with pytest.raises(ConfigurationError, match="reserved problem members"):
        APIException("x", {"status": 200})
    with pytest.raises(ConfigurationError, match="between 400 and 599"):
        Problem(200)


async def test_openapi_declares_problem_responses_on_every_route() -> None:
    """Each operation declares the problem schema for its error statuses."""
    async with serve(build()) as client:
        document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/orders/{order_id}"]["get"]
    for status in ("400", "404", "422", "429", "500"):
        content = operation["responses"][status]["content"]
        assert "application/problem+json" in content
    assert "HTTPValidationError" not in str(document)


async def test_instance_is_a_uri_reference_for_non_ascii_paths() -> None:
    """A path with non-ASCII characters appears percent-encoded in `instance`."""
    async with serve(build()) as client:
        response = await client.get("/orders/%C3%A9t%C3%A9")
    body = assert_problem(response, 422)
    assert body["instance"] == "/orders/%C3%A9t%C3%A9"
    assert body["instance"].isascii()


@pytest.mark.parametrize(
    "body",
    [
        {"type": "about:blank", "title": "Not Found", "status": 404, "instance": "/x"},
        {"detail": 'quote " backslash \\ control \x00 line sep \u2028 é', "ok": True},
        {"n": None, "big": 2**70, "negative": -3},
        {"errors": [{"detail": "x", "pointer": "#/a"}], "ratio": 1.5},
        {"when": __import__("datetime").date(2026, 12, 5), "many": (1, 2)},
    ],
)
def test_problem_bodies_encode_as_the_standard_encoder_writes_them(body: dict[str, Any]) -> None:
    """The fast encoder of plain bodies writes the very bytes the standard one does."""
    import json

    from maestro_core_api._problem import encode

    expected = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)
    assert encode(body) == expected.encode()
