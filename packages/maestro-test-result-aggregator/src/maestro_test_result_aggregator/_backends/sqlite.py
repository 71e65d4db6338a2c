"""The SQLite engine (the default store): WAL mode, one connection per thread."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from maestro_test_result_aggregator._errors import NotAStoreError, StoreError
from maestro_test_result_aggregator._schema import MIGRATIONS, Migration

from .base import Row, migrate

#: Page size of a store this module creates.
PAGE_SIZE = 8_192


class _SQLiteCursor:
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT; return the rowid of the last row it stored."""
        return int(self._conn.execute(sql, params).lastrowid or 0)

    @property
    def max_parameters(self) -> int:
        """The most values one statement may bind (32,766 by default; builds differ)."""
        return self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


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
        #: SQLite has the JSON functions and ``->>`` (3.38+): imports store whole batches.
        self.json_batches = False
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
                self.json_batches = _has_json_arrays(cur)
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
        # One connection per thread (thread-local above); check_same_thread=False only so
        # close() can close the connections that other threads opened.
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            # A new store gets 8 KiB pages (about 9% less work for a bulk import than 4 KiB);
            # on an existing database this does nothing (its page size is fixed).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StoreError(f"{self.path}: SQLite refused WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()  # not a database, or refused: never leak the handle
            raise
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
            with contextlib.suppress(sqlite3.ProgrammingError):
                conn.close()


def _has_json_arrays(cur: _SQLiteCursor) -> bool:
    try:
        row = cur.execute("""SELECT j.value->>1 FROM json_each('[[1,"\u00e9\\n"]]') AS j""")
    except sqlite3.OperationalError:  # no JSON functions, or no ->> (before 3.38)
        return False
    return bool(row) and row[0][0] == "\u00e9\n"
