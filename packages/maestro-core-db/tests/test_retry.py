"""run_in_transaction re-runs the whole unit of work on transient failures, on every engine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from maestro_core_db import (
    DatabaseManager,
    MaestroDBError,
    SerializationFailureError,
    TransientError,
    UniqueViolationError,
)
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


async def test_success_runs_once_and_commits(db: DatabaseManager, models: Any) -> None:
    """On success the function runs once, its result is returned and its writes committed."""
    calls = 0

    async def unit(session: AsyncSession) -> str:
        nonlocal calls
        calls += 1
        session.add(models.Account(id=1, balance=5))
        return "done"

    assert await db.run_in_transaction(unit) == "done"
    assert calls == 1
    assert await db.execute_query("select balance from mdb_accounts") == [{"balance": 5}]


async def test_transient_failures_rerun_the_whole_unit(db: DatabaseManager, models: Any) -> None:
    """Injected serialization failures roll back each attempt; the last attempt commits once."""
    calls = 0

    async def unit(session: AsyncSession) -> int:
        nonlocal calls
        calls += 1
        session.add(models.Account(id=calls, balance=calls))
        await session.flush()
        if calls < 3:
            raise SerializationFailureError("could not serialize access (injected)")
        return calls

    assert await db.run_in_transaction(unit, attempts=5) == 3
    assert await db.execute_query("select id from mdb_accounts") == [{"id": 3}]


async def test_gives_up_after_attempts(db: DatabaseManager) -> None:
    """After `attempts` transient failures the last TransientError is raised."""
    calls = 0

    async def unit(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        raise TransientError(f"busy {calls}")

    with pytest.raises(TransientError, match="busy 3"):
        await db.run_in_transaction(unit, attempts=3)
    assert calls == 3


async def test_other_errors_are_not_retried(db: DatabaseManager, models: Any) -> None:
    """A unique violation (or any non-transient error) is raised at once, not retried."""
    calls = 0
    await db.execute_query("insert into mdb_accounts (id, balance) values (1, 1)")

    async def unit(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        session.add(models.Account(id=1, balance=2))

    with pytest.raises(UniqueViolationError):
        await db.run_in_transaction(unit)
    assert calls == 1


async def test_conflicting_serializable_transactions_both_commit(
    db: DatabaseManager, models: Any, backend: str
) -> None:
    """Two SERIALIZABLE read-modify-writes of one row conflict; the loser is re-run, both count."""
    await db.execute_query("insert into mdb_accounts (id, balance) values (1, 0)")
    both_read = asyncio.Barrier(2)
    attempts: list[str] = []

    def unit_for(name: str) -> Any:
        async def unit(session: AsyncSession) -> None:
            attempts.append(name)
            balance = await session.scalar(
                select(models.Account.balance).where(models.Account.id == 1)
            )
            assert balance is not None
            if len(attempts) <= 2 and backend != "sqlite":
                # first attempts: make sure both have read before either writes
                await asyncio.wait_for(both_read.wait(), 5)
            await session.execute(
                update(models.Account).where(models.Account.id == 1).values(balance=balance + 1)
            )

        return unit

    await asyncio.gather(
        db.run_in_transaction(unit_for("a"), isolation_level="SERIALIZABLE", attempts=5),
        db.run_in_transaction(unit_for("b"), isolation_level="SERIALIZABLE", attempts=5),
    )
    assert await db.execute_query("select balance from mdb_accounts") == [{"balance": 2}]
    if backend != "sqlite":
        assert len(attempts) >= 3  # one of them was re-run


def test_sync_twin_retries_too(sync_db: DatabaseManager, models: Any) -> None:
    """db.sync.run_in_transaction re-runs a plain function the same way."""
    calls = 0

    def unit(session: Session) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise SerializationFailureError("injected")
        session.add(models.Account(id=9, balance=9))
        return calls

    assert sync_db.sync.run_in_transaction(unit, attempts=2) == 2
    assert sync_db.sync.execute_query("select id from mdb_accounts") == [{"id": 9}]


async def test_attempts_must_be_positive(db: DatabaseManager) -> None:
    """attempts=0 is a configuration error."""

    async def unit(session: AsyncSession) -> None:
        return None

    with pytest.raises(MaestroDBError, match="attempts"):
        await db.run_in_transaction(unit, attempts=0)
