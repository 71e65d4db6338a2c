"""Typed usage of maestro-core-db, checked by mypy --strict (never executed)."""

from __future__ import annotations

import uuid
from typing import Any, assert_type

from maestro_core_db import (
    Base,
    BaseRepository,
    DatabaseHealth,
    DatabaseManager,
    MigrationManager,
    MigrationStatus,
    Page,
    PoolStats,
    TimestampMixin,
    UniqueViolationError,
    UUIDPrimaryKeyMixin,
    VersionMixin,
    create_session_dependency,
    uuid7,
)
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column


class Order(UUIDPrimaryKeyMixin, TimestampMixin, VersionMixin, Base):
    __tablename__ = "typed_orders"
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    qty: Mapped[int]


class OrderRepository(BaseRepository[Order]):
    model = Order


async def unit(session: AsyncSession) -> int:
    order = await OrderRepository(session).get_one(uuid7())
    return order.qty


def sync_unit(session: Session) -> str:
    return "ok"


async def main() -> None:
    db = DatabaseManager("sqlite:///./typed.db", pool_size=2, statement_timeout=5.0)
    assert_type(db.engine, AsyncEngine)
    await db.initialize()
    async with db.transaction(isolation_level="SERIALIZABLE") as session:
        assert_type(session, AsyncSession)
        repo = OrderRepository(session)
        assert_type(await repo.get(uuid.uuid4()), Order | None)
        assert_type(await repo.insert_many([{"sku": "a", "qty": 1}]), int)
        page = await repo.list_page(order_by=(Order.created_at, Order.id), limit=10)
        assert_type(page, Page[Order])
        items, total = await repo.list_and_count(Order.qty > 1)
        assert_type(items, list[Order])
        assert_type(total, int)
    rows = await db.execute_query("select 1 as one", {})
    assert_type(rows, list[dict[str, Any]])
    assert_type(await db.run_in_transaction(unit, attempts=3), int)
    assert_type(db.sync.run_in_transaction(sync_unit), str)
    with db.sync.transaction() as sync_session:
        assert_type(sync_session, Session)
        sync_session.execute(select(Order))
    assert_type(await db.health(), DatabaseHealth)
    assert_type(db.pool_stats(), PoolStats)
    migrations = MigrationManager(db, "migrations")
    assert_type(await migrations.upgrade("head"), MigrationStatus)
    dependency = create_session_dependency(db)
    async for s in dependency():
        assert_type(s, AsyncSession)
    try:
        await db.execute_query("insert into typed_orders (sku) values (:s)", {"s": "a"})
    except UniqueViolationError as exc:
        assert_type(exc.constraint, str | None)
    await db.shutdown()
