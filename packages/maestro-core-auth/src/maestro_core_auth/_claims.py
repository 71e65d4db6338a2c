"""`Claims`: the validated claims of a token, read-only, with typed accessors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from ._util import from_timestamp

__all__ = ["Claims"]


class Claims(Mapping[str, Any]):
    """The claims of a verified token: a read-only mapping plus typed accessors.

    ``claims["tenant"]`` reads any claim; ``subject``, ``scopes``, ``roles``, ``expires_at``,
    ``issued_at``, ``token_id``, ``issuer`` and ``audience`` read the registered ones.
    """

    __slots__ = ("_data", "header")

    def __init__(self, data: dict[str, Any], header: dict[str, Any] | None = None) -> None:
        # Both dicts are owned by this object (built fresh by the verifier): wrapped, not copied.
        self._data: Mapping[str, Any] = MappingProxyType(data)
        self.header: Mapping[str, Any] = MappingProxyType(header if header is not None else {})

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Claims(sub={self.subject!r}, jti={self.token_id!r}, exp={self.get('exp')!r})"

    @property
    def subject(self) -> str | None:
        """``sub``."""
        value = self._data.get("sub")
        return value if isinstance(value, str) else None

    @property
    def token_id(self) -> str | None:
        """``jti``."""
        value = self._data.get("jti")
        return value if isinstance(value, str) else None

    @property
    def issuer(self) -> str | None:
        """``iss``."""
        value = self._data.get("iss")
        return value if isinstance(value, str) else None

    @property
    def audience(self) -> tuple[str, ...]:
        """``aud`` as a tuple (a single string becomes one item)."""
        value = self._data.get("aud")
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(v for v in value if isinstance(v, str))
        return ()

    @property
    def scopes(self) -> tuple[str, ...]:
        """OAuth scopes: ``scope`` (space-separated, RFC 9068) or a ``scp`` / ``scopes`` list."""
        value = self._data.get("scope")
        if isinstance(value, str):
            return tuple(value.split())
        for name in ("scp", "scopes"):
            value = self._data.get(name)
            if isinstance(value, str):
                return tuple(value.split())
            if isinstance(value, list):
                return tuple(v for v in value if isinstance(v, str))
        return ()

    @property
    def roles(self) -> tuple[str, ...]:
        """``roles`` (a list of strings; RFC 9068 section 7.2)."""
        value = self._data.get("roles")
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(v for v in value if isinstance(v, str))
        return ()

    @property
    def expires_at(self) -> datetime:
        """``exp`` as an aware UTC datetime (always present on a verified token)."""
        return from_timestamp(float(self._data["exp"]))

    @property
    def issued_at(self) -> datetime | None:
        """``iat`` as an aware UTC datetime, or None."""
        value = self._data.get("iat")
        return from_timestamp(float(value)) if value is not None else None

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable copy of the claims."""
        return dict(self._data)
