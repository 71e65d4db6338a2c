"""Transactional outbox, its relay, and the idempotent inbox (SQLAlchemy Core, lazily imported).

The outbox row is written through the caller's session, in the caller's transaction; the
relay claims unsent rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` (one relay on SQLite),
publishes them with windowed confirms and marks them sent. The event id is the row id, so a
relay crash between publishing and marking only causes a duplicate with the same id, which
``Inbox.claim()`` absorbs in the consumer's own transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from ._backend import check_group, check_topic
from ._codec import encode
from ._errors import ConfigurationError, require
from ._event import Event
from ._types import seconds

if TYPE_CHECKING:
    from ._broker import MessageBroker
    from ._message import Message

__all__ = ["Inbox", "Outbox", "OutboxRelay", "messaging_metadata"]
log = logging.getLogger("maestro.messaging")


def _sa() -> Any:
    require("sqlalchemy", "the outbox and inbox", "outbox")
    import sqlalchemy

    return sqlalchemy


def _check_table(name: str) -> str:
    if not isinstance(name, str) or not name.replace("_", "").isalnum() or len(name) > 60:
        raise ConfigurationError(f"invalid table name {name!r}: use letters, digits and '_'")
    return name


@cache
def _metadata(outbox: str = "maestro_outbox", inbox: str = "maestro_inbox") -> Any:
    sa = _sa()
    metadata = sa.MetaData()
    sa.Table(
        outbox,
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("event", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Index(f"ix_{outbox}_unsent", "sent_at", "created_at"),
    )
    sa.Table(
        inbox,
        metadata,
        sa.Column("consumer", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    return metadata


class _LazyMetadata:
    """The SQLAlchemy ``MetaData`` holding ``maestro_outbox`` and ``maestro_inbox``.

    Built on first use (SQLAlchemy is imported then); use it as, or next to, your Alembic
    ``target_metadata`` (``messaging_metadata.metadata`` is the MetaData object itself).
    """

    @property
    def metadata(self) -> Any:
        """The real ``sqlalchemy.MetaData``."""
        return _metadata()

    def __getattr__(self, name: str) -> Any:
        return getattr(_metadata(), name)

    def __repr__(self) -> str:
        return "messaging_metadata(maestro_outbox, maestro_inbox)"


messaging_metadata = _LazyMetadata()


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """Writes events into the outbox table through YOUR session (same transaction)."""

    def __init__(
        self,
        source: str = "maestro",
        *,
        table: str = "maestro_outbox",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.source = source
        self.table_name = _check_table(table)
        self._clock = clock or _now

    @property
    def table(self) -> Any:
        """The SQLAlchemy ``Table`` (its ``metadata`` creates it: ``metadata.create_all``)."""
        return _metadata(self.table_name, "maestro_inbox").tables[self.table_name]

    def event(
        self,
        topic: str,
        message: Any,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        type: str | None = None,
    ) -> Event:
        """The CloudEvent a row will carry (its id is the row id)."""
        from ._broker import _extension_name, _traceparent

        check_topic(topic)
        if isinstance(message, Event):
            return message
        data, content_type = encode(message)
        now = self._clock()
        if now.tzinfo is None:
            raise ConfigurationError("clock= returned a naive datetime: return an aware UTC one")
        extensions = {"traceparent": _traceparent()}
        if headers:
            extensions.update({_extension_name(k): str(v) for k, v in headers.items()})
        return Event(
            source=self.source,
            type=type or topic,
            data=data,
            time=now,
            datacontenttype=content_type,
            subject=key,
            extensions=extensions,
        )

    async def add(
        self,
        session: Any,
        topic: str,
        message: Any,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        *,
        type: str | None = None,
    ) -> str:
        """Insert the event through ``session`` (AsyncSession or AsyncConnection); its id."""
        event = self.event(topic, message, headers, key, type)
        insert = self.table.insert().values(
            id=event.id, topic=topic, event=event.to_json(), created_at=event.time, sent_at=None
        )
        await session.execute(insert)
        return event.id


class OutboxRelay:
    """Publishes unsent outbox rows through a broker; started and stopped with the broker."""

    def __init__(
        self,
        engine_or_sessionmaker: Any,
        broker: MessageBroker,
        *,
        batch_size: int = 100,
        interval: float = 0.2,
        table: str = "maestro_outbox",
        clock: Callable[[], datetime] | None = None,
        attach: bool = True,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self._db = engine_or_sessionmaker
        self._broker = broker
        self.batch_size = batch_size
        self.interval = seconds(interval, "interval", allow_zero=False)
        self._outbox = Outbox(table=table)
        self._clock = clock or _now
        self._task: asyncio.Task[None] | None = None
        self.relayed_total = 0
        if attach:
            broker.attach(self)

    def _transaction(self) -> Any:
        db = self._db
        if hasattr(db, "begin") and hasattr(db, "dialect"):
            return db.begin()  # AsyncEngine -> AsyncConnection in a transaction
        session = db()
        return _SessionTransaction(session)

    def _claim_query(self, dialect: str) -> Any:
        sa = _sa()
        table = self._outbox.table
        query = (
            sa.select(table.c.id, table.c.topic, table.c.event)
            .where(table.c.sent_at.is_(None))
            .order_by(table.c.created_at, table.c.id)
            .limit(self.batch_size)
        )
        if dialect != "sqlite":
            query = query.with_for_update(skip_locked=True)
        return query

    async def _publish(self, rows: list[Any]) -> None:
        """Publish the claimed rows (confirmed, in order, per topic)."""
        by_topic: dict[str, list[Event]] = {}
        for row in rows:
            by_topic.setdefault(row.topic, []).append(Event.from_json(row.event))
        for topic, events in by_topic.items():
            await self._broker.publish_many(topic, events)

    async def _mark(self, conn: Any, rows: list[Any]) -> None:
        sa = _sa()
        table = self._outbox.table
        ids = [row.id for row in rows]
        if _dialect(conn) == "postgresql":
            # one array parameter instead of one per row: half the marking's CPU here
            from sqlalchemy.dialects.postgresql import ARRAY

            match = table.c.id == sa.any_(sa.bindparam("ids", ids, type_=ARRAY(table.c.id.type)))
        else:
            match = table.c.id.in_(ids)
        await conn.execute(table.update().where(match).values(sent_at=self._clock()))

    async def _publish_and_mark(self, conn: Any, rows: list[Any]) -> None:
        await self._publish(rows)
        await self._mark(conn, rows)

    async def _mark_and_commit(
        self, stack: contextlib.AsyncExitStack, conn: Any, rows: list[Any]
    ) -> int:
        """Mark published rows sent and commit their claim (rolled back if that fails)."""
        try:
            await self._mark(conn, rows)
        except BaseException:
            await stack.__aexit__(*sys.exc_info())
            raise
        await stack.aclose()
        self.relayed_total += len(rows)
        return len(rows)

    async def relay_once(self) -> int:
        """Claim, publish and mark one batch; how many rows were relayed."""
        async with self._transaction() as conn:
            rows = (await conn.execute(self._claim_query(_dialect(conn)))).all()
            if not rows:
                return 0
            await self._publish_and_mark(conn, rows)
        self.relayed_total += len(rows)
        return len(rows)

    async def _claim(self) -> tuple[contextlib.AsyncExitStack, Any, list[Any]]:
        """Open a transaction and claim a batch in it (the caller commits or rolls back)."""
        stack = contextlib.AsyncExitStack()
        try:
            conn = await stack.enter_async_context(self._transaction())
            rows = list((await conn.execute(self._claim_query(_dialect(conn)))).all())
        except BaseException:
            await stack.__aexit__(*sys.exc_info())
            raise
        return stack, conn, rows

    async def relay_all(self) -> int:
        """Relay batches until no unsent row is left; how many rows were relayed.

        On PostgreSQL and MariaDB the next batch is claimed (``SKIP LOCKED`` passes over the
        rows still locked by the current one) while the current batch is published, so the
        database round trips overlap the broker's confirms; batches still go out in order.
        A failure rolls back both open claims: their rows stay unsent for the next attempt.
        """
        stack, conn, rows = await self._claim()
        if _dialect(conn) == "sqlite":  # one writer at a time: no overlapping claims
            await stack.aclose()
            total = 0
            while n := await self.relay_once():
                total += n
            return total
        total = 0
        loop = asyncio.get_running_loop()
        ahead: asyncio.Task[tuple[contextlib.AsyncExitStack, Any, list[Any]]] | None = None
        marking: asyncio.Task[int] | None = None
        current: contextlib.AsyncExitStack | None = stack
        try:
            while rows:
                ahead = loop.create_task(self._claim())
                await self._publish(rows)
                if marking is not None:
                    total += await marking
                # the confirmed batch is marked and committed while the next one publishes
                marking, current = loop.create_task(self._mark_and_commit(stack, conn, rows)), None
                stack, conn, rows = await ahead
                current, ahead = stack, None
            if marking is not None:
                total += await marking
                marking = None
            await stack.aclose()
            current = None
        except BaseException:
            if current is not None:
                await current.__aexit__(*sys.exc_info())
            if ahead is not None:
                if not ahead.done():
                    ahead.cancel()
                with contextlib.suppress(BaseException):
                    other, _conn, _rows = await ahead
                    await other.__aexit__(*sys.exc_info())
            if marking is not None:  # those rows were confirmed: let their marking finish
                with contextlib.suppress(Exception):
                    total += await marking
            raise
        return total

    async def _loop(self) -> None:
        while True:
            try:
                await self.relay_all()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or broker is away: try again later
                log.warning("outbox relay: %s: %s", type(exc).__name__, str(exc)[:200])
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        """Start relaying in the background (the broker calls it on connect)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop relaying (the broker calls it before draining)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _dialect(conn: Any) -> str:
    """The dialect name of an AsyncConnection or AsyncSession."""
    dialect = getattr(conn, "dialect", None)
    if dialect is None:
        bind = getattr(conn, "bind", None)
        dialect = getattr(bind, "dialect", None)
    return str(getattr(dialect, "name", ""))


class _SessionTransaction:
    """``async with`` over an AsyncSession: begin, yield the session, commit, close."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._tx: Any = None

    async def __aenter__(self) -> Any:
        self._tx = self._session.begin()
        await self._tx.__aenter__()
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self._tx.__aexit__(*exc)
        finally:
            await self._session.close()


class Inbox:
    """Deduplicates deliveries by event id in the handler's own transaction."""

    def __init__(
        self,
        consumer: str,
        *,
        table: str = "maestro_inbox",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.consumer = check_group(consumer)
        self.table_name = _check_table(table)
        self._clock = clock or _now

    @property
    def table(self) -> Any:
        """The SQLAlchemy ``Table`` (its ``metadata`` creates it)."""
        return _metadata("maestro_outbox", self.table_name).tables[self.table_name]

    async def claim(self, session: Any, message: Message | Event | str) -> bool:
        """True the first time this consumer sees the event id (insert in ``session``'s
        transaction); False for a duplicate, which the handler should just acknowledge."""
        event_id = message if isinstance(message, str) else message.id
        values = {"consumer": self.consumer, "event_id": event_id, "processed_at": self._clock()}
        dialect = _dialect(session)
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt: Any = pg_insert(self.table).values(**values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as lite_insert

            stmt = lite_insert(self.table).values(**values).on_conflict_do_nothing()
        else:
            stmt = self.table.insert().prefix_with("IGNORE").values(**values)
        result = await session.execute(stmt.returning(self.table.c.event_id))
        return result.first() is not None
