"""The one-machine run (SQLite, in-process cache and broker): orders end to end."""

from __future__ import annotations

import json
import uuid
from typing import Any

from maestro_core_logging import capture_logs
from reference_service.orders import load_order

from .conftest import ADMIN, Orders, await_until


async def test_an_order_is_created_read_and_confirmed_without_a_stale_cache(
    orders: Orders,
) -> None:
    """Token, POST 201 + Location, GET, then `confirmed` within 2 s although GET cached it."""
    auth = await orders.bearer()
    created = await orders.client.post("/orders", json={"sku": "A-1", "quantity": 2}, headers=auth)
    assert created.status_code == 201, created.text
    order = created.json()
    assert created.headers["location"] == f"/orders/{order['id']}"
    assert order["status"] in ("pending", "confirmed")
    assert float(order["total"]) == 2 * float(order["unit_price"])

    first = await orders.client.get(created.headers["location"], headers=auth)
    assert first.status_code == 200
    assert first.json()["id"] == order["id"]

    async def confirmed() -> bool:
        answer = await orders.client.get(created.headers["location"], headers=auth)
        return bool(answer.json()["status"] == "confirmed")

    await await_until(confirmed, 2.0, "the consumer to confirm the order")
    cached = await orders.svc.cache.get(load_order.key(orders.svc.db, uuid.UUID(order["id"])))
    assert cached is None or cached["status"] == "confirmed"  # never a stale `pending`


async def test_orders_are_listed_in_keyset_pages_with_link_headers(orders: Orders) -> None:
    """Three orders, pages of two: `Link: rel="next"`, then the rest, then `prev` back."""
    auth = await orders.bearer()
    ids = []
    for sku in ("K-1", "K-2", "K-3"):
        answer = await orders.client.post("/orders", json={"sku": sku, "quantity": 1}, headers=auth)
        ids.append(answer.json()["id"])
    first = await orders.client.get("/orders", params={"limit": 2}, headers=auth)
    assert [o["id"] for o in first.json()["items"]] == ids[:2]
    assert 'rel="next"' in first.headers["link"]
    second = await orders.client.get(
        "/orders", params={"limit": 2, "cursor": first.json()["next"]}, headers=auth
    )
    assert [o["id"] for o in second.json()["items"]] == ids[2:]
    back = await orders.client.get(
        "/orders", params={"limit": 2, "cursor": second.json()["prev"]}, headers=auth
    )
    assert [o["id"] for o in back.json()["items"]] == ids[:2]
    forged = await orders.client.get("/orders", params={"cursor": "x" * 40}, headers=auth)
    assert forged.status_code == 400


async def test_an_admin_deletes_an_order_and_its_cached_copy(orders: Orders) -> None:
    """DELETE by an admin is 204, audited, and a later GET is a 404 problem."""
    clerk = await orders.bearer()
    created = await orders.client.post("/orders", json={"sku": "D-1", "quantity": 1}, headers=clerk)
    location = created.headers["location"]
    assert (await orders.client.get(location, headers=clerk)).status_code == 200
    deleted = await orders.client.delete(location, headers=await orders.bearer(ADMIN))
    assert deleted.status_code == 204
    gone = await orders.client.get(location, headers=clerk)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    events = [e.event_type for e in orders.svc.audit.query(event_type="order.*")]
    assert events == ["order.create", "order.delete"]


async def test_probes_metrics_and_the_page_answer(orders: Orders) -> None:
    """`/livez`, `/readyz` (db, cache, broker, migrations), `/metrics` with RED and stats, `/`."""
    assert (await orders.client.get("/livez")).json() == {"status": "pass"}
    ready = (await orders.client.get("/readyz?verbose")).json()
    assert ready["status"] == "pass"
    checks = {name.split(":")[0] for name in ready["checks"]}
    assert {"broker", "migrations", "databasemanager", "cacheservice"} <= checks
    auth = await orders.bearer()
    await orders.client.post("/orders", json={"sku": "M-1", "quantity": 1}, headers=auth)
    metrics = (await orders.client.get("/metrics")).text
    assert 'http_route="/orders",http_response_status_code="201"' in metrics
    assert "maestro_cache_hits_total" in metrics
    assert "maestro_messaging_published_total" in metrics
    assert "maestro_db_pool_" in metrics
    page = await orders.client.get("/")
    assert page.status_code == 200
    assert 'id="login-button"' in page.text


async def test_no_secret_reaches_a_log_line_and_every_request_line_has_its_id(
    orders: Orders,
) -> None:
    """Tokens, passwords and the signing secret never appear; request lines carry the id."""
    secrets = [*orders.secrets.values.values()]
    with capture_logs(level="debug") as events:
        tokens = await orders.login()
        secrets += [tokens["access_token"], tokens["refresh_token"]]
        auth = {"Authorization": f"Bearer {tokens['access_token']}", "X-Request-ID": "req-logs-1"}
        await orders.client.post("/orders", json={"sku": "L-1", "quantity": 1}, headers=auth)
        await orders.client.get("/orders", headers={"Authorization": "Bearer bad.token.here"})
        await orders.client.post("/auth/token", json={"username": "ann", "password": "wrong-pw"})
    lines = [json.dumps(event, default=str) for event in events]
    assert lines, "nothing was logged"
    for secret in [*secrets, "wrong-pw", "bad.token.here"]:
        assert not [line for line in lines if secret in line], "a secret reached a log line"
    request_lines = [e for e in events if e.get("logger") != "httpx"]
    assert all(e.get("request_id") for e in request_lines), request_lines
    assert "req-logs-1" in {e["request_id"] for e in request_lines}


async def test_creating_orders_is_rate_limited_per_route(orders_factory: Any) -> None:
    """Past the route's limit POST /orders answers a 429 problem with Retry-After; reads go on."""
    async with orders_factory(rate_limit="3/minute") as orders:
        auth = await orders.bearer()
        answers = [
            await orders.client.post("/orders", json={"sku": "A-1", "quantity": 1}, headers=auth)
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        refused = answers[-1]
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) >= 1
        listed = await orders.client.get("/orders", headers=auth)
        assert listed.status_code == 200
        assert len(listed.json()["items"]) == 3  # the refused one was never created
