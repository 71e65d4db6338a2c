"""The order: its table (maestro-core-db), its API shapes and its event (pydantic)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from maestro_core_db import Base, BaseRepository, TimestampMixin, UUIDPrimaryKeyMixin, VersionMixin
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

Status = Literal["pending", "confirmed"]


class Order(UUIDPrimaryKeyMixin, TimestampMixin, VersionMixin, Base):
    """One order; ``id`` is a UUIDv7, so sorting by it is sorting by creation time."""

    __tablename__ = "orders"

    customer: Mapped[str] = mapped_column(String(128))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16), default="pending")


class OrderRepository(BaseRepository[Order]):
    model = Order


class OrderIn(BaseModel):
    """What a client sends to create an order."""

    model_config = ConfigDict(extra="forbid")

    sku: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
    quantity: Annotated[int, Field(ge=1, le=1000)]


class OrderOut(BaseModel):
    """An order as the API answers it (and as the cache stores it)."""

    id: uuid.UUID
    customer: str
    sku: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    status: Status
    created_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls(
            id=order.id,
            customer=order.customer,
            sku=order.sku,
            quantity=order.quantity,
            unit_price=order.unit_price,
            total=order.total,
            status="confirmed" if order.status == "confirmed" else "pending",
            created_at=order.created_at,
        )


class OrderCreated(BaseModel):
    """The ``orders.created`` event, written to the outbox with the order."""

    order_id: uuid.UUID
    sku: str
    quantity: int
    total: Decimal


class Credentials(BaseModel):
    """``POST /auth/token``: the password grant of the demo users."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class RefreshRequest(BaseModel):
    """``POST /auth/refresh`` and ``POST /auth/logout``."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]
