"""`RevocationList`: a jti deny-list and per-subject not-before times, on a store."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ._errors import AuthConfigError, TokenRevokedError
from ._stores import MemoryStore, Store, SyncStore
from ._util import Clock, aware, seconds, timestamp_source

__all__ = ["RevocationList"]

_log = logging.getLogger("maestro.auth")


class RevocationList:
    """Revoked tokens: by ``jti`` until their ``exp``, and by subject for tokens issued before.

    ``store`` is any async store (default: in-process :class:`MemoryStore`). The sync
    ``check`` uses the store's ``.sync`` twin; a store without one serves ``acheck`` only.
    ``retain`` is how long a subject revocation is kept: at least your longest token life.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        retain: float | timedelta = 86_400.0,
        clock: Clock | None = None,
    ) -> None:
        self._store: Any = store if store is not None else MemoryStore()
        for verb in ("get", "set", "add", "delete"):
            if not callable(getattr(self._store, verb, None)):
                raise AuthConfigError(f"the revocation store has no {verb}() method")
        # The embedded store is read directly on the hot path (an empty one costs nothing).
        self._memory = self._store.sync if isinstance(self._store, MemoryStore) else None
        sync = getattr(self._store, "sync", None)
        self._sync: SyncStore | None = sync if isinstance(sync, SyncStore) else None
        self._retain = seconds(retain, "retain", minimum=1.0)
        self._now = timestamp_source(clock)

    def __repr__(self) -> str:
        return f"RevocationList(store={type(self._store).__name__})"

    async def revoke(self, claims: Mapping[str, Any]) -> None:
        """Deny-list a verified token's ``jti`` until its ``exp``."""
        jti, exp = claims.get("jti"), claims.get("exp")
        if not isinstance(jti, str) or not isinstance(exp, int | float):
            raise AuthConfigError("only a token with jti and exp can be revoked by id")
        await self.revoke_id(jti, exp)

    async def revoke_id(self, jti: str, expires: float | datetime) -> None:
        """Deny-list ``jti`` until ``expires`` (POSIX seconds or an aware datetime)."""
        until = aware(expires, "expires").timestamp() if isinstance(expires, datetime) else expires
        ttl = max(float(until) - self._now(), 1.0)
        await self._store.set("jti:" + jti, "1", ttl=ttl)
        _log.info("token revoked", extra={"event": "auth.revoke", "ttl": ttl})

    async def revoke_subject(self, subject: str, *, at: datetime | None = None) -> None:
        """Invalidate every token of ``subject`` issued before now (or ``at``)."""
        if not isinstance(subject, str) or not subject:
            raise AuthConfigError("subject must be a non-empty string")
        when = aware(at, "at").timestamp() if at is not None else self._now()
        await self._store.set("sub:" + subject, repr(when), ttl=self._retain)
        _log.info("subject revoked", extra={"event": "auth.revoke_subject"})

    @staticmethod
    def _decide(iat: object, by_jti: str | None, by_sub: str | None) -> None:
        if by_jti is not None:
            raise TokenRevokedError("the token has been revoked")
        if by_sub is not None and (
            not isinstance(iat, int | float) or isinstance(iat, bool) or iat <= float(by_sub)
        ):
            raise TokenRevokedError("the token was issued before its subject was revoked")

    def check_ids(self, jti: object, sub: object, iat: object) -> None:
        """``check`` from the token's ``jti``, ``sub`` and ``iat`` (the verifier's hot path)."""
        memory = self._memory
        if memory is not None and not memory._data:
            return
        sync = self._sync
        if sync is None:
            raise AuthConfigError(
                "this revocation store has no .sync twin: call averify()/acheck() instead"
            )
        by_jti = sync.get("jti:" + jti) if isinstance(jti, str) else None
        by_sub = sync.get("sub:" + sub) if isinstance(sub, str) else None
        self._decide(iat, by_jti, by_sub)

    async def acheck_ids(self, jti: object, sub: object, iat: object) -> None:
        """``acheck`` from the token's ``jti``, ``sub`` and ``iat``."""
        memory = self._memory
        if memory is not None and not memory._data:
            return
        by_jti = await self._store.get("jti:" + jti) if isinstance(jti, str) else None
        by_sub = await self._store.get("sub:" + sub) if isinstance(sub, str) else None
        self._decide(iat, by_jti, by_sub)

    def check(self, claims: Mapping[str, Any]) -> None:
        """Raise TokenRevokedError when the token is revoked (sync; needs ``store.sync``)."""
        self.check_ids(claims.get("jti"), claims.get("sub"), claims.get("iat"))

    async def acheck(self, claims: Mapping[str, Any]) -> None:
        """Raise TokenRevokedError when the token is revoked."""
        await self.acheck_ids(claims.get("jti"), claims.get("sub"), claims.get("iat"))

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """True when ``check`` would raise."""
        try:
            self.check(claims)
        except TokenRevokedError:
            return True
        return False

    async def ais_revoked(self, claims: Mapping[str, Any]) -> bool:
        """True when ``acheck`` would raise."""
        try:
            await self.acheck(claims)
        except TokenRevokedError:
            return True
        return False
