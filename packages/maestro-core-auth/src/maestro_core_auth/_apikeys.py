"""API keys: a checksummed format, SHA-256 at rest, scopes, expiry and revocation."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import zlib
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ._errors import AuthConfigError
from ._stores import Store, SyncStore
from ._util import Clock, aware, from_timestamp, timestamp_source

__all__ = ["APIKeyAuth", "APIKeyInfo", "NewAPIKey", "generate_api_key"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,15}$")
_RANDOM_LEN = 30
_CRC_LEN = 6
_MAX_KEY_LEN = 256


# Every two-digit base62 string, so a 32-bit CRC becomes 6 digits (3844**2 = 14_776_336)
# by three table lookups.
_PAIRS = [a + b for a in _BASE62 for b in _BASE62]


def _checksum(text: str) -> str:
    crc = zlib.crc32(text.encode())
    return f"{_PAIRS[crc // 14_776_336]}{_PAIRS[crc // 3844 % 3844]}{_PAIRS[crc % 3844]}"


_crc32 = zlib.crc32
_sha256 = hashlib.sha256


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class APIKeyInfo:
    """What is stored for an API key (never the key itself): id, scopes, expiry, revocation."""

    key_id: str
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    revoked: bool = False
    name: str | None = None
    # expires_at as POSIX seconds, computed once: verify compares it with the clock per call.
    _expires_ts: float | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.expires_at is not None:
            object.__setattr__(self, "_expires_ts", self.expires_at.timestamp())

    def to_json(self) -> str:
        """JSON text for a key-value store."""
        return json.dumps(
            {
                "key_id": self.key_id,
                "scopes": list(self.scopes),
                "expires_at": self.expires_at.timestamp() if self.expires_at else None,
                "revoked": self.revoked,
                "name": self.name,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> APIKeyInfo:
        """The inverse of :meth:`to_json`."""
        data: dict[str, Any] = json.loads(text)
        exp = data.get("expires_at")
        return cls(
            key_id=str(data["key_id"]),
            scopes=tuple(data.get("scopes") or ()),
            expires_at=from_timestamp(float(exp)) if exp is not None else None,
            revoked=bool(data.get("revoked")),
            name=data.get("name"),
        )


@dataclass(frozen=True, slots=True)
class NewAPIKey:
    """A freshly generated key: show ``key`` to its owner once, store only ``hash``."""

    key: str = field(repr=False)
    key_id: str
    hash: str
    display: str

    def __str__(self) -> str:
        return self.display


def generate_api_key(prefix: str = "mst") -> NewAPIKey:
    """A new key ``<prefix>_<30 base62 random><6 base62 CRC32>`` (about 178 random bits)."""
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise AuthConfigError(
            "prefix must be 2-16 lowercase letters/digits, starting with a letter"
        )
    body = "".join(secrets.choice(_BASE62) for _ in range(_RANDOM_LEN))
    head = f"{prefix}_{body}"
    key = head + _checksum(head)
    digest = _digest(key)
    return NewAPIKey(key=key, key_id=digest[:16], hash=digest, display=f"{prefix}_{body[:4]}…")


def has_valid_checksum(key: str) -> bool:
    """True when ``key`` is in the generated format with a correct CRC (no store lookup)."""
    prefix, sep, rest = key.partition("_")
    if not sep or len(rest) != _RANDOM_LEN + _CRC_LEN or not _PREFIX.match(prefix):
        return False
    head = key[:-_CRC_LEN]
    return _checksum(head) == key[-_CRC_LEN:]


class APIKeyAuth:
    """Verifies API keys against a store of SHA-256 digests.

    ``store`` maps the hex SHA-256 of each key to its :class:`APIKeyInfo`: a dict (the
    default) or any mutable mapping, or an async key-value store (``get``/``set``/``delete``,
    a maestro-cache cache or :class:`RedisStore`) holding the info as JSON, shared by
    replicas; such a store serves ``averify`` (and ``verify`` when it has a ``.sync`` twin).
    ``valid_keys`` (original-compatible) are plain keys, hashed at construction; keys in any
    format are then accepted. Otherwise a key must be in the generated format with a correct
    checksum, so typos and scans are refused without a lookup.
    """

    def __init__(
        self,
        *,
        store: MutableMapping[str, APIKeyInfo] | Store | None = None,
        valid_keys: Iterable[str] | None = None,
        prefix: str = "mst",
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(prefix, str) or not _PREFIX.match(prefix):
            raise AuthConfigError("prefix must be 2-16 lowercase letters/digits")
        self.prefix = prefix
        self._kv: Any = None
        self._kv_sync: SyncStore | None = None
        if store is None or isinstance(store, MutableMapping):
            self._store: MutableMapping[str, APIKeyInfo] = {} if store is None else store
        else:
            for verb in ("get", "set", "delete"):
                if not callable(getattr(store, verb, None)):
                    raise AuthConfigError(
                        "store must be a mapping or a key-value store with get/set/delete"
                    )
            self._store = {}
            self._kv = store
            sync = getattr(store, "sync", None)
            self._kv_sync = sync if isinstance(sync, SyncStore) else None
        self._any_format = valid_keys is not None
        self._key_len = len(prefix) + 1 + _RANDOM_LEN + _CRC_LEN
        self._now = timestamp_source(clock)
        for key in valid_keys or ():
            if not isinstance(key, str) or len(key) < 16:
                raise AuthConfigError("every valid key must be a string of at least 16 characters")
            digest = _digest(key)
            self._put(digest, APIKeyInfo(key_id=digest[:16]))

    def __repr__(self) -> str:
        where = type(self._kv).__name__ if self._kv is not None else f"{len(self._store)} keys"
        return f"APIKeyAuth({where}, prefix={self.prefix!r})"

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> APIKeyAuth:
        """From an ``AuthSettings``-shaped section: its ``api_key_prefix``."""
        options: dict[str, Any] = {"prefix": getattr(settings, "api_key_prefix", "mst")}
        options.update(overrides)
        return cls(**options)

    # ----------------------------------------------------------------- storage
    def _sync_kv(self) -> SyncStore:
        if self._kv_sync is None:
            raise AuthConfigError(
                "this API-key store has no .sync twin: use averify/aadd/acreate/arevoke"
            )
        return self._kv_sync

    def _put(self, digest: str, info: APIKeyInfo) -> None:
        if self._kv is None:
            self._store[digest] = info
            return
        kv = self._sync_kv()
        kv.set("apikey:" + digest, info.to_json())
        kv.set("apikey-id:" + info.key_id, digest)

    async def _aput(self, digest: str, info: APIKeyInfo) -> None:
        if self._kv is None:
            self._store[digest] = info
            return
        await self._kv.set("apikey:" + digest, info.to_json())
        await self._kv.set("apikey-id:" + info.key_id, digest)

    def _info(
        self, plain: str, scopes: Iterable[str], expires_at: datetime | None, name: str | None
    ) -> tuple[str, APIKeyInfo]:
        if not isinstance(plain, str) or (not self._any_format and not has_valid_checksum(plain)):
            raise AuthConfigError("the key is not in the generated format (bad checksum)")
        digest = _digest(plain)
        info = APIKeyInfo(
            key_id=digest[:16],
            scopes=tuple([scopes] if isinstance(scopes, str) else scopes),
            expires_at=aware(expires_at, "expires_at") if expires_at is not None else None,
            name=name,
        )
        return digest, info

    # ----------------------------------------------------------------- registration
    def create(
        self,
        *,
        scopes: Iterable[str] = (),
        expires_at: datetime | None = None,
        name: str | None = None,
    ) -> NewAPIKey:
        """Generate a key, store its digest with ``scopes`` and expiry, return it once."""
        new = generate_api_key(self.prefix)
        self.add(new.key, scopes=scopes, expires_at=expires_at, name=name)
        return new

    async def acreate(
        self,
        *,
        scopes: Iterable[str] = (),
        expires_at: datetime | None = None,
        name: str | None = None,
    ) -> NewAPIKey:
        """``create`` for an async store."""
        new = generate_api_key(self.prefix)
        await self.aadd(new.key, scopes=scopes, expires_at=expires_at, name=name)
        return new

    def add(
        self,
        key: str | NewAPIKey,
        *,
        scopes: Iterable[str] = (),
        expires_at: datetime | None = None,
        name: str | None = None,
    ) -> APIKeyInfo:
        """Register an existing key (only its digest is kept)."""
        plain = key.key if isinstance(key, NewAPIKey) else key
        digest, info = self._info(plain, scopes, expires_at, name)
        self._put(digest, info)
        return info

    async def aadd(
        self,
        key: str | NewAPIKey,
        *,
        scopes: Iterable[str] = (),
        expires_at: datetime | None = None,
        name: str | None = None,
    ) -> APIKeyInfo:
        """``add`` for an async store."""
        plain = key.key if isinstance(key, NewAPIKey) else key
        digest, info = self._info(plain, scopes, expires_at, name)
        await self._aput(digest, info)
        return info

    # ----------------------------------------------------------------- verification
    def _digest_if_well_formed(self, key: object) -> str | None:
        if type(key) is not str or len(key) > _MAX_KEY_LEN:
            return None
        raw = key.encode()
        if not self._any_format:
            if len(raw) != self._key_len:
                return None
            crc = _crc32(raw[:-_CRC_LEN])
            if (
                key[-_CRC_LEN:]
                != f"{_PAIRS[crc // 14_776_336]}{_PAIRS[crc // 3844 % 3844]}{_PAIRS[crc % 3844]}"
            ):
                return None
        return _sha256(raw).hexdigest()

    def _usable(self, info: APIKeyInfo | None) -> APIKeyInfo | None:
        if info is None or info.revoked:
            return None
        expires = info._expires_ts
        if expires is not None and expires <= self._now():
            return None
        return info

    def verify(self, key: object) -> APIKeyInfo | None:
        """The key's info when it is known, unexpired and not revoked; else None."""
        if self._kv is not None:
            digest = self._digest_if_well_formed(key)
            if digest is None:
                return None
            text = self._sync_kv().get("apikey:" + digest)
            return self._usable(APIKeyInfo.from_json(text) if text is not None else None)
        # The memory store, the hot path: _digest_if_well_formed and _usable inlined (the
        # same checks in the same order; two Python calls were a third of the cost).
        if type(key) is not str or len(key) > _MAX_KEY_LEN:
            return None
        raw = key.encode()
        if not self._any_format:
            if len(raw) != self._key_len:
                return None
            crc = _crc32(raw[:-_CRC_LEN])
            if (
                key[-_CRC_LEN:]
                != f"{_PAIRS[crc // 14_776_336]}{_PAIRS[crc // 3844 % 3844]}{_PAIRS[crc % 3844]}"
            ):
                return None
        info = self._store.get(_sha256(raw).hexdigest())
        if info is None or info.revoked:
            return None
        expires = info._expires_ts
        if expires is not None and expires <= self._now():
            return None
        return info

    async def averify(self, key: object) -> APIKeyInfo | None:
        """``verify`` for async code (needed for an async-only store)."""
        digest = self._digest_if_well_formed(key)
        if digest is None:
            return None
        if self._kv is None:
            return self._usable(self._store.get(digest))
        text = await self._kv.get("apikey:" + digest)
        return self._usable(APIKeyInfo.from_json(text) if text is not None else None)

    # ----------------------------------------------------------------- revocation
    def revoke(self, key_id: str) -> bool:
        """Mark the key with ``key_id`` revoked; True when it was found."""
        if self._kv is None:
            for digest, info in list(self._store.items()):
                if info.key_id == key_id:
                    self._store[digest] = replace(info, revoked=True)
                    return True
            return False
        kv = self._sync_kv()
        found = kv.get("apikey-id:" + key_id)
        text = kv.get("apikey:" + found) if found is not None else None
        if found is None or text is None:
            return False
        kv.set("apikey:" + found, replace(APIKeyInfo.from_json(text), revoked=True).to_json())
        return True

    async def arevoke(self, key_id: str) -> bool:
        """``revoke`` for an async store."""
        if self._kv is None:
            return self.revoke(key_id)
        digest = await self._kv.get("apikey-id:" + key_id)
        text = await self._kv.get("apikey:" + digest) if digest is not None else None
        if digest is None or text is None:
            return False
        info = replace(APIKeyInfo.from_json(text), revoked=True)
        await self._kv.set("apikey:" + digest, info.to_json())
        return True
