"""maestro-core-db against plain SQLAlchemy 2 on the same engine and driver.

Paths (issue 17, spec section 6), each on SQLite (aiosqlite) and PostgreSQL (psycopg 3 async):

- D1 ``repo.insert_many(10k dicts)`` vs Core ``conn.execute(insert(table), rows)``
  (executemany): aim >= 0.9x the anchor's rows/s.
- D3 ``repo.get(id)`` vs ``session.get(Model, id)`` (2,000 primary-key reads, each a
  round trip): aim <= 1.1x the anchor's time; ``repo.get_row(id)`` vs a Core select on one
  connection: aim <= 1.1x.
- D4 request-scoped ``async with db.session()`` + get vs a raw ``AsyncSession(engine)`` + get:
  aim <= 1.1x.
- D6 ``db.run_in_transaction(fn)`` vs ``async with db.transaction()`` + ``fn`` on the success
  path: aim < 2% overhead.

Both sides use the same AsyncEngine (same pool, same SQLite pragmas, same PostgreSQL
settings); rounds are interleaved and the best rounds compared (medians printed too). PostgreSQL
is used when 127.0.0.1:5432 answers (a database is created and dropped); set BENCH_PG_URL to point
elsewhere. Timings are noisy on a shared machine; rerun before drawing conclusions.

Run: python benchmarks/db.py [--quick]
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from maestro_core_db import BaseRepository, DatabaseManager
from sqlalchemy import MetaData, String, Table, bindparam, create_engine, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

QUICK = "--quick" in sys.argv
ROWS = 2_000 if QUICK else 10_000
READS = 400 if QUICK else 2_000
ROUNDS = 3 if QUICK else 5  # D1: rounds of ROWS inserts per side
MEDIANS: list[float] = []  # ours/anchor ratio of the medians, per comparison
SLICES = 20  # D3/D4/D6: the READS split into this many interleaved slices per side


class BenchBase(DeclarativeBase):
    """A base of its own: the benchmark's table only."""

    metadata = MetaData()


class Row(BenchBase):
    """One benchmark row."""

    __tablename__ = "bench_rows"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(32))
    qty: Mapped[int]
    note: Mapped[str] = mapped_column(String(64))


class RowRepository(BaseRepository[Row]):
    """The repository under test."""

    model = Row


def rows(n: int) -> list[dict[str, Any]]:
    """n rows as dicts."""
    return [{"sku": f"S-{i}", "qty": i, "note": "benchmark row"} for i in range(n)]


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    """Seconds one call of fn takes."""
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def interleaved(
    ours: Callable[[], Awaitable[object]],
    anchor: Callable[[], Awaitable[object]],
    reset: Callable[[], Awaitable[object]] | None = None,
    rounds: int = ROUNDS,
) -> tuple[float, float]:
    """Best (minimum) seconds of ours and of the anchor over interleaved rounds.

    The order alternates each round; on a shared machine the minimum of many short rounds is
    the figure least disturbed by other processes (the median is printed too).
    """
    mine: list[float] = []
    theirs: list[float] = []
    for index in range(rounds):
        order = [(ours, mine), (anchor, theirs)]
        if index % 2:
            order.reverse()
        for fn, bucket in order:
            if reset is not None:
                await reset()
            bucket.append(await timed(fn))
    MEDIANS.append(statistics.median(mine) / statistics.median(theirs))
    return min(mine), min(theirs)


async def bench(label: str, url: str) -> None:
    """Every path on one engine."""
    db = DatabaseManager(url, pool_size=5, max_overflow=5, statement_timeout=60)
    await db.create_all(BenchBase.metadata)
    engine = db.engine
    table: Table = Row.__table__  # type: ignore[assignment]
    data = rows(ROWS)

    async def clear() -> None:
        async with engine.begin() as conn:
            await conn.execute(table.delete())

    async def ours_insert() -> None:
        async with db.transaction() as session:
            await RowRepository(session).insert_many(data)

    async def core_insert() -> None:
        async with engine.begin() as conn:
            await conn.execute(insert(table), data)

    # warm up both paths (connections, compiled statement caches)
    await clear()
    await ours_insert()
    await clear()
    await core_insert()
    mine, theirs = await interleaved(ours_insert, core_insert, clear)
    print(f"[{label}] D1 insert {ROWS:,} rows, best of {ROUNDS} rounds")
    print(f"  repo.insert_many        {ROWS / mine:>10,.0f} rows/s")
    print(f"  Core executemany        {ROWS / theirs:>10,.0f} rows/s")
    print(f"  ratio (ours/anchor)     {theirs / mine:10.2f}x throughput   (aim >= 0.90x)")
    print(f"  median-round ratio      {1 / MEDIANS[-1]:10.2f}x throughput")

    await clear()
    await core_insert()
    async with db.session() as session:
        ids = list(await session.scalars(select(table.c.id).order_by(table.c.id)))
    ids = ids[:READS]
    ids = ids[: len(ids) // SLICES]  # one slice; SLICES interleaved rounds cover READS reads

    async def ours_get() -> None:
        async with db.session() as session:
            repo = RowRepository(session)
            for ident in ids:
                await repo.get(ident)

    async def session_get() -> None:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            for ident in ids:
                await session.get(Row, ident)

    await ours_get()
    await session_get()
    mine, theirs = await interleaved(ours_get, session_get, rounds=SLICES)
    print(f"[{label}] D3 primary-key reads in one session, best of {SLICES} x {len(ids)}")
    print(f"  repo.get                {mine / len(ids) * 1e6:10.1f} us/read")
    print(f"  Session.get             {theirs / len(ids) * 1e6:10.1f} us/read")
    print(f"  ratio (ours/anchor)     {mine / theirs:10.2f}x time         (aim <= 1.10x)")
    print(f"  median-round ratio      {MEDIANS[-1]:10.2f}x time")

    async def ours_row() -> None:
        async with db.session() as session:
            repo = RowRepository(session)
            for ident in ids:
                await repo.get_row(ident)

    async def core_select() -> None:
        stmt = select(table).where(table.c.id == bindparam("ident"))
        async with engine.connect() as conn:
            for ident in ids:
                (await conn.execute(stmt, {"ident": ident})).mappings().first()

    await ours_row()
    await core_select()
    mine, theirs = await interleaved(ours_row, core_select, rounds=SLICES)
    print(f"[{label}] D3 Core read path, best of {SLICES} x {len(ids)}")
    print(f"  repo.get_row            {mine / len(ids) * 1e6:10.1f} us/read")
    print(f"  Core select             {theirs / len(ids) * 1e6:10.1f} us/read")
    print(f"  ratio (ours/anchor)     {mine / theirs:10.2f}x time         (aim <= 1.10x)")
    print(f"  median-round ratio      {MEDIANS[-1]:10.2f}x time")

    async def ours_request() -> None:
        for ident in ids:
            async with db.session() as session:
                await session.get(Row, ident)

    async def raw_request() -> None:
        for ident in ids:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                await session.get(Row, ident)

    await ours_request()
    await raw_request()
    mine, theirs = await interleaved(ours_request, raw_request, rounds=SLICES)
    print(f"[{label}] D4 requests (new session + one get), best of {SLICES} x {len(ids)}")
    print(f"  db.session() + get      {mine / len(ids) * 1e6:10.1f} us/request")
    print(f"  AsyncSession() + get    {theirs / len(ids) * 1e6:10.1f} us/request")
    print(f"  ratio (ours/anchor)     {mine / theirs:10.2f}x time         (aim <= 1.10x)")
    print(f"  median-round ratio      {MEDIANS[-1]:10.2f}x time")

    async def unit(session: AsyncSession) -> None:
        await session.get(Row, ids[0])

    async def ours_retrying() -> None:
        for _ in ids:
            await db.run_in_transaction(unit)

    async def plain_transaction() -> None:
        for _ in ids:
            async with db.transaction() as session:
                await unit(session)

    await ours_retrying()
    await plain_transaction()
    mine, theirs = await interleaved(ours_retrying, plain_transaction, rounds=SLICES)
    print(f"[{label}] D6 transactions on the success path, best of {SLICES} x {len(ids)}")
    print(f"  run_in_transaction      {mine / len(ids) * 1e6:10.1f} us/transaction")
    print(f"  transaction() + fn      {theirs / len(ids) * 1e6:10.1f} us/transaction")
    print(f"  overhead                {(mine / theirs - 1) * 100:+10.1f} %            (aim < 2%)")
    print(f"  median-round ratio      {MEDIANS[-1]:10.2f}x time")
    await db.drop_all(BenchBase.metadata)
    await db.shutdown()


def postgres_admin_url() -> str | None:
    """The PostgreSQL server to benchmark on, or None when it does not answer."""
    url = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return url
    except OSError:
        return None


async def main() -> None:
    """SQLite, then PostgreSQL when it answers."""
    print(f"maestro-core-db vs SQLAlchemy 2 ({'quick' if QUICK else 'full'} run)")
    with tempfile.TemporaryDirectory() as tmp:
        await bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")
    admin_url = postgres_admin_url()
    if admin_url is None:
        print("[postgresql] skipped: nothing answers on 127.0.0.1:5432")
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        await bench("postgresql", admin_url.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
