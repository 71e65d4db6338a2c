"""DatabaseManager: engines with safe defaults, sessions, transactions, retries, health."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Executable, TextClause, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from ._engine import (
    SQLITE_BEGIN,
    EngineOptions,
    build_async_engine,
    build_engine,
    mask,
    parse_url,
    seconds,
)
from ._errors import (
    ConnectionError,
    DatabaseConfigError,
    MaestroDBError,
    PoolExhaustedError,
    QueryTimeoutError,
    TransientError,
    translate,
)
from ._stats import DatabaseHealth, PoolStats

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from ._migrations import MigrationManager

__all__ = ["DatabaseManager", "SyncDatabase", "create_session_dependency"]

T = TypeVar("T")
log = logging.getLogger("maestro_core_db")

_ISOLATION_LEVELS = (
    "SERIALIZABLE",
    "REPEATABLE READ",
    "READ COMMITTED",
    "READ UNCOMMITTED",
    "AUTOCOMMIT",
)


def _count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DatabaseConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _isolation(level: str | None) -> str | None:
    if level is None:
        return None
    normal = str(level).upper().replace("_", " ")
    if normal not in _ISOLATION_LEVELS:
        raise DatabaseConfigError(
            f"isolation_level {level!r} is not one of {', '.join(_ISOLATION_LEVELS)}"
        )
    return normal


def _statement(query: object, params: object) -> tuple[Executable, Mapping[str, Any]]:
    if params is not None and not isinstance(params, Mapping):
        raise DatabaseConfigError(
            "execute_query params must be a mapping of bound parameters "
            "({'q': 1} for ':q' in the SQL); values are never interpolated into the text"
        )
    if isinstance(query, str):
        if "%s" in query or "%(" in query or "{}" in query:
            raise DatabaseConfigError(
                "execute_query takes SQL with ':name' placeholders and a params mapping; "
                "'%s' / '%(name)s' / '{}' placeholders look like string interpolation: "
                "write 'where id = :id' and pass {'id': value}"
            )
        return text(query), dict(params or {})
    if isinstance(query, TextClause | Executable):
        return query, dict(params or {})
    raise DatabaseConfigError(
        f"execute_query takes SQL text or a SQLAlchemy statement, got {type(query).__name__}"
    )


async def _shielded(awaitable: Awaitable[None]) -> None:
    """Run a cleanup to its end even if the caller is cancelled meanwhile."""
    task = asyncio.ensure_future(awaitable)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        # the cleanup goes on in its task; the caller's cancellation goes on too
        raise


async def _deadline(awaitable: Awaitable[T], limit: float) -> T:
    """Await with a client-side time limit; on expiry make sure the work really stops.

    A driver may answer the first cancellation by trying to cancel the query over the
    network (psycopg waits up to 10 s for that on a stalled link); a second cancellation
    makes it close the connection at once. So: cancel, and cancel again until it ends.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=limit)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if done:
        return task.result()
    for _ in range(50):
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=0.1)
        if done:
            break
    if task.done() and not task.cancelled():
        task.exception()  # mark it retrieved: the timeout is what the caller needs to know
    raise _Expired(limit)


async def _close(session: AsyncSession) -> None:
    """Close a session; if a cancellation interrupts that, drop its connection (shielded).

    No task is created on the common path; an interrupted reset already invalidates the
    connection in the pool, and the shielded ``invalidate`` makes sure nothing stays checked
    out whatever the driver did.
    """
    try:
        await session.close()
    except asyncio.CancelledError:
        await _shielded(session.invalidate())
        raise


class _Expired(Exception):
    """The client-side limit of :func:`_deadline` passed (never leaves this module)."""


class DatabaseManager:
    """Sync and async engines with production defaults, sessions, transactions and health.

    Async-first: the verbs are coroutines or async context managers; ``db.sync`` offers the
    same verbs synchronously. Engines are created on first use (or by ``initialize()``).
    Without a URL the embedded SQLite file ``./maestro.db`` (WAL) is used.
    """

    def __init__(
        self,
        url: object = None,
        *,
        pool_size: int = 5,
        max_overflow: int = 5,
        pool_timeout: float | timedelta = 10.0,
        pool_recycle: float | timedelta = 1800.0,
        connect_timeout: float | timedelta = 10.0,
        statement_timeout: float | timedelta | None = 30.0,
        busy_timeout: float | timedelta = 5.0,
        read_replica_urls: Sequence[object] = (),
        pgbouncer: bool = False,
        echo: bool = False,
        workers: int = 1,
        connect_args: Mapping[str, Any] | None = None,
        retry_delay: float | timedelta = 0.02,
        retry_max_delay: float | timedelta = 1.0,
    ) -> None:
        from ._engine import DEFAULT_URL

        self._sync_url, self._async_url, self.backend = parse_url(
            DEFAULT_URL if url is None else url
        )
        if isinstance(read_replica_urls, str | bytes):
            raise DatabaseConfigError("read_replica_urls must be a list of URLs, not one string")
        replicas = [parse_url(r) for r in read_replica_urls]
        for _, _, backend in replicas:
            if backend != self.backend:
                raise DatabaseConfigError(
                    f"read replica backend {backend!r} differs from the primary's "
                    f"{self.backend!r}: replicas must run the same engine"
                )
        self._replica_urls = [(s, a) for s, a, _ in replicas]
        self.options = EngineOptions(
            pool_size=_count("pool_size", pool_size, 1),
            max_overflow=_count("max_overflow", max_overflow, 0),
            pool_timeout=seconds("pool_timeout", pool_timeout, allow_zero=False),
            pool_recycle=seconds("pool_recycle", pool_recycle, allow_zero=False),
            connect_timeout=seconds("connect_timeout", connect_timeout, allow_zero=False),
            statement_timeout=seconds("statement_timeout", statement_timeout),
            busy_timeout=seconds("busy_timeout", busy_timeout),
            pgbouncer=bool(pgbouncer),
            echo=bool(echo),
            connect_args=dict(connect_args or {}),
        )
        self.workers = _count("workers", workers, 1)
        self._retry_delay = seconds("retry_delay", retry_delay)
        self._retry_max_delay = seconds("retry_max_delay", retry_max_delay)
        self._secrets = tuple(
            p
            for p in [self._sync_url.password, *(s.password for s, _ in self._replica_urls)]
            if isinstance(p, str) and p
        )
        self._engine: AsyncEngine | None = None
        self._replicas: list[AsyncEngine] = []
        self._replica_cycle: Iterator[int] = itertools.cycle([0])
        self._factories: dict[object, async_sessionmaker[AsyncSession]] = {}
        self._policies: dict[tuple[int, bool], tuple[Any, Any]] = {}
        self._initialized = False
        self.max_connections: int | None = None
        self.migrations: MigrationManager | None = None
        self.sync = SyncDatabase(self)

    # ---- construction --------------------------------------------------------------------

    @classmethod
    def from_settings(cls, section: object, **overrides: Any) -> DatabaseManager:
        """Build from maestro-core-config's ``DatabaseSettings`` (by duck typing)."""
        kwargs: dict[str, Any] = {}
        for name in (
            "pool_size",
            "max_overflow",
            "pool_timeout",
            "pool_recycle",
            "connect_timeout",
            "statement_timeout",
            "read_replica_urls",
            "pgbouncer",
            "echo",
        ):
            if hasattr(section, name):
                kwargs[name] = getattr(section, name)
        if not hasattr(section, "url"):
            raise DatabaseConfigError(
                f"from_settings needs a section with a 'url' (DatabaseSettings), "
                f"got {type(section).__name__}"
            )
        kwargs.update(overrides)
        return cls(section.url, **kwargs)

    def __repr__(self) -> str:
        return (
            f"<DatabaseManager {mask(self._sync_url)} pool_size={self.options.pool_size} "
            f"max_overflow={self.options.max_overflow} replicas={len(self._replica_urls)}>"
        )

    @property
    def url(self) -> str:
        """The primary's URL with the password hidden."""
        return mask(self._sync_url)

    # ---- engines -------------------------------------------------------------------------

    @property
    def engine(self) -> AsyncEngine:
        """The primary's AsyncEngine (created on first use)."""
        if self._engine is None:
            self._engine = build_async_engine(self._async_url, self.backend, self.options)
            self._replicas = [
                build_async_engine(a, self.backend, self.options) for _, a in self._replica_urls
            ]
            self._replica_cycle = itertools.cycle(range(max(1, len(self._replicas))))
        return self._engine

    def _factory(self, key: object) -> async_sessionmaker[AsyncSession]:
        factory = self._factories.get(key)
        if factory is None:
            engine = self.engine
            if key == "read":
                if self._replicas:
                    engine = self._replicas[next(self._replica_cycle)]
                    # one factory per replica, chosen round-robin
                    return async_sessionmaker(engine, expire_on_commit=False)
                if self.backend == "sqlite":
                    engine = engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
            elif isinstance(key, str) and key != "write" and self.backend != "sqlite":
                engine = engine.execution_options(isolation_level=key)
            factory = async_sessionmaker(engine, expire_on_commit=False)
            self._factories[key] = factory
        return factory

    def translate(self, exc: BaseException) -> BaseException:
        """``exc`` mapped into this package's error family (password scrubbed)."""
        options = self.options
        return translate(
            exc,
            secrets=self._secrets,
            pool=(options.pool_size, options.max_overflow, options.pool_timeout),
            resolve_unique=_resolve_unique,
        )

    # ---- lifecycle -----------------------------------------------------------------------

    async def initialize(self) -> None:
        """Create the engine, check connectivity, and log the pool budget (optional)."""
        engine = self.engine
        limit = self.options.connect_timeout * 2 + 1.0

        async def run() -> int | None:
            async with engine.connect() as conn:
                result: int | None = await conn.run_sync(_max_connections, self.backend)
                return result

        try:
            max_conn = await _deadline(run(), limit)
        except _Expired as exc:
            raise ConnectionError(f"{self.url} did not answer within {limit:g}s") from exc
        except Exception as exc:
            error = self.translate(exc)
            if error is exc:
                raise
            raise error from exc
        self.max_connections = max_conn
        check_pool_budget(self, max_conn)
        self._initialized = True

    async def shutdown(self) -> None:
        """Close every pooled connection (sync and async); later use starts afresh."""
        engines = [e for e in [self._engine, *self._replicas] if e is not None]
        self._engine = None
        self._replicas = []
        self._factories.clear()
        self._initialized = False
        for engine in engines:
            await engine.dispose()
        self.sync._dispose()

    async def __aenter__(self) -> DatabaseManager:
        await self.initialize()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    # ---- sessions ------------------------------------------------------------------------

    @asynccontextmanager
    async def _scope(self, key: object, *, commit: bool) -> AsyncIterator[AsyncSession]:
        session = self._factory(key)()
        try:
            yield session
            if commit:
                await session.commit()
        except asyncio.CancelledError:
            # interrupted mid-operation: the connection's state is unknown, so it is closed
            # (never returned to the pool half-used, never leaked), shielded from the cancel
            await _shielded(session.invalidate())
            raise
        except Exception as exc:
            await _close(session)
            error = self.translate(exc)
            if error is exc:
                raise
            raise error from exc
        else:
            await _close(session)

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """An AsyncSession on the primary; you commit (``await session.commit()``)."""
        return self._scope("write", commit=False)

    get_write_session = session

    def transaction(
        self, *, isolation_level: str | None = None
    ) -> AbstractAsyncContextManager[AsyncSession]:
        """An AsyncSession in a transaction: committed on success, rolled back on error."""
        return self._scope(_isolation(isolation_level) or "write", commit=True)

    def get_read_session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """An AsyncSession on a read replica (round-robin), or the primary without one."""
        return self._scope("read", commit=False)

    # ---- work ----------------------------------------------------------------------------

    async def execute_query(
        self, query: str | Executable, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run one statement with bound parameters in its own transaction; rows as dicts."""
        statement, bound = _statement(query, params)

        async def run() -> list[dict[str, Any]]:
            async with self.transaction() as session:
                result = await session.execute(statement, bound)
                if not result.returns_rows:  # type: ignore[attr-defined]
                    return []
                return [dict(row) for row in result.mappings()]

        limit = self._client_deadline()
        if limit is None:
            return await run()
        try:
            return await _deadline(run(), limit)
        except _Expired as exc:
            raise QueryTimeoutError(
                f"no answer from {self.url} within {limit:g}s (statement_timeout + "
                "connect_timeout + a margin): the server or the network stalls"
            ) from exc

    def _client_deadline(self) -> float | None:
        """The client-side limit for one statement: the server's limit plus a margin."""
        if not self.options.statement_timeout:
            return None
        margin = min(1.0, self.options.connect_timeout)
        return self.options.statement_timeout + self.options.connect_timeout + margin

    async def run_in_transaction(
        self,
        fn: Callable[[AsyncSession], Awaitable[T]],
        *,
        attempts: int = 5,
        isolation_level: str | None = None,
        retry_on_disconnect: bool = False,
    ) -> T:
        """Run ``fn(session)`` in a transaction; re-run the whole of it on a transient error.

        Retried: serialization failures (40001), deadlocks (40P01, MySQL 1213), lock wait
        timeouts (MySQL 1205) and SQLite busy, with capped, jittered backoff; with
        ``retry_on_disconnect=True`` a lost connection too. The last error is raised after
        ``attempts`` runs. Keep side effects outside ``fn`` or make them idempotent.
        """
        _count("attempts", attempts, 1)
        level = _isolation(isolation_level)
        try:  # the first run costs no more than transaction() itself
            async with self._scope(level or "write", commit=True) as session:
                return await fn(session)
        except Exception as exc:
            if attempts == 1 or not _retryable(exc, retry_on_disconnect):
                raise
        # re-runs: maestro-resilience Retry, capped and jittered backoff
        retry, policy = self._policy(attempts, retry_on_disconnect)
        await asyncio.sleep(retry.compute_delay(1))
        result: T = await policy(fn, level)
        return result

    def _policy(self, attempts: int, on_disconnect: bool) -> tuple[Any, Any]:
        key = (attempts, on_disconnect)
        found = self._policies.get(key)
        if found is None:
            retry = _retry_policy(attempts - 1, on_disconnect, self)
            found = self._policies[key] = (retry, retry(self._attempt))
        return found

    async def _attempt(self, fn: Callable[[AsyncSession], Awaitable[T]], level: str | None) -> T:
        async with self._scope(level or "write", commit=True) as session:
            return await fn(session)

    async def create_all(self, metadata: MetaData | None = None) -> None:
        """Create the tables of ``metadata`` (default: ``Base.metadata``) that do not exist."""
        from ._model import Base

        async with self.engine.begin() as conn:
            await conn.run_sync((metadata or Base.metadata).create_all)

    async def drop_all(self, metadata: MetaData | None = None) -> None:
        """Drop the tables of ``metadata`` (default: ``Base.metadata``)."""
        from ._model import Base

        async with self.engine.begin() as conn:
            await conn.run_sync((metadata or Base.metadata).drop_all)

    # ---- health --------------------------------------------------------------------------

    async def ping(self) -> None:
        """One round trip to the primary; raises ``ConnectionError`` when it is down."""
        options = self.options
        limit = options.connect_timeout * 2 + (options.statement_timeout or 0)

        async def run() -> None:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")

        try:
            await _deadline(run(), limit)
        except _Expired as exc:
            raise ConnectionError(f"{self.url} did not answer within {limit:g}s") from exc
        except PoolExhaustedError:
            raise
        except Exception as exc:
            error = self.translate(exc)
            if isinstance(error, MaestroDBError) and not isinstance(error, ConnectionError):
                error = ConnectionError(str(error))
            raise error from exc

    async def health(self, *, migrations: bool = True) -> DatabaseHealth:
        """Reachable?, latency, pool statistics and (with a MigrationManager) at-head state."""
        start = time.perf_counter()
        try:
            await self.ping()
        except MaestroDBError as exc:
            return DatabaseHealth(False, None, self.pool_stats(), None, str(exc))
        latency = time.perf_counter() - start
        state = None
        if migrations and self.migrations is not None:
            try:
                state = await self.migrations.status()
            except MaestroDBError as exc:
                return DatabaseHealth(False, latency, self.pool_stats(), None, str(exc))
        ok = state is None or state.at_head
        error = None if ok else "the schema is not at the migration head"
        return DatabaseHealth(ok, latency, self.pool_stats(), state, error)

    async def get_health_status(self) -> dict[str, Any]:
        """``health()`` as a JSON-ready dict (the original verb)."""
        return (await self.health()).as_dict()

    def pool_stats(self) -> PoolStats:
        """The async primary pool's statistics (``db.sync.pool_stats()`` for the sync one)."""
        return _pool_stats(self.engine.sync_engine if self._engine is not None else None)

    stats = pool_stats


def _pool_stats(engine: Engine | None) -> PoolStats:
    if engine is None:
        return PoolStats(0, 0, 0, 0, 0)
    pool: Any = engine.pool
    counters = getattr(pool, "maestro_counters", None)
    size = pool.size() if hasattr(pool, "size") else 1
    checked_out = pool.checkedout() if hasattr(pool, "checkedout") else 0
    overflow = max(0, pool.overflow()) if hasattr(pool, "overflow") else 0
    return PoolStats(
        size=size,
        checked_out=checked_out,
        overflow=overflow,
        waiting_total=counters.waits if counters else 0,
        timeouts_total=counters.timeouts if counters else 0,
    )


def _max_connections(conn: Any, backend: str) -> int | None:
    if backend == "postgresql":
        return int(conn.exec_driver_sql("SHOW max_connections").scalar())
    if backend == "mysql":
        return int(conn.exec_driver_sql("SELECT @@max_connections").scalar())
    conn.exec_driver_sql("SELECT 1")
    return None


def check_pool_budget(db: DatabaseManager, max_connections: int | None) -> int:
    """Log the pool budget; warn when it exceeds the server's ``max_connections``."""
    per_process = db.options.pool_size + db.options.max_overflow
    budget = db.workers * per_process
    if max_connections is None:
        return budget
    if budget > max_connections:
        log.warning(
            "pool budget exceeds the server: workers %d x (pool_size %d + max_overflow %d) = "
            "%d connections > max_connections=%d on %s; lower pool_size/max_overflow, "
            "run fewer workers, or put PgBouncer in front (pgbouncer=True)",
            db.workers,
            db.options.pool_size,
            db.options.max_overflow,
            budget,
            max_connections,
            db.url,
        )
    else:
        log.info(
            "pool budget: workers %d x (pool_size %d + max_overflow %d) = %d of "
            "max_connections=%d on %s",
            db.workers,
            db.options.pool_size,
            db.options.max_overflow,
            budget,
            max_connections,
            db.url,
        )
    return budget


def _resolve_unique(columns: list[str]) -> str | None:
    """The name of the unique constraint on ``table.col`` columns (SQLite names none)."""
    from sqlalchemy import UniqueConstraint

    from ._model import Base

    if not columns or "." not in columns[0]:
        return None
    table_name = columns[0].split(".", 1)[0]
    wanted = {c.split(".", 1)[1] for c in columns}
    table = Base.metadata.tables.get(table_name)
    if table is None:
        return None
    for constraint in table.constraints:
        if (
            isinstance(constraint, UniqueConstraint)
            and {c.name for c in constraint.columns} == wanted
            and constraint.name
        ):
            return str(constraint.name)
    for index in table.indexes:
        if index.unique and {c.name for c in index.columns} == wanted and index.name:
            return str(index.name)
    return None


def _retryable(exc: BaseException, on_disconnect: bool) -> bool:
    if isinstance(exc, TransientError):
        return True
    return (
        on_disconnect
        and isinstance(exc, ConnectionError)
        and not isinstance(exc, PoolExhaustedError)
    )


def _retry_policy(attempts: int, on_disconnect: bool, db: DatabaseManager) -> Any:
    from maestro_resilience import Retry

    def retryable(exc: BaseException) -> bool:
        return _retryable(exc, on_disconnect)

    return Retry(
        max_attempts=attempts,
        delay=db._retry_delay,
        backoff=2.0,
        max_delay=db._retry_max_delay,
        jitter="full",
        retry_on=retryable,
        name="run_in_transaction",
    )


class SyncDatabase:
    """The synchronous twin of a DatabaseManager (``db.sync``): same verbs, plain calls."""

    def __init__(self, db: DatabaseManager) -> None:
        self._db = db
        self._engine: Engine | None = None
        self._replicas: list[Engine] = []
        self._replica_cycle: Iterator[int] = itertools.cycle([0])
        self._factories: dict[object, sessionmaker[Session]] = {}
        self._policies: dict[tuple[int, bool], tuple[Any, Any]] = {}

    def __repr__(self) -> str:
        return f"<SyncDatabase of {self._db!r}>"

    @property
    def engine(self) -> Engine:
        """The primary's sync Engine (created on first use)."""
        if self._engine is None:
            db = self._db
            self._engine = build_engine(db._sync_url, db.backend, db.options)
            self._replicas = [build_engine(s, db.backend, db.options) for s, _ in db._replica_urls]
            self._replica_cycle = itertools.cycle(range(max(1, len(self._replicas))))
        return self._engine

    def _factory(self, key: object) -> sessionmaker[Session]:
        factory = self._factories.get(key)
        if factory is None:
            engine = self.engine
            if key == "read":
                if self._replicas:
                    return sessionmaker(
                        self._replicas[next(self._replica_cycle)], expire_on_commit=False
                    )
                if self._db.backend == "sqlite":
                    engine = engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
            elif isinstance(key, str) and key != "write" and self._db.backend != "sqlite":
                engine = engine.execution_options(isolation_level=key)
            factory = sessionmaker(engine, expire_on_commit=False)
            self._factories[key] = factory
        return factory

    def _dispose(self) -> None:
        engines = [e for e in [self._engine, *self._replicas] if e is not None]
        self._engine = None
        self._replicas = []
        self._factories.clear()
        for engine in engines:
            engine.dispose()

    def initialize(self) -> None:
        """Create the engine, check connectivity, log the pool budget."""
        try:
            with self.engine.connect() as conn:
                max_conn = _max_connections(conn, self._db.backend)
        except Exception as exc:
            error = self._db.translate(exc)
            if error is exc:
                raise
            raise error from exc
        self._db.max_connections = max_conn
        check_pool_budget(self._db, max_conn)

    def shutdown(self) -> None:
        """Close every pooled connection of the sync engines."""
        self._dispose()

    def __enter__(self) -> SyncDatabase:
        self.initialize()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    @contextmanager
    def _scope(self, key: object, *, commit: bool) -> Iterator[Session]:
        session = self._factory(key)()
        try:
            yield session
            if commit:
                session.commit()
        except Exception as exc:
            error = self._db.translate(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            session.close()

    def session(self) -> AbstractContextManager[Session]:
        """A Session on the primary; you commit."""
        return self._scope("write", commit=False)

    get_write_session = session

    def transaction(self, *, isolation_level: str | None = None) -> AbstractContextManager[Session]:
        """A Session in a transaction: committed on success, rolled back on error."""
        return self._scope(_isolation(isolation_level) or "write", commit=True)

    def get_read_session(self) -> AbstractContextManager[Session]:
        """A Session on a read replica (round-robin), or the primary without one."""
        return self._scope("read", commit=False)

    def execute_query(
        self, query: str | Executable, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run one statement with bound parameters in its own transaction; rows as dicts."""
        statement, bound = _statement(query, params)
        with self.transaction() as session:
            result = session.execute(statement, bound)
            if not result.returns_rows:  # type: ignore[attr-defined]
                return []
            return [dict(row) for row in result.mappings()]

    def run_in_transaction(
        self,
        fn: Callable[[Session], T],
        *,
        attempts: int = 5,
        isolation_level: str | None = None,
        retry_on_disconnect: bool = False,
    ) -> T:
        """Run ``fn(session)`` in a transaction; re-run all of it on a transient error."""
        _count("attempts", attempts, 1)
        level = _isolation(isolation_level)
        try:
            with self._scope(level or "write", commit=True) as session:
                return fn(session)
        except Exception as exc:
            if attempts == 1 or not _retryable(exc, retry_on_disconnect):
                raise
        key = (attempts, retry_on_disconnect)
        found = self._policies.get(key)
        if found is None:
            retry = _retry_policy(attempts - 1, retry_on_disconnect, self._db)
            found = self._policies[key] = (retry, retry(self._attempt))
        retry, policy = found
        time.sleep(retry.compute_delay(1))
        result: T = policy(fn, level)
        return result

    def _attempt(self, fn: Callable[[Session], T], level: str | None) -> T:
        with self._scope(level or "write", commit=True) as session:
            return fn(session)

    def create_all(self, metadata: MetaData | None = None) -> None:
        """Create the tables of ``metadata`` (default: ``Base.metadata``) that do not exist."""
        from ._model import Base

        with self.engine.begin() as conn:
            (metadata or Base.metadata).create_all(conn)

    def drop_all(self, metadata: MetaData | None = None) -> None:
        """Drop the tables of ``metadata`` (default: ``Base.metadata``)."""
        from ._model import Base

        with self.engine.begin() as conn:
            (metadata or Base.metadata).drop_all(conn)

    def ping(self) -> None:
        """One round trip to the primary; raises ``ConnectionError`` when it is down."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except PoolExhaustedError:
            raise
        except Exception as exc:
            error = self._db.translate(exc)
            if isinstance(error, MaestroDBError) and not isinstance(error, ConnectionError):
                error = ConnectionError(str(error))
            raise error from exc

    def health(self) -> DatabaseHealth:
        """Reachable?, latency and pool statistics of the sync engine."""
        start = time.perf_counter()
        try:
            self.ping()
        except MaestroDBError as exc:
            return DatabaseHealth(False, None, self.pool_stats(), None, str(exc))
        return DatabaseHealth(True, time.perf_counter() - start, self.pool_stats())

    def get_health_status(self) -> dict[str, Any]:
        """``health()`` as a JSON-ready dict."""
        return self.health().as_dict()

    def pool_stats(self) -> PoolStats:
        """The sync primary pool's statistics."""
        return _pool_stats(self._engine)

    stats = pool_stats


def create_session_dependency(
    db: DatabaseManager, *, transactional: bool = True
) -> Callable[[], AsyncIterator[AsyncSession]]:
    """A FastAPI-style dependency: an async generator yielding one AsyncSession per request.

    ``transactional=True`` commits when the request handler returns and rolls back when it
    raises; ``False`` hands out a plain session (you commit).
    """

    async def dependency() -> AsyncIterator[AsyncSession]:
        scope = db.transaction() if transactional else db.session()
        async with scope as session:
            yield session

    return dependency
