"""Apps served by a real uvicorn in the server tests: ``python _server.py MODE PORT``.

``drain``: resources that print when they close, a slow endpoint reporting readiness.
``ratelimit``: an app-wide limit in Redis (URL and prefix from the environment).
``contract``: typed routes for schemathesis.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated

from fastapi import Depends, Query
from maestro_core_api import (
    APIConfig,
    CursorPage,
    CursorParams,
    MaestroAPI,
    NotFoundException,
    RateLimit,
    cursor_params,
)
from pydantic import BaseModel, Field


class Resource:
    """Prints when it opens and closes, so the test sees the order."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __aenter__(self) -> Resource:
        print(f"open {self.name}", flush=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        print(f"close {self.name}", flush=True)

    async def ping(self) -> bool:
        return True


class Item(BaseModel):
    sku: Annotated[str, Field(min_length=1, max_length=20)]
    quantity: Annotated[int, Field(ge=1, le=1000)]


class Order(BaseModel):
    id: int
    items: list[Item]


ORDERS = {i: Order(id=i, items=[Item(sku=f"S-{i}", quantity=i)]) for i in range(1, 30)}


def build(mode: str) -> MaestroAPI:
    if mode == "drain":
        api = MaestroAPI(
            APIConfig(service_name="drain"), resources=[Resource("db"), Resource("cache")]
        )

        @api.get("/slow")
        async def slow(seconds: float = 0.5) -> dict[str, bool]:
            print("slow started", flush=True)  # the test signals once the request is in
            await asyncio.sleep(seconds)
            return {"shutting_down": api.app.state.maestro.lifecycle.shutting_down}

        return api
    if mode == "ratelimit":
        limit = RateLimit(
            "3/minute",
            key="global",
            storage=os.environ["RL_REDIS_URL"],
            name=os.environ["RL_NAME"],
        )
        api = MaestroAPI(APIConfig(service_name="limited"), rate_limit=limit)

        @api.get("/hit")
        async def hit() -> dict[str, int]:
            return {"pid": os.getpid()}

        return api
    api = MaestroAPI(
        APIConfig(service_name="contract", problem_type_base="https://errors.example/"),
        cursor_secret=b"c" * 32,
    )

    @api.get("/orders/{order_id}")
    async def get_order(order_id: int) -> Order:
        if order_id not in ORDERS:
            raise NotFoundException(f"order {order_id} does not exist")
        return ORDERS[order_id]

    @api.get("/orders")
    async def list_orders(
        page: Annotated[CursorParams, Depends(cursor_params(max_limit=10))],
        min_quantity: Annotated[int, Query(ge=0)] = 0,
    ) -> CursorPage[Order]:
        after = page.after[0] if page.after else 0
        rows = [
            o
            for k, o in sorted(ORDERS.items())
            if k > after and o.items[0].quantity >= min_quantity
        ]
        return CursorPage.from_rows(
            rows[: page.limit + 1], limit=page.limit, key=lambda o: (o.id,), request=page
        )

    @api.post("/orders", status_code=201)
    async def create_order(items: list[Item]) -> Order:
        return Order(id=len(ORDERS) + 1, items=items)

    return api


if __name__ == "__main__":
    build(sys.argv[1]).run(host="127.0.0.1", port=int(sys.argv[2]))
