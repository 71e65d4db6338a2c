"""``deprecated(sunset=...)``: Deprecation, Sunset and Link headers (RFC 9745, RFC 8594)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import TypeVar

from ._errors import ConfigurationError

__all__ = ["Deprecation", "deprecated"]

F = TypeVar("F", bound=Callable[..., object])


def _moment(name: str, value: str | date | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise ConfigurationError(
                f"{name} must be an ISO date such as '2026-12-31', got {value!r}"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigurationError(
                f"{name} is a naive datetime; attach a timezone (datetime(..., tzinfo=UTC))"
            )
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ConfigurationError(f"{name} must be an ISO date, a date or a datetime, got {value!r}")


class Deprecation:
    """The headers of one deprecated operation."""

    def __init__(
        self,
        sunset: str | date | datetime | None,
        link: str | None,
        since: str | date | datetime | None,
    ) -> None:
        self.sunset = _moment("sunset", sunset)
        self.since = _moment("since", since)
        self.link = link
        headers: list[tuple[bytes, bytes]] = []
        deprecation = "?1" if self.since is None else f"@{int(self.since.timestamp())}"
        headers.append((b"deprecation", deprecation.encode()))
        if self.sunset is not None:
            headers.append((b"sunset", format_datetime(self.sunset, usegmt=True).encode()))
        if link is not None:
            if any(c in link for c in '<>"\r\n'):
                raise ConfigurationError(f"link must be a plain URL, got {link!r}")
            headers.append((b"link", f'<{link}>; rel="deprecation"; type="text/html"'.encode()))
        self.raw_headers = tuple(headers)


def deprecated(
    sunset: str | date | datetime | None = None,
    *,
    link: str | None = None,
    since: str | date | datetime | None = None,
) -> Callable[[F], F]:
    """Mark a path operation deprecated: put it under the route decorator.

    ```
    @app.get("/v1/orders")
    @deprecated(sunset="2026-12-31", link="https://docs.example/orders-v2")
    async def old_orders() -> list[Order]: ...
    ```

    Responses carry ``Deprecation`` (``?1``, or ``@<epoch>`` with *since*), ``Sunset``
    (an HTTP date) and ``Link: <...>; rel="deprecation"``; in an app built by
    ``create_app`` the operation is marked ``deprecated`` in OpenAPI.
    """
    notice = Deprecation(sunset, link, since)

    def mark(endpoint: F) -> F:
        endpoint.__maestro_deprecation__ = notice  # type: ignore[attr-defined]
        return endpoint

    return mark
