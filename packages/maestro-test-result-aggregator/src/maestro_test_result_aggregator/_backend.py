"""The small interface both storage engines implement, and the SQLite engine."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ._errors import NotAStoreError, SchemaVersionError, StoreError
from ._schema import MIGRATIONS, SCHEMA_TABLE, Migration
from ._version import __version__

Row = tuple[Any, ...]


class Cursor(Protocol):
    """What a transaction hands to the store: ``?`` parameter markers in every dialect."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Backend(Protocol):
    """A storage engine: transactions, reads and a name for messages."""

    dialect: str
    name: str

    def transaction(self) -> Any: ...  # a context manager yielding a Cursor

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def close(self) -> None: ...


class _SQLiteCursor:
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)


class SQLiteBackend:
    """SQLite in WAL mode: one connection per thread (and per process), short write transactions.

    Writers take the write lock up front (``BEGIN IMMEDIATE``) and wait up to
    ``busy_timeout`` seconds for it, so concurrent threads and processes never lose a write.
    """

    dialect = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self._busy_ms = int(busy_timeout * 1000)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._closed = False
        if self.path.is_dir():
            raise NotAStoreError(f"{self.path} is a directory, not a result store database file")
        if not self.path.parent.exists():
            raise StoreError(
                f"cannot create the result store {self.path}: "
                f"the directory {self.path.parent} does not exist"
            )
        try:
            with self.transaction() as cur:
                migrate(cur, self.dialect, self.name, migrations)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise NotAStoreError(
                f"{self.path} is not a usable result store ({exc}): it is not a SQLite database "
                "or it is corrupt; point db_path at a new file or restore a backup"
            ) from None
        except StoreError:
            self.close()
            raise

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"the result store {self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        conn = sqlite3.connect(self.path, timeout=self._busy_ms / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            conn.close()
            raise StoreError(f"{self.path}: SQLite refused WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        self._local.conn = conn
        self._local.pid = os.getpid()
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteCursor]:
        """One write transaction: committed on success, rolled back on any error."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteCursor(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one read statement in its own snapshot."""
        return self._conn().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection this object opened (in this process)."""
        self._closed = True
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.ProgrammingError):  # opened by another thread
                conn.close()


def migrate(cur: Cursor, dialect: str, name: str, migrations: Sequence[Migration]) -> int:
    """Bring the schema up to the last of ``migrations``; return the version now in force."""
    if dialect == "sqlite":
        tables = {r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    else:
        tables = {
            r[0]
            for r in cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "current_schema()"
            )
        }
    if SCHEMA_TABLE not in tables:
        ours = {t for t in tables if not t.startswith("sqlite_")}
        if dialect == "sqlite" and ours:
            raise NotAStoreError(
                f"{name} is a database that is not a result store (it has tables "
                f"{', '.join(sorted(ours)[:5])} but no {SCHEMA_TABLE}); use another file"
            )
        cur.execute(
            f"CREATE TABLE {SCHEMA_TABLE} (version INTEGER PRIMARY KEY, "
            "applied_at TEXT NOT NULL, package_version TEXT NOT NULL)"
        )
        current = 0
    else:
        row = cur.execute(f"SELECT MAX(version) FROM {SCHEMA_TABLE}")
        current = int(row[0][0] or 0)
    latest = migrations[-1].version
    if current > latest:
        raise SchemaVersionError(
            f"{name} has schema version {current}, newer than this package knows ({latest}): "
            "upgrade maestro-test-result-aggregator"
        )
    for migration in migrations:
        if migration.version <= current:
            continue
        for statement in migration.render(dialect):
            cur.execute(statement)
        cur.execute(
            f"INSERT INTO {SCHEMA_TABLE} (version, applied_at, package_version) VALUES (?, ?, ?)",
            (migration.version, datetime.now(UTC).isoformat(), __version__),
        )
        current = migration.version
    return current
