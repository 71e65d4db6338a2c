"""Mask values under secret-looking keys before an event is written.

A key is secret when, split into words (``_``, ``-``, ``.``, spaces and camelCase
boundaries), it equals a listed name or ends with one: ``password``, ``db_password`` and
``X-Api-Key`` are masked; ``author``, ``token_count`` and ``password_hint`` are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

#: The keys masked by default; pass ``mask_keys=DEFAULT_MASK_KEYS | {"ssn"}`` to extend.
DEFAULT_MASK_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth_token",
        "api_key",
        "apikey",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "session_id",
        "sessionid",
        "private_key",
        "credentials",
        "credit_card",
        "card_number",
        "cvv",
    }
)

_SCALARS = frozenset({str, int, float, bool, type(None)})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")


def _words(key: str) -> str:
    parts = _SPLIT.split(_CAMEL.sub("_", key))
    return "_".join(p.lower() for p in parts if p)


class Masker:
    """Replaces values under secret keys with ``"***"``, recursively through dicts and lists."""

    __slots__ = ("_cache", "_names")

    def __init__(self, keys: Iterable[str]) -> None:
        self._names = frozenset(_words(k) for k in keys)
        self._cache: dict[str, bool] = {}

    @property
    def enabled(self) -> bool:
        """True when at least one key is masked."""
        return bool(self._names)

    def is_secret(self, key: str) -> bool:
        """Return True when values under ``key`` must be masked."""
        hit = self._cache.get(key)
        if hit is None:
            words = _words(key)
            hit = any(words == n or words.endswith("_" + n) for n in self._names)
            if len(self._cache) < 4096:
                self._cache[key] = hit
        return hit

    def mask(self, value: Any) -> Any:
        """Return ``value`` with secret entries masked; unchanged objects are returned as is."""
        t = type(value)
        if t in _SCALARS:
            return value
        if t is dict or isinstance(value, Mapping):
            cache = self._cache
            out: dict[Any, Any] | None = None
            for k, v in value.items():
                if type(k) is str:
                    hit = cache.get(k)
                    if hit is None:
                        hit = self.is_secret(k)
                else:
                    hit = False
                if hit:
                    new: Any = MASK
                elif type(v) in _SCALARS:
                    continue
                else:
                    new = self.mask(v)
                    if new is v:
                        continue
                if out is None:
                    out = dict(value)
                out[k] = new
            return value if out is None else out
        if t is list or t is tuple or isinstance(value, list | tuple):
            items = [self.mask(v) for v in value]
            if all(a is b for a, b in zip(items, value, strict=True)):
                return value
            return items
        return value

    def mask_changes(self, changes: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Mask a ``{field: (old, new)}`` mapping: a secret field hides both values."""
        out: dict[str, list[Any]] = {}
        for k, (old, new) in changes.items():
            if isinstance(k, str) and self.is_secret(k):
                out[k] = [MASK, MASK]
            else:
                out[k] = [self.mask(old), self.mask(new)]
        return out
