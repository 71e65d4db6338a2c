"""Base, the mixins and uuid7 on every engine."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from maestro_core_db import Base, DatabaseConfigError, DatabaseManager, StaleDataError, uuid7
from sqlalchemy import select


async def commit_translated(db: DatabaseManager, session: Any) -> None:
    """Commit, raising the package's error for a driver/ORM failure (as transaction() does)."""
    try:
        await session.commit()
    except Exception as exc:
        raise db.translate(exc) from exc


def test_uuid7_is_version_7_and_increasing() -> None:
    """uuid7() returns RFC 9562 version-7 UUIDs that sort in creation order."""
    values = [uuid7() for _ in range(2000)]
    assert all(v.version == 7 and v.variant == uuid.RFC_4122 for v in values)
    assert values == sorted(values)
    assert len(set(values)) == len(values)
    millis = values[0].int >> 80
    now = int(datetime.now(UTC).timestamp() * 1000)
    assert abs(now - millis) < 5000


def test_naming_convention_gives_stable_names(models: Any) -> None:
    """Constraints and indexes get conventional names (stable Alembic diffs)."""
    names = {c.name for c in models.Order.__table__.constraints}
    assert {
        "pk_mdb_orders",
        "uq_mdb_orders_sku",
        "fk_mdb_orders_customer_id_mdb_customers",
    } <= names
    assert {i.name for i in models.Item.__table__.indexes} == {"ix_mdb_items_tenant_id"}
    assert Base.metadata.naming_convention["uq"] == "uq_%(table_name)s_%(column_0_N_name)s"


async def test_timestamps_are_aware_utc(db: DatabaseManager, models: Any) -> None:
    """created_at/updated_at come back as aware UTC datetimes, to the microsecond."""
    async with db.transaction() as session:
        order = models.Order(sku="t-1", qty=1)
        session.add(order)
    written = order.created_at
    async with db.session() as session:
        loaded = await session.get(models.Order, order.id)
        assert loaded is not None
        assert loaded.created_at.tzinfo is UTC
        assert loaded.created_at == written
        assert loaded.id == order.id
        assert loaded.id.version == 7


async def test_other_timezones_are_stored_as_utc(db: DatabaseManager, models: Any) -> None:
    """An aware datetime in another zone is stored as the same instant in UTC."""
    plus_two = datetime(2026, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    async with db.transaction() as session:
        order = models.Order(sku="t-2", qty=1, deleted_at=plus_two)
        session.add(order)
    async with db.session() as session:
        loaded = await session.get(models.Order, order.id)
        assert loaded is not None
        assert loaded.deleted_at == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
        assert loaded.deleted_at.tzinfo is UTC


async def test_naive_datetimes_are_refused(db: DatabaseManager, models: Any) -> None:
    """A naive datetime is an error that says to attach a timezone."""

    async def work() -> None:
        async with db.transaction() as session:
            session.add(models.Order(sku="t-3", qty=1, deleted_at=datetime(2026, 1, 1)))
            await session.flush()

    with pytest.raises(DatabaseConfigError, match="attach a timezone"):
        await work()


async def test_version_mixin_detects_lost_updates(db: DatabaseManager, models: Any) -> None:
    """Two writers of one version: the second raises StaleDataError, the first's write stays."""
    async with db.transaction() as session:
        order = models.Order(sku="v-1", qty=1)
        session.add(order)
    async with db.session() as first, db.session() as second:
        b = await second.get(models.Order, order.id)
        await second.commit()  # b was read in an earlier transaction (an earlier request)
        a = await first.get(models.Order, order.id)
        assert a is not None
        assert b is not None
        a.qty = 10
        await first.commit()
        b.qty = 20
        with pytest.raises(StaleDataError):
            await commit_translated(db, second)
    rows = await db.execute_query("select qty, version from mdb_orders")
    assert rows == [{"qty": 10, "version": 2}]


async def test_version_mixin_through_transaction(db: DatabaseManager, models: Any) -> None:
    """transaction() itself raises StaleDataError when the row changed since it was read."""
    async with db.transaction() as session:
        order = models.Order(sku="v-2", qty=1)
        session.add(order)

    async def work() -> None:
        async with db.transaction() as session:
            mine = await session.get(models.Order, order.id)
            assert mine is not None
            # someone else's committed update, simulated on this connection (SQLite has one
            # writer at a time) with Core, behind the ORM's back
            await session.execute(
                models.Order.__table__.update().values(version=models.Order.version + 1)
            )
            mine.qty = 5

    with pytest.raises(StaleDataError):
        await work()


async def test_timestamps_update_on_change(db: DatabaseManager, models: Any) -> None:
    """updated_at moves forward when the row is updated; created_at stays."""
    async with db.transaction() as session:
        order = models.Order(sku="u-1", qty=1)
        session.add(order)
    async with db.transaction() as session:
        loaded = await session.get(models.Order, order.id)
        assert loaded is not None
        loaded.qty = 2
    async with db.session() as session:
        again = (await session.scalars(select(models.Order))).one()
        assert again.created_at == order.created_at
        assert again.updated_at >= order.updated_at
        assert again.version == 2
