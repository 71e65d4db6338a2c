"""The declarative Base (naming convention, UTC datetimes, no silent lazy loads), mixins, uuid7."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Integer, MetaData, String, TypeDecorator, Uuid, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    declared_attr,
    mapped_column,
    relationships,
    strategies,
)
from sqlalchemy.types import TypeEngine

from ._errors import DatabaseConfigError, LazyLoadError

__all__ = [
    "NAMING_CONVENTION",
    "AuditMixin",
    "Base",
    "SoftDeleteMixin",
    "TenantMixin",
    "TimestampMixin",
    "UTCDateTime",
    "UUIDPrimaryKeyMixin",
    "VersionMixin",
    "utcnow",
    "uuid7",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_uuid_lock = threading.Lock()
_uuid_last = [0, 0]  # last millisecond, last 12-bit counter


def uuid7() -> uuid.UUID:
    """A UUID version 7 (RFC 9562): millisecond time first, so keys sort by creation time.

    Within one millisecond a 12-bit counter keeps the values of this process increasing.
    """
    ms = time.time_ns() // 1_000_000
    with _uuid_lock:
        if ms <= _uuid_last[0]:
            counter = _uuid_last[1] + 1
            if counter > 0xFFF:  # counter spent: borrow the next millisecond
                ms = _uuid_last[0] + 1
                counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
            else:
                ms = _uuid_last[0]
        else:
            counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        _uuid_last[0], _uuid_last[1] = ms, counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def utcnow() -> datetime:
    """The current time, an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that stores UTC and always returns aware UTC datetimes.

    A naive datetime is refused: attach a timezone (``datetime.now(UTC)``).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):  # microseconds, not whole seconds
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise DatabaseConfigError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise DatabaseConfigError(
                f"naive datetime {value.isoformat()} given: attach a timezone "
                "(datetime.now(UTC) or value.replace(tzinfo=UTC))"
            )
        value = value.astimezone(UTC)
        if dialect.name != "postgresql":  # SQLite / MySQL store no offset: keep UTC, naive
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _NoSilentLazyLoader(strategies._LazyLoader):
    """``raise_on_sql`` that names the attribute and the fix instead of MissingGreenlet."""

    def __init__(self, parent: Any, strategy_key: Any) -> None:
        super().__init__(parent, strategy_key)
        self._raise_on_sql = True

    def _invoke_raise_load(self, state: Any, passive: Any, lazy: Any) -> Any:
        raise LazyLoadError(str(self.parent_property))

    def _load_for_state(self, state: Any, passive: Any, *args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.orm.exc import DetachedInstanceError

        try:
            return super()._load_for_state(  # type: ignore[no-untyped-call]
                state, passive, *args, **kwargs
            )
        except DetachedInstanceError:
            raise LazyLoadError(str(self.parent_property)) from None


relationships.RelationshipProperty.strategy_for(lazy="maestro_raise_on_sql")(_NoSilentLazyLoader)


class Base(DeclarativeBase):
    """Declarative base: stable constraint names, aware-UTC ``datetime`` columns, and
    relationships that raise :class:`LazyLoadError` instead of loading lazily.

    Load relationships explicitly (``selectinload(Order.lines)``) or declare another
    ``lazy=`` strategy (``"selectin"``, ``"joined"``) on the relationship.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


@event.listens_for(Base, "before_mapper_configured", propagate=True)
def _default_lazy_raises(mapper: Mapper[Any], class_: type) -> None:
    for prop in mapper.relationships:
        if prop.lazy == "select":
            prop.lazy = "maestro_raise_on_sql"  # type: ignore[assignment]
            prop.strategy_key = (("lazy", "maestro_raise_on_sql"),)


class UUIDPrimaryKeyMixin:
    """``id``: a UUIDv7 primary key generated in Python (sortable by creation time)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)


class TimestampMixin:
    """``created_at`` / ``updated_at``: aware UTC datetimes set on insert and update."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class SoftDeleteMixin:
    """``deleted_at``: set by ``repo.delete(obj)``; repositories hide soft-deleted rows."""

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def is_deleted(self) -> bool:
        """True once the row was soft-deleted."""
        return self.deleted_at is not None


class TenantMixin:
    """``tenant_id``: a repository built with ``tenant_id=`` filters every query by it."""

    tenant_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)


class AuditMixin:
    """``created_by`` / ``updated_by``: who wrote the row (set by your code)."""

    created_by: Mapped[str | None] = mapped_column(String(255), default=None)
    updated_by: Mapped[str | None] = mapped_column(String(255), default=None)


class VersionMixin:
    """``version``: optimistic locking; a lost update raises ``StaleDataError``."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
