"""The errors maestro-core-db raises, and the SQLSTATE / driver-code classifier.

Hierarchy::

    MaestroDBError                                 base of every error raised here
    ├── DatabaseConfigError (ValueError)           a bad argument or URL (alias ConfigurationError)
    ├── ConnectionError (builtins.ConnectionError) the server is unreachable or the link dropped
    │   └── PoolExhaustedError (TimeoutError)      no pooled connection within pool_timeout
    ├── QueryTimeoutError (builtins.TimeoutError)  the statement ran past statement_timeout
    ├── IntegrityError                             a constraint refused the change
    │   ├── UniqueViolationError                   duplicate key (``constraint`` names it)
    │   ├── ForeignKeyViolationError               a missing or still-referenced parent row
    │   └── NotNullViolationError                  NULL into a NOT NULL column
    ├── TransientError                             retry the whole transaction (run_in_transaction)
    │   ├── SerializationFailureError              SQLSTATE 40001
    │   └── DeadlockError                          40P01, MySQL 1213
    ├── EntityNotFoundError (LookupError)          repo.get_one() found no row
    ├── StaleDataError                             optimistic-lock conflict (VersionMixin)
    ├── LazyLoadError                              an un-loaded relationship touched (async)
    ├── MigrationError                             Alembic failed or the schema is not at head
    │   └── MigrationLockError                     the migration lock could not be taken
    └── MissingExtraError (ImportError)            an optional driver is not installed

The original package's names are aliases of the same classes: ``DatabaseException``,
``ConnectionPoolExhaustedException``, ``DeadlockException``, ``SerializationException``,
``UniqueViolationException``, ``EntityNotFoundException``.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

__all__ = [
    "ConfigurationError",
    "ConnectionError",
    "DatabaseConfigError",
    "DeadlockError",
    "EntityNotFoundError",
    "ForeignKeyViolationError",
    "IntegrityError",
    "LazyLoadError",
    "MaestroDBError",
    "MigrationError",
    "MigrationLockError",
    "MissingExtraError",
    "NotNullViolationError",
    "PoolExhaustedError",
    "QueryTimeoutError",
    "SerializationFailureError",
    "StaleDataError",
    "TransientError",
    "UniqueViolationError",
    "translate",
]


class MaestroDBError(Exception):
    """Base class of every error raised by maestro-core-db.

    ``sqlstate`` is the server's SQLSTATE (or the MySQL error number / SQLite error name as a
    string) when the error came from the database, else None.
    """

    sqlstate: str | None = None


class DatabaseConfigError(MaestroDBError, ValueError):
    """An argument, URL or setting is invalid; the message says which and how to fix it."""


ConfigurationError = DatabaseConfigError


class ConnectionError(MaestroDBError, builtins.ConnectionError):
    """The database could not be reached, or the connection broke during the work."""


class PoolExhaustedError(ConnectionError, builtins.TimeoutError):
    """Every pooled connection stayed checked out for ``pool_timeout`` seconds."""

    def __init__(self, pool_size: int, max_overflow: int, pool_timeout: float) -> None:
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.pool_timeout = pool_timeout
        super().__init__(
            f"connection pool exhausted: pool_size={pool_size}, max_overflow={max_overflow}, "
            f"all {pool_size + max_overflow} connections stayed checked out for "
            f"pool_timeout={pool_timeout:g}s. The usual cause is leaked sessions (a session or "
            "transaction not closed: use 'async with db.session()' / 'db.transaction()') or "
            "long transactions holding connections; otherwise raise pool_size/max_overflow "
            "within the server's max_connections"
        )

    def __reduce__(self) -> tuple[type[PoolExhaustedError], tuple[int, int, float]]:
        return (type(self), (self.pool_size, self.max_overflow, self.pool_timeout))


class QueryTimeoutError(MaestroDBError, builtins.TimeoutError):
    """The statement was cancelled after ``statement_timeout`` (or the link stalled)."""


class IntegrityError(MaestroDBError):
    """A constraint refused the change; ``constraint`` names it when the server says."""

    constraint: str | None = None


class UniqueViolationError(IntegrityError):
    """A row with the same unique key exists; ``constraint`` names the unique constraint."""


class ForeignKeyViolationError(IntegrityError):
    """The referenced parent row does not exist, or a referenced row was deleted."""


class NotNullViolationError(IntegrityError):
    """NULL was written into a NOT NULL column."""


class TransientError(MaestroDBError):
    """A failure that a re-run of the whole transaction may not meet (retried by
    ``run_in_transaction``): serialization failure, deadlock, lock timeout, SQLite busy."""


class SerializationFailureError(TransientError):
    """SQLSTATE 40001: the transaction could not be serialized with a concurrent one."""


class DeadlockError(TransientError):
    """SQLSTATE 40P01 / MySQL 1213: the server broke a deadlock by aborting this transaction."""


class EntityNotFoundError(MaestroDBError, LookupError):
    """No row with the requested key (``repo.get_one``)."""

    def __init__(self, entity: str, key: object) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {key!r} not found; use repo.get() to receive None instead")

    def __reduce__(self) -> tuple[type[EntityNotFoundError], tuple[str, object]]:
        return (type(self), (self.entity, self.key))


class StaleDataError(MaestroDBError):
    """The row changed (or vanished) since it was read: an optimistic-locking conflict."""


class LazyLoadError(MaestroDBError):
    """A relationship that was not loaded was touched where lazy loading cannot run."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute
        super().__init__(
            f"{attribute} is not loaded and lazy loading is disabled (async sessions cannot "
            f"load on attribute access): load it in the query with "
            f".options(selectinload({attribute})), or await session.refresh(obj, "
            f"[{attribute.rsplit('.', 1)[-1]!r}])"
        )

    def __reduce__(self) -> tuple[type[LazyLoadError], tuple[str]]:
        return (type(self), (self.attribute,))


class MigrationError(MaestroDBError):
    """A migration failed, or the schema is not where it should be."""


class MigrationLockError(MigrationError):
    """The migration lock could not be taken in time (another runner holds it)."""


class MissingExtraError(MaestroDBError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(
            f"{feature} needs the {extra} extra: pip install 'maestro-core-db[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str | None]]:
        return (type(self), (self.feature, self.extra, self.name))


# ---- classification ---------------------------------------------------------------------

_PG_CLASSES: dict[str, type[MaestroDBError]] = {
    "23505": UniqueViolationError,
    "23503": ForeignKeyViolationError,
    "23502": NotNullViolationError,
    "40001": SerializationFailureError,
    "40P01": DeadlockError,
    "57014": QueryTimeoutError,  # query_canceled (statement_timeout)
    "55P03": TransientError,  # lock_not_available
}
_MYSQL_CLASSES: dict[int, type[MaestroDBError]] = {
    1062: UniqueViolationError,
    1586: UniqueViolationError,
    1451: ForeignKeyViolationError,
    1452: ForeignKeyViolationError,
    1216: ForeignKeyViolationError,
    1217: ForeignKeyViolationError,
    1048: NotNullViolationError,
    1364: NotNullViolationError,
    1213: DeadlockError,
    1205: TransientError,  # lock wait timeout
    1969: QueryTimeoutError,  # MariaDB max_statement_time
    3024: QueryTimeoutError,  # MySQL max_execution_time
    2002: ConnectionError,
    2003: ConnectionError,
    2006: ConnectionError,
    2013: ConnectionError,
    2055: ConnectionError,
    4031: ConnectionError,
}
_SQLITE_CLASSES: dict[str, type[MaestroDBError]] = {
    "SQLITE_CONSTRAINT_UNIQUE": UniqueViolationError,
    "SQLITE_CONSTRAINT_PRIMARYKEY": UniqueViolationError,
    "SQLITE_CONSTRAINT_FOREIGNKEY": ForeignKeyViolationError,
    "SQLITE_CONSTRAINT_NOTNULL": NotNullViolationError,
    "SQLITE_BUSY": TransientError,
    "SQLITE_BUSY_SNAPSHOT": TransientError,
    "SQLITE_LOCKED": TransientError,
}
_MYSQL_KEY = re.compile(r"for key '(?:[^'.]*\.)?([^']+)'")
_MYSQL_FK = re.compile(r"CONSTRAINT `([^`]+)`")
_SQLITE_COLUMNS = re.compile(r"constraint failed: (.+)$")


def _driver_error(exc: BaseException) -> BaseException | None:
    orig = getattr(exc, "orig", None)
    return orig if isinstance(orig, BaseException) else None


def _code_of(orig: BaseException) -> tuple[str | None, type[MaestroDBError] | None]:
    """The error code and the class it maps to, from a DBAPI exception of any driver."""
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):  # MySQL errno
        return str(args[0]), _MYSQL_CLASSES.get(args[0])
    for candidate in (orig, orig.__cause__):
        if candidate is None:
            continue
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str) and len(state) == 5:
            cls = _PG_CLASSES.get(state)
            if cls is None and state.startswith("08"):
                cls = ConnectionError
            if cls is None and state in ("57P01", "57P02", "57P03"):
                cls = ConnectionError  # admin shutdown / terminated backend
            return state, cls
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        cls = _SQLITE_CLASSES.get(name)
        if cls is None and name.startswith("SQLITE_BUSY"):
            cls = TransientError
        return name, cls
    return None, None


def _constraint_name(orig: BaseException, message: str, resolve: Any) -> str | None:
    for candidate in (orig, orig.__cause__):
        if candidate is None:
            continue
        diag = getattr(candidate, "diag", None)
        name = getattr(diag, "constraint_name", None) or getattr(candidate, "constraint_name", None)
        if isinstance(name, str) and name:
            return name
    match = _MYSQL_KEY.search(message) or _MYSQL_FK.search(message)
    if match:
        return match.group(1)
    match = _SQLITE_COLUMNS.search(message.splitlines()[0] if message else "")
    if match and resolve is not None:
        found = resolve([c.strip() for c in match.group(1).split(",")])
        return found if isinstance(found, str) else None
    return None


def _first_line(orig: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return f"{args[1]} (MySQL error {args[0]})"
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def translate(
    exc: BaseException,
    *,
    secrets: tuple[str, ...] = (),
    pool: tuple[int, int, float] | None = None,
    resolve_unique: Any = None,
) -> BaseException:
    """Map a SQLAlchemy / driver exception into this family (others are returned unchanged).

    ``secrets`` are scrubbed from the message; ``pool`` is (size, overflow, timeout) for the
    pool-exhaustion message; ``resolve_unique(columns)`` names a SQLite unique constraint.
    """
    if isinstance(exc, MaestroDBError):
        return exc
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.orm import exc as orm_exc

    def scrub(text: str) -> str:
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    if isinstance(exc, sa_exc.StatementError) and isinstance(exc.orig, MaestroDBError):
        return exc.orig  # raised by one of our types while binding parameters
    if isinstance(exc, sa_exc.TimeoutError):  # QueuePool limit reached
        size, overflow, timeout = pool if pool is not None else (0, 0, 0.0)
        return PoolExhaustedError(size, overflow, timeout)
    if isinstance(exc, orm_exc.StaleDataError):
        return StaleDataError(
            scrub(
                f"{exc}; the row was changed or deleted by another transaction since it "
                "was read: reload it and apply the change again"
            )
        )
    if isinstance(exc, sa_exc.InvalidRequestError) and "lazy load" in str(exc).lower():
        match = re.search(r"'([\w.]+)' is not available due to lazy='raise", str(exc))
        return LazyLoadError(match.group(1) if match else "the relationship")
    if isinstance(exc, sa_exc.MissingGreenlet if hasattr(sa_exc, "MissingGreenlet") else ()):
        return LazyLoadError("the attribute")
    if not isinstance(exc, sa_exc.DBAPIError):
        return exc
    orig = _driver_error(exc)
    if orig is None:
        return MaestroDBError(scrub(_first_line(exc)))
    code, cls = _code_of(orig)
    message = scrub(_first_line(orig))
    if cls is None:
        if (
            exc.connection_invalidated
            or isinstance(exc, sa_exc.InterfaceError)
            or (isinstance(exc, sa_exc.OperationalError) and _looks_like_disconnect(message))
        ):
            cls = ConnectionError
        elif isinstance(exc, sa_exc.IntegrityError):
            cls = IntegrityError
        else:
            cls = MaestroDBError
    error: MaestroDBError
    if issubclass(cls, IntegrityError):
        error = cls(message)
        error.constraint = _constraint_name(orig, str(orig), resolve_unique)
        if error.constraint:
            error.args = (f"{message} (constraint {error.constraint!r})",)
    elif cls is ConnectionError:
        error = cls(f"database connection failed or was lost: {message}")
    elif cls is QueryTimeoutError:
        error = cls(f"statement timed out (statement_timeout): {message}")
    elif issubclass(cls, TransientError):
        error = cls(f"{message}; re-run the whole transaction (db.run_in_transaction does this)")
    else:
        error = cls(message)
    error.sqlstate = code
    return error


def _looks_like_disconnect(message: str) -> bool:
    lowered = message.lower()
    return any(
        word in lowered
        for word in (
            "server closed the connection",
            "connection refused",
            "connection is closed",
            "terminating connection",
            "lost connection",
            "gone away",
            "consuming input failed",
            "timeout expired",
            "could not connect",
            "connection failed",
            "connection timed out",
        )
    )
