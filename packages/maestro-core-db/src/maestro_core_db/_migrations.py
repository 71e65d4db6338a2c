"""MigrationManager: Alembic driven from code, under a database lock (N replicas, 1 runner)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import MaestroDBError, MigrationError, MigrationLockError
from ._stats import MigrationStatus

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection, MetaData

    from ._manager import DatabaseManager

__all__ = ["MigrationManager", "SyncMigrations", "schema_snapshot"]

LOCK_NAME = "maestro_core_db.migrations"
_PG_LOCK_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)

ENV_PY = '''"""Alembic environment written by `maestro-db init`.

The connection comes from maestro-core-db (MAESTRO_DB__URL or the running application),
never from alembic.ini. Point target_metadata at your models for autogenerate.
"""

from alembic import context
from maestro_core_db.migrations import run_migrations

run_migrations(context)
'''

SCRIPT_MAKO = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    """Upgrade schema."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Downgrade schema."""
    ${downgrades if downgrades else "pass"}
'''


def init_directory(location: str | os.PathLike[str]) -> Path:
    """Create a migrations directory (env.py, script.py.mako, versions/); refuse to overwrite."""
    path = Path(location)
    if (path / "env.py").exists():
        raise MigrationError(f"{path}/env.py exists already: choose another directory")
    (path / "versions").mkdir(parents=True, exist_ok=True)
    (path / "env.py").write_text(ENV_PY, encoding="utf-8")
    (path / "script.py.mako").write_text(SCRIPT_MAKO, encoding="utf-8")
    return path


class MigrationManager:
    """Alembic migrations of one DatabaseManager, async-first (``.sync`` for plain calls).

    ``upgrade("head")`` takes a lock first (PostgreSQL advisory lock, MySQL ``GET_LOCK``,
    a lock file next to a SQLite database), so many replicas starting at once run the
    migrations exactly once; the others wait, then find the schema at head.
    """

    def __init__(
        self,
        db: DatabaseManager,
        location: str | os.PathLike[str] = "migrations",
        *,
        metadata: MetaData | None = None,
        lock_timeout: float = 300.0,
    ) -> None:
        from ._engine import seconds

        self.db = db
        self.location = Path(location)
        self.metadata = metadata
        self.lock_timeout = seconds("lock_timeout", lock_timeout, allow_zero=False)
        self.sync = SyncMigrations(self)
        db.migrations = self

    def __repr__(self) -> str:
        return f"<MigrationManager {str(self.location)!r} on {self.db.url}>"

    async def upgrade(self, target: str = "head") -> MigrationStatus:
        """Upgrade to ``target`` under the lock (a no-op when already there)."""
        return await asyncio.to_thread(self.sync.upgrade, target)

    run_migrations = upgrade

    async def downgrade(self, target: str) -> MigrationStatus:
        """Downgrade to ``target`` (a revision, ``-1`` or ``base``) under the lock."""
        return await asyncio.to_thread(self.sync.downgrade, target)

    async def status(self) -> MigrationStatus:
        """The current revision(s), the script heads, and whether they match."""
        return await asyncio.to_thread(self.sync.status)


class SyncMigrations:
    """The synchronous twin of a MigrationManager (``migrations.sync``)."""

    def __init__(self, manager: MigrationManager) -> None:
        self._m = manager

    def config(self, connection: Connection | None = None) -> Config:
        """An Alembic Config for this directory, carrying the connection and metadata."""
        from alembic.config import Config

        location = self._m.location
        if not (location / "env.py").is_file():
            raise MigrationError(
                f"no migrations in {location}: create them with 'maestro-db init {location}'"
            )
        config = Config()
        config.set_main_option("script_location", str(location))
        config.attributes["connection"] = connection
        config.attributes["target_metadata"] = self._m.metadata
        return config

    def heads(self) -> tuple[str, ...]:
        """The head revision(s) of the scripts."""
        from alembic.script import ScriptDirectory

        return tuple(sorted(ScriptDirectory.from_config(self.config()).get_heads()))

    def _current(self, connection: Connection) -> tuple[str, ...]:
        from alembic.runtime.migration import MigrationContext

        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))

    def status(self) -> MigrationStatus:
        """The current revision(s), the script heads, and whether they match."""
        heads = self.heads()
        try:
            with self._m.db.sync.engine.connect() as conn:
                current = self._current(conn)
        except Exception as exc:
            raise _translated(self._m.db, exc) from exc
        return MigrationStatus(current=current, heads=heads, at_head=current == heads)

    def upgrade(self, target: str = "head") -> MigrationStatus:
        """Upgrade to ``target`` under the lock; a no-op when already there."""
        from alembic import command

        with self.lock():
            if target == "head" and self.status().at_head:
                return self.status()
            self._run(lambda cfg: command.upgrade(cfg, target))
        return self.status()

    run_migrations = upgrade

    def downgrade(self, target: str) -> MigrationStatus:
        """Downgrade to ``target`` under the lock."""
        from alembic import command

        with self.lock():
            self._run(lambda cfg: command.downgrade(cfg, target))
        return self.status()

    def _run(self, action: Any) -> None:
        engine = self._m.db.sync.engine
        try:
            with engine.begin() as conn:
                action(self.config(conn))
        except MaestroDBError:
            raise
        except Exception as exc:
            error = _translated(self._m.db, exc)
            if isinstance(error, MaestroDBError) and error is not exc:
                raise error from exc
            raise MigrationError(f"migration failed: {exc}") from exc

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the migration lock of this database (waits up to ``lock_timeout``)."""
        db = self._m.db
        timeout = self._m.lock_timeout
        if db.backend == "sqlite":
            with _file_lock(db, timeout):
                yield
            return
        engine = db.sync.engine
        with engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            if db.backend == "postgresql":
                deadline = time.monotonic() + timeout
                while not conn.exec_driver_sql(
                    f"SELECT pg_try_advisory_lock({_PG_LOCK_KEY})"
                ).scalar():
                    if time.monotonic() > deadline:
                        raise MigrationLockError(_lock_message(timeout))
                    time.sleep(0.1)
                try:
                    yield
                finally:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})")
            else:
                name = f"{LOCK_NAME}.{engine.url.database}"[:64]
                got = conn.exec_driver_sql(
                    "SELECT GET_LOCK(%s, %s)", (name, max(1, int(timeout)))
                ).scalar()
                if got != 1:
                    raise MigrationLockError(_lock_message(timeout))
                try:
                    yield
                finally:
                    conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name,))


def _lock_message(timeout: float) -> str:
    return (
        f"could not take the migration lock within {timeout:g}s: another process is "
        "migrating this database (or died holding the lock); wait for it or raise lock_timeout"
    )


@contextlib.contextmanager
def _file_lock(db: DatabaseManager, timeout: float) -> Iterator[None]:
    database = db.sync.engine.url.database
    if not database or database == ":memory:":
        yield  # an in-memory database belongs to one process
        return
    import fcntl

    path = Path(database).with_name(Path(database).name + ".migrate.lock")
    deadline = time.monotonic() + timeout
    with open(path, "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise MigrationLockError(_lock_message(timeout)) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _translated(db: DatabaseManager, exc: BaseException) -> BaseException:
    return db.translate(exc)


# ---- schema snapshots (roundtrip) ---------------------------------------------------------


def schema_snapshot(connection: Connection) -> dict[str, dict[str, Any]]:
    """The reflected schema: per table its columns, keys, indexes and unique constraints."""
    from sqlalchemy import inspect

    inspector = inspect(connection)
    snapshot: dict[str, dict[str, Any]] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        columns = {
            c["name"]: f"{c['type']!s} {'NULL' if c['nullable'] else 'NOT NULL'}"
            for c in inspector.get_columns(table)
        }
        snapshot[table] = {
            "columns": columns,
            "primary key": tuple(
                inspector.get_pk_constraint(table).get("constrained_columns") or ()
            ),
            "foreign keys": sorted(
                f"{tuple(fk['constrained_columns'])} -> {fk['referred_table']}"
                f"{tuple(fk['referred_columns'])}"
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                f"{i['name']}{tuple(i['column_names'])}{' unique' if i['unique'] else ''}"
                for i in inspector.get_indexes(table)
            ),
            "unique constraints": sorted(
                f"{u['name']}{tuple(u['column_names'])}"
                for u in inspector.get_unique_constraints(table)
            ),
        }
    return snapshot


def schema_differences(
    expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]
) -> list[str]:
    """Human-readable differences between two snapshots (empty when equal)."""
    found: list[str] = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            found.append(f"table {table} is missing")
            continue
        if table not in expected:
            found.append(f"table {table} is left over")
            continue
        want, have = expected[table], actual[table]
        for column in sorted(set(want["columns"]) | set(have["columns"])):
            a, b = want["columns"].get(column), have["columns"].get(column)
            if a != b:
                if b is None:
                    found.append(f"column {table}.{column} is missing")
                elif a is None:
                    found.append(f"column {table}.{column} is left over")
                else:
                    found.append(f"column {table}.{column} is {b}, expected {a}")
        for key in ("primary key", "foreign keys", "indexes", "unique constraints"):
            if want[key] != have[key]:
                found.append(f"{key} of {table}: {have[key]}, expected {want[key]}")
    return found
