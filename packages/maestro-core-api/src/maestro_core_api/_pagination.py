"""Keyset pagination with signed, opaque cursors, and classic offset pages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ._errors import APIException, ConfigurationError

__all__ = [
    "CursorPage",
    "CursorParams",
    "InvalidCursor",
    "PaginatedResponse",
    "cursor_params",
    "decode_cursor",
    "encode_cursor",
]

T = TypeVar("T")

# One secret per process when neither the app nor the caller gives one: cursors then
# stop working across restarts and replicas, so services set http.cursor_secret.
_PROCESS_SECRET = secrets.token_bytes(32)


class InvalidCursor(APIException):
    """400: the cursor was tampered with, truncated or signed by someone else."""

    default_status = 400
    default_code = "invalid-cursor"

    def __init__(self) -> None:
        super().__init__("invalid cursor")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"$u": str(value)}
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    raise ConfigurationError(
        f"a cursor key may hold str, int, float, bool, None, datetime, date, UUID or Decimal; "
        f"got {type(value).__name__}"
    )


def _untag(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((kind, text),) = value.items()
        if kind == "$dt":
            return datetime.fromisoformat(text)
        if kind == "$d":
            return date.fromisoformat(text)
        if kind == "$u":
            return uuid.UUID(text)
        if kind == "$n":
            return Decimal(text)
    if isinstance(value, dict | list):
        raise ValueError("unexpected container in a cursor")
    return value


def _secret_bytes(secret: str | bytes | Any) -> bytes:
    if hasattr(secret, "get_secret_value"):
        secret = secret.get_secret_value()
    if isinstance(secret, str):
        secret = secret.encode()
    if not isinstance(secret, bytes) or len(secret) < 16:
        raise ConfigurationError("cursor_secret must hold at least 16 bytes")
    return secret


def encode_cursor(key: Sequence[Any] | Any, secret: bytes, *, direction: str = "after") -> str:
    """An opaque cursor: the sort key and direction, HMAC-SHA256 signed."""
    values = list(key) if isinstance(key, tuple | list) else [key]
    payload = json.dumps(
        {"k": [_tag(v) for v in values], "d": direction[0]}, separators=(",", ":")
    ).encode()
    mac = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(mac)}"


def decode_cursor(cursor: str, secret: bytes) -> tuple[tuple[Any, ...], str]:
    """(key, ``"after"``/``"before"``) of a cursor; :class:`InvalidCursor` if forged."""
    try:
        body, mac = cursor.split(".", 1)
        payload = _unb64(body)
        expected = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise InvalidCursor
        data = json.loads(payload)
        key = tuple(_untag(v) for v in data["k"])
        direction = {"a": "after", "b": "before"}[data["d"]]
    except InvalidCursor:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidCursor from None
    return key, direction


class CursorParams:
    """What a cursor-paginated endpoint was asked for.

    ``limit`` (1..max_limit), ``after``/``before`` (the decoded sort key, or ``None``),
    ``include_total`` (``?include_total=true``). Built by :func:`cursor_params`.
    """

    def __init__(
        self,
        *,
        limit: int,
        after: tuple[Any, ...] | None,
        before: tuple[Any, ...] | None,
        include_total: bool,
        secret: bytes,
        url: str | None = None,
        response: Response | None = None,
    ) -> None:
        self.limit = limit
        self.after = after
        self.before = before
        self.include_total = include_total
        self.secret = secret
        self.url = url
        self.response = response

    def __repr__(self) -> str:
        return (
            f"<CursorParams limit={self.limit} after={self.after!r} before={self.before!r} "
            f"include_total={self.include_total}>"
        )


def cursor_params(
    *,
    max_limit: int = 100,
    default_limit: int | None = None,
    secret: str | bytes | None = None,
) -> Callable[..., CursorParams]:
    """A FastAPI dependency reading ``?cursor=``, ``?limit=`` and ``?include_total=``.

    ``default_limit`` is 20 (or *max_limit* when smaller). The cursor secret is *secret*,
    else the app's (``create_app`` takes it from ``settings.http.cursor_secret`` or
    ``cursor_secret=``), else one per process.
    """
    if default_limit is None:
        default_limit = min(20, max_limit)
    if not 1 <= default_limit <= max_limit:
        raise ConfigurationError(
            f"default_limit must be between 1 and max_limit ({max_limit}), got {default_limit}"
        )
    fixed = _secret_bytes(secret) if secret is not None else None

    def dependency(
        request: Request,
        response: Response,
        cursor: str | None = Query(None, max_length=2048, description="opaque page cursor"),
        limit: int = Query(default_limit, ge=1, le=max_limit, description="page size"),
        include_total: bool = Query(False, description="also count every matching row"),
    ) -> CursorParams:
        key_secret = fixed
        if key_secret is None:
            state = getattr(request.app.state, "maestro", None)
            key_secret = getattr(state, "cursor_secret", None) or _PROCESS_SECRET
        after = before = None
        if cursor:
            key, direction = decode_cursor(cursor, key_secret)
            if direction == "after":
                after = key
            else:
                before = key
        return CursorParams(
            limit=limit,
            after=after,
            before=before,
            include_total=include_total,
            secret=key_secret,
            url=str(request.url),
            response=response,
        )

    return dependency


def _with_query(url: str, **changes: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in changes]
    query.extend(changes.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class CursorPage(BaseModel, Generic[T]):
    """One page of a keyset-paginated list: ``items``, ``next``, ``prev``, ``total``."""

    model_config = ConfigDict(arbitrary_types_allowed=False)

    items: list[T]
    next: str | None = Field(None, description="cursor of the next page")
    prev: str | None = Field(None, description="cursor of the previous page")
    total: int | None = Field(None, description="matching rows; only with include_total=true")

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[T],
        *,
        limit: int,
        key: Callable[[T], Any],
        request: CursorParams,
        total: int | Callable[[], int] | None = None,
    ) -> CursorPage[T]:
        """Build the page from ``limit + 1`` fetched rows (the extra one says there is more).

        For a ``before`` cursor fetch in reverse order; the page puts rows back in order.
        Sets the ``Link`` header (``rel="next"``/``"prev"``) on the response.
        """
        backwards = request.before is not None
        items = list(rows[:limit])
        more = len(rows) > limit
        if backwards:
            items.reverse()
        next_cursor = prev_cursor = None
        if items:
            if more or backwards:
                next_cursor = encode_cursor(key(items[-1]), request.secret, direction="after")
            if request.after is not None or (backwards and more):
                prev_cursor = encode_cursor(key(items[0]), request.secret, direction="before")
        counted: int | None = None
        if request.include_total and total is not None:
            counted = total() if callable(total) else total
        if request.response is not None and request.url is not None:
            links = []
            if next_cursor is not None:
                url = _with_query(request.url, cursor=next_cursor, limit=str(limit))
                links.append(f'<{url}>; rel="next"')
            if prev_cursor is not None:
                url = _with_query(request.url, cursor=prev_cursor, limit=str(limit))
                links.append(f'<{url}>; rel="prev"')
            if links:
                request.response.headers["Link"] = ", ".join(links)
        return cls(items=items, next=next_cursor, prev=prev_cursor, total=counted)


class PaginatedResponse(BaseModel, Generic[T]):
    """An offset page for small, static sets: ``items``, ``total``, ``page``, ``size``."""

    items: list[T]
    total: Annotated[int, Field(ge=0)]
    page: Annotated[int, Field(ge=1)] = 1
    size: Annotated[int, Field(ge=1)] = 20

    @property
    def pages(self) -> int:
        """How many pages of ``size`` hold ``total`` items."""
        return max(1, -(-self.total // self.size))
