"""The small interface every storage engine implements, and schema migration."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from maestro_test_result_aggregator._errors import NotAStoreError, SchemaVersionError
from maestro_test_result_aggregator._schema import SCHEMA_TABLE, Migration
from maestro_test_result_aggregator._version import __version__

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
