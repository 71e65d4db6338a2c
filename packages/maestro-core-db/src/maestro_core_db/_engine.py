"""URLs to drivers, and engines with the production defaults for each backend."""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, QueuePool

from ._errors import DatabaseConfigError, MissingExtraError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "EngineOptions",
    "build_async_engine",
    "build_engine",
    "mask",
    "parse_url",
    "seconds",
]

DEFAULT_URL = "sqlite:///./maestro.db"
SQLITE_BEGIN = "maestro_sqlite_begin"


def seconds(name: str, value: float | timedelta | None, *, allow_zero: bool = True) -> float:
    """A duration in seconds (a float or a timedelta), validated."""
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise DatabaseConfigError(
            f"{name} must be seconds (a number or a timedelta), got {value!r}"
        )
    if value < 0 or (value == 0 and not allow_zero):
        raise DatabaseConfigError(
            f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}"
        )
    return float(value)


def mask(url: URL) -> str:
    """The URL with its password hidden."""
    return url.render_as_string(hide_password=True)


def _plain(url: object) -> str | URL:
    if isinstance(url, URL | str):
        return url
    reveal = getattr(url, "get_secret_value", None)
    if callable(reveal):  # SecretURL / SecretStr from maestro-core-config
        return str(reveal())
    raise DatabaseConfigError(
        f"url must be a string like 'postgresql://user@host/db' or 'sqlite:///app.db', "
        f"got {type(url).__name__}"
    )


def _need(module: str, feature: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(feature, extra, module)


def parse_url(url: object) -> tuple[URL, URL, str]:
    """(sync URL, async URL, backend) for a user URL; backend is sqlite, postgresql or mysql."""
    raw = _plain(url)
    try:
        parsed = make_url(raw)
    except (sa_exc.ArgumentError, ValueError):
        shown = "the given URL" if isinstance(raw, URL) or "@" in raw else repr(raw)
        raise DatabaseConfigError(
            f"cannot parse {shown} as a database URL: use 'postgresql://user:pw@host:5432/db', "
            "'mysql://user@host/db' or 'sqlite:///path/to/file.db'"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver in ("", "psycopg", "psycopg_async"):
            _need("psycopg", "PostgreSQL", "postgres")
            sync = parsed.set(drivername="postgresql+psycopg")
            return sync, parsed.set(drivername="postgresql+psycopg_async"), "postgresql"
        if driver == "asyncpg":
            _need("asyncpg", "PostgreSQL with asyncpg", "asyncpg")
            _need("psycopg", "PostgreSQL", "postgres")
            return parsed.set(drivername="postgresql+psycopg"), parsed, "postgresql"
    elif backend in ("mysql", "mariadb"):
        if driver in ("", "pymysql", "asyncmy"):
            _need("pymysql", "MySQL/MariaDB", "mysql")
            _need("asyncmy", "MySQL/MariaDB", "mysql")
            return (
                parsed.set(drivername=f"{backend}+pymysql"),
                parsed.set(drivername=f"{backend}+asyncmy"),
                "mysql",
            )
    elif backend == "sqlite" and driver in ("", "pysqlite", "aiosqlite"):
        return (
            parsed.set(drivername="sqlite+pysqlite"),
            parsed.set(drivername="sqlite+aiosqlite"),
            "sqlite",
        )
    raise DatabaseConfigError(
        f"unsupported database URL scheme {parsed.drivername!r}: use postgresql:// "
        "(psycopg 3), postgresql+asyncpg://, mysql:// or mariadb:// (PyMySQL + asyncmy), "
        "or sqlite:///file.db"
    )


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """The engine settings a DatabaseManager was given (seconds as floats)."""

    pool_size: int = 5
    max_overflow: int = 5
    pool_timeout: float = 10.0
    pool_recycle: float = 1800.0
    connect_timeout: float = 10.0
    statement_timeout: float = 30.0
    busy_timeout: float = 5.0
    pgbouncer: bool = False
    echo: bool = False
    connect_args: dict[str, Any] = field(default_factory=dict)


class _Counters:
    __slots__ = ("timeouts", "waits")

    def __init__(self) -> None:
        self.waits = 0
        self.timeouts = 0


class _CountingPool(QueuePool):
    """QueuePool that counts waits for a free connection and timeouts."""

    maestro_counters: _Counters

    def _do_get(self) -> ConnectionPoolEntry:
        counters = getattr(self, "maestro_counters", None)
        if counters is None:
            counters = self.maestro_counters = _Counters()
        if self._max_overflow > -1 and self._overflow >= self._max_overflow and self._pool.empty():
            counters.waits += 1
        try:
            return super()._do_get()
        except sa_exc.TimeoutError:
            counters.timeouts += 1
            raise


class _AsyncCountingPool(_CountingPool, AsyncAdaptedQueuePool):
    """The asyncio flavour of :class:`_CountingPool`."""


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url.query)


def _engine_kwargs(
    url: URL, backend: str, options: EngineOptions, *, is_async: bool
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"echo": options.echo, "pool_pre_ping": True}
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        connect_args.update(timeout=options.busy_timeout, check_same_thread=False)
        if not _is_memory_sqlite(url):
            kwargs.update(
                poolclass=_AsyncCountingPool if is_async else _CountingPool,
                pool_size=options.pool_size,
                max_overflow=options.max_overflow,
                pool_timeout=options.pool_timeout,
            )
        kwargs["pool_pre_ping"] = False  # a local file cannot drop the link
    else:
        kwargs.update(
            poolclass=_AsyncCountingPool if is_async else _CountingPool,
            pool_size=options.pool_size,
            max_overflow=options.max_overflow,
            pool_timeout=options.pool_timeout,
            pool_recycle=options.pool_recycle,
        )
        timeout = max(1, math.ceil(options.connect_timeout))
        if backend == "postgresql" and url.drivername.endswith("asyncpg"):
            connect_args["timeout"] = timeout
            if options.pgbouncer:
                connect_args.update(statement_cache_size=0, prepared_statement_cache_size=0)
            elif options.statement_timeout:
                ms = str(int(options.statement_timeout * 1000))
                connect_args["server_settings"] = {"statement_timeout": ms}
        elif backend == "postgresql":
            connect_args["connect_timeout"] = timeout
            if options.pgbouncer:
                connect_args["prepare_threshold"] = None
            elif options.statement_timeout:
                millis = int(options.statement_timeout * 1000)
                connect_args["options"] = f"-c statement_timeout={millis}"
        else:
            connect_args["connect_timeout"] = timeout
    connect_args.update(options.connect_args)
    kwargs["connect_args"] = connect_args
    return kwargs


def build_engine(url: URL, backend: str, options: EngineOptions) -> Engine:
    """A sync Engine with the production defaults of its backend."""
    from sqlalchemy import create_engine

    engine = create_engine(url, **_engine_kwargs(url, backend, options, is_async=False))
    _install_events(engine, backend, options)
    return engine


def build_async_engine(url: URL, backend: str, options: EngineOptions) -> AsyncEngine:
    """An AsyncEngine with the production defaults of its backend."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, **_engine_kwargs(url, backend, options, is_async=True))
    _install_events(engine.sync_engine, backend, options)
    return engine


def _install_events(engine: Engine, backend: str, options: EngineOptions) -> None:
    if backend == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA busy_timeout={int(options.busy_timeout * 1000)}")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA synchronous=NORMAL")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

    elif backend == "postgresql" and options.pgbouncer and options.statement_timeout:
        ms = int(options.statement_timeout * 1000)

        @event.listens_for(engine, "begin")
        def _pgbouncer_begin(conn: Any) -> None:
            # transaction pooling: session settings would leak to other clients
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")

    elif backend == "mysql" and options.statement_timeout:

        @event.listens_for(engine, "connect")
        def _mysql_connect(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                if engine.dialect.is_mariadb:  # type: ignore[attr-defined]
                    cursor.execute(f"SET SESSION max_statement_time={options.statement_timeout:g}")
                else:
                    ms = int(options.statement_timeout * 1000)
                    cursor.execute(f"SET SESSION max_execution_time={ms}")
            finally:
                cursor.close()
