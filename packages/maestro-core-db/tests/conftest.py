"""One engine matrix for the whole suite: SQLite, PostgreSQL and MariaDB run the same tests.

``engine_url`` is a session fixture parametrized by engine: it creates a database with a
unique name on the shared server (dropped at the end) and the test tables once. ``db`` is
a fresh DatabaseManager per test (async engines belong to one event loop); rows are
deleted after each test so tests stay independent while sharing the schema.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import pytest
from maestro_core_db import (
    Base,
    DatabaseManager,
    SoftDeleteMixin,
    TenantMixin,
    TimestampMixin,
    UUIDPrimaryKeyMixin,
    VersionMixin,
)
from maestro_testkit import require_service, unique_name
from sqlalchemy import ForeignKey, String, create_engine, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

ENGINES = ("sqlite", "postgresql", "mariadb")


class MdbCustomer(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """A customer with a unique e-mail address."""

    __tablename__ = "mdb_customers"
    email: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class MdbOrder(UUIDPrimaryKeyMixin, TimestampMixin, VersionMixin, SoftDeleteMixin, Base):
    """An order: versioned, soft-deletable, with lines loaded only on request."""

    __tablename__ = "mdb_orders"
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    qty: Mapped[int]
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mdb_customers.id"))
    lines: Mapped[list[MdbOrderLine]] = relationship(back_populates="order")


class MdbOrderLine(Base):
    """A line of an order; product is NOT NULL."""

    __tablename__ = "mdb_order_lines"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mdb_orders.id"))
    product: Mapped[str] = mapped_column(String(64))
    order: Mapped[MdbOrder] = relationship(back_populates="lines")


class MdbAccount(Base):
    """A balance that concurrent transactions fight over."""

    __tablename__ = "mdb_accounts"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    balance: Mapped[int]


class MdbItem(UUIDPrimaryKeyMixin, TenantMixin, Base):
    """A tenant-owned item."""

    __tablename__ = "mdb_items"
    name: Mapped[str] = mapped_column(String(64))


class Models:
    """The test models, handed to tests by the ``models`` fixture."""

    Customer = MdbCustomer
    Order = MdbOrder
    OrderLine = MdbOrderLine
    Account = MdbAccount
    Item = MdbItem
    tables: ClassVar[list[Any]] = [
        MdbCustomer.__table__,
        MdbOrder.__table__,
        MdbOrderLine.__table__,
        MdbAccount.__table__,
        MdbItem.__table__,
    ]


def create_database(kind: str, name: str) -> str:
    """Create database ``name`` on the shared server of ``kind``; return its URL."""
    if kind == "postgresql":
        base = require_service("postgres").url
        engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return f"postgresql://postgres@127.0.0.1:5432/{name}"
    base = require_service("mariadb").url
    engine = create_engine(base.replace("mysql://", "mysql+pymysql://"))
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}`")
    engine.dispose()
    return f"mysql://root@127.0.0.1:3306/{name}"


def drop_database(kind: str, name: str) -> None:
    """Drop database ``name`` (and end its sessions)."""
    if kind == "postgresql":
        url = require_service("postgres").url.replace("postgresql://", "postgresql+psycopg://")
        engine = create_engine(url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()
        return
    engine = create_engine(require_service("mariadb").url.replace("mysql://", "mysql+pymysql://"))
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    engine.dispose()


@pytest.fixture(scope="session", params=ENGINES)
def engine_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A private database on each engine with the test tables, dropped at the end."""
    kind: str = request.param
    name = unique_name("mdb")
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        url = create_database(kind, name)
    db = DatabaseManager(url)
    try:
        db.sync.create_all(Base.metadata)
        db.sync.shutdown()
        yield url
    finally:
        db.sync.shutdown()
        if kind != "sqlite":
            drop_database(kind, name)


def wipe(url: str) -> None:
    """Delete every row of the test tables."""
    db = DatabaseManager(url)
    with db.sync.transaction() as session:
        for table in reversed(Models.tables):
            session.execute(table.delete())
    db.sync.shutdown()


@pytest.fixture
def models() -> type[Models]:
    """The test models (Customer, Order, OrderLine, Account, Item)."""
    return Models


@pytest.fixture
def backend(engine_url: str) -> str:
    """The engine under test: sqlite, postgresql or mysql."""
    return DatabaseManager(engine_url).backend


@pytest.fixture
async def db(engine_url: str) -> AsyncIterator[DatabaseManager]:
    """A DatabaseManager on the engine under test; rows are wiped afterwards."""
    manager = DatabaseManager(engine_url, pool_timeout=5.0, statement_timeout=10.0)
    try:
        yield manager
    finally:
        await manager.shutdown()
        wipe(engine_url)


@pytest.fixture
def sync_db(engine_url: str) -> Iterator[DatabaseManager]:
    """A DatabaseManager used through ``.sync`` (no event loop); rows wiped afterwards."""
    manager = DatabaseManager(engine_url, pool_timeout=5.0, statement_timeout=10.0)
    try:
        yield manager
    finally:
        manager.sync.shutdown()
        wipe(engine_url)


@pytest.fixture
def fresh_url(
    engine_url: str, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of its own on the engine under test (for DDL), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'fresh.db'}"
        return
    kind = "postgresql" if backend == "postgresql" else "mariadb"
    name = unique_name("mdbf")
    url = create_database(kind, name)
    try:
        yield url
    finally:
        drop_database(kind, name)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A private PostgreSQL database (for PostgreSQL-only fault tests), dropped afterwards."""
    name = unique_name("mdbpg")
    url = create_database("postgresql", name)
    try:
        yield url
    finally:
        drop_database("postgresql", name)


def server_connections(url: str) -> int:
    """How many sessions the PostgreSQL server has open on the database of ``url``."""
    name = url.rsplit("/", 1)[1]
    admin = require_service("postgres").url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(admin)
    with engine.connect() as conn:
        count = conn.execute(
            text(
                "select count(*) from pg_stat_activity where datname = :d "
                "and pid <> pg_backend_pid()"
            ),
            {"d": name},
        ).scalar_one()
    engine.dispose()
    return int(count)


@pytest.fixture
def pg_connections() -> Any:
    """A callable: how many server sessions are open on a PostgreSQL URL's database."""
    return server_connections
