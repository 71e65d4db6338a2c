"""The pricing call: retries honour Retry-After, the breaker opens, timeouts and outages."""

from __future__ import annotations

import time

from maestro_testkit import free_port

from .conftest import Orders, Pricing


async def test_retry_after_is_honoured_then_the_breaker_opens_and_answers_at_once(
    orders: Orders, pricing: Pricing
) -> None:
    """503 + Retry-After: each POST waits it out 3 times; after 5 failures, 503 without a call."""
    auth = await orders.bearer()
    pricing.mode("unavailable", retry_after=1)
    started = time.monotonic()
    refused = await orders.client.post("/orders", json={"sku": "R-1", "quantity": 1}, headers=auth)
    waited = time.monotonic() - started
    assert refused.status_code == 503
    problem = refused.json()
    assert problem["type"].endswith("pricing-unavailable")
    assert problem["retry_after"] >= 1
    assert pricing.calls() == 3  # three attempts ...
    assert waited >= 2.0  # ... with the server's Retry-After (1 s) waited before each retry

    await orders.client.post("/orders", json={"sku": "R-1", "quantity": 1}, headers=auth)
    assert pricing.calls() == 5  # the fifth failure opened the breaker: no sixth attempt
    at_once = await orders.client.post("/orders", json={"sku": "R-1", "quantity": 1}, headers=auth)
    assert at_once.status_code == 503
    assert at_once.json()["retry_after"] == 30
    assert at_once.headers["retry-after"] == "30"
    assert pricing.calls() == 5  # answered without calling pricing
    metrics = (await orders.client.get("/metrics")).text
    assert 'maestro_circuit_breaker_state{name="pricing"} 2.0' in metrics
    assert "maestro_resilience_events_total" in metrics


async def test_a_slow_pricing_call_times_out_as_a_504_problem(
    orders_factory: object, pricing: Pricing
) -> None:
    """A quote slower than the client timeout is retried, then answered 504 naming pricing."""
    async with orders_factory(  # type: ignore[operator]
        pricing={"url": pricing.url, "timeout": 0.3, "attempts": 2, "retry_delay": 0.01}
    ) as slow:
        pricing.mode("slow", delay=2)
        answer = await slow.client.post(
            "/orders", json={"sku": "S-1", "quantity": 1}, headers=await slow.bearer()
        )
    assert answer.status_code == 504
    assert answer.json()["upstream"] == "pricing"


async def test_pricing_down_is_a_502_problem_and_nothing_is_stored(orders_factory: object) -> None:
    """Nobody listens on the pricing port: 502 naming the upstream, and no order is written."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with orders_factory(pricing={"url": nowhere, "retry_delay": 0.01}) as down:  # type: ignore[operator]
        auth = await down.bearer()
        answer = await down.client.post("/orders", json={"sku": "N-1", "quantity": 1}, headers=auth)
        listed = await down.client.get("/orders", headers=auth)
    assert answer.status_code == 502
    assert answer.json()["upstream"] == "pricing"
    assert "unreachable" in answer.json()["detail"]
    assert listed.json()["items"] == []
