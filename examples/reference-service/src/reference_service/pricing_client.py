"""The outbound pricing call: maestro-core-api's ServiceClient with maestro-resilience.

Retries (GET is idempotent) honour ``Retry-After``; the breaker sees every attempt and its
state is exported as ``maestro_circuit_breaker_state{name="pricing"}`` by the listener.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from maestro_core_api import Problem, ServiceClient, UpstreamError
from maestro_resilience import CircuitBreaker, CircuitState, Retry

from .settings import PricingSettings


def pricing_client(section: PricingSettings, *, listeners: list[Any]) -> ServiceClient:
    """The client every replica builds once, from ``settings.pricing``."""
    return ServiceClient(
        section.url,
        name="pricing",
        timeout=section.timeout,
        retry=Retry(
            max_attempts=section.attempts, delay=section.retry_delay, jitter="full", name="pricing"
        ),
        breaker=CircuitBreaker(
            failure_threshold=section.failure_threshold,
            timeout=section.breaker_timeout,
            name="pricing",
            listeners=listeners,
        ),
    )


async def unit_price(
    client: ServiceClient, sku: str, quantity: int, *, breaker_timeout: float
) -> Decimal:
    """The price of one ``sku``; a 503 problem with ``retry_after`` while pricing is down."""
    breaker = client.breaker
    try:
        answer = await client.get(f"/quotes/{sku}", params={"qty": quantity})
    except UpstreamError as error:
        if breaker is not None and breaker.state is CircuitState.OPEN:
            # ServiceClient reports an open breaker as a 502 without its retry_after.
            raise _unavailable(breaker_timeout) from error
        raise
    if answer.status_code != 200:
        retry_after = answer.headers.get("retry-after", "1")
        raise _unavailable(float(retry_after) if retry_after.isdigit() else 1.0)
    return Decimal(answer.json()["unit_price"])


def _unavailable(retry_after: float) -> Problem:
    seconds = max(1, round(retry_after))
    return Problem(
        503,
        type="pricing-unavailable",
        title="Pricing unavailable",
        detail="the pricing service cannot answer now; try again later",
        headers={"Retry-After": str(seconds)},
        retry_after=seconds,
    )
