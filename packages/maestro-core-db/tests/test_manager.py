"""DatabaseManager on every engine: transactions, sessions, queries, sync twin, health."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import pytest
from maestro_core_db import (
    ConnectionError,
    DatabaseConfigError,
    DatabaseHealth,
    DatabaseManager,
    MissingExtraError,
    PoolStats,
    create_session_dependency,
)
from sqlalchemy import func, select


async def test_transaction_commits_on_success(db: DatabaseManager, models: Any) -> None:
    """Rows added in transaction() are committed when the block ends."""
    async with db.transaction() as session:
        session.add(models.Order(sku="a-1", qty=2))
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(models.Order)) == 1


async def test_transaction_rolls_back_on_error(db: DatabaseManager, models: Any) -> None:
    """An exception inside transaction() rolls everything back and propagates unchanged."""

    async def work() -> None:
        async with db.transaction() as session:
            session.add(models.Order(sku="a-2", qty=1))
            await session.flush()
            raise KeyError("boom")

    with pytest.raises(KeyError):
        await work()
    rows = await db.execute_query("select count(*) as n from mdb_orders")
    assert rows == [{"n": 0}]


async def test_session_needs_an_explicit_commit(db: DatabaseManager, models: Any) -> None:
    """session() does not commit by itself; objects stay usable after commit."""
    async with db.session() as session:
        session.add(models.Order(sku="a-3", qty=1))
    assert (await db.execute_query("select count(*) as n from mdb_orders"))[0]["n"] == 0
    async with db.session() as session:
        order = models.Order(sku="a-4", qty=1)
        session.add(order)
        await session.commit()
        assert order.sku == "a-4"  # expire_on_commit=False: no reload after commit


async def test_read_session_sees_committed_rows(db: DatabaseManager, models: Any) -> None:
    """get_read_session() reads from the primary when no replica is configured."""
    await db.execute_query(
        "insert into mdb_accounts (id, balance) values (:i, :b)", {"i": 1, "b": 10}
    )
    async with db.get_read_session() as session:
        account = await session.get(models.Account, 1)
        assert account is not None
        assert account.balance == 10


async def test_read_replica_sessions_use_the_replica(engine_url: str, backend: str) -> None:
    """With read_replica_urls, read sessions go to the replica and writes to the primary."""
    if backend != "postgresql":
        pytest.skip("the replica is told apart by application_name (PostgreSQL)")
    replica = engine_url + "?application_name=mdb_replica"
    db = DatabaseManager(engine_url, read_replica_urls=[replica])
    try:
        async with db.get_read_session() as session:
            name = await session.scalar(select(func.current_setting("application_name")))
        assert name == "mdb_replica"
        async with db.session() as session:
            name = await session.scalar(select(func.current_setting("application_name")))
        assert name != "mdb_replica"
    finally:
        await db.shutdown()


async def test_execute_query_binds_parameters(db: DatabaseManager) -> None:
    """execute_query returns dict rows and passes values only as bound parameters."""
    hostile = "x'); drop table mdb_accounts; --"
    await db.execute_query(
        "insert into mdb_accounts (id, balance) values (:i, :b)", {"i": 7, "b": 3}
    )
    rows = await db.execute_query(
        "select id, balance from mdb_accounts where balance = :b", {"b": 3}
    )
    assert rows == [{"id": 7, "balance": 3}]
    assert (await db.execute_query("select :h as h", {"h": hostile})) == [{"h": hostile}]
    assert (await db.execute_query("select count(*) as n from mdb_accounts")) == [{"n": 1}]


async def test_execute_query_refuses_interpolation(db: DatabaseManager) -> None:
    """'%s' placeholders and positional params are refused with a hint to use ':name'."""
    with pytest.raises(DatabaseConfigError, match=":name"):
        await db.execute_query("select * from mdb_accounts where id = %s", None)
    with pytest.raises(DatabaseConfigError, match="mapping"):
        await db.execute_query("select * from mdb_accounts where id = :i", (1,))  # type: ignore[arg-type]


def test_sync_twin_has_the_same_verbs(sync_db: DatabaseManager, models: Any) -> None:
    """db.sync offers transaction, session, read session, execute_query and health."""
    with sync_db.sync.transaction() as session:
        session.add(models.Order(sku="s-1", qty=1))
    with sync_db.sync.session() as session:
        assert session.scalar(select(func.count()).select_from(models.Order)) == 1
    with sync_db.sync.get_read_session() as session:
        assert session.scalar(select(models.Order.sku)) == "s-1"
    assert sync_db.sync.execute_query("select qty from mdb_orders") == [{"qty": 1}]
    health = sync_db.sync.health()
    assert health.ok
    assert sync_db.sync.get_health_status()["status"] == "healthy"


async def test_health_reports_latency_and_pool(db: DatabaseManager) -> None:
    """health() pings the server and reports the pool; get_health_status() is a dict."""
    await db.initialize()
    health = await db.health()
    assert isinstance(health, DatabaseHealth)
    assert health.ok
    assert health.latency is not None
    assert health.latency >= 0
    assert isinstance(health.pool, PoolStats)
    assert health.pool.checked_out == 0
    status = await db.get_health_status()
    assert status["ok"] is True
    assert status["status"] == "healthy"


async def test_health_reports_a_dead_server(tmp_path: Any) -> None:
    """A server that does not answer makes ping() raise ConnectionError and health() not ok."""
    from maestro_testkit import free_port

    db = DatabaseManager(f"postgresql://nobody@127.0.0.1:{free_port()}/none", connect_timeout=1)
    try:
        with pytest.raises(ConnectionError):
            await db.ping()
        health = await db.health()
        assert not health.ok
        assert health.error
    finally:
        await db.shutdown()


async def test_context_manager_initializes_and_shuts_down(engine_url: str) -> None:
    """'async with DatabaseManager(...)' checks connectivity and closes the pool at the end."""
    async with DatabaseManager(engine_url) as db:
        assert (await db.execute_query("select 1 as one")) == [{"one": 1}]
    assert db.pool_stats().size == 0


async def test_session_dependency_commits_per_request(db: DatabaseManager, models: Any) -> None:
    """create_session_dependency yields one session per request and commits at the end."""
    dependency = create_session_dependency(db)
    generator = dependency()
    session = await anext(generator)
    session.add(models.Order(sku="dep-1", qty=1))
    with pytest.raises(StopAsyncIteration):
        await anext(generator)
    assert (await db.execute_query("select sku from mdb_orders")) == [{"sku": "dep-1"}]


def test_password_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    """The URL's password is masked in repr(db), db.url and connection errors."""
    password = secrets.token_urlsafe(10)
    from maestro_testkit import free_port

    db = DatabaseManager(
        f"postgresql://app:{password}@127.0.0.1:{free_port()}/x", connect_timeout=1
    )
    assert password not in repr(db)
    assert password not in db.url
    with pytest.raises(ConnectionError) as info:
        db.sync.ping()
    assert password not in str(info.value)
    assert password not in caplog.text


def test_bad_arguments_are_configuration_errors() -> None:
    """Bad URLs, pool sizes and timeouts raise DatabaseConfigError naming the argument."""
    with pytest.raises(DatabaseConfigError, match="unsupported database URL scheme"):
        DatabaseManager("oracle://x/y")
    with pytest.raises(DatabaseConfigError, match="pool_size"):
        DatabaseManager("sqlite://", pool_size=0)
    with pytest.raises(DatabaseConfigError, match="pool_timeout"):
        DatabaseManager("sqlite://", pool_timeout=-1)
    with pytest.raises(DatabaseConfigError, match="isolation_level"):
        DatabaseManager("sqlite://").transaction(isolation_level="SOMETIMES")
    with pytest.raises(ValueError, match="read_replica_urls"):
        DatabaseManager("sqlite://", read_replica_urls="sqlite://")


def test_durations_accept_timedelta() -> None:
    """Durations are seconds as floats, and a timedelta is accepted too."""
    from datetime import timedelta

    db = DatabaseManager("sqlite://", pool_timeout=timedelta(seconds=3), statement_timeout=None)
    assert db.options.pool_timeout == 3.0
    assert db.options.statement_timeout == 0.0


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL whose driver is not installed raises MissingExtraError naming the extra."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "asyncpg" else real(name, *a)
    )
    with pytest.raises(MissingExtraError) as info:
        DatabaseManager("postgresql+asyncpg://u@h/d")
    assert str(info.value) == (
        "PostgreSQL with asyncpg needs the asyncpg extra: pip install 'maestro-core-db[asyncpg]'"
    )
    assert isinstance(info.value, ImportError)


def test_default_is_the_embedded_sqlite_file(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a URL the manager uses ./maestro.db in WAL mode with foreign keys on."""
    monkeypatch.chdir(tmp_path)
    db = DatabaseManager()
    assert db.backend == "sqlite"
    with db.sync.session() as session:
        assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    db.sync.shutdown()
    assert (tmp_path / "maestro.db").exists()


def test_sqlite_writes_begin_immediate(tmp_path: Any) -> None:
    """Write transactions on SQLite start with BEGIN IMMEDIATE, read sessions with DEFERRED."""
    from sqlalchemy import event

    db = DatabaseManager(f"sqlite:///{tmp_path / 'b.db'}")
    seen: list[str] = []
    event.listen(
        db.sync.engine, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt)
    )
    with db.sync.transaction() as session:
        session.execute(select(1))
    with db.sync.get_read_session() as session:
        session.execute(select(1))
    db.sync.shutdown()
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]


def test_sqlite_two_processes_both_commit(tmp_path: Any) -> None:
    """Two processes writing one SQLite file at once both commit (BEGIN IMMEDIATE, busy wait)."""
    import subprocess
    import sys

    path = tmp_path / "two.db"
    db = DatabaseManager(f"sqlite:///{path}")
    db.sync.execute_query("create table hits (n integer not null)")
    code = (
        "import sys\n"
        "from maestro_core_db import DatabaseManager\n"
        "db = DatabaseManager(sys.argv[1])\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "for i in range(100):\n"
        "    with db.sync.transaction() as s:\n"
        "        s.connection().exec_driver_sql('insert into hits (n) values (2)')\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, f"sqlite:///{path}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    for _ in range(100):  # this process writes at the same time
        with db.sync.transaction() as session:
            session.connection().exec_driver_sql("insert into hits (n) values (1)")
    child.communicate(timeout=60)
    assert child.returncode == 0
    rows = db.sync.execute_query("select n, count(*) as c from hits group by n order by n")
    assert rows == [{"n": 1, "c": 100}, {"n": 2, "c": 100}]
    db.sync.shutdown()


async def test_pool_budget_warning_names_the_numbers(
    engine_url: str, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """initialize() warns when workers x (pool_size + max_overflow) > max_connections."""
    if backend == "sqlite":
        pytest.skip("SQLite has no max_connections")
    db = DatabaseManager(engine_url, pool_size=40, max_overflow=10, workers=100)
    caplog.set_level(logging.INFO, logger="maestro_core_db")
    try:
        await db.initialize()
    finally:
        await db.shutdown()
    assert db.max_connections is not None
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1
    text = warning[0].getMessage()
    assert "workers 100 x (pool_size 40 + max_overflow 10) = 5000" in text
    assert f"max_connections={db.max_connections}" in text


async def test_pgbouncer_mode_disables_prepared_statements(engine_url: str, backend: str) -> None:
    """pgbouncer=True: psycopg never prepares, and statement_timeout is set per transaction."""
    if backend != "postgresql":
        pytest.skip("PgBouncer mode is a PostgreSQL setting")
    db = DatabaseManager(engine_url, pgbouncer=True, statement_timeout=7)
    try:
        async with db.transaction() as session:
            conn = await session.connection()
            raw = await conn.get_raw_connection()
            assert raw.driver_connection.prepare_threshold is None  # type: ignore[union-attr]
            timeout = await session.scalar(select(func.current_setting("statement_timeout")))
        assert timeout == "7s"
        async with db.session() as session:  # nothing leaks outside the transaction
            await session.execute(select(1))
    finally:
        await db.shutdown()


async def test_statement_timeout_raises_query_timeout(engine_url: str, backend: str) -> None:
    """A statement running past statement_timeout raises QueryTimeoutError."""
    from maestro_core_db import QueryTimeoutError

    if backend == "sqlite":
        pytest.skip("SQLite has no statement timeout")
    db = DatabaseManager(engine_url, statement_timeout=0.2)
    sleep = "select pg_sleep(2)" if backend == "postgresql" else "select sleep(2)"
    try:
        with pytest.raises(QueryTimeoutError):
            await db.execute_query(sleep)
        assert await db.execute_query("select 1 as one") == [{"one": 1}]
    finally:
        await db.shutdown()


async def test_from_settings_uses_the_database_section(tmp_path: Any) -> None:
    """DatabaseManager.from_settings takes maestro-core-config's DatabaseSettings."""
    from maestro_core_config import DatabaseSettings

    section = DatabaseSettings.model_validate(
        {"url": f"sqlite:///{tmp_path / 'cfg.db'}", "pool_size": 3, "max_overflow": 1}
    )
    db = DatabaseManager.from_settings(section, statement_timeout=5)
    try:
        assert db.backend == "sqlite"
        assert db.options.pool_size == 3
        assert db.options.max_overflow == 1
        assert db.options.statement_timeout == 5.0
        assert await db.execute_query("select 1 as one") == [{"one": 1}]
    finally:
        await db.shutdown()
    with pytest.raises(DatabaseConfigError, match="url"):
        DatabaseManager.from_settings(object())


async def test_concurrent_sessions_share_the_pool(db: DatabaseManager) -> None:
    """Many concurrent tasks each get a session; the pool ends with nothing checked out."""

    async def one(i: int) -> int:
        rows = await db.execute_query("select :i as i", {"i": i})
        return int(rows[0]["i"])

    assert sorted(await asyncio.gather(*(one(i) for i in range(20)))) == list(range(20))
    assert db.pool_stats().checked_out == 0


async def test_asyncpg_driver_by_url(engine_url: str, backend: str, models: Any) -> None:
    """postgresql+asyncpg:// runs the async engine on asyncpg with the same behaviour."""
    from maestro_core_db import QueryTimeoutError, UniqueViolationError

    if backend != "postgresql":
        pytest.skip("asyncpg is a PostgreSQL driver")
    db = DatabaseManager(
        engine_url.replace("postgresql://", "postgresql+asyncpg://"), statement_timeout=0.3
    )
    try:
        assert db.engine.dialect.driver == "asyncpg"
        async with db.transaction() as session:
            session.add(models.Customer(email="apg@x.org", name="A"))
        with pytest.raises(UniqueViolationError) as info:
            await db.execute_query(
                "insert into mdb_customers (id, email, name, created_at, updated_at) "
                "select gen_random_uuid(), email, name, now(), now() from mdb_customers"
            )
        assert info.value.constraint == "uq_mdb_customers_email"
        with pytest.raises(QueryTimeoutError):
            await db.execute_query("select pg_sleep(2)")
    finally:
        await db.shutdown()
        wipe_all = DatabaseManager(engine_url)
        await wipe_all.execute_query("delete from mdb_customers")
        await wipe_all.shutdown()
