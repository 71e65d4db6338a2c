"""The fixtures of the pytest plugin (registered by :mod:`maestro_core_db.testing` only once a
test database URL is configured)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._engine import parse_url
from ._manager import DatabaseManager

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

_async_fixture: Any
try:  # strict-mode projects need the pytest-asyncio decorator for async fixtures
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - without pytest-asyncio async fixtures cannot run
    _async_fixture = pytest.fixture

__all__ = ["SETTINGS", "db", "db_session", "db_session_sync", "fresh_database"]

SETTINGS: dict[str, Any] = {"url": None, "models": None, "migrations": None}


def _admin(url: Any) -> Any:
    """A sync engine on the server's maintenance database (for CREATE/DROP DATABASE)."""
    from sqlalchemy import create_engine

    if url.get_backend_name() == "postgresql":
        return create_engine(
            url.set(drivername="postgresql+psycopg", database="postgres"),
            isolation_level="AUTOCOMMIT",
        )
    return create_engine(url.set(drivername=f"{url.get_backend_name()}+pymysql", database=None))


def _quote(engine: Any, name: str) -> str:
    return str(engine.dialect.identifier_preparer.quote_identifier(name))


def _metadata() -> Any:
    if SETTINGS["models"]:
        from .migrations import load_metadata

        return load_metadata(SETTINGS["models"])
    from ._model import Base

    return Base.metadata


def new_database(tmp: pytest.TempPathFactory, template: DatabaseManager | None = None) -> str:
    """A new database on the configured server (a clone of ``template`` when given)."""
    from sqlalchemy import make_url

    sync_url, _, backend = parse_url(SETTINGS["url"])
    name = f"test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        path = tmp.mktemp("maestro_db") / f"{name}.db"
        if template is not None:
            source = template.sync.engine.url.database
            if source:
                shutil.copyfile(source, path)
        return f"sqlite:///{path}"
    engine = _admin(sync_url)
    try:
        with engine.connect() as conn:
            sql = f"CREATE DATABASE {_quote(engine, name)}"
            if template is not None:
                sql += f" TEMPLATE {_quote(engine, template.sync.engine.url.database or '')}"
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()
    scheme = make_url(_plain(SETTINGS["url"])).drivername
    return sync_url.set(drivername=scheme, database=name).render_as_string(hide_password=False)


def _plain(url: Any) -> Any:
    reveal = getattr(url, "get_secret_value", None)
    return reveal() if callable(reveal) else url


def drop_database(url: str) -> None:
    """Drop a database made by :func:`new_database` (SQLite files go with the tmp dir)."""
    sync_url, _, backend = parse_url(url)
    if backend == "sqlite":
        return
    engine = _admin(sync_url)
    name = _quote(engine, sync_url.database or "")
    force = " WITH (FORCE)" if backend == "postgresql" else ""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseManager]:
    """A DatabaseManager on a test database of its own, schema created once per session."""
    url = new_database(tmp_path_factory)
    manager = DatabaseManager(url)
    try:
        if SETTINGS["migrations"]:
            from ._migrations import MigrationManager

            MigrationManager(manager, SETTINGS["migrations"]).sync.upgrade("head")
        else:
            manager.sync.create_all(_metadata())
        manager.sync.shutdown()
        yield manager
    finally:
        manager.sync.shutdown()
        drop_database(url)


@_async_fixture  # type: ignore[untyped-decorator]
async def db_session(db: DatabaseManager) -> AsyncIterator[AsyncSession]:
    """An AsyncSession in a transaction rolled back after the test (commits are savepoints)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    async with db.engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()
    await db.engine.dispose()  # each test has its own event loop: no connection outlives it


@pytest.fixture
def db_session_sync(db: DatabaseManager) -> Iterator[Session]:
    """A Session in a transaction rolled back after the test (commits are savepoints)."""
    from sqlalchemy.orm import Session

    with db.sync.engine.connect() as conn:
        outer = conn.begin()
        session = Session(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def fresh_database(
    db: DatabaseManager, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseManager]:
    """A DatabaseManager on a clone of the test database (for DDL), dropped afterwards."""
    db.sync.shutdown()  # a template database must have no other sessions
    if db.backend == "mysql":  # MySQL has no template databases: a new one, same schema
        url = new_database(tmp_path_factory)
        clone = DatabaseManager(url)
        clone.sync.create_all(_metadata())
    else:
        url = new_database(tmp_path_factory, template=db)
        clone = DatabaseManager(url)
    try:
        yield clone
    finally:
        clone.sync.shutdown()
        drop_database(url)
