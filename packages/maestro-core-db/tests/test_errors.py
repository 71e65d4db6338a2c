"""Errors are classified by SQLSTATE / driver code into one family, on every engine."""

from __future__ import annotations

import pickle
import uuid
from typing import Any

import pytest
from maestro_core_db import (
    ConnectionError,
    DatabaseManager,
    DeadlockError,
    EntityNotFoundError,
    ForeignKeyViolationError,
    IntegrityError,
    LazyLoadError,
    MaestroDBError,
    MissingExtraError,
    NotNullViolationError,
    PoolExhaustedError,
    QueryTimeoutError,
    SerializationFailureError,
    TransientError,
    UniqueViolationError,
)


async def test_unique_violation_names_the_constraint(db: DatabaseManager, models: Any) -> None:
    """A duplicate key raises UniqueViolationError carrying the constraint's name."""
    async with db.transaction() as session:
        session.add(models.Order(sku="dup", qty=1))
    with pytest.raises(UniqueViolationError) as info:
        async with db.transaction() as session:
            session.add(models.Order(sku="dup", qty=2))
    assert info.value.constraint == "uq_mdb_orders_sku"
    assert "uq_mdb_orders_sku" in str(info.value)
    assert isinstance(info.value, IntegrityError)
    assert info.value.sqlstate


async def test_foreign_key_violation(db: DatabaseManager, models: Any) -> None:
    """A line pointing at a missing order raises ForeignKeyViolationError."""
    with pytest.raises(ForeignKeyViolationError) as info:
        async with db.transaction() as session:
            session.add(models.OrderLine(order_id=uuid.uuid4(), product="x"))
    assert isinstance(info.value, IntegrityError)


async def test_not_null_violation(db: DatabaseManager, models: Any) -> None:
    """NULL into a NOT NULL column raises NotNullViolationError."""
    async with db.transaction() as session:
        order = models.Order(sku="nn", qty=1)
        session.add(order)
    with pytest.raises(NotNullViolationError):
        async with db.transaction() as session:
            session.add(models.OrderLine(order_id=order.id, product=None))


def test_sync_errors_are_classified_too(sync_db: DatabaseManager, models: Any) -> None:
    """The sync twin raises the same classified errors."""
    with sync_db.sync.transaction() as session:
        session.add(models.Customer(email="a@x.org", name="A"))
    with pytest.raises(UniqueViolationError) as info, sync_db.sync.transaction() as session:
        session.add(models.Customer(email="a@x.org", name="B"))
    assert info.value.constraint == "uq_mdb_customers_email"


async def test_lazy_load_names_the_attribute_and_the_fix(db: DatabaseManager, models: Any) -> None:
    """Touching an unloaded relationship raises LazyLoadError naming it and selectinload."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    async with db.transaction() as session:
        order = models.Order(sku="lazy", qty=1)
        session.add(order)
        await session.flush()
        session.add(models.OrderLine(order_id=order.id, product="p"))
    async with db.session() as session:
        loaded = (await session.scalars(select(models.Order))).one()
        with pytest.raises(LazyLoadError) as info:
            _ = loaded.lines
    assert "MdbOrder.lines" in str(info.value)
    assert "selectinload(MdbOrder.lines)" in str(info.value)
    async with db.session() as session:
        stmt = select(models.Order).options(selectinload(models.Order.lines))
        eager = (await session.scalars(stmt)).one()
    assert [line.product for line in eager.lines] == ["p"]


def test_pool_exhausted_message_names_the_sizing() -> None:
    """PoolExhaustedError names pool size, overflow, timeout and the usual cause."""
    error = PoolExhaustedError(2, 0, 0.5)
    text = str(error)
    assert "pool_size=2" in text
    assert "max_overflow=0" in text
    assert "pool_timeout=0.5s" in text
    assert "leaked sessions" in text
    assert isinstance(error, ConnectionError)
    assert isinstance(error, TimeoutError)
    assert pickle.loads(pickle.dumps(error)).pool_size == 2


def test_hierarchy_matches_the_docstring() -> None:
    """Every error is a MaestroDBError, with the builtin bases the docs promise."""
    import builtins

    assert issubclass(ConnectionError, builtins.ConnectionError)
    assert issubclass(QueryTimeoutError, builtins.TimeoutError)
    assert issubclass(SerializationFailureError, TransientError)
    assert issubclass(DeadlockError, TransientError)
    assert issubclass(EntityNotFoundError, LookupError)
    assert issubclass(MissingExtraError, ImportError)
    for cls in (ConnectionError, QueryTimeoutError, IntegrityError, TransientError, LazyLoadError):
        assert issubclass(cls, MaestroDBError)


def test_missing_extra_message_form() -> None:
    """MissingExtraError(feature, extra, module) reads 'X needs the y extra: pip install ...'."""
    error = MissingExtraError("MySQL/MariaDB", "mysql", "pymysql")
    assert str(error) == "MySQL/MariaDB needs the mysql extra: pip install 'maestro-core-db[mysql]'"
    assert error.name == "pymysql"
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_errors_pickle() -> None:
    """Errors with structured fields survive pickling (for process pools and task queues)."""
    for error in (EntityNotFoundError("Order", 3), LazyLoadError("Order.lines")):
        assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_driver_codes_map_to_classes() -> None:
    """SQLSTATE, MySQL error numbers and SQLite error names map to the documented classes."""
    import sqlite3

    from maestro_core_db._errors import translate
    from sqlalchemy import exc as sa_exc

    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__("pg says no")
            self.sqlstate = sqlstate

    def wrap(orig: BaseException) -> BaseException:
        return translate(sa_exc.OperationalError("stmt", {}, orig))

    assert type(wrap(PgError("40001"))) is SerializationFailureError
    assert type(wrap(PgError("40P01"))) is DeadlockError
    assert type(wrap(PgError("57014"))) is QueryTimeoutError
    assert type(wrap(PgError("08006"))) is ConnectionError
    assert type(wrap(PgError("57P01"))) is ConnectionError
    assert type(wrap(Exception(1213, "Deadlock found"))) is DeadlockError
    assert type(wrap(Exception(1205, "Lock wait timeout exceeded"))) is TransientError
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"
    assert type(wrap(busy)) is TransientError
    assert type(wrap(PgError("42P01"))) is MaestroDBError
    plain = ValueError("not a database error")
    assert translate(plain) is plain


def test_secrets_are_scrubbed_from_messages() -> None:
    """A secret that a driver echoes in its message is replaced by ***."""
    from maestro_core_db._errors import translate
    from sqlalchemy import exc as sa_exc

    error = translate(
        sa_exc.OperationalError("s", {}, Exception("auth failed for hunter2x")),
        secrets=("hunter2x",),
    )
    assert "hunter2x" not in str(error)
    assert "***" in str(error)
