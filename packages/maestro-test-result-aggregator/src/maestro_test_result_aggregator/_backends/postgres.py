"""The PostgreSQL engine (``db_url="postgresql://..."``), on psycopg 3 (``[postgres]`` extra)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from maestro_test_result_aggregator._errors import StoreError, StoreUnavailableError, missing_extra
from maestro_test_result_aggregator._schema import MIGRATIONS, Migration

from .base import Row, migrate


def redact(url: str) -> str:
    """The URL with any password replaced, fit for a message or a log."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _pg(sql: str) -> str:
    # Our SQL never contains a literal '?' or '%', so the swap is exact.
    return sql.replace("?", "%s")


class _PgCursor:
    __slots__ = ("_cur",)

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cur.execute(_pg(sql), params)
        if self._cur.description is None:
            return []
        return list(self._cur.fetchall())

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(_pg(sql), rows)


class PostgresBackend:
    """PostgreSQL: one connection per thread, one transaction per write, same schema as SQLite."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 10.0,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        try:
            import psycopg
        except ImportError:
            raise missing_extra("postgres", "psycopg") from None
        self._psycopg = psycopg
        self._url = url
        self.name = redact(url)
        self._timeout = connect_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Any] = []
        self._closed = False
        try:
            with self.transaction() as cur:
                # One opener migrates at a time; the others wait, then see the new version.
                cur.execute("SELECT pg_advisory_xact_lock(7263514)")
                migrate(cur, self.dialect, self.name, migrations)
        except BaseException:
            self.close()
            raise

    def _conn(self) -> Any:
        if self._closed:
            raise StoreError(f"the result store {self.name} is closed")
        conn = getattr(self._local, "conn", None)
        if (
            conn is not None
            and not conn.closed
            and getattr(self._local, "pid", None) == os.getpid()
        ):
            return conn
        try:
            conn = self._psycopg.connect(
                self._url, autocommit=True, connect_timeout=max(1, int(self._timeout))
            )
        except self._psycopg.OperationalError as exc:
            detail = str(exc).replace(self._url, self.name).strip().splitlines()[0]
            raise StoreUnavailableError(
                f"cannot connect to the result store {self.name}: {detail}"
            ) from None
        self._local.conn = conn
        self._local.pid = os.getpid()
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[_PgCursor]:
        """One transaction: committed on success, rolled back on any error."""
        conn = self._conn()
        with conn.transaction(), conn.cursor() as cur:
            yield _PgCursor(cur)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one read statement."""
        with self.transaction() as cur:
            return cur.execute(sql, params)

    def close(self) -> None:
        """Close every connection this object opened."""
        self._closed = True
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
