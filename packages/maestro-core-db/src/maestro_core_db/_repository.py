"""BaseRepository: get, bulk insert/upsert on the executemany path, keyset pages, counts."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

from ._errors import DatabaseConfigError, EntityNotFoundError
from ._model import utcnow

__all__ = ["SQLITE_MAX_PARAMETERS", "BaseRepository", "Page"]

M = TypeVar("M", bound=DeclarativeBase)

_ROW_STATEMENTS: dict[tuple[Table, bool], Any] = {}

SQLITE_MAX_PARAMETERS = 32_766
"""SQLite's default limit on bound parameters per statement (since 3.32)."""


@dataclass(frozen=True, slots=True)
class Page(Generic[M]):
    """One keyset page: the items, and the cursor of the next page (None on the last)."""

    items: list[M]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        """True when another page follows."""
        return self.next_cursor is not None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": value.hex}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise DatabaseConfigError(f"list_page cannot put a {type(value).__name__} into a cursor")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, raw),) = value.items()
        decoders: dict[str, Any] = {
            "t": datetime.fromisoformat,
            "d": date.fromisoformat,
            "u": uuid.UUID,
            "n": Decimal,
        }
        return decoders[tag](raw)
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque, URL-safe cursor holding the ordering values of the last row of a page."""
    raw = json.dumps([_encode(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    """The ordering values inside a cursor from :func:`encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = [_decode(v) for v in json.loads(raw)]
    except (ValueError, KeyError, TypeError) as exc:
        raise DatabaseConfigError(
            "invalid page cursor: pass the next_cursor of the previous page unchanged"
        ) from exc
    if len(values) != width:
        raise DatabaseConfigError(
            f"the cursor holds {len(values)} values but order_by has {width} columns: "
            "use the same order_by for every page"
        )
    return values


class BaseRepository(Generic[M]):
    """Data access for one model on an AsyncSession.

    Set ``model`` on the subclass. With ``tenant_id=`` (a model with TenantMixin) every
    query is filtered by that tenant and inserts are stamped with it. Models with
    SoftDeleteMixin: ``delete`` marks the row, and reads skip marked rows.
    """

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession, *, tenant_id: str | None = None) -> None:
        model = getattr(type(self), "model", None)
        if model is None or not isinstance(getattr(model, "__table__", None), Table):
            raise DatabaseConfigError(
                f"{type(self).__name__} needs 'model = YourModel' (a mapped Base subclass)"
            )
        if tenant_id is not None and not hasattr(model, "tenant_id"):
            raise DatabaseConfigError(
                f"tenant_id given but {model.__name__} has no tenant_id column (add TenantMixin)"
            )
        self.session = session
        self.tenant_id = tenant_id
        self._table: Table = model.__table__
        self._soft = hasattr(model, "deleted_at")
        pk = list(self._table.primary_key.columns)
        self._pk = pk
        # The session's connection for its current transaction (see _connection).
        self._held: tuple[Any, AsyncConnection] | None = None

    # ---- filters ---------------------------------------------------------------------

    def _scope(self) -> list[ColumnElement[bool]]:
        criteria: list[ColumnElement[bool]] = []
        if self.tenant_id is not None:
            criteria.append(self.model.tenant_id == self.tenant_id)
        if self._soft:
            criteria.append(self.model.deleted_at.is_(None))
        return criteria

    def _visible(self, obj: Any) -> bool:
        if obj is None:
            return False
        if self.tenant_id is not None and obj.tenant_id != self.tenant_id:
            return False
        return not (self._soft and obj.deleted_at is not None)

    # ---- reads -----------------------------------------------------------------------

    async def get(self, ident: Any) -> M | None:
        """The object with this primary key, or None (also when soft-deleted/other tenant)."""
        obj = await self.session.get(self.model, ident)
        if obj is None or (not self._soft and self.tenant_id is None):
            return obj
        return obj if self._visible(obj) else None

    async def get_one(self, ident: Any) -> M:
        """The object with this primary key; ``EntityNotFoundError`` when there is none."""
        obj = await self.get(ident)
        if obj is None:
            raise EntityNotFoundError(self.model.__name__, ident)
        return obj

    async def get_row(self, ident: Any) -> dict[str, Any] | None:
        """The row with this primary key as a dict, through Core (no ORM identity map)."""
        if len(self._pk) != 1:
            raise DatabaseConfigError("get_row needs a single-column primary key")
        key = (self._table, self.tenant_id is not None)
        stmt = _ROW_STATEMENTS.get(key)
        if stmt is None:  # built once per table: the Core path stays as cheap as Core
            columns = self._table.c
            criteria = [self._pk[0] == bindparam("maestro_ident", type_=self._pk[0].type)]
            if self.tenant_id is not None:
                criteria.append(columns.tenant_id == bindparam("maestro_tenant"))
            if self._soft:
                criteria.append(columns.deleted_at.is_(None))
            stmt = _ROW_STATEMENTS[key] = select(self._table).where(*criteria)
        params: dict[str, Any] = {"maestro_ident": ident}
        if self.tenant_id is not None:
            params["maestro_tenant"] = self.tenant_id
        conn = await self._connection()
        row = (await conn.execute(stmt, params)).first()
        return row._asdict() if row is not None else None

    async def _connection(self) -> AsyncConnection:
        """``session.connection()``, reused while the session's transaction is the same one
        (asking the session each time costs a greenlet switch: a tenth of a Core read)."""
        transaction = self.session.sync_session.get_transaction()
        held = self._held
        if (
            held is not None
            and transaction is not None
            and held[0] is transaction
            and transaction.is_active
            and not held[1].closed
            and not held[1].invalidated
        ):
            return held[1]
        conn = await self.session.connection()
        self._held = (self.session.sync_session.get_transaction(), conn)
        return conn

    async def find(
        self,
        *where: ColumnElement[bool],
        order_by: Iterable[Any] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[M]:
        """Objects matching the criteria (bound parameters only), ordered and sliced."""
        stmt = select(self.model).where(*where, *self._scope()).order_by(*order_by)
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        return list((await self.session.scalars(stmt)).all())

    async def count(self, *where: ColumnElement[bool]) -> int:
        """How many rows match."""
        stmt = select(func.count()).select_from(self.model).where(*where, *self._scope())
        return int((await self.session.execute(stmt)).scalar_one())

    async def list_and_count(
        self,
        *where: ColumnElement[bool],
        order_by: Iterable[Any] = (),
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[M], int]:
        """One page of objects and the total count, in one query (a window count)."""
        _positive("limit", limit)
        if offset < 0:
            raise DatabaseConfigError(f"offset must be >= 0, got {offset}")
        order = list(order_by) or list(self._pk)
        total_col = func.count().over().label("maestro_total")
        stmt = (
            select(self.model, total_col)
            .where(*where, *self._scope())
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
        rows = (await self.session.execute(stmt)).all()
        if rows:
            return [row[0] for row in rows], int(rows[0][1])
        return [], (await self.count(*where)) if offset else 0

    async def list_page(
        self,
        *where: ColumnElement[bool],
        order_by: Sequence[InstrumentedAttribute[Any]] | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> Page[M]:
        """One keyset page in ascending ``order_by`` order, after the row ``after`` encodes.

        ``order_by`` must end in a unique column (the default is the primary key), e.g.
        ``(Order.created_at, Order.id)``. Each page costs one indexed query, however deep.
        """
        _positive("limit", limit)
        columns = list(order_by) if order_by else [getattr(self.model, c.key) for c in self._pk]
        stmt = select(self.model).where(*where, *self._scope())
        if after is not None:
            values = decode_cursor(after, len(columns))
            bound = [
                bindparam(None, v, type_=col.type) for col, v in zip(columns, values, strict=True)
            ]
            if len(columns) == 1:
                stmt = stmt.where(columns[0] > bound[0])
            else:
                stmt = stmt.where(tuple_(*columns) > tuple_(*bound))
        stmt = stmt.order_by(*columns).limit(limit + 1)
        items = list((await self.session.scalars(stmt)).all())
        if len(items) <= limit:
            return Page(items, None)
        items = items[:limit]
        last = items[-1]
        return Page(items, encode_cursor([getattr(last, col.key) for col in columns]))

    # ---- writes ----------------------------------------------------------------------

    def add(self, obj: M) -> M:
        """Add one object to the session (stamped with the tenant); flushed on commit."""
        if self.tenant_id is not None:
            obj.tenant_id = self.tenant_id  # type: ignore[attr-defined]
        self.session.add(obj)
        return obj

    def _rows(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if self.tenant_id is None:  # no copy on the bulk path unless something must change
            return [row if type(row) is dict else dict(row) for row in rows]
        return [{**row, "tenant_id": self.tenant_id} for row in rows]

    def _batches(self, rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
        if self.session.get_bind().dialect.name != "sqlite":
            yield rows  # the driver's executemany / insertmanyvalues batch by themselves
            return
        width = max(1, len(self._table.columns))
        size = max(1, SQLITE_MAX_PARAMETERS // width)
        for start in range(0, len(rows), size):
            yield rows[start : start + size]

    async def insert_many(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert many rows (dicts of column values) on the executemany path; returns the count.

        Column defaults (UUIDv7 keys, timestamps) are filled in per row. Batches stay under
        SQLite's bound-parameter cap; ``insert().values(list)`` is never used.
        """
        data = self._rows(rows)
        if not data:
            return 0
        stmt = insert(self._table)
        for batch in self._batches(data):
            await self.session.execute(stmt, batch)
        return len(data)

    async def upsert_many(
        self,
        rows: Iterable[Mapping[str, Any]],
        *,
        conflict: Sequence[str],
        update: Sequence[str],
    ) -> int:
        """Insert rows, updating ``update`` columns where ``conflict`` columns already match.

        PostgreSQL/SQLite: ``ON CONFLICT (conflict) DO UPDATE``; MySQL/MariaDB: ``ON DUPLICATE
        KEY UPDATE`` (any unique key). ``updated_at`` is refreshed when the model has one.
        """
        data = self._rows(rows)
        if not data:
            return 0
        names = set(self._table.c.keys())
        for column in [*conflict, *update]:
            if column not in names:
                raise DatabaseConfigError(
                    f"{self._table.name} has no column {column!r} (conflict/update name columns)"
                )
        if not conflict:
            raise DatabaseConfigError("upsert_many needs conflict=[...] (the unique columns)")
        dialect = self.session.get_bind().dialect.name
        stmt: Any
        refresh = [*update, "updated_at"] if "updated_at" in names else list(update)
        if dialect in ("postgresql", "sqlite"):
            from sqlalchemy.dialects import postgresql, sqlite

            module: Any = postgresql if dialect == "postgresql" else sqlite
            stmt = module.insert(self._table)
            values = {c: stmt.excluded[c] for c in refresh}
            stmt = stmt.on_conflict_do_update(index_elements=list(conflict), set_=values)
        elif dialect in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            stmt = mysql_insert(self._table)
            values = {c: stmt.inserted[c] for c in refresh}
            stmt = stmt.on_duplicate_key_update(values)
        else:
            raise DatabaseConfigError(f"upsert_many does not support the {dialect} dialect")
        for batch in self._batches(data):
            await self.session.execute(stmt, batch)
        return len(data)

    async def delete(self, obj: M) -> None:
        """Soft-delete (SoftDeleteMixin) or delete the object."""
        if self._soft:
            obj.deleted_at = utcnow()  # type: ignore[attr-defined]
            await self.session.flush()
        else:
            await self.session.delete(obj)

    async def hard_delete(self, obj: M) -> None:
        """Delete the row for good, soft-delete model or not."""
        await self.session.delete(obj)


def _positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DatabaseConfigError(f"{name} must be a positive integer, got {value!r}")
