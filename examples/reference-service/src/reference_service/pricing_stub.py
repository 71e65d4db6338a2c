"""The pricing dependency, as a 30-line FastAPI app with switchable failure modes.

``uvicorn reference_service.pricing_stub:app --port 8001``. ``GET /quotes/{sku}?qty=2``
answers a price; ``POST /mode?mode=slow|unavailable|ok`` (or ``?mode=`` on one quote) makes
it sleep ``delay`` seconds, or answer 503 with ``Retry-After``. "Down" is the stub stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal
from typing import Literal

from fastapi import FastAPI, Query, Response

Mode = Literal["ok", "slow", "unavailable"]
app = FastAPI(title="pricing")
state: dict[str, object] = {"mode": "ok", "delay": 5.0, "retry_after": 1, "calls": 0}


@app.post("/mode")
async def set_mode(
    mode: Mode, delay: float = Query(5.0, ge=0), retry_after: int = Query(1, ge=0)
) -> dict[str, object]:
    state.update(mode=mode, delay=delay, retry_after=retry_after, calls=0)
    return state


@app.get("/mode")
async def get_mode() -> dict[str, object]:
    return state


@app.get("/quotes/{sku}", response_model=None)
async def quote(sku: str, response: Response, qty: int = 1, mode: Mode | None = None) -> object:
    state["calls"] = int(str(state["calls"])) + 1
    chosen = mode or state["mode"]
    if chosen == "slow":
        await asyncio.sleep(float(str(state["delay"])))
    if chosen == "unavailable":
        response.status_code = 503
        response.headers["Retry-After"] = str(state["retry_after"])
        return {"detail": "pricing is overloaded"}
    cents = 100 + int(hashlib.sha256(sku.encode()).hexdigest()[:4], 16) % 9900
    return {"sku": sku, "qty": qty, "unit_price": str(Decimal(cents) / 100)}
