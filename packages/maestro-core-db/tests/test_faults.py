"""Faults with real servers: killed connections, a cut or stalled network, cancellation
storms and pool exhaustion."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from maestro_core_db import (
    ConnectionError,
    DatabaseManager,
    PoolExhaustedError,
    QueryTimeoutError,
)
from maestro_testkit import require_service
from sqlalchemy import create_engine, select, text
from sqlalchemy.ext.asyncio import AsyncSession


def kill(backend: str, url: str, session_id: int | None = None) -> None:
    """Terminate server sessions on the database of ``url`` (one, or all but the killer's)."""
    name = url.rsplit("/", 1)[1].split("?", maxsplit=1)[0]
    if backend == "postgresql":
        admin = require_service("postgres").url.replace("postgresql://", "postgresql+psycopg://")
        where = "pid = :p" if session_id is not None else "datname = :d"
        sql = (
            f"select pg_terminate_backend(pid) from pg_stat_activity where {where} "
            "and pid <> pg_backend_pid()"
        )
        engine = create_engine(admin)
        with engine.connect() as conn:
            conn.execute(text(sql), {"p": session_id, "d": name})
        engine.dispose()
        return
    admin = require_service("mariadb").url.replace("mysql://", "mysql+pymysql://")
    engine = create_engine(admin)
    with engine.connect() as conn:
        if session_id is not None:
            ids = [session_id]
        else:
            ids = list(
                conn.execute(
                    text("select id from information_schema.processlist where db = :d"),
                    {"d": name},
                ).scalars()
            )
        for pid in ids:
            with contextlib.suppress(Exception):
                conn.exec_driver_sql(f"KILL {int(pid)}")
    engine.dispose()


def session_id_sql(backend: str) -> str:
    """SQL returning the server's id of the current session."""
    return "select pg_backend_pid()" if backend == "postgresql" else "select connection_id()"


async def test_connection_killed_between_requests_is_replaced(
    db: DatabaseManager, engine_url: str, backend: str
) -> None:
    """After the server kills pooled connections, the next request pre-pings and succeeds."""
    if backend == "sqlite":
        pytest.skip("an embedded SQLite file has no server connection to kill")
    first = await db.execute_query(session_id_sql(backend) + " as sid")
    kill(backend, engine_url)
    second = await db.execute_query(session_id_sql(backend) + " as sid")
    assert second[0]["sid"] != first[0]["sid"]
    assert db.pool_stats().checked_out == 0


async def test_connection_killed_inside_a_transaction(
    db: DatabaseManager, engine_url: str, backend: str, models: Any
) -> None:
    """A kill mid-transaction raises ConnectionError, applies nothing, and the pool recovers."""
    if backend == "sqlite":
        pytest.skip("an embedded SQLite file has no server connection to kill")

    async def work() -> None:
        async with db.transaction() as session:
            session.add(models.Account(id=1, balance=1))
            await session.flush()
            sid = await session.scalar(text(session_id_sql(backend)))
            kill(backend, engine_url, sid)
            session.add(models.Account(id=2, balance=2))
            await session.flush()

    with pytest.raises(ConnectionError):
        await work()
    assert await db.execute_query("select count(*) as n from mdb_accounts") == [{"n": 0}]
    assert db.pool_stats().checked_out == 0


async def test_run_in_transaction_reruns_after_a_disconnect_when_asked(
    db: DatabaseManager, engine_url: str, backend: str, models: Any
) -> None:
    """retry_on_disconnect=True re-runs the unit whose connection was killed; it commits once."""
    if backend == "sqlite":
        pytest.skip("an embedded SQLite file has no server connection to kill")
    calls = 0

    async def unit(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        session.add(models.Account(id=calls, balance=1))
        await session.flush()
        if calls == 1:
            kill(backend, engine_url, await session.scalar(text(session_id_sql(backend))))
            await session.execute(select(1))

    with pytest.raises(ConnectionError):
        await db.run_in_transaction(unit, attempts=1, retry_on_disconnect=True)
    calls = 0
    await db.run_in_transaction(unit, attempts=3, retry_on_disconnect=True)
    assert calls == 2
    assert await db.execute_query("select id from mdb_accounts") == [{"id": 2}]


class Proxy:
    """A TCP proxy on a free port in front of a server; the test can cut or stall it."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.port = 0
        self.stalled = False
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self.writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pipe(src, dst))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                while self.stalled:  # hold the bytes: the link hangs, nothing is closed
                    await asyncio.sleep(0.05)
                dst.write(data)
                await dst.drain()
        with contextlib.suppress(OSError):
            dst.close()

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.close()

    async def stop(self) -> None:
        self.cut()
        self.stalled = False
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.fixture
async def proxy(engine_url: str, backend: str) -> AsyncIterator[Callable[[], Proxy]]:
    """A started Proxy in front of the engine's server."""
    if backend == "sqlite":
        pytest.skip("an embedded SQLite file has no network to cut")
    port = 5432 if backend == "postgresql" else 3306
    proxy = Proxy(port)
    await proxy.start()
    yield lambda: proxy
    await proxy.stop()


def through(engine_url: str, port: int) -> str:
    """The engine URL with the proxy's port."""
    return engine_url.replace(":5432/", f":{port}/").replace(":3306/", f":{port}/")


async def test_cut_network_raises_connection_error(
    proxy: Callable[[], Proxy], engine_url: str
) -> None:
    """When the proxy cuts every connection, requests fail fast with ConnectionError."""
    p = proxy()
    db = DatabaseManager(through(engine_url, p.port), connect_timeout=1, statement_timeout=1)
    try:
        assert await db.execute_query("select 1 as one") == [{"one": 1}]
        p.cut()
        with pytest.raises(ConnectionError):
            await db.execute_query("select 1 as one")
        assert not (await db.health()).ok
        assert db.pool_stats().checked_out == 0
    finally:
        await db.shutdown()


@pytest.mark.slow
async def test_stalled_network_times_out_instead_of_hanging(
    proxy: Callable[[], Proxy], engine_url: str
) -> None:
    """When the link stalls, a query fails after the timeouts instead of hanging forever."""
    p = proxy()
    db = DatabaseManager(through(engine_url, p.port), connect_timeout=0.3, statement_timeout=0.3)
    try:
        assert await db.execute_query("select 1 as one") == [{"one": 1}]
        p.stalled = True
        with pytest.raises((QueryTimeoutError, ConnectionError)):
            await asyncio.wait_for(db.execute_query("select 1 as one"), 10)
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(db.ping(), 10)
        assert db.pool_stats().checked_out == 0
    finally:
        p.stalled = False
        await db.shutdown()


async def test_cancelled_tasks_leak_no_connections(
    pg_url: str, pg_connections: Callable[[str], int]
) -> None:
    """1,000 tasks cancelled while holding or awaiting connections leak none (pg_stat_activity)."""
    db = DatabaseManager(pg_url, pool_size=5, max_overflow=5, pool_timeout=30)
    baseline = pg_connections(pg_url)
    started = asyncio.Event()

    async def hold() -> None:
        async with db.transaction() as session:
            await session.execute(select(1))
            started.set()
            await asyncio.sleep(30)

    tasks = [asyncio.ensure_future(hold()) for _ in range(1000)]
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.2)  # let the pool fill: 10 hold connections, 990 wait in the queue
    assert db.pool_stats().checked_out == 10
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    for _ in range(40):  # shielded cleanups finish in the background
        if db.pool_stats().checked_out == 0:
            break
        await asyncio.sleep(0.05)
    assert db.pool_stats().checked_out == 0
    assert await db.execute_query("select 1 as one") == [{"one": 1}]
    assert pg_connections(pg_url) <= 10
    await db.shutdown()
    for _ in range(60):
        if pg_connections(pg_url) == baseline:
            break
        await asyncio.sleep(0.05)
    assert pg_connections(pg_url) == baseline


async def test_pool_exhaustion_names_the_cause(engine_url: str) -> None:
    """pool_size=2, max_overflow=0 and 3 holders: the third gets PoolExhaustedError, counted."""
    db = DatabaseManager(engine_url, pool_size=2, max_overflow=0, pool_timeout=0.3)
    release = asyncio.Event()
    holding = 0

    async def holder() -> None:
        nonlocal holding
        async with db.get_read_session() as session:
            await session.execute(select(1))
            holding += 1
            await release.wait()

    holders = [asyncio.ensure_future(holder()) for _ in range(2)]
    try:
        while holding < 2:
            await asyncio.sleep(0.01)
        with pytest.raises(PoolExhaustedError) as info:
            await db.execute_query("select 1 as one")
        text_ = str(info.value)
        assert "pool_size=2" in text_
        assert "max_overflow=0" in text_
        assert "pool_timeout=0.3s" in text_
        assert "leaked sessions" in text_
        stats = db.stats()
        assert stats.timeouts_total == 1
        assert stats.waiting_total >= 1
        assert stats.checked_out == 2
    finally:
        release.set()
        await asyncio.gather(*holders)
        await db.shutdown()
