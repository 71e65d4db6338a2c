"""`RefreshTokenService`: opaque refresh tokens in families, rotated on use, reuse detected."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ._errors import AuthConfigError, InvalidTokenError, RefreshTokenReuseError, TokenRevokedError
from ._stores import MemoryStore, Store
from ._util import Clock, seconds, timestamp_source

__all__ = ["RefreshRecord", "RefreshTokenService"]

_log = logging.getLogger("maestro.auth")
_PREFIX = "mrt_"
ReuseHook = Callable[[str, str], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """A rotation's result: the subject, the new token, its family and the data it carries."""

    subject: str
    token: str = field(repr=False)
    family: str
    data: Mapping[str, Any]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshTokenService:
    """Issues opaque ``mrt_...`` refresh tokens stored as SHA-256 digests, one family per login.

    ``rotate`` uses a token up and returns its successor; presenting a used token again raises
    RefreshTokenReuseError, revokes the whole family (the newest token too) and calls
    ``on_reuse(subject, family)``. ``store``: any async store (default in-process memory).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        ttl: float | timedelta = timedelta(days=14),
        on_reuse: ReuseHook | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._store: Any = store if store is not None else MemoryStore()
        self.ttl = seconds(ttl, "ttl", minimum=1.0)
        self._on_reuse = on_reuse
        self._now = timestamp_source(clock)

    def __repr__(self) -> str:
        return f"RefreshTokenService(store={type(self._store).__name__}, ttl={self.ttl:g})"

    async def issue(
        self,
        *,
        subject: str,
        family: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> str:
        """A new refresh token for ``subject`` (a new family unless one is given)."""
        if not isinstance(subject, str) or not subject:
            raise AuthConfigError("subject must be a non-empty string")
        token = _PREFIX + secrets.token_urlsafe(32)
        now = self._now()
        record = {
            "sub": subject,
            "fam": family or secrets.token_hex(12),
            "iat": now,
            "exp": now + self.ttl,
            "data": dict(data or {}),
        }
        await self._store.set("rt:" + _digest(token), json.dumps(record), ttl=self.ttl)
        return token

    async def rotate(self, token: str) -> tuple[str, str]:
        """``(subject, new_token)``; the given token is used up."""
        record = await self.rotate_record(token)
        return record.subject, record.token

    async def rotate_record(self, token: str) -> RefreshRecord:
        """Like :meth:`rotate`, with the family and the data given at issue time."""
        if not isinstance(token, str) or not token.startswith(_PREFIX) or len(token) > 128:
            raise InvalidTokenError("not a refresh token")
        digest = _digest(token)
        raw = await self._store.get("rt:" + digest)
        if raw is None:
            raise InvalidTokenError("unknown or expired refresh token")
        record = json.loads(raw)
        subject, family = str(record["sub"]), str(record["fam"])
        if float(record["exp"]) <= self._now():
            raise InvalidTokenError("unknown or expired refresh token")
        if await self._store.get("fam:" + family) is not None:
            raise TokenRevokedError("this refresh token's family has been revoked")
        revoked_at = await self._store.get("rsub:" + subject)
        if revoked_at is not None and float(record.get("iat", 0)) <= float(revoked_at):
            raise TokenRevokedError("this refresh token was issued before its subject was revoked")
        remaining = max(float(record["exp"]) - self._now(), 1.0)
        if not await self._store.add("used:" + digest, "1", ttl=remaining):
            await self.revoke_family(family)
            _log.warning(
                "refresh token reuse: family revoked",
                extra={"event": "auth.refresh_reuse", "subject": subject},
            )
            if self._on_reuse is not None:
                result = self._on_reuse(subject, family)
                if result is not None:
                    await result
            raise RefreshTokenReuseError(
                "this refresh token was already used; its family is revoked, log in again"
            )
        data = record.get("data") or {}
        new = await self.issue(subject=subject, family=family, data=data)
        return RefreshRecord(subject=subject, token=new, family=family, data=data)

    async def revoke(self, token: str) -> None:
        """Revoke the family of ``token`` (logout); unknown tokens are ignored."""
        if not isinstance(token, str) or not token.startswith(_PREFIX):
            return
        raw = await self._store.get("rt:" + _digest(token))
        if raw is not None:
            await self.revoke_family(str(json.loads(raw)["fam"]))

    async def revoke_subject(self, subject: str) -> None:
        """Every refresh token of ``subject`` issued until now stops working (all families)."""
        if not isinstance(subject, str) or not subject:
            raise AuthConfigError("subject must be a non-empty string")
        await self._store.set("rsub:" + subject, repr(self._now()), ttl=self.ttl)

    async def revoke_family(self, family: str) -> None:
        """Every token of ``family`` stops working."""
        await self._store.set("fam:" + family, "revoked", ttl=self.ttl)
