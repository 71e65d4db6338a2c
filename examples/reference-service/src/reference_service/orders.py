"""``/orders``: create (priced, with its event in the same transaction), read (cached),
list (keyset pages with ``Link``) and delete (admins only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, Security
from maestro_audit_logger import Resource
from maestro_cache import cached
from maestro_core_api import (
    CursorPage,
    CursorParams,
    NotFoundException,
    cursor_params,
    require_role,
)
from maestro_core_auth import Principal, require_scopes
from maestro_core_db import DatabaseManager
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Order, OrderCreated, OrderIn, OrderOut, OrderRepository
from .pricing_client import unit_price
from .services import Svc, services

router = APIRouter(prefix="/orders", tags=["orders"])
Reader = Annotated[Principal, Security(require_scopes("orders:read"))]
Writer = Annotated[Principal, Security(require_scopes("orders:write"))]


async def create_limit(request: Request) -> None:
    """The per-principal limit on creating orders (memory, or Redis at scale; fail-closed)."""
    await services(request).create_limit(request)


@cached(ttl=30, key="order:{order_id}")
async def load_order(db: DatabaseManager, order_id: uuid.UUID) -> OrderOut | None:
    """One order as the API shows it; 30 s in the cache, dropped when the order changes."""
    async with db.get_read_session() as session:
        order = await OrderRepository(session).get(order_id)
    return OrderOut.of(order) if order is not None else None


@router.post("", status_code=201, dependencies=[Depends(create_limit)])
async def create_order(body: OrderIn, user: Writer, svc: Svc, response: Response) -> OrderOut:
    """Price the order, then store it and its ``orders.created`` event in one transaction."""
    price = await unit_price(
        svc.pricing, body.sku, body.quantity, breaker_timeout=svc.settings.pricing.breaker_timeout
    )

    async def store(session: AsyncSession) -> Order:
        order = OrderRepository(session).add(
            Order(
                customer=user.subject,
                sku=body.sku,
                quantity=body.quantity,
                unit_price=price,
                total=price * body.quantity,
                status="pending",
            )
        )
        await session.flush()
        event = OrderCreated(
            order_id=order.id, sku=order.sku, quantity=order.quantity, total=order.total
        )
        await svc.outbox.add(session, svc.settings.topic, event, key=str(order.id))
        return order

    order = await svc.db.run_in_transaction(store)
    await svc.record(
        "order.create",
        outcome="success",
        user_id=user.subject,
        resource=Resource("order", str(order.id)),
    )
    response.headers["Location"] = f"/orders/{order.id}"
    return OrderOut.of(order)


@router.get("/{order_id}")
async def read_order(order_id: uuid.UUID, user: Reader, svc: Svc) -> OrderOut:
    """One order (from the cache when another request loaded it in the last 30 s)."""
    found = await load_order(svc.db, order_id)
    if found is None:
        raise NotFoundException(f"order {order_id} does not exist")
    return found


@router.get("")
async def list_orders(
    user: Reader,
    svc: Svc,
    page: Annotated[CursorParams, Depends(cursor_params(max_limit=100, default_limit=20))],
) -> CursorPage[OrderOut]:
    """Keyset pages in creation order (UUIDv7 ids sort by time); ``Link`` names the next."""
    async with svc.db.get_read_session() as session:
        if page.before is not None:  # a "prev" cursor: read backwards, the page restores order
            query = select(Order).where(Order.id < page.before[0]).order_by(Order.id.desc())
            rows = list((await session.scalars(query.limit(page.limit + 1))).all())
        else:
            where = [Order.id > page.after[0]] if page.after is not None else []
            found = await OrderRepository(session).list_page(
                *where, order_by=(Order.id,), limit=page.limit + 1
            )
            rows = found.items
    return CursorPage.from_rows(
        [OrderOut.of(o) for o in rows], limit=page.limit, key=lambda o: (o.id,), request=page
    )


@router.delete("/{order_id}", status_code=204, dependencies=[Depends(require_role("admin"))])
async def delete_order(order_id: uuid.UUID, request: Request, svc: Svc) -> Response:
    """Remove an order (role ``admin``; a refusal is audited as ``authz.denied``)."""
    admin = await svc.authenticator.authenticate(request)
    async with svc.db.transaction() as session:
        repo = OrderRepository(session)
        order = await repo.get(order_id)
        if order is None:
            raise NotFoundException(f"order {order_id} does not exist")
        await repo.hard_delete(order)
    await load_order.invalidate(svc.db, order_id=order_id)
    await svc.record(
        "order.delete",
        outcome="success",
        user_id=admin.subject,
        resource=Resource("order", str(order_id)),
    )
    return Response(status_code=204)
