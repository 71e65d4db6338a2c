"""Outbox, relay and inbox: rows in the caller's transaction, SKIP LOCKED claims, dedupe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from maestro_core_messaging import (
    Inbox,
    Message,
    MessageBroker,
    Outbox,
    OutboxRelay,
    PublishError,
)
from maestro_testkit import unique_name
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An async engine on a file SQLite database or the shared PostgreSQL."""
    if request.param == "sqlite":
        eng = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    else:
        url = str(request.getfixturevalue("postgres_url"))
        eng = create_async_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield eng
    await eng.dispose()


@pytest.fixture
async def tables(engine: AsyncEngine) -> AsyncIterator[tuple[Outbox, Inbox]]:
    """An outbox and an inbox on unique tables, dropped afterwards."""
    outbox = Outbox(source="orders", table=unique_name("ob"))
    inbox = Inbox("billing", table=unique_name("ib"))
    async with engine.begin() as conn:
        await conn.run_sync(outbox.table.metadata.create_all, tables=[outbox.table])
        await conn.run_sync(inbox.table.metadata.create_all, tables=[inbox.table])
    yield outbox, inbox
    async with engine.begin() as conn:
        await conn.run_sync(outbox.table.metadata.drop_all, tables=[outbox.table])
        await conn.run_sync(inbox.table.metadata.drop_all, tables=[inbox.table])


async def _count(engine: AsyncEngine, table: Any, where: str = "") -> int:
    async with engine.connect() as conn:
        result = await conn.execute(text(f"SELECT count(*) FROM {table.name} {where}"))
        return int(result.scalar_one())


async def test_outbox_rows_follow_the_callers_transaction(
    engine: AsyncEngine, tables: tuple[Outbox, Inbox]
) -> None:
    """A rolled-back transaction leaves no outbox row; a committed one leaves exactly one."""
    outbox, _ = tables
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        await session.begin()
        await outbox.add(session, "orders.created", {"order_id": "o-0"})
        await session.rollback()
    async with sessions.begin() as session:
        await outbox.add(session, "orders.created", {"order_id": "o-1"}, key="o-1")
    assert await _count(engine, outbox.table) == 1


async def test_relay_publishes_with_the_row_id_and_marks_sent(
    engine: AsyncEngine, tables: tuple[Outbox, Inbox]
) -> None:
    """The relay started with the broker publishes every row once, with the row id as event id."""
    outbox, _ = tables
    broker = MessageBroker.from_url(f"memory://{unique_name('hub')}", source="orders")
    got: list[tuple[str, str | None]] = []

    @broker.subscriber("orders.created", group="billing")
    async def bill(event: dict[str, str], message: Message) -> None:
        got.append((message.id, message.key))

    async with engine.begin() as conn:
        ids = [
            await outbox.add(conn, "orders.created", {"order_id": f"o-{i}"}, key=f"o-{i}")
            for i in range(5)
        ]
    OutboxRelay(engine, broker, batch_size=2, interval=0.01, table=outbox.table.name)
    async with broker:
        for _ in range(200):
            if await _count(engine, outbox.table, "WHERE sent_at IS NULL") == 0:
                break
            await asyncio.sleep(0.01)
        await broker.join(timeout=5)
    assert got == [(i, f"o-{n}") for n, i in enumerate(ids)]


async def test_relay_crash_before_marking_publishes_again_and_the_inbox_absorbs_it(
    engine: AsyncEngine, tables: tuple[Outbox, Inbox]
) -> None:
    """A relay that dies after publishing republishes the same id; Inbox.claim applies it once."""
    outbox, inbox = tables
    broker = MessageBroker.from_url(f"memory://{unique_name('hub')}", source="orders")
    sessions = async_sessionmaker(engine)
    effects: list[str] = []
    duplicates: list[str] = []

    @broker.subscriber("orders.created", group="billing")
    async def bill(event: dict[str, str], message: Message) -> None:
        async with sessions.begin() as session:
            if not await inbox.claim(session, message):
                duplicates.append(message.id)
                return
            effects.append(event["order_id"])

    async with sessions.begin() as session:
        await outbox.add(session, "orders.created", {"order_id": "o-1"})

    class Crash(Exception):
        pass

    async def crash_after_publish(topic: str, events: list[Any]) -> list[str]:
        await MessageBroker.publish_many(broker, topic, events)
        raise Crash

    relay = OutboxRelay(sessions, broker, interval=0.01, table=outbox.table.name, attach=False)
    async with broker:
        broker.publish_many = crash_after_publish  # type: ignore[assignment, method-assign]
        with pytest.raises(Crash):
            await relay.relay_once()
        del broker.publish_many
        assert await relay.relay_once() == 1
        assert await relay.relay_once() == 0
        await broker.join(timeout=5)
    assert effects == ["o-1"]
    assert len(duplicates) == 1


async def test_inbox_claim_is_once_per_consumer(
    engine: AsyncEngine, tables: tuple[Outbox, Inbox]
) -> None:
    """claim() is True the first time an event id is seen and False afterwards."""
    _, inbox = tables
    sessions = async_sessionmaker(engine)
    async with sessions.begin() as session:
        assert await inbox.claim(session, "e-1") is True
    async with sessions.begin() as session:
        assert await inbox.claim(session, "e-1") is False
        assert await inbox.claim(session, "e-2") is True


async def test_relay_all_keeps_the_order_and_marks_every_row(
    engine: AsyncEngine, tables: tuple[Outbox, Inbox]
) -> None:
    """relay_all() (overlapping claims on PostgreSQL) publishes 50 rows in order, all marked."""
    outbox, _inbox = tables
    broker = MessageBroker.from_url(f"memory://{unique_name('hub')}", source="orders")
    seen: list[int] = []

    @broker.subscriber("orders.created", group="billing")
    async def bill(n: int) -> None:
        seen.append(n)

    async with engine.begin() as conn:
        for i in range(50):
            await outbox.add(conn, "orders.created", i)
    relay = OutboxRelay(engine, broker, batch_size=7, table=outbox.table.name, attach=False)
    async with broker:
        assert await relay.relay_all() == 50
        assert await relay.relay_all() == 0
        await broker.join(timeout=5)
    assert seen == list(range(50))
    assert await _count(engine, outbox.table, "WHERE sent_at IS NULL") == 0


async def test_relay_all_failing_mid_way_leaves_the_rest_unsent(
    engine: AsyncEngine, tables: tuple[Outbox, Inbox]
) -> None:
    """A batch the broker refuses rolls back (with the batch claimed ahead); nothing is lost."""
    outbox, _inbox = tables
    broker = MessageBroker.from_url(
        f"memory://{unique_name('hub')}", source="orders", max_message_bytes=100
    )
    async with engine.begin() as conn:
        for i in range(20):
            payload = "x" * 200 if i == 12 else i  # row 12 is over max_message_bytes
            await outbox.add(conn, "orders.created", payload)
    relay = OutboxRelay(engine, broker, batch_size=5, table=outbox.table.name, attach=False)
    async with broker:
        with pytest.raises(PublishError, match="max_message_bytes"):
            await relay.relay_all()
    assert relay.relayed_total == 10
    assert await _count(engine, outbox.table, "WHERE sent_at IS NULL") == 10


async def test_two_relays_on_postgresql_never_double_claim(postgres_url: str) -> None:
    """Two relays running at once on PostgreSQL publish every row exactly once (SKIP LOCKED)."""
    engine = create_async_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    outbox = Outbox(source="orders", table=unique_name("ob"))
    async with engine.begin() as conn:
        await conn.run_sync(outbox.table.metadata.create_all, tables=[outbox.table])
    broker = MessageBroker.from_url(f"memory://{unique_name('hub')}", source="orders")
    seen: list[str] = []

    @broker.subscriber("orders.created", group="billing", concurrency=8)
    async def bill(n: int, message: Message) -> None:
        seen.append(message.id)

    try:
        async with engine.begin() as conn:
            for i in range(60):
                await outbox.add(conn, "orders.created", i)
        relays = [
            OutboxRelay(engine, broker, batch_size=5, table=outbox.table.name, attach=False)
            for _ in range(2)
        ]
        async with broker:

            async def drain(relay: OutboxRelay) -> None:
                while await relay.relay_once():
                    await asyncio.sleep(0)

            await asyncio.gather(*(drain(r) for r in relays))
            await broker.join(timeout=5)
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(outbox.table.metadata.drop_all, tables=[outbox.table])
        await engine.dispose()
    assert len(seen) == 60
    assert len(set(seen)) == 60
    assert all(r.relayed_total > 0 for r in relays)


async def test_relay_all_beside_other_relays_never_double_claims(postgres_url: str) -> None:
    """relay_all() with its overlapping claims, beside two other relays: every row once."""
    engine = create_async_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    outbox = Outbox(source="orders", table=unique_name("ob"))
    async with engine.begin() as conn:
        await conn.run_sync(outbox.table.metadata.create_all, tables=[outbox.table])
    broker = MessageBroker.from_url(f"memory://{unique_name('hub')}", source="orders")
    seen: list[str] = []

    @broker.subscriber("orders.created", group="billing", concurrency=8)
    async def bill(n: int, message: Message) -> None:
        seen.append(message.id)

    try:
        async with engine.begin() as conn:
            for i in range(60):
                await outbox.add(conn, "orders.created", i)
        relays = [
            OutboxRelay(engine, broker, batch_size=5, table=outbox.table.name, attach=False)
            for _ in range(3)
        ]
        async with broker:

            async def drain(relay: OutboxRelay) -> None:
                while await relay.relay_once():
                    await asyncio.sleep(0)

            await asyncio.gather(drain(relays[0]), relays[1].relay_all(), relays[2].relay_all())
            await broker.join(timeout=5)
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(outbox.table.metadata.drop_all, tables=[outbox.table])
        await engine.dispose()
    assert len(seen) == 60
    assert len(set(seen)) == 60
    assert sum(r.relayed_total for r in relays) == 60
